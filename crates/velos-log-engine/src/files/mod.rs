//! The engine's one IO edge: an app's log files on disk (the live file and its rotated generations), read
//! from the end for `--lines`, and read incrementally into a persisted [`AppLog`](crate::AppLog) for
//! summaries. The modules above it never touch a file; these take paths and return bytes and facts.
mod app;
mod query;
mod search;
mod set;
mod store;
mod tail;
mod window;

pub use app::{flush, refresh, summarize, FilesError, Flushed, Refreshed};
pub use query::{read_records, Shown};
pub use search::{search, Found, Search, SEARCH_SCAN_BYTES_MAX};
pub use set::{live_name, stream_files, LogFile};
pub use store::{load_state, save_state, update, Cursor, SavedState, StoreError, Update};
pub use tail::{last_lines, Backward, TailLine};
pub use window::count_window;
