//! `velos status`: for each project applied on this host, whether the host runs what its file says now.
//!
//! Computed, not stored: each project's file is re-read and re-planned against the live records, so the
//! answer is right even after someone edited the file or stopped an app by hand.
use crate::history::{read_projects, HistoryError, LastResult, ProjectRecord};
use crate::plan::plan;
use crate::readiness::{judge, reason, Readiness};
use serde::{Deserialize, Serialize};
use std::path::Path;
use velos_config::Project;
use velos_core::ProcessRecord;

/// At most this many pending actions are named in an out-of-sync message.
pub const PENDING_NAMED_MAX: usize = 5;

/// One project's line of `velos status` (and its `--json` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectStatus {
    pub project: String,
    /// Where the desired state comes from: the velos.toml path.
    pub source: String,
    /// The revision last applied.
    pub revision: String,
    pub state: SyncState,
    /// Why it is out of sync or in error; empty when synced.
    pub message: String,
    /// What to do about the error, when there is a clear next step (a token the server refused, an
    /// unknown ssh host key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub last_apply: Option<LastApply>,
    /// Each app the project wants running, sorted by name, and whether it is ready; empty when the file
    /// cannot be planned.
    #[serde(default)]
    pub apps: Vec<AppStatus>,
}

/// One app of a project in `velos status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppStatus {
    pub name: String,
    pub readiness: Readiness,
    /// Its status as the daemon reports it; `None` when the daemon does not know it.
    pub status: Option<velos_core::Status>,
    pub restarts: u32,
    /// Why it is not ready; empty when it is.
    pub reason: String,
    /// The worst of its checks as the controller's prober last found them (`unknown` when nobody probes);
    /// absent when it has no readiness or liveness check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<velos_health::Health>,
}

/// At most this many apps are named in a degraded message.
pub const NOT_READY_NAMED_MAX: usize = 5;

/// `"synced"`, `"progressing"`, `"degraded"`, `"out_of_sync"`, `"error"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// The file has not changed since the last apply, and the host runs what it says.
    Synced,
    /// The controller is applying a new revision (or undoing drift) right now, or an app is still
    /// starting (not yet up for its `min_uptime`).
    Progressing,
    /// The host runs what the file says, but an app is not ready: crash-looping, errored, or a job that
    /// failed (`apps` says which and why). An errored app with an unchanged spec is left alone by apply:
    /// `velos restart APP` runs it again.
    Degraded,
    /// The file changed since the last apply, or the host drifted from it (`message` says which).
    OutOfSync,
    /// The file is gone or no longer valid, or no plan can be made (a name owned by another project).
    Error,
}

impl SyncState {
    /// The state's name, as JSON spells it (every face shows this one).
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "synced",
            SyncState::Progressing => "progressing",
            SyncState::Degraded => "degraded",
            SyncState::OutOfSync => "out_of_sync",
            SyncState::Error => "error",
        }
    }
}

#[cfg(test)]
mod sync_state_tests {
    use super::SyncState;

    #[test]
    fn the_name_is_the_json_name() {
        for state in [
            SyncState::Synced,
            SyncState::Progressing,
            SyncState::Degraded,
            SyncState::OutOfSync,
            SyncState::Error,
        ] {
            assert_eq!(serde_json::to_value(state).ok(), Some(serde_json::Value::from(state.as_str())));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LastApply {
    pub seq: Option<u64>,
    pub time_unix_ms: u64,
    pub result: LastResult,
    pub message: String,
}

/// The status of every registered project of `home`, sorted by project name. Reads each project's file,
/// and what a live controller says of it (see [`crate::followed::overlay`]); a project a controller
/// follows but never applied is listed too.
pub fn status(home: &Path, live: &[ProcessRecord]) -> Result<Vec<ProjectStatus>, HistoryError> {
    let mut controllers = crate::followed::live_records(home);
    let health = velos_health::HealthState::read(home);
    let now_unix_ms = crate::clock::now_unix_ms();
    let mut statuses: Vec<ProjectStatus> = read_projects(home)?
        .iter()
        .map(|record| {
            let loaded = crate::followed::load_for_status(record);
            let status = project_status(record, loaded.as_ref().map_err(String::as_str), live);
            let status = with_health(status, &health, live, now_unix_ms);
            crate::followed::overlay(status, controllers.remove(&record.project).as_ref())
        })
        .collect();
    statuses.extend(controllers.values().map(crate::followed::unregistered_status));
    statuses.sort_by(|a, b| a.project.cmp(&b.project));
    Ok(statuses)
}

/// The status of one project, given its file as loaded now (or why it could not be). Pure.
pub fn project_status(
    record: &ProjectRecord,
    loaded: Result<&Project, &str>,
    live: &[ProcessRecord],
) -> ProjectStatus {
    let mut status = ProjectStatus {
        project: record.project.clone(),
        source: record.file.display().to_string(),
        revision: record.revision.clone(),
        state: SyncState::Synced,
        message: String::new(),
        hint: None,
        last_apply: Some(LastApply {
            seq: record.last_apply_seq,
            time_unix_ms: record.last_apply_time_unix_ms,
            result: record.last_result,
            message: record.message.clone(),
        }),
        apps: Vec::new(),
    };
    let error = |mut status: ProjectStatus, message: String| {
        status.state = SyncState::Error;
        status.message = message;
        status
    };
    let project = match loaded {
        Ok(project) => project,
        Err(message) => return error(status, message.to_string()),
    };
    if project.name != record.project {
        let message = format!("{} now declares project `{}`", record.file.display(), project.name);
        return error(status, message);
    }
    let plan = match plan(project, live) {
        Ok(plan) => plan,
        Err(plan_error) => return error(status, plan_error.to_string()),
    };
    let mut reasons = Vec::new();
    if let Some(remediation) =
        record.remediation.as_ref().filter(|remediation| remediation.from == project.revision)
    {
        // The file still says the revision that failed: the host runs what on_failure left, on purpose.
        status.apps = app_statuses(&plan.desired_running, live);
        status.state = SyncState::Degraded;
        status.message = remediation.describe();
        status.hint = Some(format!("fix {}, then velos apply it", record.file.display()));
        return status;
    }
    if project.revision != record.revision {
        reasons.push("file changed since last apply".to_string());
    }
    if !plan.is_empty() {
        let actions = plan.describe_actions();
        let count = actions.len();
        let mut named: Vec<String> = actions.into_iter().take(PENDING_NAMED_MAX).collect();
        if count > PENDING_NAMED_MAX {
            named.push(format!("and {} more", count - PENDING_NAMED_MAX));
        }
        let changes = if count == 1 { "1 change".to_string() } else { format!("{count} changes") };
        reasons.push(format!("{changes} pending: {}", named.join(", ")));
    }
    status.apps = app_statuses(&plan.desired_running, live);
    if !reasons.is_empty() {
        status.state = SyncState::OutOfSync;
        status.message = reasons.join("; ");
    } else if let Some((state, message)) = not_ready(&status.apps) {
        status.state = state;
        status.message = message;
    }
    status
}

/// The readiness of each of `names` (sorted) in `live`.
fn app_statuses(names: &[String], live: &[ProcessRecord]) -> Vec<AppStatus> {
    names
        .iter()
        .map(|name| {
            let record = live.iter().find(|record| &record.name == name);
            let readiness = judge(record, None);
            AppStatus {
                name: name.clone(),
                readiness,
                status: record.map(|record| record.status),
                restarts: record.map_or(0, |record| record.restarts),
                reason: reason(readiness, record),
                health: None,
            }
        })
        .collect()
}

/// `status` with what the controller's prober found (`health/state.json`): each app with a check gets its
/// health, and one whose readiness check the prober finds failing is not ready (`unhealthy`, the reason
/// naming the check), which makes the project `degraded`. A stale state says nothing but `unknown`.
pub fn with_health(
    mut status: ProjectStatus,
    health: &velos_health::HealthState,
    live: &[ProcessRecord],
    now_unix_ms: u64,
) -> ProjectStatus {
    use velos_health::check::Use;
    let mut worse = false;
    for app in &mut status.apps {
        let Some(record) = live.iter().find(|record| record.name == app.name) else { continue };
        if !Use::ALL.iter().any(|purpose| record.spec.labels.contains_key(purpose.label())) {
            continue;
        }
        let Some(instance) = health.instance(&app.name, record.pid, now_unix_ms) else {
            app.health = Some(velos_health::Health::Unknown);
            continue;
        };
        app.health = Some(instance.summary());
        let failing =
            instance.readiness.as_ref().filter(|check| check.health == velos_health::Health::Unhealthy);
        if let (Some(check), true) = (failing, app.readiness.is_ready()) {
            app.readiness = Readiness::Unhealthy;
            app.reason = format!(
                "readiness {} failed {} times in a row: {}",
                check.check,
                check.consecutive_failures,
                check.last_error.as_deref().unwrap_or("no error recorded")
            );
            worse = true;
        }
    }
    let settled = !matches!(status.state, SyncState::OutOfSync | SyncState::Error);
    if worse && settled {
        if let Some((state, message)) = not_ready(&status.apps) {
            status.state = state;
            status.message = message;
        }
    }
    status
}

/// `degraded` when an app failed, else `progressing` when one still starts, with the apps named.
fn not_ready(apps: &[AppStatus]) -> Option<(SyncState, String)> {
    let waiting: Vec<&AppStatus> = apps.iter().filter(|app| !app.readiness.is_ready()).collect();
    if waiting.is_empty() {
        return None;
    }
    let failed = waiting.iter().any(|app| app.readiness != Readiness::Starting);
    let mut named: Vec<String> = waiting
        .iter()
        .take(NOT_READY_NAMED_MAX)
        .map(|app| format!("{} ({})", app.name, app.reason))
        .collect();
    if waiting.len() > NOT_READY_NAMED_MAX {
        named.push(format!("and {} more", waiting.len() - NOT_READY_NAMED_MAX));
    }
    let state = if failed { SyncState::Degraded } else { SyncState::Progressing };
    Some((state, format!("not ready: {}", named.join(", "))))
}

#[cfg(test)]
mod health_tests {
    use super::*;

    #[test]
    fn a_failing_readiness_found_by_the_prober_degrades_a_synced_project() {
        use velos_health::{CheckState, Health, HealthState, InstanceHealth};
        let check = velos_health::Check::new(
            velos_health::Probe::Tcp { address: "127.0.0.1:80".into() },
            velos_health::check::Use::Readiness,
        );
        let mut spec = velos_core::AppSpec::new("web", "/bin/sleep", "/");
        spec.labels.insert("velos.readiness".into(), check.to_label());
        let mut record = ProcessRecord::fresh(spec, velos_core::Status::Running, 7);
        record.uptime_ms = 60_000;
        let live = [record];
        let status = || ProjectStatus {
            project: "shop".into(),
            source: "/srv/shop/velos.toml".into(),
            revision: "file:0".into(),
            state: SyncState::Synced,
            message: String::new(),
            hint: None,
            last_apply: None,
            apps: app_statuses(&["web".to_string()], &live),
        };
        let now = 1_700_000_000_000;
        let failing = CheckState {
            health: Health::Unhealthy,
            check: "tcp 127.0.0.1:80".into(),
            last_check_unix_ms: Some(now),
            last_error: Some("connection refused".into()),
            consecutive_failures: 3,
        };
        let web = InstanceHealth { pid: 7, readiness: Some(failing), ..InstanceHealth::default() };
        let state =
            HealthState { written_unix_ms: now, pid: 1, instances: [("web".to_string(), web)].into() };
        let judged = with_health(status(), &state, &live, now);
        assert_eq!(judged.state, SyncState::Degraded);
        assert_eq!(judged.apps[0].readiness, Readiness::Unhealthy);
        assert_eq!(judged.apps[0].health, Some(Health::Unhealthy));
        assert_eq!(
            judged.message,
            "not ready: web (readiness tcp 127.0.0.1:80 failed 3 times in a row: connection refused)"
        );
        // The controller stopped writing: unknown, and the record's word stands.
        let stale = with_health(status(), &state, &live, now + 60_000);
        assert_eq!((stale.state, stale.apps[0].health), (SyncState::Synced, Some(Health::Unknown)));
    }
}
