//! Data shared by several verbs' requests and outcomes: how an apply waits, warnings, and what an edit did
//! to each app and instance.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use velos_core::Status;
use velos_reconcile::{ApplyOptions, ApplyReport, Plan, POLL_INTERVAL_DEFAULT, TIMEOUT_DEFAULT};

/// How a verb that applies waits for the apps to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitOptions {
    /// Wait until every wanted app runs (default true).
    #[serde(default = "yes")]
    pub wait: bool,
    /// How long to wait, in milliseconds (default 60000).
    #[serde(default = "timeout_ms_default")]
    pub timeout_ms: u64,
}

fn yes() -> bool {
    true
}

fn timeout_ms_default() -> u64 {
    u64::try_from(TIMEOUT_DEFAULT.as_millis()).unwrap_or(u64::MAX)
}

impl Default for WaitOptions {
    fn default() -> WaitOptions {
        WaitOptions { wait: true, timeout_ms: timeout_ms_default() }
    }
}

impl WaitOptions {
    pub fn apply_options(self) -> ApplyOptions {
        ApplyOptions {
            wait: self.wait,
            timeout: Duration::from_millis(self.timeout_ms),
            poll_interval: POLL_INTERVAL_DEFAULT,
        }
    }
}

/// Something the caller should know that did not stop the verb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Warning {
    pub kind: WarningKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The apply is done but the history could not record it.
    Unrecorded,
    /// No daemon runs: planned or compared against an empty host.
    DaemonNotRunning,
    /// A project's file is gone: `velos forget PROJECT` removes its record.
    FileGone,
    /// The file follows git: the repository's apps are applied, not the file's own.
    FollowsGit,
    /// The controller could not be told, or still follows something.
    Controller,
    /// An app's saved log model was damaged and was rebuilt from its log files.
    LogModelRebuilt,
}

impl Warning {
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Warning {
        Warning { kind, message: message.into() }
    }

    pub fn unrecorded(error: &velos_reconcile::HistoryError) -> Warning {
        Warning::new(
            WarningKind::Unrecorded,
            format!("the apply is done but could not be recorded in the history: {error}"),
        )
    }
}

/// One instance before and after a verb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InstanceChange {
    pub name: String,
    /// The pid before the verb (0: no process ran).
    pub pid_before: u32,
    /// The pid after (0: none runs).
    pub pid: u32,
    /// The status after; `None` when the app is gone (deleted) or the daemon never had it.
    pub status: Option<Status>,
}

/// What a verb did to one app (`[apps.NAME]`, or an app no file declares).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppChange {
    pub app: String,
    /// The velos.toml that declares it; `None` for an app no file declares (acted on directly).
    pub file: Option<PathBuf>,
    /// The file was changed (written atomically).
    pub edited: bool,
    /// The file is the default project's, `VELOS_HOME/velos.toml` (Velos's own; CLI output leaves it
    /// unnamed).
    pub default_project: bool,
    /// The actions on this app; `None` when acted on directly.
    pub plan: Option<Plan>,
    pub report: ApplyReport,
    /// The plan holds actions the verb does not say (a pending change of this app written in the file
    /// by hand): a face shows the plan so nothing happens unannounced.
    pub other_actions: bool,
    pub instances: Vec<InstanceChange>,
}
