//! The Velos reconciler: `observe → plan → apply`, as a Kubernetes controller does it.
//!
//! - [`plan()`] is pure and deterministic: from one project's desired apps (velos-config's [`Project`]) and
//!   the live records (`PROCESS_LIST`), what to create, replace, update in place, start, stop and delete,
//!   in a total order. [`render`] prints it like `terraform plan`; it serializes for `--json`.
//! - [`apply()`] carries a plan out through the [`Daemon`] trait (the real client, or
//!   [`testing::FakeDaemon`]), reports each action, and waits until the apps run. Apply is idempotent:
//!   planning again right after a successful apply gives an empty plan.
//! - [`history`] records each apply under `$VELOS_HOME/history/`, keeps the registry of projects for
//!   [`status()`], and finds the text to restore for `rollback`.
//! - [`ownership`] finds the file that declares an app (what `velos stop web` edits); [`plan_app`] keeps
//!   the part of a plan that concerns one app.
//! - [`diff_projects`] compares two desired states without a daemon.
//! - [`followed`] reads what a controller says of the projects it follows (for [`status()`]); the
//!   controller itself (file watch, git, its loop) is the velos-controller crate. No git2, no notify here.
//!
//! The CLI observes (LIST), plans, renders, applies and records; this crate holds every decision.
//!
//! [`Project`]: velos_config::Project
mod apply;
mod client;
pub mod clock;
mod compare;
mod converge;
pub mod depends;
mod diff;
pub mod followed;
pub mod history;
pub mod ownership;
mod plan;
mod plan_document;
pub mod readiness;
mod ready_check;
pub mod ready_wait;
pub mod remediation;
mod render;
pub mod rolling;
mod status;
pub mod testing;

pub use apply::{
    apply, apply_checked, apply_gated, apply_with_clock, ActionResult, ApplyEvent, ApplyOptions, ApplyReport,
    Clock, Daemon, DaemonError, NotRunning, Outcome, SystemClock, POLL_INTERVAL_DEFAULT, TIMEOUT_DEFAULT,
};
pub use compare::{diff_projects, pseudo_live};
pub use converge::{ConvergeError, Converged, Gate, Pass, Scope};
pub use depends::Gates;
pub use diff::{
    desired_in_place, duration_ms, in_place_changes, is_secret_key, labels, live_in_place, size,
    spec_changes, FieldChange, MASK,
};
pub use history::{
    is_recorded, now_unix_ms, record_apply, record_failure, rollback, History, HistoryEntry, HistoryError,
    LastResult, ProjectRecord, Rollback, RollbackTarget,
};
pub use plan::{plan, plan_app, project_of, Action, ActionKind, ActionType, Plan, PlanError, ScaleSummary};
pub use readiness::{judge as judge_readiness, Readiness};
pub use ready_check::{ByRecord, ReadyCheck};
pub use render::{render, render_change, render_report, render_result, render_summary, short_revision};
pub use status::{
    project_status, status, with_health, AppStatus, LastApply, ProjectStatus, SyncState, NOT_READY_NAMED_MAX,
    PENDING_NAMED_MAX,
};
