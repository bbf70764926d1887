//! Rolling replace: an app's instances are swapped `max_unavailable` at a time, each batch ready (as a
//! [`ReadyCheck`] judges it) before the next begins. A batch that is not ready stops the rollout there:
//! the instances after it keep their old version and keep running.
//!
//! Two strategies (velos-config's [`Strategy`]):
//!
//! - `stop-first`: the instance's process is swapped in place (the old one stops, the new one starts).
//! - `start-first`: a **surge** process of the new version starts first beside the old one, under the
//!   instance's name with [`SURGE_SUFFIX`] (`web-0.next`), with the same labels, so it serves what the
//!   instance serves (a shared port with SO_REUSEPORT). Once it is ready the instance itself is swapped —
//!   the surge serves meanwhile — and once the instance is ready again the surge is deleted. The Zig core
//!   has no way to rename a running process, so the new version starts twice; in exchange the core is
//!   unchanged and every process keeps its own name and log files. A surge left behind by a crash carries
//!   the project's label: the next apply deletes it as any process the file does not declare.
//!
//! Used by apply (a plan's replaces of an app that rolls) and by `velos reload` (a rolling restart).
use crate::apply::{describe, DaemonError, Outcome, Waiter};
use crate::clock::Clock;
use crate::plan::{Action, ActionKind, Plan};
use crate::readiness::{reason, Readiness};
use crate::ready_check::ReadyCheck;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use velos_config::{DesiredApp, DesiredState, Rollout, Strategy};
use velos_core::{AppSpec, StartSpec, Status};

/// The surge of instance `web-0` is named `web-0.next`.
pub const SURGE_SUFFIX: &str = ".next";
/// The label a surge carries: the instance it stands in for.
pub const SURGE_OF_LABEL: &str = "velos.surge_of";

/// Whether a replace of `app` rolls (and how): an app wanted running with several instances, or one that
/// starts its new version first. A single stop-first instance is replaced as any app is.
pub fn rollout_of(app: &DesiredApp, instances: usize) -> Option<Rollout> {
    let rolls = instances > 1 || app.rollout.strategy == Strategy::StartFirst;
    (app.state == DesiredState::Running && rolls).then_some(app.rollout)
}

/// The surge name of `instance`.
pub fn surge_name(instance: &str) -> String {
    format!("{instance}{SURGE_SUFFIX}")
}

/// One instance of a rollout.
#[derive(Debug, Clone)]
pub struct RollInstance {
    /// What the project wants it to be: what the [`ReadyCheck`] is asked about.
    pub desired: DesiredApp,
    pub swap: Swap,
}

/// How an instance's process is swapped for its new version.
#[derive(Debug, Clone)]
pub enum Swap {
    /// A new spec: START with `replace`, the old hash expected (a plan's replace).
    Replace { spec: AppSpec, old_hash: String },
    /// The same spec, a new process: STOP, then START by name (`velos reload`).
    Restart { spec: AppSpec },
}

impl Swap {
    /// The spec the new process runs.
    pub fn spec(&self) -> &AppSpec {
        match self {
            Swap::Replace { spec, .. } | Swap::Restart { spec } => spec,
        }
    }
}

/// Time for a rollout: everything ends by `deadline`; the daemon is asked every `poll_interval`.
pub struct RollTiming<'a> {
    pub clock: &'a mut dyn Clock,
    pub deadline: Instant,
    pub poll_interval: Duration,
}

/// Rolls `instances` (in order) `rollout.max_unavailable` at a time. One outcome per instance, in order:
/// done (ready with its new version), failed (not swapped, or not ready: the message says which and why),
/// or skipped (the rollout stopped before it: it keeps its old version).
pub fn roll(
    instances: &[RollInstance],
    rollout: Rollout,
    daemon: &mut dyn crate::Daemon,
    timing: RollTiming<'_>,
    ready: &mut dyn ReadyCheck,
) -> Vec<Outcome> {
    // What is left until the deadline: the timeout a stop that takes too long is reported against.
    let timeout = timing.deadline.saturating_duration_since(timing.clock.now());
    let options = crate::ApplyOptions { wait: true, timeout, poll_interval: timing.poll_interval };
    let mut waiter = Waiter { options, deadline: timing.deadline, clock: timing.clock };
    roll_with(instances, rollout, daemon, &mut waiter, ready)
}

pub(crate) fn roll_with(
    instances: &[RollInstance],
    rollout: Rollout,
    daemon: &mut dyn crate::Daemon,
    waiter: &mut Waiter<'_>,
    ready: &mut dyn ReadyCheck,
) -> Vec<Outcome> {
    let batch_size = usize::try_from(rollout.max_unavailable.max(1)).unwrap_or(1);
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(instances.len());
    for batch in instances.chunks(batch_size) {
        if let Some(stopped_at) = first_failure(instances, &outcomes) {
            let reason =
                format!("the rollout stopped at {stopped_at}, which is not ready; it keeps its old version");
            outcomes.extend(batch.iter().map(|_| Outcome::Skipped { reason: reason.clone() }));
            continue;
        }
        let batch_outcomes = match rollout.strategy {
            Strategy::StopFirst => swap_batch(batch, daemon, waiter, ready),
            Strategy::StartFirst => surge_batch(batch, daemon, waiter, ready),
        };
        outcomes.extend(batch_outcomes);
    }
    outcomes
}

/// The name of the first instance whose outcome is not done.
fn first_failure<'a>(instances: &'a [RollInstance], outcomes: &[Outcome]) -> Option<&'a str> {
    instances
        .iter()
        .zip(outcomes)
        .find(|(_, outcome)| **outcome != Outcome::Done)
        .map(|(instance, _)| instance.desired.spec.name.as_str())
}

/// stop-first: swap each instance of the batch, then wait until each is ready.
fn swap_batch(
    batch: &[RollInstance],
    daemon: &mut dyn crate::Daemon,
    waiter: &mut Waiter<'_>,
    ready: &mut dyn ReadyCheck,
) -> Vec<Outcome> {
    let swapped: Vec<Result<(), String>> =
        batch.iter().map(|instance| swap(instance, daemon, waiter)).collect();
    let judged = judge_batch(batch, &swapped, daemon, waiter, ready, |desired| desired.clone());
    batch
        .iter()
        .zip(judged)
        .map(|(instance, judged)| match judged {
            Ok(()) => Outcome::Done,
            Err(message) => failed(instance, message),
        })
        .collect()
}

/// start-first: a surge of the new version beside each instance; once the surges are ready, swap the
/// instances; once those are ready, delete the surges.
fn surge_batch(
    batch: &[RollInstance],
    daemon: &mut dyn crate::Daemon,
    waiter: &mut Waiter<'_>,
    ready: &mut dyn ReadyCheck,
) -> Vec<Outcome> {
    let started: Vec<Result<(), String>> = batch
        .iter()
        .map(|instance| {
            let surge = surge_spec(instance.swap.spec(), &instance.desired.spec.name);
            daemon.start(&StartSpec::create(surge, true)).map(|_| ()).map_err(|error| {
                let surge = surge_name(&instance.desired.spec.name);
                format!("did not start as {surge}: {}", describe(&surge, &error))
            })
        })
        .collect();
    let surges_ready = judge_batch(batch, &started, daemon, waiter, ready, surge_desired);
    // An instance whose surge is not ready is left alone: its old version keeps serving.
    let swapped: Vec<Result<(), String>> = batch
        .iter()
        .zip(&surges_ready)
        .map(|(instance, surge)| match surge {
            Ok(()) => swap(instance, daemon, waiter),
            Err(message) => Err(format!("keeps its old version: its new version {message}")),
        })
        .collect();
    let judged = judge_batch(batch, &swapped, daemon, waiter, ready, |desired| desired.clone());
    let mut outcomes = Vec::with_capacity(batch.len());
    for ((instance, start), judged) in batch.iter().zip(&started).zip(judged) {
        let mut outcome = match judged {
            Ok(()) => Outcome::Done,
            Err(message) => failed(instance, message),
        };
        if start.is_ok() {
            let surge = surge_name(&instance.desired.spec.name);
            let removed = daemon
                .delete(&surge)
                .map_err(|error| describe(&surge, &error))
                .and_then(|()| waiter.gone(daemon, &surge));
            if let (Err(message), Outcome::Done) = (removed, &outcome) {
                outcome = Outcome::Failed {
                    message: format!("ready, but its surge {surge} could not be removed: {message}"),
                };
            }
        }
        outcomes.push(outcome);
    }
    outcomes
}

fn failed(instance: &RollInstance, message: String) -> Outcome {
    Outcome::Failed { message: format!("{} {message}", instance.desired.spec.name) }
}

/// Swaps the instance's process for its new version (the request only; readiness is judged after).
fn swap(
    instance: &RollInstance,
    daemon: &mut dyn crate::Daemon,
    waiter: &mut Waiter<'_>,
) -> Result<(), String> {
    let name = instance.desired.spec.name.as_str();
    let describe_error = |error: DaemonError| format!("could not be swapped: {}", describe(name, &error));
    match &instance.swap {
        Swap::Replace { spec, old_hash } => {
            let start = StartSpec {
                spec: spec.clone(),
                expected_hash: Some(old_hash.clone()),
                replace: true,
                autostart: true,
            };
            daemon.start(&start).map(|_| ()).map_err(describe_error)
        }
        Swap::Restart { .. } => {
            waiter.stop(daemon, name).map_err(|message| format!("could not be stopped: {message}"))?;
            daemon.start_existing(name).map(|_| ()).map_err(describe_error)
        }
    }
}

/// The new version's spec under the surge's name, labelled with the instance it stands in for.
fn surge_spec(spec: &AppSpec, instance: &str) -> AppSpec {
    let mut surge = spec.clone();
    surge.name = surge_name(instance);
    surge.labels.insert(SURGE_OF_LABEL.to_string(), instance.to_string());
    surge
}

/// What the ready check is asked about a surge: the instance, under the surge's name.
fn surge_desired(desired: &DesiredApp) -> DesiredApp {
    let mut surge = desired.clone();
    surge.spec = surge_spec(&desired.spec, &desired.spec.name);
    surge
}

/// Waits until each instance of the batch whose step succeeded is settled, as `ready` judges the process
/// `as_judged(desired)` names. `Ok` for a ready one; `Err` with the step's message, or why it is not ready.
fn judge_batch(
    batch: &[RollInstance],
    steps: &[Result<(), String>],
    daemon: &mut dyn crate::Daemon,
    waiter: &mut Waiter<'_>,
    ready: &mut dyn ReadyCheck,
    as_judged: impl Fn(&DesiredApp) -> DesiredApp,
) -> Vec<Result<(), String>> {
    let judged: Vec<Option<DesiredApp>> = batch
        .iter()
        .zip(steps)
        .map(|(instance, step)| step.is_ok().then(|| as_judged(&instance.desired)))
        .collect();
    let mut settled: BTreeMap<usize, Result<(), String>> = BTreeMap::new();
    let pending: BTreeSet<usize> = (0..batch.len()).filter(|index| steps[*index].is_ok()).collect();
    loop {
        let records = match daemon.list() {
            Ok(records) => records,
            Err(error) => {
                let message = format!("could not be watched: {}", describe("", &error));
                for index in &pending {
                    settled.entry(*index).or_insert_with(|| Err(message.clone()));
                }
                break;
            }
        };
        let expired = waiter.clock.now() >= waiter.deadline;
        for &index in &pending {
            let Some(desired) = judged[index].as_ref().filter(|_| !settled.contains_key(&index)) else {
                continue;
            };
            let record = records.iter().find(|record| record.name == desired.spec.name);
            // A replaced process is `stopping` until its old run is gone, then starts: not settled yet.
            let swapping = record.is_some_and(|record| record.status == Status::Stopping);
            // The daemon counts restarts since a client last started the app: this wait's baseline is 0.
            let mut readiness =
                if swapping { Readiness::Starting } else { ready.judge(desired, record, Some(0)) };
            if !readiness.is_settled() && expired {
                readiness = Readiness::TimedOut;
            }
            if readiness.is_settled() {
                let result = if readiness.is_ready() {
                    Ok(())
                } else {
                    Err(format!("is not ready: {}", reason(readiness, record)))
                };
                settled.insert(index, result);
            }
        }
        if pending.iter().all(|index| settled.contains_key(index)) {
            break;
        }
        waiter.clock.sleep(waiter.options.poll_interval);
    }
    steps
        .iter()
        .enumerate()
        .map(|(index, step)| match step {
            Err(message) => Err(message.clone()),
            Ok(()) => settled.remove(&index).unwrap_or(Ok(())),
        })
        .collect()
}

/// The rollouts of `plan` that start at action `first`: every replace of the same app that rolls, in plan
/// order, unless `skip` says an action is blocked. Returns each one's outcome by action index.
pub(crate) fn roll_plan(
    plan: &Plan,
    first: usize,
    skip: &dyn Fn(&Action) -> bool,
    daemon: &mut dyn crate::Daemon,
    waiter: &mut Waiter<'_>,
    ready: &mut dyn ReadyCheck,
) -> BTreeMap<usize, Outcome> {
    let Some((app, rollout)) = plan.actions.get(first).and_then(|action| rolling_app(plan, action)) else {
        return BTreeMap::new();
    };
    let mut indexes = Vec::new();
    let mut instances = Vec::new();
    for (index, action) in plan.actions.iter().enumerate().skip(first) {
        let ActionKind::Replace { spec, old_hash, .. } = &action.kind else { continue };
        let Some((other, _)) = rolling_app(plan, action) else { continue };
        if other != app || skip(action) {
            continue;
        }
        let Some(desired) = plan.rolling.get(&action.name) else { continue };
        indexes.push(index);
        instances.push(RollInstance {
            desired: desired.clone(),
            swap: Swap::Replace { spec: (**spec).clone(), old_hash: old_hash.clone() },
        });
    }
    let outcomes = roll_with(&instances, rollout, daemon, waiter, ready);
    indexes.into_iter().zip(outcomes).collect()
}

/// The app a replace action belongs to and how it rolls, if it does.
fn rolling_app<'p>(plan: &'p Plan, action: &Action) -> Option<(&'p str, Rollout)> {
    let ActionKind::Replace { rollout: Some(rollout), .. } = &action.kind else { return None };
    plan.rolling.get(&action.name).map(|desired| (desired.app.as_str(), *rollout))
}
