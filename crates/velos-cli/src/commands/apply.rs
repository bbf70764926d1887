//! `velos apply`, `plan`, `diff`, `validate`, `rollback`, `schema`: velos.toml in, plans and reports out.
//! `apply --watch` runs the controller's loop here, in the foreground.
use super::progress::Printer;
use super::{colour, wait_options, Context, Exit};
use crate::cli::{ApplyArgs, DiffArgs, PlanArgs, RollbackArgs, ValidateArgs};
use crate::error::CliError;
use crate::render;
use std::io::Write;
use velos_controller::{client_factory, run_controller, ControllerOptions, Target, TargetSource, Targets};
use velos_ops::{
    Against, AppReadiness, ApplyRequest, ApplySource, DiffRequest, ErrorDetail, GitRequest, OpError,
    PlanRequest, RollbackRequest, ValidateRequest, Warning, WarningKind,
};
use velos_reconcile::{render as render_plan, render_summary, ApplyReport, Plan};

pub fn apply(context: &Context, args: &ApplyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.watch {
        return watch(context, args, out);
    }
    let source = match &args.git {
        Some(repo) => ApplySource::Git(git_request(repo, args)),
        None => ApplySource::File { path: args.file.clone() },
    };
    let request = ApplyRequest { source, wait: wait_options(&args.wait), force_local: args.force_local };
    let mut printer = Printer::new(out, args.json).holding_empty_plan();
    let colour = printer.colour();
    let result = context.ops.apply_with(request, &mut |progress| printer.event(progress));
    printer.finish()?;
    match result {
        Ok(outcome) => {
            warn(&outcome.warnings);
            if outcome.plan.is_empty() && !args.json {
                // Held back until now: "No changes" is only true once the apps are known ready.
                out.write_all(render_plan(&outcome.plan, colour).as_bytes())?;
            }
            applied(&outcome.plan, &outcome.report, &outcome.ready, args.json, colour, out)?;
            if let Some(following) = outcome.following.filter(|_| !args.json) {
                writeln!(out, "{}", render::following(&following))?;
            }
            Ok(())
        }
        Err(error) => Err(failed_apply(error, args.json, colour, out)?),
    }
}

/// After an apply: the summary and each app's readiness (or `{"plan": ..., "report": ..., "ready": ...}`
/// with `--json`).
fn applied(
    plan: &Plan,
    report: &ApplyReport,
    ready: &[AppReadiness],
    json: bool,
    colour: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if json {
        let document = serde_json::json!({ "plan": plan, "report": report, "ready": ready });
        writeln!(out, "{}", render::to_json_pretty(&document))?;
        return Ok(());
    }
    let not_ready = ready.iter().filter(|app| !app.is_ready()).count();
    if !plan.is_empty() || not_ready > 0 {
        out.write_all(render::readiness(ready).as_bytes())?;
    }
    if not_ready > 0 && report.ok() {
        // Every action was done, but that is not "complete" when an app does not come up.
        writeln!(out, "{}", render::not_ready_summary(plan, not_ready, ready.len()))?;
    } else if !plan.is_empty() {
        out.write_all(render_summary(report, colour).as_bytes())?;
    }
    Ok(())
}

/// An apply that did not complete still shows what it did, then its error.
pub fn failed_apply(
    error: OpError,
    json: bool,
    colour: bool,
    out: &mut dyn Write,
) -> Result<CliError, CliError> {
    if let Some(ErrorDetail::Incomplete { plan, report, ready }) = error.detail.as_deref() {
        applied(plan, report, ready, json, colour, out)?;
    }
    Ok(error.into())
}

/// Warnings on stderr: `note:` for what only explains, `warning:` for what needs a look.
pub fn warn(warnings: &[Warning]) {
    for warning in warnings {
        let label = match warning.kind {
            WarningKind::DaemonNotRunning | WarningKind::FollowsGit => "note",
            _ => "warning",
        };
        eprintln!("{label}: {}", warning.message);
    }
}

fn git_request(repo: &str, args: &ApplyArgs) -> GitRequest {
    GitRequest { repo: repo.to_string(), ref_name: args.git_ref.clone(), path: args.path.clone() }
}

pub fn plan(context: &Context, args: &PlanArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.plan(PlanRequest { file: args.file.clone() })?;
    warn(&outcome.warnings);
    print_plan(&outcome.plan, args.json, out, None)
}

fn print_plan(plan: &Plan, json: bool, out: &mut dyn Write, against: Option<&str>) -> Result<(), CliError> {
    if json {
        writeln!(out, "{}", render::to_json_pretty(plan))?;
    } else if let (true, Some(against)) = (plan.is_empty(), against) {
        writeln!(out, "{}", render::no_differences(plan, against))?;
    } else {
        out.write_all(render_plan(plan, colour()).as_bytes())?;
    }
    Ok(())
}

pub fn diff(context: &Context, args: &DiffArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let request = DiffRequest { file: args.file.clone(), against: Against::from_arg(&args.against) };
    let outcome = context.ops.diff(request)?;
    warn(&outcome.warnings);
    print_plan(&outcome.plan, args.json, out, Some(&outcome.against))?;
    Ok(if outcome.changes { Exit::Changes } else { Exit::Success })
}

pub fn validate(context: &Context, args: &ValidateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.validate(ValidateRequest { files: args.files.clone() })?;
    for file in outcome.files {
        match (file.error, file.project) {
            (Some(error), _) => {
                out.flush()?;
                eprint!("{}", CliError::from(error).render());
            }
            (None, Some(project)) => {
                writeln!(out, "{}", render::valid(&file.file, &project, file.apps, file.processes))?
            }
            (None, None) => {}
        }
    }
    match outcome.invalid {
        0 => Ok(()),
        1 if args.files.len() == 1 => Err(CliError::reported("invalid file")),
        invalid => Err(CliError::new(format!("{invalid} of {} files are invalid", args.files.len()))),
    }
}

pub fn rollback(context: &Context, args: &RollbackArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request =
        RollbackRequest { project: args.project.clone(), steps: args.steps, wait: wait_options(&args.wait) };
    let mut printer = Printer::new(out, false);
    let colour = printer.colour();
    let result = context.ops.rollback_with(request, &mut |progress| printer.event(progress));
    printer.finish()?;
    let outcome =
        result.map_err(|error| failed_apply(error, false, colour, out).unwrap_or_else(|error| error))?;
    warn(&outcome.warnings);
    applied(&outcome.plan, &outcome.report, &outcome.ready, false, colour, out)?;
    writeln!(
        out,
        "Rolled back project {} to {} (applied as #{}): wrote it to {}.",
        outcome.project,
        velos_reconcile::short_revision(&outcome.revision),
        outcome.seq,
        outcome.file.display()
    )?;
    Ok(())
}

pub fn schema(out: &mut dyn Write) -> Result<(), CliError> {
    let schema = velos_config::json_schema();
    out.write_all(schema.as_bytes())?;
    if !schema.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// `velos apply --watch`: the controller's loop in the foreground, for FILE (watched whatever its `[velos]`
/// says) or `--git`. Registers nothing; when the system controller follows the project already, this one
/// stands by, and the loop says which controller holds `controller.sock`.
fn watch(context: &Context, args: &ApplyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let target = match &args.git {
        Some(repo) => {
            Target::git(velos_ops::check_git_request(&git_request(repo, args))?, Default::default())
        }
        None => {
            velos_config::load(&args.file).map_err(|error| OpError::from_config(&error))?;
            Target::watched_file(&args.file)
        }
    };
    let what = match &target.source {
        TargetSource::File { path } => path.display().to_string(),
        TargetSource::Git { git } => format!("git {}", git.describe()),
    };
    writeln!(out, "Following {what} here until Ctrl-C: each change is applied and drift undone (what happens is logged below).")?;
    out.flush()?;
    let options = ControllerOptions {
        verbose: true,
        apply: wait_options(&args.wait).apply_options(),
        ..ControllerOptions::default()
    };
    let home = context.ops.home().root();
    run_controller(
        home,
        Targets::Fixed(vec![target]),
        client_factory(home.to_path_buf(), context.ops.velos_exe()?),
        options,
    )
    .map_err(super::projects::controller_error)
}
