//! What `info` says of an app's `cron_restart` and `watch`: the settings from its labels, the next fire
//! time computed from the expression (local time), and what the controller's schedule runner reports
//! (`controller/schedules.json`: its last restart and why, folders watched, problems).
use chrono::{Local, SecondsFormat};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_controller::schedule::{AppScheduleStatus, ScheduleStatus};
use velos_core::ProcessRecord;
use velos_schedule::{Cron, WatchSpec, CRON_LABEL, WATCH_LABEL};

/// An app's schedules, when it has any. Run by the controller (`velos-controller`, `velos list --all`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppSchedule {
    /// `cron_restart`, as in velos.toml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_restart: Option<String>,
    /// When `cron_restart` fires next, RFC 3339 in the host's local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_restart: Option<String>,
    /// `watch`, resolved (absolute paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchSpec>,
    /// What the controller reports for the app; absent until it has taken the schedule up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<AppScheduleStatus>,
}

/// The schedules of `record` (an instance of its app), or `None` when it has none.
pub fn app_schedule(record: &ProcessRecord, status: &ScheduleStatus) -> Option<AppSchedule> {
    let labels = &record.spec.labels;
    let cron_restart = labels.get(CRON_LABEL).cloned();
    let watch = labels.get(WATCH_LABEL).and_then(|text| WatchSpec::from_label(text));
    if cron_restart.is_none() && watch.is_none() {
        return None;
    }
    let next_restart = cron_restart
        .as_deref()
        .and_then(|text| Cron::parse(text).ok())
        .and_then(|cron| cron.next_after(&Local::now()))
        .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, false));
    let app = labels.get("app").unwrap_or(&record.name);
    let runner = status.apps.get(app).cloned();
    Some(AppSchedule { cron_restart, next_restart, watch, runner })
}
