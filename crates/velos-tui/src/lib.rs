//! `velos monit`: a terminal dashboard over the Velos daemon, and a thin face over its operations.
//!
//! - [`App`] is the whole state, changed only by [`Event`]s (keys, refreshes, log chunks, results):
//!   testable without a terminal or a daemon.
//! - [`render`] draws an [`App`] into a ratatui frame; snapshot tests draw into `TestBackend`.
//! - [`run`] is the runtime: the terminal, one `PROCESS_LIST` per refresh, log follows streamed from the
//!   daemon, actions carried out off the drawing thread, all through the [`Daemon`] trait.
pub mod app;
pub mod daemon;
mod follow;
pub mod live;
mod osc52;
mod runtime;
pub mod ui;

pub use app::{App, Effect, Event};
pub use daemon::{Action, Daemon, DaemonError, LogFollow, Outcome, ProjectSync};
pub use runtime::{run, Options, RunError, INTERVAL_DEFAULT, INTERVAL_MIN};
pub use ui::render;
