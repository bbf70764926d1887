//! The Velos operations layer: every verb is one method of [`Ops`], with a typed request and a typed
//! outcome, shared by every face (CLI, REST, MCP, TUI). A face parses, calls, renders; it decides nothing.
//! One verb has the same name as CLI verb, REST route and MCP tool.
//!
//! | verb | request → outcome | daemon |
//! |---|---|---|
//! | `apply` | [`ApplyRequest`] → [`ApplyOutcome`] | starts it |
//! | `plan` | [`PlanRequest`] → [`PlanOutcome`] | never starts it (empty host) |
//! | `diff` | [`DiffRequest`] → [`DiffOutcome`] (`changes`: the CLI exits 2) | never starts it |
//! | `validate` | [`ValidateRequest`] → [`ValidateOutcome`] | none |
//! | `status` | [`StatusRequest`] → [`StatusOutcome`] | read: `daemon_not_running` |
//! | `history` | [`HistoryRequest`] → [`HistoryOutcome`] | none |
//! | `rollback` | [`RollbackRequest`] → [`RollbackOutcome`] | starts it |
//! | `sync` | [`SyncRequest`] → [`SyncOutcome`] | never starts it |
//! | `start` | [`StartRequest`] → [`StartOutcome`] (an app, `all`, a velos.toml, or a program) | starts it |
//! | `stop`, `delete` | [`StopRequest`], [`DeleteRequest`] → [`ChangeOutcome`] (an app or `all`) | starts it |
//! | `restart` | [`RestartRequest`] → [`RestartOutcome`] (an app, `api-0`, or `all`) | starts it |
//! | `reload` | [`ReloadRequest`] → [`ReloadOutcome`] (a rolling restart by the app's `rollout`) | starts it |
//! | `scale` | [`ScaleRequest`] (`Scale::To(3)`, `Scale::By(-1)`) → [`EditOutcome`] | starts it |
//! | `set`, `unset` | [`SetRequest`], [`UnsetRequest`] → [`EditOutcome`] | starts it |
//! | `list` | [`ListRequest`] → [`ListOutcome`] | read: `daemon_not_running` |
//! | `info` | [`InfoRequest`] → [`InfoOutcome`] (an app, `api-0`, or `all`) | read |
//! | `logs` | [`LogsRequest`] → [`LogsOutcome`] (the files); [`Ops::logs_follow`] → [`LogFollow`] (the rings) | read |
//! | `logs --summary`, `--templates` | [`LogsSummaryRequest`] → [`LogsSummaryOutcome`]; [`LogsTemplatesRequest`] → [`LogsTemplatesOutcome`] | read |
//! | `flush` | [`FlushRequest`] → [`FlushOutcome`] | read |
//! | `ping` | [`PingRequest`] → [`PingOutcome`] | read |
//! | `kill` | [`KillRequest`] → [`KillOutcome`] | never starts it |
//! | `forget` | [`ForgetRequest`] → [`ForgetOutcome`] | starts it |
//! | `patch` | [`PatchRequest`] (a JSON merge patch or the whole text, `expected_revision`) → [`PatchOutcome`] | starts it |
//! | `save` | [`SaveRequest`] → [`SaveOutcome`] | starts it |
//! | `resurrect` | [`ResurrectRequest`] → [`ResurrectOutcome`] | starts it (it brings back its saved apps) |
//! | `propose` | [`ProposeRequest`] → [`ProposalOutcome`] (changes nothing but the proposal store) | read |
//! | `proposals`, `proposal` | [`ProposalsRequest`], [`ProposalRequest`] → [`ProposalsOutcome`], [`ProposalOutcome`] | none |
//! | `approve` | [`ApproveRequest`] → [`ApproveOutcome`] (the one edit path) | starts it |
//! | `reject` | [`RejectRequest`] → [`ProposalOutcome`] | none |
//!
//! The verbs that apply have a `*_with` form taking a [`Progress`] callback (the plan before anything is
//! done, then each step). Requests and outcomes are plain data: `Serialize`, `Deserialize`, `JsonSchema`,
//! snake_case JSON; warnings are data ([`Warning`]), plans are velos-reconcile's [`velos_reconcile::Plan`].
//!
//! Errors are [`OpError`]s: a [`OpErrorKind`] each face maps in one place (exit code, HTTP status, MCP tool
//! error) — `not_found` (did-you-mean candidates in [`ErrorDetail::NotFound`]), `conflict`,
//! `invalid_input` (config `diagnostics` at file:line:col), `follows_git` (the repository to commit to),
//! `daemon_not_running` (how many apps the state file holds), `daemon_unreachable`, `stale`, `refused`
//! (system app, dependents, running apps), `incomplete` (plan and report), `io`, `internal` — with a
//! message, causes and a [`Hint`] naming the next command.
//!
//! App addressing is one resolver ([`address`]): `api` is every instance of app `api`, `api-0` one
//! instance (read and restart verbs), `all` every app; an unknown name is `not_found` with close names.
//!
//! Async faces use [`AsyncOps`] (feature `tokio`): the same verbs on tokio's blocking pool.
pub mod address;
#[cfg(feature = "tokio")]
mod async_ops;
mod backend;
mod context;
mod converge;
mod convert;
mod edit;
mod error;
mod follow;
mod health;
mod home;
mod outcome;
mod probing;
mod ready;
mod recording;
mod remedy;
mod schedule;
pub mod startup;
mod state_file;
pub mod testing;
mod verbs;
mod wait;

#[cfg(feature = "tokio")]
pub use async_ops::AsyncOps;
pub use backend::{Backend, ChunkIter, Connector, LogChunks, SocketConnector};
pub use context::{Notice, Ops};
pub use converge::{Applied, Progress};
pub use edit::new_app::PASSED_ENV;
pub use edit::value::parse_value;
pub use error::{ErrorDetail, Hint, OpError, OpErrorKind};
pub use health::{health_of, AppHealth};
pub use home::{log_file_name, Home, LOGS_DIR, LOG_MODELS_DIR, STATE_FILE};
pub use outcome::{AppChange, InstanceChange, WaitOptions, Warning, WarningKind};
pub use ready::{AppReadiness, STDERR_TAIL_LINES};
pub use schedule::{app_schedule, AppSchedule};
pub use verbs::apply::{ApplyOutcome, ApplyRequest, ApplySource, FollowedGit, Following};
pub use verbs::change::{ChangeOutcome, DeleteOutcome, DeleteRequest, StopOutcome, StopRequest};
pub use verbs::declarative::{
    Against, DiffOutcome, DiffRequest, PlanOutcome, PlanRequest, ValidateOutcome, ValidateRequest, Validated,
};
pub use verbs::forget::{ForgetOutcome, ForgetRequest};
pub use verbs::git_source::{git_request as check_git_request, GitRequest};
pub use verbs::log_follow::{FollowAdder, FollowStopper, LogChunk, LogFollow};
pub use verbs::log_lines::LineAssembler;
pub use verbs::log_marks::{LogMark, LogMarks};
pub use verbs::log_model::{
    AppSummary, FlushOutcome, FlushRequest, LogsSummaryOutcome, LogsSummaryRequest, LogsTemplatesOutcome,
    LogsTemplatesRequest, TemplateInfo, LOG_SUMMARY_BUDGET_TOKENS_DEFAULT,
};
pub use verbs::logs::{parse_log_time, LogLine, LogsOutcome, LogsRequest, StreamChoice, LOG_LINES_DEFAULT};
pub use verbs::patch::{PatchOutcome, PatchRequest};
pub use verbs::process::{
    describe_exit, KillOutcome, KillRequest, RestartOutcome, RestartRequest, Restarted, ResurrectOutcome,
    ResurrectRequest, SaveOutcome, SaveRequest,
};
pub use verbs::project::{
    HistoryOutcome, HistoryRequest, RollbackOutcome, RollbackRequest, StatusOutcome, StatusRequest,
};
pub use verbs::proposals::{
    proposal_error, ApproveOutcome, ApproveRequest, ProposalOutcome, ProposalRequest, ProposalsOutcome,
    ProposalsRequest, ProposeRequest, RejectRequest,
};
pub use verbs::read::{
    AppInfo, InfoOutcome, InfoRequest, ListOutcome, ListRequest, PingOutcome, PingRequest,
};
pub use verbs::reload::{ReloadOutcome, ReloadRequest, ReloadedApp, ReloadedInstance};
pub use verbs::start::{NewAppOptions, StartOutcome, StartRequest};
pub use verbs::sync::{SyncHow, SyncOutcome, SyncRequest};
pub use verbs::values::{
    Assignment, EditOutcome, Scale, ScaleOutcome, ScaleRequest, SetOutcome, SetRequest, UnsetOutcome,
    UnsetRequest,
};
