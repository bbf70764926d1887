//! The readiness wait of a pass that runs without the operations layer (the controller): after a plan
//! was applied, poll until each app it started is settled as a [`ReadyCheck`] judges it, or a deadline
//! passes. `velos apply` has its own wait in velos-ops, which adds stderr tails for people; both ask the
//! same [`ReadyCheck`] the same question, with the same baseline (an app the plan started may not restart).
use crate::apply::{ActionResult, ApplyReport, Daemon, Outcome};
use crate::clock::Clock;
use crate::plan::{ActionType, Plan};
use crate::readiness::{reason, Readiness};
use crate::ready_check::ReadyCheck;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use velos_config::Project;

/// An app that did not become ready, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    pub name: String,
    pub readiness: Readiness,
    pub reason: String,
}

impl NotReady {
    /// `web is not ready: restarted 2 times, last exit code 3`, or several named.
    pub fn describe(apps: &[NotReady]) -> String {
        match apps {
            [one] => format!("{} is not ready: {}", one.name, one.reason),
            many => {
                let named: Vec<String> =
                    many.iter().map(|app| format!("{} ({})", app.name, app.reason)).collect();
                format!("{} apps are not ready: {}", many.len(), named.join(", "))
            }
        }
    }
}

/// The apps `plan` created, replaced or started, as `report` says it did: what a wait judges.
pub fn started(plan: &Plan, report: &ApplyReport) -> Vec<String> {
    let done = |result: &&ActionResult| {
        result.outcome == Outcome::Done
            && matches!(result.action, ActionType::Create | ActionType::Replace | ActionType::Start)
    };
    let mut names: Vec<String> = report
        .results
        .iter()
        .filter(done)
        .map(|result| result.name.clone())
        .filter(|name| plan.desired_running.contains(name))
        .collect();
    names.dedup();
    names
}

/// Waits until each of `names` (apps of `project` just started: no restart allowed) is settled, or
/// `deadline` passes. Returns those that are not ready, in the order given. A LIST that fails counts
/// every app still pending as not ready, with the error as the reason.
pub fn wait_ready(
    project: &Project,
    names: &[String],
    daemon: &mut dyn Daemon,
    clock: &mut dyn Clock,
    check: &mut dyn ReadyCheck,
    deadline: Instant,
    poll_interval: Duration,
) -> Vec<NotReady> {
    let mut settled: BTreeMap<&str, (Readiness, String)> = BTreeMap::new();
    while settled.len() < names.len() {
        let records = match daemon.list() {
            Ok(records) => records,
            Err(error) => {
                let reason = format!("could not list the apps: {error}");
                for name in names {
                    settled.entry(name.as_str()).or_insert((Readiness::Missing, reason.clone()));
                }
                break;
            }
        };
        let expired = clock.now() >= deadline;
        for name in names {
            let Some(desired) = project.app(name).filter(|_| !settled.contains_key(name.as_str())) else {
                continue;
            };
            let record = records.iter().find(|record| &record.name == name);
            let mut readiness = check.judge(desired, record, Some(0));
            if !readiness.is_settled() && expired {
                readiness = Readiness::TimedOut;
            }
            if readiness.is_settled() {
                settled.insert(name, (readiness, reason(readiness, record)));
            }
        }
        // Names the project does not declare have nothing to wait for.
        for name in names.iter().filter(|name| project.app(name).is_none()) {
            settled.entry(name.as_str()).or_insert((Readiness::Ready, String::new()));
        }
        if settled.len() < names.len() {
            clock.sleep(poll_interval);
        }
    }
    names
        .iter()
        .filter_map(|name| {
            let (readiness, reason) = settled.get(name.as_str())?;
            (!readiness.is_ready()).then(|| NotReady {
                name: name.clone(),
                readiness: *readiness,
                reason: reason.clone(),
            })
        })
        .collect()
}
