//! `$VELOS_HOME/controller/schedules.json`: what the schedule runner did and sees, for `velos info`. Written
//! atomically by the runner when it changes; read by anyone. Not a source of truth: the labels are.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use velos_reconcile::followed::CONTROLLER_DIR;

/// The file, under `controller/`.
pub const SCHEDULES_FILE: &str = "schedules.json";

/// What caused a scheduled restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    CronRestart,
    Watch,
}

impl Trigger {
    /// The velos.toml key that caused it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::CronRestart => "cron_restart",
            Trigger::Watch => "watch",
        }
    }
}

/// One restart the runner made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduledRestart {
    pub by: Trigger,
    /// When it was asked for, RFC 3339 in local time.
    pub at: String,
    /// The expression that fired, or the first changed file of the burst.
    pub reason: String,
    /// Why it failed, if it did (the app is then as the daemon left it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The runner's view of one app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppScheduleStatus {
    /// The next `cron_restart` time, RFC 3339 in local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cron: Option<String>,
    /// Folders under inotify watch for this app.
    #[serde(default)]
    pub watched_folders: usize,
    /// Watch paths that could not be watched (missing, unreadable, past the cap), with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch_problems: Vec<String>,
    /// A change was seen; the restart waits for the files to be quiet for `debounce`.
    #[serde(default)]
    pub pending: bool,
    #[serde(default)]
    pub cron_restarts: u64,
    #[serde(default)]
    pub watch_restarts: u64,
    /// Restarts due but not made: every instance was stopped (a user's stop wins over a schedule).
    #[serde(default)]
    pub skipped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart: Option<ScheduledRestart>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleStatus {
    /// The controller that writes it.
    pub pid: u32,
    pub apps: BTreeMap<String, AppScheduleStatus>,
}

pub fn schedules_file(home: &Path) -> PathBuf {
    home.join(CONTROLLER_DIR).join(SCHEDULES_FILE)
}

/// The file as last written; empty when there is none (no controller ran schedules yet) or it is unreadable.
pub fn read_schedule_status(home: &Path) -> ScheduleStatus {
    std::fs::read_to_string(schedules_file(home))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

pub(crate) fn write_schedule_status(home: &Path, status: &ScheduleStatus) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(status).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::create_dir_all(home.join(CONTROLLER_DIR))?;
    velos_config::write_atomically(&schedules_file(home), &text)
}
