//! `velos start`, `stop`, `delete`, `restart`, `scale`, `set`, `unset`: the PM2-style verbs. Each is an
//! edit of the app's velos.toml (restart is an action) done by velos-ops; this module says what happened.
use super::apply::{failed_apply, warn};
use super::progress::Printer;
use super::Context;
use crate::cli::{ScaleArgs, SetArgs, StartArgs, UnsetArgs};
use crate::error::CliError;
use crate::render;
use std::io::Write;
use velos_ops::{
    AppChange, Assignment, DeleteRequest, EditOutcome, NewAppOptions, OpError, RestartRequest, ScaleRequest,
    SetRequest, StartRequest, StopRequest, UnsetRequest, WaitOptions,
};
use velos_reconcile::render_summary;

/// The `velos start` options that may not follow the program (they would be passed to it).
const START_OPTIONS: [&str; 13] = [
    "--name",
    "--restart",
    "--cwd",
    "--env",
    "-e",
    "--inherit-env",
    "--max-restarts",
    "--restart-window",
    "--min-uptime",
    "--backoff-initial",
    "--backoff-max",
    "--kill-signal",
    "--kill-timeout",
];

pub fn start(context: &Context, args: StartArgs, out: &mut dyn Write) -> Result<(), CliError> {
    refuse_late_options(&args)?;
    let caller_dir = std::env::current_dir()
        .map_err(|error| CliError::new("could not read the current directory").cause(error.to_string()))?;
    let caller_env = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let millis = |duration: Option<std::time::Duration>| duration.map(|duration| duration.as_millis() as u64);
    let options = NewAppOptions {
        name: args.name,
        cwd: args.cwd,
        env: args.env.into_iter().collect(),
        inherit_env: args.inherit_env,
        restart: args.restart,
        max_restarts: args.max_restarts,
        restart_window_ms: millis(args.restart_window),
        backoff_initial_ms: millis(args.backoff_initial),
        backoff_max_ms: millis(args.backoff_max),
        min_uptime_ms: millis(args.min_uptime),
        kill_signal: args.kill_signal,
        kill_timeout_ms: millis(args.kill_timeout),
    };
    let request = StartRequest {
        target: args.program,
        args: args.args,
        options,
        caller_dir,
        caller_env,
        wait: WaitOptions::default(),
    };
    let mut printer = Printer::new(out, false);
    let colour = printer.colour();
    let result = context.ops.start_with(request, &mut |progress| printer.event(progress));
    printer.finish()?;
    let outcome =
        result.map_err(|error| failed_apply(error, false, colour, out).unwrap_or_else(|error| error))?;
    if let Some(applied) = &outcome.applied {
        warn(&applied.warnings);
        if !applied.plan.is_empty() {
            out.write_all(render_summary(&applied.report, colour).as_bytes())?;
        }
        writeln!(out, "(velos start of a velos.toml applies it: velos apply does the same)")?;
    }
    warn(&outcome.warnings);
    for change in &outcome.apps {
        changed(change, Said::Started, out)?;
    }
    Ok(())
}

/// `velos start /bin/sleep 300 --name sl` would pass `--name sl` to sleep: said, unless the program's
/// arguments were set apart with `--`.
fn refuse_late_options(args: &StartArgs) -> Result<(), CliError> {
    let separated = std::env::args().skip_while(|arg| arg != "start").any(|arg| arg == "--");
    let late = args
        .args
        .iter()
        .find(|arg| START_OPTIONS.iter().any(|option| arg.split('=').next() == Some(*option)));
    match late {
        Some(option) if !separated => Err(CliError::new(format!(
            "`{option}` comes after the program, so it would be passed to {} as an argument",
            args.program
        ))
        .hint(format!(
            "put velos's options before the program (velos start {option} ... {} ...), or write -- before the program's own arguments (velos start {} -- ...)",
            args.program, args.program
        ))),
        _ => Ok(()),
    }
}

pub fn stop(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.stop(StopRequest { name: name.to_string() })?;
    warn(&outcome.warnings);
    for change in &outcome.apps {
        changed(change, Said::Stopped, out)?;
    }
    Ok(())
}

pub fn delete(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.delete(DeleteRequest { name: name.to_string() })?;
    warn(&outcome.warnings);
    for change in &outcome.apps {
        changed(change, Said::Deleted, out)?;
    }
    Ok(())
}

pub fn restart(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.restart(RestartRequest { name: name.to_string() })?;
    for restarted in &outcome.restarted {
        writeln!(out, "{}", render::restarted(restarted))?;
    }
    Ok(())
}

/// `reload api (rolling, 2 at a time, start-first)`, then a line per instance.
pub fn reload(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let request = velos_ops::ReloadRequest { name: name.to_string(), wait: WaitOptions::default() };
    let outcome = context.ops.reload(request)?;
    for app in &outcome.apps {
        writeln!(out, "{}", render::reloaded_app(app))?;
        for instance in &app.instances {
            writeln!(out, "  {}", render::reloaded(instance))?;
        }
    }
    Ok(())
}

pub fn scale(context: &Context, args: &ScaleArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request =
        ScaleRequest { app: args.name.clone(), scale: args.instances, wait: WaitOptions::default() };
    edited(out, |ops, progress| ops.scale_with(request, progress), context)
}

pub fn set(context: &Context, args: &SetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let assignments = args
        .assignments
        .iter()
        .map(|(key, value)| Assignment { key: key.clone(), value: value.clone() })
        .collect();
    let request = SetRequest { app: args.name.clone(), assignments, wait: WaitOptions::default() };
    edited(out, |ops, progress| ops.set_with(request, progress), context)
}

pub fn unset(context: &Context, args: &UnsetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request =
        UnsetRequest { app: args.name.clone(), keys: args.keys.clone(), wait: WaitOptions::default() };
    edited(out, |ops, progress| ops.unset_with(request, progress), context)
}

/// An edit applied like `velos apply`: the plan and progress as it goes, then the summary.
fn edited(
    out: &mut dyn Write,
    verb: impl FnOnce(&velos_ops::Ops, &mut dyn FnMut(velos_ops::Progress<'_>)) -> Result<EditOutcome, OpError>,
    context: &Context,
) -> Result<(), CliError> {
    let mut printer = Printer::new(out, false);
    let colour = printer.colour();
    let result = verb(&context.ops, &mut |progress| printer.event(progress));
    printer.finish()?;
    let outcome =
        result.map_err(|error| failed_apply(error, false, colour, out).unwrap_or_else(|error| error))?;
    warn(&outcome.warnings);
    let change = &outcome.change;
    let plan_empty = change.plan.as_ref().is_none_or(|plan| plan.is_empty());
    match (change.edited, plan_empty) {
        (false, true) => {
            writeln!(out, "No changes: {} already says so, and the host runs it.", file_of(change))?
        }
        (true, true) => writeln!(out, "No changes to apply: the host already runs {}.", change.app)?,
        (_, false) => out.write_all(render_summary(&change.report, colour).as_bytes())?,
    }
    Ok(())
}

fn file_of(change: &AppChange) -> String {
    change.file.as_ref().map_or_else(|| change.app.clone(), |file| file.display().to_string())
}

/// What a verb says it did.
#[derive(Debug, Clone, Copy)]
enum Said {
    Started,
    Stopped,
    Deleted,
}

/// One line per instance; the plan first when it held other actions; `(edited FILE)` after an edit of a
/// project's own file (the default project's file is Velos's own and goes unmentioned).
fn changed(change: &AppChange, said: Said, out: &mut dyn Write) -> Result<(), CliError> {
    if let (true, Some(plan)) = (change.other_actions, &change.plan) {
        out.write_all(velos_reconcile::render(plan, super::colour()).as_bytes())?;
    }
    if change.instances.is_empty() && matches!(said, Said::Deleted) {
        writeln!(out, "deleted {}", change.app)?; // declared, never applied: only the file had it
    }
    for instance in &change.instances {
        let line = match said {
            Said::Started => render::started(instance),
            Said::Stopped => render::stopped(instance),
            Said::Deleted => render::deleted(instance),
        };
        writeln!(out, "{line}")?;
    }
    if let (true, false, Some(file)) = (change.edited, change.default_project, &change.file) {
        writeln!(out, "(edited {})", file.display())?;
    }
    Ok(())
}
