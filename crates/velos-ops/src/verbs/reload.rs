//! `reload`: a rolling restart (the PM2 habit). Each running instance of the app gets a new process of the
//! spec it runs — an action, not an edit: the file and the spec do not change — by the app's `rollout`
//! rules: `max_unavailable` instances at a time, each batch ready before the next; with `start-first` a
//! surge of the same spec serves beside each instance while it restarts (velos-reconcile's `rolling`).
//! An instance that is not ready again stops the reload there: the rest keep their old process.
use crate::address::{app_of, resolve};
use crate::context::Ops;
use crate::convert::daemon_error;
use crate::error::{OpError, OpErrorKind};
use crate::outcome::WaitOptions;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use velos_config::{DesiredApp, DesiredState, Project, Rollout};
use velos_core::ProcessRecord;
use velos_reconcile::ownership::project_files;
use velos_reconcile::rolling::{roll, RollInstance, RollTiming, Swap};
use velos_reconcile::{project_of, Outcome};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReloadRequest {
    /// An app (its running instances, by its `rollout`), one instance (`api-0`), or `all` (app by app).
    pub name: String,
    /// How long the whole reload may take (`wait: false` is not honoured: a reload always waits, that is
    /// what makes it rolling).
    #[serde(default)]
    pub wait: WaitOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReloadOutcome {
    /// App by app, in name order.
    pub apps: Vec<ReloadedApp>,
}

/// One app's rolling restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReloadedApp {
    pub app: String,
    /// How it rolled: its `rollout` as its project's file says (the default when no file declares it).
    pub rollout: Rollout,
    /// Its instances, in the order reloaded.
    pub instances: Vec<ReloadedInstance>,
}

/// One instance: a new process that is ready (`done`), or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReloadedInstance {
    pub name: String,
    pub pid_before: u32,
    /// The pid when the reload ended (0 when it does not run).
    pub pid: u32,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl ReloadOutcome {
    /// The instances not reloaded, with why.
    pub fn failures(&self) -> impl Iterator<Item = &ReloadedInstance> {
        self.apps.iter().flat_map(|app| &app.instances).filter(|instance| instance.outcome != Outcome::Done)
    }
}

impl Ops {
    /// Restarts the addressed running instances, rolling as each app's `rollout` says. Instances at rest
    /// are left alone (`velos start` runs them). One that is not ready again makes the reload
    /// `incomplete`, naming it; the instances after it keep their old process.
    pub fn reload(&self, request: ReloadRequest) -> Result<ReloadOutcome, OpError> {
        // A reload creates and deletes surges: no apply may plan in the middle of it.
        let _lock = self.lock_edits()?;
        let mut backend = self.connect_or_start()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let names = resolve(&request.name, &live)?.names();
        let groups = group_by_app(&names, &live);
        if groups.is_empty() {
            return Err(OpError::new(
                OpErrorKind::Refused,
                format!("{} has no running instance to reload", request.name),
            )
            .hint(format!("velos start {} runs it", request.name)));
        }
        // Only each app's `rollout` comes from its file: an unreadable registry reloads by the defaults
        // (one at a time, stop-first), never not at all.
        let files = project_files(self.home().root()).unwrap_or_default();
        let mut clock = self.clock();
        let deadline = clock.now() + Duration::from_millis(request.wait.timeout_ms);
        let mut outcome = ReloadOutcome { apps: Vec::new() };
        for ((project, app), records) in groups {
            let declared = files
                .iter()
                .filter_map(|file| file.project())
                .find(|declared| Some(declared.name.as_str()) == project.as_deref());
            let instances: Vec<RollInstance> =
                records.iter().map(|record| roll_instance(record, &app, declared)).collect();
            let rollout = instances.first().map(|instance| instance.desired.rollout).unwrap_or_default();
            let timing =
                RollTiming { clock: clock.as_mut(), deadline, poll_interval: crate::wait::POLL_INTERVAL };
            // Judged as apply judges: a readiness check is probed, else the record (up for min_uptime).
            let mut readiness = crate::probing::Probing::new(self.home(), self.clock());
            let outcomes = roll(&instances, rollout, backend.as_mut(), timing, &mut readiness);
            let after = backend.list().map_err(|error| daemon_error(error, None))?;
            let reloaded = records
                .iter()
                .zip(outcomes)
                .map(|(record, outcome)| ReloadedInstance {
                    name: record.name.clone(),
                    pid_before: record.pid,
                    pid: after.iter().find(|now| now.name == record.name).map_or(0, |now| now.pid),
                    outcome,
                })
                .collect();
            outcome.apps.push(ReloadedApp { app, rollout, instances: reloaded });
            if outcome.failures().next().is_some() {
                // Stop at the first app that did not reload: the next ones keep their processes.
                break;
            }
        }
        let error = outcome.failures().next().map(|failed| not_reloaded(failed, &outcome));
        match error {
            None => Ok(outcome),
            Some(error) => Err(error),
        }
    }
}

/// The running instances among `names`, by (project, app), in name order.
fn group_by_app<'l>(
    names: &[String],
    live: &'l [ProcessRecord],
) -> BTreeMap<(Option<String>, String), Vec<&'l ProcessRecord>> {
    let mut groups: BTreeMap<(Option<String>, String), Vec<&ProcessRecord>> = BTreeMap::new();
    for record in live.iter().filter(|record| names.contains(&record.name)) {
        if record.status.is_at_rest()
            || record.spec.labels.contains_key(velos_reconcile::rolling::SURGE_OF_LABEL)
        {
            continue;
        }
        let key = (project_of(record).map(str::to_string), app_of(record).to_string());
        groups.entry(key).or_default().push(record);
    }
    groups
}

/// The instance as its project's file declares it (so its `rollout` and readiness are the file's), else
/// as it runs, with the default rollout. Either way it restarts with the spec it runs.
fn roll_instance(record: &ProcessRecord, app: &str, declared: Option<&Project>) -> RollInstance {
    let desired =
        declared.and_then(|project| project.app(&record.name)).cloned().unwrap_or_else(|| DesiredApp {
            spec: record.spec.clone(),
            app: app.to_string(),
            instance: record.spec.labels.get("instance").and_then(|index| index.parse().ok()).unwrap_or(0),
            state: DesiredState::Running,
            depends_on: Vec::new(),
            conditions: Default::default(),
            in_place: velos_config::InPlace::default(),
            rollout: Rollout::default(),
        });
    RollInstance { desired, swap: Swap::Restart { spec: record.spec.clone() } }
}

/// `web-1 is not ready after its reload: ...`, with what was reloaded and what was not.
fn not_reloaded(failed: &ReloadedInstance, outcome: &ReloadOutcome) -> OpError {
    let reason = match &failed.outcome {
        Outcome::Failed { message } => message.clone(),
        Outcome::Skipped { reason } => format!("{}: {reason}", failed.name),
        Outcome::Done => failed.name.clone(),
    };
    let done: Vec<&str> = outcome
        .apps
        .iter()
        .flat_map(|app| &app.instances)
        .filter(|instance| instance.outcome == Outcome::Done)
        .map(|instance| instance.name.as_str())
        .collect();
    let mut error =
        OpError::new(OpErrorKind::Incomplete, format!("the reload stopped: {reason}")).hint(format!(
            "velos logs {} --stderr shows why; velos restart {} tries it again",
            failed.name, failed.name
        ));
    if !done.is_empty() {
        error = error.cause(format!("reloaded before it: {}", done.join(", ")));
    }
    error
}
