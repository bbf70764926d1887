//! Apply: carry out a plan's actions against a daemon, one by one, in plan order, then wait until the apps
//! the project wants running are running.
//!
//! The effects go through the [`Daemon`] trait (implemented for `velos_client::Client` and, for tests, by
//! [`crate::testing::FakeDaemon`]), and time through [`Clock`], so every path is tested without a daemon
//! and without sleeping.
pub use crate::clock::{Clock, SystemClock};
use crate::depends::{self, Gates};
use crate::plan::{Action, ActionKind, ActionType, Plan};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use velos_client::ClientError;
use velos_config::DesiredState;
use velos_core::{AppSpec, ErrorCode, ProcessRecord, StartSpec, Status};

/// What apply needs from the daemon (docs/PROTOCOL.md). Each call is one request.
pub trait Daemon {
    /// `PROCESS_LIST`.
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError>;
    /// `PROCESS_INFO`.
    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError>;
    /// `PROCESS_START` with a full spec and the request's flags (`expected_hash`, `replace`, `autostart`).
    fn start(&mut self, start: &StartSpec) -> Result<ProcessRecord, DaemonError>;
    /// `PROCESS_START {name}`: starts an app the daemon knows.
    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError>;
    /// `PROCESS_STOP`: answers at once; the app may still be `stopping`.
    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError>;
    /// `PROCESS_DELETE`: answers at once; the app may still be listed for a moment.
    fn delete(&mut self, name: &str) -> Result<(), DaemonError>;
    /// Changes the settings that need no restart (`max_memory_bytes`, `log_*`, labels) of `spec`. The app
    /// must still have `spec.spec_hash`; the running process and its status must be left as they are.
    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError>;
    /// [`Daemon::start`] for several specs, one result each, in order. The real client pipelines them
    /// (one write, then the replies): creating 100 apps costs one round trip instead of 100.
    fn start_many(&mut self, starts: &[StartSpec]) -> Vec<Result<ProcessRecord, DaemonError>> {
        starts.iter().map(|start| self.start(start)).collect()
    }
}

/// Why a daemon request failed.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The daemon answered with an error.
    #[error("{message}")]
    Remote { code: ErrorCode, message: String },
    /// No answer: the connection broke, timed out, or the reply could not be read.
    #[error(transparent)]
    Transport(ClientError),
}

impl DaemonError {
    pub fn remote(code: ErrorCode, message: impl Into<String>) -> DaemonError {
        DaemonError::Remote { code, message: message.into() }
    }

    /// The daemon's error code, if it answered.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            DaemonError::Remote { code, .. } => Some(code),
            DaemonError::Transport(_) => None,
        }
    }
}

impl From<ClientError> for DaemonError {
    fn from(error: ClientError) -> DaemonError {
        match error {
            ClientError::Remote { code, message } => DaemonError::Remote { code, message },
            other => DaemonError::Transport(other),
        }
    }
}

/// How apply waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyOptions {
    /// After the actions, wait until every app the project wants running is running (`--no-wait`: false).
    /// Stops and deletes are always waited for: an app depending on a stopped one must see it gone.
    pub wait: bool,
    /// The whole apply — actions and the final wait — ends by then (`--timeout`).
    pub timeout: Duration,
    /// How often the daemon is asked while waiting.
    pub poll_interval: Duration,
}

/// Default `--timeout`.
pub const TIMEOUT_DEFAULT: Duration = Duration::from_secs(60);
/// How often apply polls while waiting.
pub const POLL_INTERVAL_DEFAULT: Duration = Duration::from_millis(10);

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions { wait: true, timeout: TIMEOUT_DEFAULT, poll_interval: POLL_INTERVAL_DEFAULT }
    }
}

/// Progress, for a display on a terminal.
#[derive(Debug, Clone, Copy)]
pub enum ApplyEvent<'a> {
    /// About to carry out action `index` (0-based) of `total`.
    ActionStarted { index: usize, total: usize, action: &'a Action },
    /// Action `index` ended (done, failed or skipped).
    ActionFinished { index: usize, total: usize, result: &'a ActionResult },
    /// While waiting: `running` of the `wanted` apps run. Sent when the count changes.
    Waiting { running: usize, wanted: usize },
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ActionResult {
    pub name: String,
    pub action: ActionType,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// `{"outcome": "done"}`, `{"outcome": "failed", "message": ...}`, `{"outcome": "skipped", "reason": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Failed { message: String },
    Skipped { reason: String },
}

/// An app the project wants running that is not, when apply stopped waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NotRunning {
    pub name: String,
    /// Its status and why: `errored: spawn failed: ENOENT`, `still starting after 60s`, `not found`.
    pub reason: String,
}

/// What an apply did. A re-run of apply finishes what this one could not.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ApplyReport {
    /// One per action, in plan order.
    pub results: Vec<ActionResult>,
    /// Empty when apply did not wait.
    pub not_running: Vec<NotRunning>,
    /// From the first action to the end of the wait, by the apply's clock (what the
    /// `velos_reconcile_duration_seconds` histogram is made of).
    #[serde(default)]
    pub duration_ms: u64,
}

impl ApplyReport {
    /// Every action was carried out (the apps may still not run: see [`ApplyReport::not_running`]).
    pub fn actions_done(&self) -> bool {
        self.results.iter().all(|result| result.outcome == Outcome::Done)
    }

    /// Every action done and every wanted app running.
    pub fn ok(&self) -> bool {
        self.not_running.is_empty() && self.actions_done()
    }

    /// `failed: replace web; not running: jobs`, or `ok`: one line for the registry and status.
    pub fn summary(&self) -> String {
        if self.ok() {
            return "ok".into();
        }
        let mut parts = Vec::new();
        let names = |wanted: fn(&Outcome) -> bool| -> Vec<String> {
            self.results
                .iter()
                .filter(|result| wanted(&result.outcome))
                .map(|result| format!("{} {}", result.action.verb(), result.name))
                .collect()
        };
        let failed = names(|outcome| matches!(outcome, Outcome::Failed { .. }));
        let skipped = names(|outcome| matches!(outcome, Outcome::Skipped { .. }));
        if !failed.is_empty() {
            parts.push(format!("failed: {}", failed.join(", ")));
        }
        if !skipped.is_empty() {
            parts.push(format!("skipped: {}", skipped.join(", ")));
        }
        if !self.not_running.is_empty() {
            let names: Vec<&str> = self.not_running.iter().map(|app| app.name.as_str()).collect();
            parts.push(format!("not running: {}", names.join(", ")));
        }
        parts.join("; ")
    }
}

/// `{"ok": true, "results": [...], "not_running": [...]}`.
impl Serialize for ApplyReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            ok: bool,
            results: &'a [ActionResult],
            not_running: &'a [NotRunning],
            duration_ms: u64,
        }
        let view = View {
            ok: self.ok(),
            results: &self.results,
            not_running: &self.not_running,
            duration_ms: self.duration_ms,
        };
        view.serialize(serializer)
    }
}

/// [`apply_with_clock`] with the system clock.
pub fn apply(
    plan: &Plan,
    daemon: &mut dyn Daemon,
    options: ApplyOptions,
    progress: &mut dyn FnMut(ApplyEvent<'_>),
) -> ApplyReport {
    apply_with_clock(plan, daemon, options, &mut SystemClock, progress)
}

/// [`apply_checked`] with readiness judged from the records alone ([`crate::ByRecord`]).
pub fn apply_with_clock(
    plan: &Plan,
    daemon: &mut dyn Daemon,
    options: ApplyOptions,
    clock: &mut dyn Clock,
    progress: &mut dyn FnMut(ApplyEvent<'_>),
) -> ApplyReport {
    apply_checked(plan, daemon, options, clock, &mut crate::ByRecord, progress)
}

/// Carries out `plan`'s actions in order, then (if `options.wait`) waits for the apps to run.
///
/// - Create: START with `expected_hash: ""`, so two concurrent applies cannot both create an app; replace:
///   START with `replace` and `expected_hash` = the hash the plan saw; a `conflict` is reported as "changed
///   by someone else since the plan; re-run apply". Wanted stopped: then STOP.
/// - Start: START by name. Stop: STOP, then wait until it is at rest. Delete: DELETE, then wait until gone.
/// - A failed action does not stop the others, but an action whose app depends on one not applied is
///   skipped (forward), and so is stopping or deleting an app that a not-stopped app depends on (reverse),
///   and a second action on an app whose first failed.
/// - The replaces of an app that rolls (see [`crate::rolling`]) are carried out together at the first of
///   them, batch by batch, each batch judged ready by `ready` before the next.
/// - Never panics and never returns early: every action gets a result.
pub fn apply_checked(
    plan: &Plan,
    daemon: &mut dyn Daemon,
    options: ApplyOptions,
    clock: &mut dyn Clock,
    ready: &mut dyn crate::ReadyCheck,
    progress: &mut dyn FnMut(ApplyEvent<'_>),
) -> ApplyReport {
    apply_inner(plan, daemon, options, clock, ready, None, progress)
}

/// [`apply_checked`], and with `gates`, each app that starts waits first for the `depends_on`
/// conditions of its project ([`crate::depends`]); one whose dependency fails them is skipped, naming it.
/// The gates' check judges the rolling batches too.
pub fn apply_gated(
    plan: &Plan,
    daemon: &mut dyn Daemon,
    options: ApplyOptions,
    clock: &mut dyn Clock,
    gates: Option<Gates<'_>>,
    progress: &mut dyn FnMut(ApplyEvent<'_>),
) -> ApplyReport {
    match gates {
        Some(Gates { project, check }) => {
            apply_inner(plan, daemon, options, clock, check, Some(project), progress)
        }
        None => apply_inner(plan, daemon, options, clock, &mut crate::ByRecord, None, progress),
    }
}

/// The one apply loop: `ready` judges rolling batches and `depends_on` conditions, which are waited for
/// when `conditions_of` names the project.
fn apply_inner(
    plan: &Plan,
    daemon: &mut dyn Daemon,
    options: ApplyOptions,
    clock: &mut dyn Clock,
    ready: &mut dyn crate::ReadyCheck,
    conditions_of: Option<&velos_config::Project>,
    progress: &mut dyn FnMut(ApplyEvent<'_>),
) -> ApplyReport {
    let total = plan.actions.len();
    if !plan.is_applicable() {
        // A plan read back from JSON has no specs to send: each action fails, none is half done.
        let results = plan.actions.iter().map(|action| ActionResult {
            name: action.name.clone(),
            action: action.kind.kind(),
            outcome: Outcome::Failed { message: "a plan read back from JSON cannot be applied".into() },
        });
        return ApplyReport { results: results.collect(), not_running: Vec::new(), duration_ms: 0 };
    }
    let began = clock.now();
    let mut waiter = Waiter { deadline: began + options.timeout, options, clock };
    let depends_on_of: BTreeMap<&str, &[String]> =
        plan.actions.iter().map(|action| (action.name.as_str(), action.depends_on.as_slice())).collect();
    let mut unapplied: BTreeSet<&str> = BTreeSet::new();
    let mut report = ApplyReport::default();
    let mut created_in_batch: BTreeMap<usize, Result<(), String>> = BTreeMap::new();
    let mut rolled: BTreeMap<usize, Outcome> = BTreeMap::new();
    for (index, action) in plan.actions.iter().enumerate() {
        if !created_in_batch.contains_key(&index) {
            let gates = conditions_of.map(|project| Gates { project, check: &mut *ready });
            created_in_batch = create_batch(plan, index, &unapplied, gates.as_ref(), daemon);
        }
        progress(ApplyEvent::ActionStarted { index, total, action });
        // depends_on conditions first (an app that rolls waits for them before its first batch), then the
        // roll of every instance of the app, batch by batch.
        let mut unmet: Option<String> = None;
        if !rolled.contains_key(&index) && !is_blocked(action, &unapplied) {
            if let Some(project) = conditions_of {
                let mut gates = Gates { project, check: &mut *ready };
                let (deadline, poll) = (waiter.deadline, options.poll_interval);
                unmet = depends::await_conditions(&mut gates, action, daemon, waiter.clock, (deadline, poll))
                    .err();
            }
            if unmet.is_none() {
                let blocked = |action: &Action| is_blocked(action, &unapplied);
                rolled.extend(crate::rolling::roll_plan(
                    plan,
                    index,
                    &blocked,
                    daemon,
                    &mut waiter,
                    &mut *ready,
                ));
            }
        }
        let kind = action.kind.kind();
        let blocked = if unapplied.contains(action.name.as_str()) {
            Some("an earlier action on it was not applied".to_string())
        } else if kind.is_reverse() {
            unapplied
                .iter()
                .find(|other| depends_on_of.get(*other).is_some_and(|deps| deps.contains(&action.name)))
                .map(|other| format!("{other} depends on it and was not stopped"))
        } else {
            action
                .depends_on
                .iter()
                .find(|dependency| unapplied.contains(dependency.as_str()))
                .map(|dependency| format!("depends on {dependency}, which was not applied"))
        };
        let blocked = blocked.or(unmet);
        let outcome = match (rolled.remove(&index), blocked) {
            (Some(outcome), _) => outcome,
            (None, Some(reason)) => Outcome::Skipped { reason },
            (None, None) => {
                match created_in_batch.remove(&index).unwrap_or_else(|| execute(action, daemon, &mut waiter))
                {
                    Ok(()) => Outcome::Done,
                    Err(message) => Outcome::Failed { message },
                }
            }
        };
        if outcome != Outcome::Done {
            unapplied.insert(action.name.as_str());
        }
        report.results.push(ActionResult { name: action.name.clone(), action: kind, outcome });
        if let Some(result) = report.results.last() {
            progress(ApplyEvent::ActionFinished { index, total, result });
        }
    }
    if options.wait {
        let wanted: Vec<&str> = plan
            .desired_running
            .iter()
            .map(String::as_str)
            .filter(|name| !unapplied.contains(name))
            .collect();
        report.not_running = waiter.until_running(daemon, &wanted, progress);
    }
    let took = waiter.clock.now().saturating_duration_since(began);
    report.duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    report
}

/// Whether `action` cannot run because it, or an app it depends on, was not applied.
fn is_blocked(action: &Action, unapplied: &BTreeSet<&str>) -> bool {
    unapplied.contains(action.name.as_str())
        || action.depends_on.iter().any(|dependency| unapplied.contains(dependency.as_str()))
}

/// Sends, in one pipelined batch, the run of creates that starts at `first` (when there are at least two),
/// and returns each one's result by action index. A run stops at the first action that is not a create, is
/// blocked by something not applied, or depends on an app created earlier in the same run: a dependent
/// is only sent once its dependency's result is known, so "skip what depends on a failure" still holds.
fn create_batch(
    plan: &Plan,
    first: usize,
    unapplied: &BTreeSet<&str>,
    gates: Option<&Gates<'_>>,
    daemon: &mut dyn Daemon,
) -> BTreeMap<usize, Result<(), String>> {
    let mut run: Vec<(usize, StartSpec)> = Vec::new();
    let mut names_in_run: BTreeSet<&str> = BTreeSet::new();
    for (index, action) in plan.actions.iter().enumerate().skip(first) {
        let ActionKind::Create { spec, state } = &action.kind else { break };
        let depends_inside =
            action.depends_on.iter().any(|dependency| names_in_run.contains(dependency.as_str()));
        let blocked = unapplied.contains(action.name.as_str())
            || action.depends_on.iter().any(|dependency| unapplied.contains(dependency.as_str()));
        // An app with depends_on conditions waits for them first: never sent ahead in a batch.
        let gated = gates.is_some_and(|gates| !gates.conditions_of(action).is_empty());
        if depends_inside || blocked || gated {
            break;
        }
        run.push((index, create_spec(spec, *state)));
        names_in_run.insert(action.name.as_str());
    }
    if run.len() < 2 {
        return BTreeMap::new();
    }
    let starts: Vec<StartSpec> = run.iter().map(|(_, start)| start.clone()).collect();
    let results = daemon.start_many(&starts);
    run.iter()
        .zip(results)
        .map(|((index, start), result)| {
            (*index, result.map(|_| ()).map_err(|error| describe(&start.spec.name, &error)))
        })
        .collect()
}

/// The START of a create: the app must not exist yet (`expected_hash: ""`, so two concurrent applies
/// cannot both create it), and an app wanted stopped is registered without ever running.
fn create_spec(spec: &AppSpec, state: DesiredState) -> StartSpec {
    StartSpec::create(spec.clone(), state == DesiredState::Running)
}

/// Time and polling, shared by the waits of one apply.
pub(crate) struct Waiter<'a> {
    pub(crate) options: ApplyOptions,
    pub(crate) deadline: Instant,
    pub(crate) clock: &'a mut dyn Clock,
}

fn execute(action: &Action, daemon: &mut dyn Daemon, waiter: &mut Waiter<'_>) -> Result<(), String> {
    let name = action.name.as_str();
    let failed = |error: DaemonError| describe(name, &error);
    match &action.kind {
        ActionKind::Create { spec, state } => {
            daemon.start(&create_spec(spec, *state)).map_err(failed)?;
        }
        ActionKind::Replace { spec, old_hash, state, .. } => {
            let mut start = StartSpec {
                spec: (**spec).clone(),
                expected_hash: Some(old_hash.clone()),
                replace: true,
                autostart: true,
            };
            if *state == DesiredState::Stopped {
                // Stop first, then swap the spec without starting: the new version never runs.
                waiter.stop(daemon, name)?;
                start.autostart = false;
            }
            daemon.start(&start).map_err(failed)?;
        }
        ActionKind::UpdateInPlace { spec, .. } => {
            daemon.update_in_place(spec).map_err(failed)?;
        }
        ActionKind::Start => {
            daemon.start_existing(name).map_err(failed)?;
        }
        ActionKind::Stop => waiter.stop(daemon, name)?,
        ActionKind::Delete => {
            daemon.delete(name).map_err(failed)?;
            waiter.gone(daemon, name)?;
        }
    }
    Ok(())
}

/// The message of a failed request, with the conflict case spelled out.
pub(crate) fn describe(name: &str, error: &DaemonError) -> String {
    match error {
        DaemonError::Remote { code: ErrorCode::Conflict, .. } => {
            format!("{name} was changed by someone else since the plan; re-run apply")
        }
        DaemonError::Remote { message, .. } => message.clone(),
        DaemonError::Transport(error) => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}

impl Waiter<'_> {
    fn timeout_text(&self) -> String {
        crate::diff::duration_ms(u64::try_from(self.options.timeout.as_millis()).unwrap_or(u64::MAX))
    }

    fn expired(&self) -> bool {
        self.clock.now() >= self.deadline
    }

    /// STOP, then poll until the app is at rest.
    pub(crate) fn stop(&mut self, daemon: &mut dyn Daemon, name: &str) -> Result<(), String> {
        let mut record = daemon.stop(name).map_err(|error| describe(name, &error))?;
        while !record.status.is_at_rest() {
            if self.expired() {
                return Err(format!(
                    "timed out after {} waiting for {name} to stop (still {})",
                    self.timeout_text(),
                    record.status
                ));
            }
            self.clock.sleep(self.options.poll_interval);
            record = daemon.info(name).map_err(|error| describe(name, &error))?;
        }
        Ok(())
    }

    /// Poll until the daemon no longer knows the app.
    pub(crate) fn gone(&mut self, daemon: &mut dyn Daemon, name: &str) -> Result<(), String> {
        loop {
            let record = match daemon.info(name) {
                Err(DaemonError::Remote { code: ErrorCode::NotFound, .. }) => return Ok(()),
                Err(error) => return Err(describe(name, &error)),
                Ok(record) => record,
            };
            if self.expired() {
                return Err(format!(
                    "timed out after {} waiting for {name} to be deleted (still {})",
                    self.timeout_text(),
                    record.status
                ));
            }
            self.clock.sleep(self.options.poll_interval);
        }
    }

    /// Polls LIST until each of `wanted` is running or will not get there without help (errored,
    /// stopped, gone), or the deadline passes. Returns those not running, sorted by name.
    fn until_running(
        &mut self,
        daemon: &mut dyn Daemon,
        wanted: &[&str],
        progress: &mut dyn FnMut(ApplyEvent<'_>),
    ) -> Vec<NotRunning> {
        let mut last_count = None;
        loop {
            let records = match daemon.list() {
                Ok(records) => records,
                Err(error) => {
                    let reason = format!("could not list the apps: {}", describe("", &error));
                    return wanted
                        .iter()
                        .map(|name| NotRunning { name: name.to_string(), reason: reason.clone() })
                        .collect();
                }
            };
            let by_name: BTreeMap<&str, &ProcessRecord> =
                records.iter().map(|record| (record.name.as_str(), record)).collect();
            let running = wanted
                .iter()
                .filter(|name| by_name.get(*name).is_some_and(|record| record.status == Status::Running))
                .count();
            if last_count != Some(running) {
                progress(ApplyEvent::Waiting { running, wanted: wanted.len() });
                last_count = Some(running);
            }
            let expired = self.expired();
            let mut pending = false;
            let mut not_running = Vec::new();
            for &name in wanted {
                match by_name.get(name) {
                    // A job that ran to its end is where it should be.
                    Some(record) if matches!(record.status, Status::Running | Status::Completed) => {}
                    None => not_running.push(NotRunning { name: name.into(), reason: "not found".into() }),
                    Some(record) if record.status.is_at_rest() => {
                        not_running.push(NotRunning { name: name.into(), reason: at_rest_reason(record) });
                    }
                    Some(record) => {
                        pending = true;
                        let reason = format!(
                            "still {} after {}{}",
                            record.status,
                            self.timeout_text(),
                            last_exit(record)
                        );
                        not_running.push(NotRunning { name: name.into(), reason });
                    }
                }
            }
            if !pending || expired {
                return not_running;
            }
            self.clock.sleep(self.options.poll_interval);
        }
    }
}

/// `errored: spawn failed: ENOENT`, `stopped (exit code 0)`.
fn at_rest_reason(record: &ProcessRecord) -> String {
    match (&record.last_error, record.status) {
        (Some(error), _) => format!("{}: {error}", record.status),
        (None, _) => format!("{}{}", record.status, last_exit(record)),
    }
}

/// ` (3 restarts, last exit code 1)`, or empty when there is nothing to say.
fn last_exit(record: &ProcessRecord) -> String {
    let mut parts = Vec::new();
    if record.restarts > 0 {
        parts.push(format!("{} restarts", record.restarts));
    }
    match (record.exit_code, record.exit_signal) {
        (Some(code), _) => parts.push(format!("last exit code {code}")),
        (None, Some(signal)) => parts.push(format!("last killed by {}", crate::diff::signal(signal))),
        (None, None) => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// A daemon shared with a test (which looks at it, or changes it behind the controller's back).
impl<D: Daemon + ?Sized> Daemon for std::sync::Arc<std::sync::Mutex<D>> {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).list()
    }
    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).info(name)
    }
    fn start(&mut self, start: &StartSpec) -> Result<ProcessRecord, DaemonError> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).start(start)
    }
    /// Forwarded, so a shared daemon still pipelines a batch of creates.
    fn start_many(&mut self, starts: &[StartSpec]) -> Vec<Result<ProcessRecord, DaemonError>> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).start_many(starts)
    }
    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).start_existing(name)
    }
    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).stop(name)
    }
    fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).delete(name)
    }
    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner).update_in_place(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_keep_the_daemons_code() {
        let remote =
            DaemonError::from(ClientError::Remote { code: ErrorCode::Conflict, message: "no".into() });
        assert_eq!(remote.code(), Some(&ErrorCode::Conflict));
        assert_eq!(describe("web", &remote), "web was changed by someone else since the plan; re-run apply");
        let timeout =
            DaemonError::from(ClientError::Timeout { what: "reading".into(), after: Duration::from_secs(1) });
        assert_eq!(timeout.code(), None);
        assert_eq!(describe("web", &timeout), "timed out after 1 s reading");
    }

    #[test]
    fn reasons_for_apps_at_rest() {
        let spec = AppSpec::new("web", "/bin/sleep", "/");
        let mut record = crate::testing::record_for(&spec, Status::Stopped, 0);
        record.exit_code = Some(0);
        assert_eq!(at_rest_reason(&record), "stopped (last exit code 0)");
        record.exit_code = None;
        record.exit_signal = Some(9);
        record.restarts = 2;
        assert_eq!(at_rest_reason(&record), "stopped (2 restarts, last killed by SIGKILL)");
        record.status = Status::Errored;
        record.last_error = Some("cannot execute /bin/sleep: ENOENT".into());
        assert_eq!(at_rest_reason(&record), "errored: cannot execute /bin/sleep: ENOENT");
    }
}
