//! A whole-project converge under the caller's edit lock: the one pass (velos-reconcile's [`Pass`]) with
//! the ops layer's clock, progress and warnings. Used by apply, rollback, sync's local look and the system
//! project.
use crate::backend::Backend;
use crate::context::Ops;
use crate::edit::session::converge_error;
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::{WaitOptions, Warning};
use crate::probing::Probing;
use crate::ready::{wait_ready, watched, AppReadiness};
use crate::recording::Recording;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_config::Project;
use velos_reconcile::{ApplyEvent, ApplyReport, Gate, Pass, Plan, Scope};

/// What a verb that applies reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// An edit verb wrote (`changed`) or left (`!changed`) the app's file, before its plan.
    Edited { file: &'a std::path::Path, changed: bool },
    /// The plan, before anything is done. `system`: the plan of Velos's own project (the controller app),
    /// which a face may show only when it is not empty.
    Planned { plan: &'a Plan, system: bool },
    /// A step of the apply.
    Apply { event: ApplyEvent<'a>, system: bool },
}

/// One project's plan and what applying it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Applied {
    pub plan: Plan,
    pub report: ApplyReport,
}

/// Plans `project` against the host, applies it, records it; an incomplete apply is `incomplete`.
pub fn converge_project(
    ops: &Ops,
    backend: &mut dyn Backend,
    (project, text): (&Project, &str),
    wait: WaitOptions,
    system: bool,
    progress: &mut dyn FnMut(Progress<'_>),
    warnings: &mut Vec<Warning>,
) -> Result<Applied, OpError> {
    let pass =
        Pass { home: ops.home().root(), project, text, scope: Scope::Project, options: wait.apply_options() };
    let mut clock = ops.clock();
    let mut recording = Recording::new(backend);
    // Both callbacks report to `progress`, one after the other, never at once.
    let progress = std::cell::RefCell::new(progress);
    // `depends_on = { db = "healthy" }` is judged by db's readiness check, probed.
    let mut probing = Probing::new(ops.home(), ops.clock());
    probing.mark_logs(project);
    let converged = pass
        .run_checked(
            &mut recording,
            clock.as_mut(),
            &mut probing,
            &mut |plan, _, _| {
                (progress.borrow_mut())(Progress::Planned { plan, system });
                Gate::Apply
            },
            &mut |event| (progress.borrow_mut())(Progress::Apply { event, system }),
        )
        .map_err(|error| converge_error(error, &project.file, warnings))?;
    if let Some(error) = &converged.unrecorded {
        warnings.push(Warning::unrecorded(error));
    }
    let applied = Applied { plan: converged.plan, report: converged.report };
    if applied.report.ok() {
        Ok(applied)
    } else {
        Err(incomplete(applied, &project.file))
    }
}

/// The error of an apply that did not finish, with its plan and report.
pub fn incomplete(applied: Applied, file: &std::path::Path) -> OpError {
    let report = &applied.report;
    let first = report.not_running.first().map(|app| app.name.clone()).or_else(|| {
        report
            .results
            .iter()
            .find(|result| result.outcome != velos_reconcile::Outcome::Done)
            .map(|result| result.name.clone())
    });
    // An app skipped for a dependency never ran: its logs say nothing; the dependency's reason does.
    let failed = |result: &&velos_reconcile::ActionResult| {
        matches!(result.outcome, velos_reconcile::Outcome::Failed { .. })
    };
    let only_skipped = report.not_running.is_empty() && !report.results.iter().any(|result| failed(&result));
    let skipped = report.results.iter().filter(|_| only_skipped).find_map(|result| match &result.outcome {
        velos_reconcile::Outcome::Skipped { reason } => {
            Some(format!("{} was not started: {reason}; ", result.name))
        }
        _ => None,
    });
    let logs = match skipped {
        Some(skipped) => skipped,
        None => first.map(|name| format!("velos logs {name} --stderr shows why; then ")).unwrap_or_default(),
    };
    OpError::new(
        OpErrorKind::Incomplete,
        format!("the apply of project {} did not complete: {}", applied.plan.project, report.summary()),
    )
    .hint(format!("{logs}velos apply {} finishes the job", file.display()))
    .detail(ErrorDetail::Incomplete { plan: applied.plan, report: applied.report, ready: Vec::new() })
}

/// What a readiness wait starts from: the project it judges, the probing state, and when the apply began.
/// Made with [`Waiting::before`] right before the project's actions, so that a `log` readiness check sees a
/// line an app writes as it starts.
pub struct Waiting<'p> {
    project: &'p Project,
    probing: Probing,
    began: std::time::Instant,
}

impl<'p> Waiting<'p> {
    /// `began`: when the apply began; its timeout counts from then.
    pub fn before(ops: &Ops, project: &'p Project, began: std::time::Instant) -> Waiting<'p> {
        let mut probing = Probing::new(ops.home(), ops.clock());
        probing.mark_logs(project);
        Waiting { project, probing, began }
    }
}

/// After a project's converge (done or incomplete): unless told not to wait, waits until each app the
/// project wants running is ready (its readiness check passed, or up for its `min_uptime`) or has failed,
/// by the apply's start + the wait's timeout. An app not ready makes the apply `incomplete`, its error
/// naming the app, its last exit or failed check, and where to look; the outcomes are in
/// [`ErrorDetail::Incomplete`]'s `ready`, and returned with the result when all are ready.
pub fn await_ready(
    ops: &Ops,
    backend: &mut dyn Backend,
    converged: Result<Applied, OpError>,
    wait: WaitOptions,
    waiting: Waiting<'_>,
    file: &std::path::Path,
) -> Result<(Applied, Vec<AppReadiness>), OpError> {
    if !wait.wait {
        return converged.map(|applied| (applied, Vec::new()));
    }
    let Waiting { project, mut probing, began } = waiting;
    let deadline = began + std::time::Duration::from_millis(wait.timeout_ms);
    let mut clock = ops.clock();
    let checks = (project, &mut probing as &mut dyn velos_reconcile::ReadyCheck);
    match converged {
        Ok(applied) => {
            let apps = watched(&applied.plan, &applied.report);
            let ready = wait_ready(backend, clock.as_mut(), ops.home(), checks, &apps, deadline)?;
            if ready.iter().all(AppReadiness::is_ready) {
                Ok((applied, ready))
            } else {
                Err(not_ready(applied, ready, file))
            }
        }
        Err(mut error) => {
            if let Some(ErrorDetail::Incomplete { plan, report, ready }) = error.detail.as_deref_mut() {
                let apps = watched(plan, report);
                // The apply failed already: what the apps say is a bonus, never a second error.
                *ready = wait_ready(backend, clock.as_mut(), ops.home(), checks, &apps, deadline)
                    .unwrap_or_default();
            }
            Err(error)
        }
    }
}

/// `crashy is not ready: restarted 2 times, last exit code 1`, with the hint that fits its state.
fn not_ready(applied: Applied, ready: Vec<AppReadiness>, file: &std::path::Path) -> OpError {
    let failed: Vec<&AppReadiness> = ready.iter().filter(|app| !app.is_ready()).collect();
    let message = match failed.as_slice() {
        [app] => format!("{} is not ready: {}", app.name, app.reason),
        apps => {
            let named: Vec<String> =
                apps.iter().map(|app| format!("{} ({})", app.name, app.reason)).collect();
            format!(
                "{} apps of project {} are not ready: {}",
                apps.len(),
                applied.plan.project,
                named.join(", ")
            )
        }
    };
    let first = failed.first().map_or(String::new(), |app| app.name.clone());
    let stuck = failed.iter().any(|app| {
        use velos_reconcile::Readiness::{CrashLoop, Errored, Exited};
        matches!(app.readiness, CrashLoop | Errored | Exited)
    });
    let again = if stuck {
        // An errored app whose spec did not change is left alone by the plan, by design: say what runs it.
        format!(
            "fix it, then velos apply {} (a changed app is replaced) or velos restart {first} (apply leaves an errored app with an unchanged spec alone)",
            file.display()
        )
    } else {
        format!("fix it, then velos apply {} again", file.display())
    };
    OpError::new(OpErrorKind::Incomplete, message)
        .hint(format!("velos logs {first} --stderr shows more; {again}"))
        .detail(ErrorDetail::Incomplete { plan: applied.plan, report: applied.report, ready })
}
