//! The schedule runner: a thread of `velos controller` that restarts apps at their `cron_restart` times
//! and when their watched files change (issue 12).
//!
//! It learns what to do from one LIST every [`LIST_EVERY`] (the `velos.cron_restart` and `velos.watch`
//! labels the reconciler writes), so an apply that adds, changes or removes a schedule takes effect
//! within that period, and the Zig core never knows schedules exist. A restart goes through the daemon's
//! RESTART, one instance after another (each waited for), expecting the hash the LIST showed; it is
//! recorded in `controller/schedules.json` (`velos info` shows it) and logged on stderr (the controller's
//! log).
//!
//! Cron times are local wall-clock times (see velos-schedule's `next`); a time missed while no controller
//! ran is not caught up. A burst of changes is one restart, `debounce` after its last change.
mod run;
mod status;
mod wanted;
mod watcher;

pub use run::{spawn_schedules, ScheduleRunner, LIST_EVERY};
pub use status::{
    read_schedule_status, schedules_file, AppScheduleStatus, ScheduleStatus, ScheduledRestart, Trigger,
    SCHEDULES_FILE,
};
pub use wanted::{scheduled_apps, schedules_wanted, Instance, ScheduledApp};
pub use watcher::{FolderWatch, WATCHED_FOLDERS_MAX};

use std::path::PathBuf;

/// What wakes the runner besides its timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// A file of `app`'s watch changed.
    Changed {
        app: String,
        path: PathBuf,
    },
    /// A folder appeared under a watched path: watch it too.
    Folder(PathBuf),
    Stop,
}
