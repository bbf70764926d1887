//! The controller (`velos controller`, `velos apply --watch`): a level-triggered loop that keeps the host
//! converged on each followed project's desired state, as a Kubernetes controller does.
//!
//! **Triggers only say "look again".** A debounced file save, the git poll timer, the resync timer, a
//! `sync` on `controller.sock` (the git hook, `velos apply`) all end the same way: the project is due, and
//! its reconcile re-reads everything — fetch the source, parse, list the live apps, plan, then apply (or
//! only report drift when `self_heal = false` and the revision is the one already applied), record history
//! and write status. Nothing depends on why the loop woke, so a lost event costs one resync at most.
//!
//! **Status on every path**, with an error class (see [`ErrorClass`]): a fetch or parse error leaves the
//! apps as they are (the last good revision keeps running, and drift from it is still undone) and says
//! `error` with the message; the next good revision recovers.
//!
//! **One at a time.** One thread reconciles, one project after another, so one project is never reconciled
//! twice at once in a process; across processes the controller holds `controller/<project>.lock` for as
//! long as it follows the project ([`record::lock_project`]).
//!
//! Time comes from a [`Clock`], so tests drive the timers without sleeping; the loop blocks on its
//! channel until the next deadline and never polls.
mod git;
pub mod health;
mod hook;
mod probed_readiness;
pub mod remote;
pub mod revision;
pub mod schedule;
mod socket;
mod source;
mod system;
mod watch;

mod controller;
mod events;
mod reconcile;
mod remedy;
mod services;
mod setup;
mod state;
mod target;

pub use controller::Controller;
pub use events::{channel, Event, Handle};
pub use probed_readiness::ProbedReadiness;
pub use reconcile::{drift_message, run_controller, run_controller_with};
pub use services::{ServiceProblem, Services};
pub use setup::{client_factory, ControllerError, ControllerOptions, DaemonFactory};
use state::{Converged, Desired, Failure, TargetState};
pub use target::{Target, TargetSource, Targets};

pub use git::{checkout_dir, repository_name, GitSource, SOURCES_DIR};
pub use hook::{install_hook, CHAINED_HOOK, HOOK_LOG, HOOK_MARKER};
pub use socket::{listen, request_sync, SyncListener, CONTROLLER_SOCKET};
pub use source::{load, parse, set_revision, ErrorClass, Fetched, FileSource, Source, SourceError};
pub use system::{
    controller_wanted, fetch_git_project, file_target, git_from_args, health_checks_wanted, is_tracked,
    register_target, registered_targets, system_project_text, tracking, unregister_target,
    write_system_project, CONTROLLER_APP, SYSTEM_FILE, SYSTEM_LABEL, SYSTEM_PROJECT, TARGETS_DIR,
};
pub use velos_reconcile::followed::{
    is_followed, live_records, load_for_status, lock_project, overlay, read_records, remove_record,
    unregistered_status, write_record, ControllerRecord, ProjectLock, CONTROLLER_DIR,
};
pub use watch::FileWatch;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use velos_config::{ControllerSettings, Project};
use velos_core::{ProcessRecord, Status};
use velos_reconcile::clock::{Clock, SystemClock};
use velos_reconcile::history::{lock_edits, read_projects, LastResult, EDIT_LOCK_FILE};
use velos_reconcile::{ActionKind, Plan};
use velos_reconcile::{ApplyOptions, Daemon, DaemonError};
use velos_reconcile::{ConvergeError, Gate, Pass, Scope};
use velos_reconcile::{SyncState, PENDING_NAMED_MAX};

/// The longest the loop blocks without looking at its timers (they are recomputed on every event anyway).
pub const WAIT_MAX: Duration = Duration::from_secs(30);
/// A file is applied this long after the last event naming it (editors write in several steps).
pub const DEBOUNCE_DEFAULT: Duration = Duration::from_millis(100);
/// The first retry after a transient error; doubled at each failure in a row, up to the resync period.
pub const RETRY_MIN_DEFAULT: Duration = Duration::from_secs(1);

pub use velos_reconcile::clock::TestClock;
