//! A whole-project converge under the caller's edit lock: the one pass (velos-reconcile's [`Pass`]) with
//! the ops layer's clock, progress and warnings. Used by apply, rollback, sync's local look and the system
//! project.
use crate::backend::Backend;
use crate::context::Ops;
use crate::edit::session::converge_error;
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::{WaitOptions, Warning};
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
    let converged = pass
        .run(
            &mut recording,
            clock.as_mut(),
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
    let logs = first.map(|name| format!("velos logs {name} --stderr shows why; then ")).unwrap_or_default();
    OpError::new(
        OpErrorKind::Incomplete,
        format!("the apply of project {} did not complete: {}", applied.plan.project, report.summary()),
    )
    .hint(format!("{logs}velos apply {} finishes the job", file.display()))
    .detail(ErrorDetail::Incomplete { plan: applied.plan, report: applied.report })
}
