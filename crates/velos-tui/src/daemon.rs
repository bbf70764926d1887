//! What the dashboard needs from Velos, as a trait: the runtime calls it, tests give it a fake.
//!
//! The real implementation ([`crate::client::ClientDaemon`]) goes through the daemon client and the
//! operations layer; the state ([`crate::App`]) and the drawing ([`crate::render`]) never see it.
use std::collections::BTreeMap;
use velos_core::{ProcessRecord, Stream};

/// An action on the selection, confirmed by the user before the runtime carries it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Restart one process (an action: desired state does not change).
    Restart { name: String },
    /// Stop every instance of an app and keep it stopped (an edit of its velos.toml).
    Stop { app: String },
    /// Start an app again (an edit of its velos.toml).
    Start { app: String },
    /// Run this many instances of an app (an edit of its velos.toml).
    Scale { app: String, instances: u32 },
    /// What `velos apply` of the project's file would do; changes nothing.
    Plan { project: String },
    /// Apply the project's file.
    Apply { project: String },
}

impl Action {
    /// The verb, as the CLI names it.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Restart { .. } => "restart",
            Action::Stop { .. } => "stop",
            Action::Start { .. } => "start",
            Action::Scale { .. } => "scale",
            Action::Plan { .. } => "plan",
            Action::Apply { .. } => "apply",
        }
    }

    /// What it acts on: a process, an app or a project.
    pub fn target(&self) -> &str {
        match self {
            Action::Restart { name } => name,
            Action::Stop { app } | Action::Start { app } | Action::Scale { app, .. } => app,
            Action::Plan { project } | Action::Apply { project } => project,
        }
    }

    /// The same thing typed at the CLI, shown in the confirmation so the user learns the command.
    pub fn command_line(&self) -> String {
        match self {
            Action::Scale { app, instances } => format!("velos scale {app} {instances}"),
            Action::Plan { project } | Action::Apply { project } => {
                format!("velos {} (project {project})", self.verb())
            }
            _ => format!("velos {} {}", self.verb(), self.target()),
        }
    }
}

/// What an action did, as lines a person reads (the plan's lines, each action's result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// One line for the status bar.
    pub summary: String,
    /// The whole report (for `plan`, the plan itself), shown in a pane on request.
    pub lines: Vec<String>,
}

/// The sync state of one project, as `velos status` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSync {
    pub project: String,
    /// `synced`, `progressing`, `out_of_sync` or `error`.
    pub state: String,
    /// Why it is not synced; empty when it is.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// No daemon answers: the dashboard shows it and keeps trying.
    #[error("{message}")]
    Down { message: String, hint: Option<String> },
    /// The daemon or the operation refused or failed; `hint` names what to do next.
    #[error("{message}")]
    Failed { message: String, hint: Option<String> },
}

/// One followed stream of one app: chunks of raw output, the recent lines first.
pub trait LogFollow: Send {
    /// The next chunk; `None` when the stream ended (the app was deleted, the daemon stopped, or
    /// [`LogFollow::stopper`] was called).
    fn next_chunk(&mut self) -> Option<Result<Vec<u8>, DaemonError>>;
    /// Ends the stream from another thread: a blocked [`LogFollow::next_chunk`] returns `None`.
    fn stopper(&self) -> Box<dyn Fn() + Send + Sync>;
}

/// The daemon and the operations, as the dashboard uses them. Every method may block; the runtime calls
/// them off the drawing thread.
pub trait Daemon: Send + Sync + 'static {
    /// One `PROCESS_LIST`: every app (the only request made on each refresh, whatever the app count).
    fn list(&self) -> Result<Vec<ProcessRecord>, DaemonError>;
    /// The sync state of each project applied on this host, given the records just listed.
    fn projects(&self, live: &[ProcessRecord]) -> Result<Vec<ProjectSync>, DaemonError>;
    /// Follows one stream of one app, starting with its last `lines` lines.
    fn follow(&self, name: &str, stream: Stream, lines: u32) -> Result<Box<dyn LogFollow>, DaemonError>;
    /// Carries out a confirmed action.
    fn run(&self, action: &Action) -> Result<Outcome, DaemonError>;
    /// Which of an app's lines to point out (new since the last apply or restart, spiking), from its log
    /// model brought up to date; None when there is no model to ask (the lines go unmarked).
    fn log_marks(&self, _app: &str) -> Option<velos_ops::LogMarks> {
        None
    }
    /// The health (`healthy`, `unhealthy`, `unknown`) of each of `live` that has a readiness or liveness
    /// check, by instance name, as velos-ops judges it for `velos list`; none without checks.
    fn health(&self, _live: &[ProcessRecord]) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}
