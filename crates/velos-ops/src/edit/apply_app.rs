//! What an edit of one app did, as an [`AppChange`], and the direct start/stop/delete of apps that no file
//! declares (started outside any project): nothing would bring them back, so acting on them is safe.
use super::session::{Executed, Prepared, Session};
use crate::convert::daemon_error;
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::{AppChange, InstanceChange};
use crate::wait::{rest_timeout, until, until_gone};
use velos_reconcile::{ActionType, ApplyReport, Outcome};

/// The actions a verb says it does; any other action in the plan is shown before it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Start,
    Stop,
    Delete,
    /// scale, set, unset: the plan is the message.
    Any,
}

impl Expect {
    fn allows(self, action: ActionType) -> bool {
        match self {
            Expect::Start => matches!(action, ActionType::Create | ActionType::Start),
            Expect::Stop => action == ActionType::Stop,
            Expect::Delete => action == ActionType::Delete,
            Expect::Any => true,
        }
    }
}

/// The [`AppChange`] of an executed edit: each instance the file declares (or, for a delete, each deleted),
/// with its pid before and its state after.
pub fn app_change(
    session: &Session<'_>,
    prepared: &Prepared,
    executed: &Executed,
    expect: Expect,
) -> AppChange {
    let plan = &executed.converged.plan;
    let report = &executed.converged.report;
    let mut names: Vec<String> =
        prepared.project.instances_of(&prepared.app).iter().map(|app| app.spec.name.clone()).collect();
    for result in &report.results {
        if !names.contains(&result.name) {
            names.push(result.name.clone());
        }
    }
    let instances = names
        .into_iter()
        .map(|name| {
            let before = session.live(&name);
            let deleted = report.results.iter().any(|result| {
                result.name == name && result.action == ActionType::Delete && result.outcome == Outcome::Done
            });
            let after = if deleted { None } else { executed.seen.get(&name).or(before) };
            InstanceChange {
                pid_before: before.map_or(0, |record| record.pid),
                pid: after.map_or(0, |record| record.pid),
                status: after.map(|record| record.status),
                name,
            }
        })
        .collect();
    AppChange {
        app: prepared.app.clone(),
        file: Some(prepared.file.clone()),
        edited: prepared.changed,
        default_project: prepared.file == session.ops.home().default_project_file(),
        other_actions: plan.actions.iter().any(|action| !expect.allows(action.kind.kind())),
        plan: Some(plan.clone()),
        report: report.clone(),
        instances,
    }
}

/// The failures of an executed edit: `incomplete`, naming the first (the others as causes), with the plan
/// and report as detail.
pub fn failures_error(executed: &Executed, app: &str, hint: impl Fn(&str) -> String) -> Result<(), OpError> {
    let report = &executed.converged.report;
    let mut failures = report.results.iter().filter_map(|result| match &result.outcome {
        Outcome::Done => None,
        Outcome::Failed { message } => Some(message.clone()),
        Outcome::Skipped { reason } => Some(format!("{}: skipped: {reason}", result.name)),
    });
    let Some(first) = failures.next() else { return Ok(()) };
    let mut error = OpError::new(OpErrorKind::Incomplete, first);
    for more in failures {
        error = error.cause(more);
    }
    Err(error.hint(hint(app)).detail(ErrorDetail::Incomplete {
        plan: executed.converged.plan.clone(),
        report: report.clone(),
        ready: Vec::new(),
    }))
}

/// An [`AppChange`] of an app acted on directly.
fn direct_change(app: &str, instance: InstanceChange) -> AppChange {
    AppChange {
        app: app.to_string(),
        file: None,
        edited: false,
        default_project: false,
        plan: None,
        report: ApplyReport::default(),
        other_actions: false,
        instances: vec![instance],
    }
}

/// START by name of an app no file declares.
pub fn direct_start(session: &mut Session<'_>, name: &str) -> Result<AppChange, OpError> {
    let before = session.backend.info(name).map_err(|error| daemon_error(error, Some(name)))?;
    let record = session.backend.start_existing(name).map_err(|error| daemon_error(error, Some(name)))?;
    Ok(direct_change(
        name,
        InstanceChange {
            name: name.to_string(),
            pid_before: before.pid,
            pid: record.pid,
            status: Some(record.status),
        },
    ))
}

/// STOP of an app no file declares, waiting until it is at rest.
pub fn direct_stop(session: &mut Session<'_>, name: &str) -> Result<AppChange, OpError> {
    let before = session.backend.info(name).map_err(|error| daemon_error(error, Some(name)))?;
    let reply = session.backend.stop(name).map_err(|error| daemon_error(error, Some(name)))?;
    let after = if reply.status.is_at_rest() {
        reply
    } else {
        let mut clock = session.ops.clock();
        until(session.backend.as_mut(), clock.as_mut(), name, rest_timeout(&reply), |record| {
            record.status.is_at_rest()
        })?
    };
    Ok(direct_change(
        name,
        InstanceChange {
            name: name.to_string(),
            pid_before: before.pid,
            pid: after.pid,
            status: Some(after.status),
        },
    ))
}

/// DELETE of an app no file declares, waiting until it is gone.
pub fn direct_delete(session: &mut Session<'_>, name: &str) -> Result<AppChange, OpError> {
    let before = session.backend.info(name).map_err(|error| daemon_error(error, Some(name)))?;
    session.backend.delete(name).map_err(|error| daemon_error(error, Some(name)))?;
    let mut clock = session.ops.clock();
    until_gone(session.backend.as_mut(), clock.as_mut(), name, rest_timeout(&before))?;
    Ok(direct_change(
        name,
        InstanceChange { name: name.to_string(), pid_before: before.pid, pid: 0, status: None },
    ))
}
