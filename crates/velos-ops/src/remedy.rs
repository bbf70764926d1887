//! After a project's apply and its readiness wait: record whether the revision became ready, and when it
//! did not, do what the project's `[project] on_failure` says (velos-config's [`OnFailure`]):
//!
//! - left out (`report`): nothing more; the apply fails naming what is not ready;
//! - `rollback`: apply the last revision of the project that became ready (from the history, without
//!   touching the file: the file keeps the change that failed, so the user can fix it), wait for it,
//!   record both applies, and note the rollback in the registry, which `velos status` reports and the
//!   controller honours (it does not apply the failed revision again);
//! - `stop`: stop the apps that did not become ready, and note it the same way.
//!
//! The apply still fails (exit 1): the change did not work. Its message says what was done about it.
use crate::backend::Backend;
use crate::context::Ops;
use crate::converge::{await_ready, converge_project, Applied, Progress, Waiting};
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::{WaitOptions, Warning, WarningKind};
use crate::ready::AppReadiness;
use velos_config::{OnFailure, Project};
use velos_reconcile::remediation::{
    last_ready, mark_ready, project_of_entry, record_remediation, Remediation, RemedyAction,
};
use velos_reconcile::{short_revision, Outcome};

/// What an apply and its wait gave.
pub type Settled = Result<(Applied, Vec<AppReadiness>), OpError>;

/// Records whether `project`'s revision became ready and, when it did not, carries out its `on_failure`.
/// Without a wait there is nothing to judge: `result` is returned as it is.
pub fn settle(
    ops: &Ops,
    backend: &mut dyn Backend,
    project: &Project,
    result: Settled,
    wait: WaitOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    warnings: &mut Vec<Warning>,
) -> Settled {
    if !wait.wait {
        return result;
    }
    let home = ops.home().root();
    let ready = result.is_ok();
    if let Err(error) = mark_ready(home, &project.name, &project.revision, ready) {
        warnings.push(Warning::new(
            WarningKind::Unrecorded,
            format!("could not note in the history whether the apps became ready: {error}"),
        ));
    }
    let error = match result {
        Err(error) if error.kind == OpErrorKind::Incomplete => error,
        other => return other,
    };
    let done = match project.on_failure {
        OnFailure::Report => return Err(error),
        OnFailure::Rollback => roll_back(ops, backend, project, &error, wait, progress, warnings),
        OnFailure::Stop => stop_failed(ops, backend, project, &error),
    };
    Err(match done {
        Ok(remediation) => {
            if let Err(failure) = record_remediation(home, &project.name, &remediation) {
                warnings.push(Warning::unrecorded(&failure));
            }
            let what = match remediation.action {
                RemedyAction::Rollback => format!(
                    "rolled back to {}, the last revision that became ready",
                    short_revision(remediation.to.as_deref().unwrap_or_default())
                ),
                RemedyAction::Stop => format!("stopped {}", remediation.apps.join(", ")),
            };
            let mut error = error;
            error.message =
                format!("{}; {what} (on_failure = {})", error.message, project.on_failure.as_str());
            error
        }
        Err(why) => error.cause(format!("on_failure = {}: {why}", project.on_failure.as_str())),
    })
}

/// Applies the last revision that became ready (other than the one that failed) and waits for it.
fn roll_back(
    ops: &Ops,
    backend: &mut dyn Backend,
    project: &Project,
    error: &OpError,
    wait: WaitOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    warnings: &mut Vec<Warning>,
) -> Result<Remediation, String> {
    let home = ops.home().root();
    let entry = last_ready(home, &project.name, &project.revision)
        .map_err(|failure| format!("cannot read the history: {failure}"))?
        .ok_or_else(|| {
            format!("no earlier revision of {} became ready: nothing was rolled back", project.name)
        })?;
    let previous = project_of_entry(&entry)
        .map_err(|failure| format!("apply #{} cannot be read back: {failure}", entry.seq))?;
    let waiting = Waiting::before(ops, &previous, ops.clock().now());
    let converged =
        converge_project(ops, backend, (&previous, &entry.source_text), wait, false, progress, warnings);
    let rolled = await_ready(ops, backend, converged, wait, waiting, &project.file);
    let ready = rolled.is_ok();
    if let Err(failure) = mark_ready(home, &previous.name, &previous.revision, ready) {
        warnings.push(Warning::unrecorded(&failure));
    }
    if let Err(again) = rolled {
        return Err(format!(
            "the rollback to {} failed too: {}",
            short_revision(&previous.revision),
            again.message
        ));
    }
    Ok(Remediation {
        action: RemedyAction::Rollback,
        from: project.revision.clone(),
        to: Some(previous.revision.clone()),
        reason: error.message.clone(),
        apps: Vec::new(),
        time_unix_ms: ops.clock().unix_ms(),
    })
}

/// Stops the apps the failed apply names: those not ready, and those whose action failed.
fn stop_failed(
    ops: &Ops,
    backend: &mut dyn Backend,
    project: &Project,
    error: &OpError,
) -> Result<Remediation, String> {
    let Some(ErrorDetail::Incomplete { report, ready, .. }) = error.detail.as_deref() else {
        return Err("the failed apps are not known: nothing was stopped".into());
    };
    let mut apps: Vec<String> =
        ready.iter().filter(|app| !app.is_ready()).map(|app| app.name.clone()).collect();
    apps.extend(
        report
            .results
            .iter()
            .filter(|result| matches!(result.outcome, Outcome::Failed { .. }))
            .map(|result| result.name.clone()),
    );
    apps.extend(report.not_running.iter().map(|app| app.name.clone()));
    apps.sort();
    apps.dedup();
    let mut clock = ops.clock();
    for name in &apps {
        let record = match backend.stop(name) {
            Ok(record) => record,
            // Gone already: nothing to stop.
            Err(failure) if failure.code() == Some(&velos_core::ErrorCode::NotFound) => continue,
            Err(failure) => return Err(format!("could not stop {name}: {failure}")),
        };
        crate::wait::until(backend, clock.as_mut(), name, crate::wait::rest_timeout(&record), |record| {
            record.status.is_at_rest()
        })
        .map_err(|failure| failure.message)?;
    }
    Ok(Remediation {
        action: RemedyAction::Stop,
        from: project.revision.clone(),
        to: None,
        reason: error.message.clone(),
        apps,
        time_unix_ms: clock.unix_ms(),
    })
}
