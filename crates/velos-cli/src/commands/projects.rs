//! `velos status`, `history`, `forget`, `sync`, `hook install`, `controller`: the projects of this host and
//! the controller that follows them.
use super::apply::warn;
use super::Context;
use crate::cli::{ForgetArgs, HistoryArgs, HookInstallArgs, StatusArgs, SyncArgs};
use crate::error::CliError;
use crate::render;
use std::io::{ErrorKind, Write};
use velos_controller::{
    client_factory, install_hook, run_controller_with, ControllerError, ControllerOptions, Targets,
    CONTROLLER_DIR, HOOK_LOG, TARGETS_DIR,
};
use velos_ops::{ForgetRequest, HistoryRequest, StatusRequest, SyncHow, SyncRequest};
use velos_reconcile::now_unix_ms;

pub fn status(context: &Context, args: &StatusArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.status(StatusRequest { all: args.all })?;
    if args.json {
        writeln!(out, "{}", render::to_json_pretty(&outcome.projects))?;
    } else if outcome.projects.is_empty() {
        writeln!(out, "No project has been applied on this host yet (velos apply FILE applies one).")?;
    } else {
        out.write_all(render::status_table(&outcome.projects, now_unix_ms(), super::colour()).as_bytes())?;
    }
    warn(&outcome.warnings);
    not_all_synced(&outcome.projects)
}

/// `velos status` is a gate: exit 1 unless every project is synced with every app ready.
fn not_all_synced(projects: &[velos_reconcile::ProjectStatus]) -> Result<(), CliError> {
    let other: Vec<String> = projects
        .iter()
        .filter(|status| status.state != velos_reconcile::SyncState::Synced)
        .map(|status| format!("{} ({})", status.project, status.state.as_str().replace('_', " ")))
        .collect();
    if other.is_empty() {
        return Ok(());
    }
    let projects = if other.len() == 1 { "project is" } else { "projects are" };
    Err(CliError::new(format!("{} {projects} not synced and ready: {}", other.len(), other.join(", ")))
        .hint("the MESSAGE column (or velos status --json, each app's readiness) says why; velos logs APP --stderr shows an app's errors"))
}

pub fn history(context: &Context, args: &HistoryArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let entries = context.ops.history(HistoryRequest { project: args.project.clone() })?.entries;
    if args.json {
        writeln!(out, "{}", render::history_json(&entries))?;
    } else if entries.is_empty() {
        writeln!(out, "No apply has been recorded on this host yet.")?;
    } else {
        out.write_all(render::history_table(&entries).as_bytes())?;
    }
    Ok(())
}

pub fn forget(context: &Context, args: &ForgetArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.forget(ForgetRequest { project: args.project.clone(), yes: args.yes })?;
    warn(&outcome.warnings);
    for app in &outcome.deleted {
        writeln!(out, "deleted {app}")?;
    }
    for key in &outcome.unfollowed {
        writeln!(out, "no longer following {key}")?;
    }
    writeln!(
        out,
        "Forgot project {} (its history stays: velos history --project {}).",
        outcome.project, outcome.project
    )?;
    Ok(())
}

/// `velos sync [PROJECT]`: the controller is asked to look now; with none running, the sources are looked
/// at here, once, and where each stands is printed.
pub fn sync(context: &Context, args: &SyncArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request = SyncRequest { project: args.project.clone() };
    let outcome = context.ops.sync(request)?;
    match (outcome.how, args.project.as_deref()) {
        (SyncHow::Requested { followed: false }, Some(name)) => writeln!(
            out,
            "Asked the controller to sync now, but it does not follow project {name} (velos status lists what it follows)."
        )?,
        (SyncHow::Requested { .. }, Some(name)) => {
            writeln!(out, "Asked the controller to sync project {name} now; velos status shows the result.")?
        }
        (SyncHow::Requested { .. }, None) => writeln!(
            out,
            "Asked the controller to sync every project it follows now; velos status shows the result."
        )?,
        (SyncHow::RanHere { sources }, _) => {
            writeln!(out, "No controller is running: synced here, once ({}).", render::plural(sources, "source"))?;
            out.write_all(render::status_table(&outcome.projects, now_unix_ms(), super::colour()).as_bytes())?;
        }
    }
    Ok(())
}

/// `velos hook install REPO`: each push to REPO then runs `velos sync` for this VELOS_HOME.
pub fn hook_install(context: &Context, args: &HookInstallArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let home = context.ops.home().root();
    let written = install_hook(&args.repo, &context.ops.velos_exe()?, home).map_err(|error| {
        let hint = match error.kind() {
            ErrorKind::NotFound => "name the repository the host follows: a bare repository, or a work tree",
            ErrorKind::AlreadyExists => "add that line to the end of the existing hook by hand",
            _ => "check that the repository's hooks folder is writable",
        };
        CliError::new(format!("could not install the hook in {}", args.repo.display()))
            .cause(error.to_string())
            .hint(hint)
    })?;
    writeln!(
        out,
        "Wrote {}: each push to {} now runs `velos sync` for {} in the background (its output: {}).",
        written.display(),
        args.repo.display(),
        home.display(),
        home.join(HOOK_LOG).display()
    )?;
    Ok(())
}

/// `velos controller`: what the `velos-controller` system app runs. Follows the registered targets until
/// the process is stopped (SIGTERM ends it at once: every reconcile is idempotent, so nothing is lost).
pub fn controller(context: &Context) -> Result<(), CliError> {
    let home = context.ops.home().root();
    eprintln!(
        "velos controller: started (pid {}), following what {} lists",
        std::process::id(),
        home.join(CONTROLLER_DIR).join(TARGETS_DIR).display()
    );
    let options = ControllerOptions { verbose: true, ..ControllerOptions::default() };
    // cron_restart and watch run beside the loop, on their own thread: a slow git fetch never delays them.
    let _schedules = velos_controller::schedule::spawn_schedules(home, true)
        .map_err(|error| controller_error(ControllerError::Watch(error)))?;
    // The projects' [velos.api] and [velos.otlp], served from this process.
    let services = velos_api::HostedServices::new(home.to_path_buf());
    run_controller_with(
        home,
        Targets::Registered,
        client_factory(home.to_path_buf(), context.ops.velos_exe()?),
        options,
        Some(Box::new(services)),
    )
    .map_err(controller_error)
}

pub fn controller_error(error: ControllerError) -> CliError {
    let hint = match &error {
        ControllerError::Watch(_) => {
            "raise fs.inotify.max_user_instances / max_user_watches, or set watch = false"
        }
        ControllerError::Home { .. } | ControllerError::Socket { .. } => {
            "VELOS_HOME must be a directory you own (mode 0700), with a path under 108 bytes"
        }
    };
    let mut cli_error = CliError::new(error.to_string());
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        cli_error = cli_error.cause(cause.to_string());
        source = cause.source();
    }
    cli_error.hint(hint)
}
