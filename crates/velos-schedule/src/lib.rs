//! Schedules for apps, pure: `cron_restart` expressions (parsing, and the next fire time in local time with
//! daylight saving time handled as documented in [`next`]), the `watch` settings carried on an app's
//! labels, and the `watch.ignore` patterns. No IO and no clock: the controller's runner supplies the time
//! and does the watching.
mod cron;
mod glob;
pub mod next;
mod settings;

pub use cron::{Cron, CronError, FIELD_NAMES};
pub use glob::{Glob, GlobError, IgnoreSet};
pub use next::SEARCH_YEARS;
pub use settings::{WatchSpec, CRON_LABEL, DEBOUNCE_MS_DEFAULT, LABEL_VALUE_BYTES_MAX, WATCH_LABEL};
