//! `depends_on` conditions: before apply starts an app (create, replace or start), it waits until each
//! dependency written with a condition meets it — `healthy` (ready, by its readiness check when it has one)
//! or `completed_successfully` (a job that exited with code 0) — by the apply's deadline. A dependency that
//! shows it never will (unhealthy, crash-looping, exited badly, errored) ends the wait at once, and the
//! dependent is not started: its action is skipped with a message naming both.
//!
//! The list form (`depends_on = ["db"]`, or `"started"`) only orders the actions, as before.
use crate::apply::{Daemon, DaemonError};
use crate::clock::Clock;
use crate::plan::{Action, ActionKind};
use crate::readiness::{self, Readiness};
use crate::ready_check::ReadyCheck;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use velos_config::{Condition, DesiredState, Project};
use velos_core::ProcessRecord;

/// What apply needs to wait on conditions: the project (each instance's conditions and checks) and the
/// check that judges readiness (velos-ops' probing one, or [`crate::ByRecord`]).
pub struct Gates<'a> {
    pub project: &'a Project,
    pub check: &'a mut dyn ReadyCheck,
}

impl Gates<'_> {
    /// The conditions `action` must wait for before it runs: none unless it starts the app.
    pub(crate) fn conditions_of(&self, action: &Action) -> Vec<(&str, Condition)> {
        let starts = match &action.kind {
            ActionKind::Create { state, .. } | ActionKind::Replace { state, .. } => {
                *state == DesiredState::Running
            }
            ActionKind::Start => true,
            ActionKind::UpdateInPlace { .. } | ActionKind::Stop | ActionKind::Delete => false,
        };
        let Some(app) = self.project.app(&action.name).filter(|_| starts) else { return Vec::new() };
        app.conditions.iter().map(|(name, condition)| (name.as_str(), *condition)).collect()
    }
}

/// Waits until every condition of `action` holds. `Err`: why the dependent must not start, naming the
/// dependency (`db is not healthy: readiness tcp 127.0.0.1:5432 failed 3 times in a row: …`).
pub(crate) fn await_conditions(
    gates: &mut Gates<'_>,
    action: &Action,
    daemon: &mut dyn Daemon,
    clock: &mut dyn Clock,
    (deadline, poll): (Instant, Duration),
) -> Result<(), String> {
    let conditions: Vec<(String, Condition)> = gates
        .conditions_of(action)
        .into_iter()
        .map(|(name, condition)| (name.to_string(), condition))
        .collect();
    if conditions.is_empty() {
        return Ok(());
    }
    let mut baselines: BTreeMap<String, u32> = BTreeMap::new();
    let began = clock.now();
    loop {
        let live = daemon.list().map_err(|error| list_failed(&error))?;
        let mut pending = None;
        for (dependency, condition) in &conditions {
            let record = live.iter().find(|record| &record.name == dependency);
            let baseline = *baselines
                .entry(dependency.clone())
                .or_insert_with(|| record.map_or(0, |record| record.restarts));
            match look(gates, dependency, *condition, record, baseline) {
                Look::Met => {}
                Look::Failed(why) => return Err(format!("{dependency} {why}")),
                Look::Waiting(why) => pending = Some((dependency, *condition, why)),
            }
        }
        let Some((dependency, condition, why)) = pending else { return Ok(()) };
        if clock.now() >= deadline {
            let waited = crate::diff::duration_ms(
                u64::try_from(clock.now().saturating_duration_since(began).as_millis()).unwrap_or(u64::MAX),
            );
            return Err(format!(
                "timed out after {waited} waiting for {dependency} to be {condition} ({why})"
            ));
        }
        clock.sleep(poll);
    }
}

enum Look {
    Met,
    /// Not yet; why, in a few words.
    Waiting(String),
    /// Never without help: `is not healthy: …`, `did not complete successfully: …`.
    Failed(String),
}

fn look(
    gates: &mut Gates<'_>,
    name: &str,
    condition: Condition,
    record: Option<&ProcessRecord>,
    baseline: u32,
) -> Look {
    let instance = gates.project.app(name);
    match condition {
        Condition::Started => Look::Met,
        Condition::Healthy => {
            let readiness = match instance {
                Some(instance) => gates.check.judge(instance, record, Some(baseline)),
                None => readiness::judge(record, Some(baseline)),
            };
            let why = gates.check.reason(name).unwrap_or_else(|| readiness::reason(readiness, record));
            match readiness {
                Readiness::Ready | Readiness::Completed => Look::Met,
                Readiness::Starting => Look::Waiting(why),
                _ => Look::Failed(format!("is not healthy: {why}")),
            }
        }
        Condition::CompletedSuccessfully => {
            // A job is judged by how it ended, never by a probe.
            let readiness = readiness::judge(record, Some(baseline));
            match readiness {
                Readiness::Completed => Look::Met,
                Readiness::Ready | Readiness::Starting => Look::Waiting("still running".into()),
                _ => Look::Failed(format!(
                    "did not complete successfully: {}",
                    readiness::reason(readiness, record)
                )),
            }
        }
    }
}

fn list_failed(error: &DaemonError) -> String {
    format!("could not list the apps to check its dependencies: {error}")
}
