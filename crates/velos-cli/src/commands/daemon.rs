//! `velos daemon`, `kill`, `save`, `resurrect`: the daemon itself.
use super::Context;
use crate::cli::DaemonArgs;
use crate::error::CliError;
use crate::render;
use std::io::Write;
use velos_ffi::{DaemonError, DaemonOptions};
use velos_ops::{KillRequest, ResurrectRequest, SaveRequest};

/// Without `--foreground`: make sure the daemon runs (starting it brings back its saved apps).
pub fn daemon(context: &Context, args: &DaemonArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if !args.foreground {
        let outcome = context.ops.resurrect(ResurrectRequest {})?;
        writeln!(out, "daemon running (pid {})", outcome.pid)?;
        return Ok(());
    }
    daemon_foreground(context, args)
}

/// Runs the daemon in this process until SIGTERM, SIGINT or SHUTDOWN. Nothing before this point may have
/// started a thread: the core forks.
pub fn daemon_foreground(context: &Context, args: &DaemonArgs) -> Result<(), CliError> {
    let home = context.ops.home().root();
    match velos_ffi::run_daemon(home, DaemonOptions { detach: args.detached }) {
        Ok(()) => Ok(()),
        Err(DaemonError::AlreadyRunning { pid }) => {
            Err(CliError::new(format!("a daemon is already running on {} (pid {pid})", home.display()))
                .hint("velos ping shows it; velos kill stops it"))
        }
        Err(error @ DaemonError::HomeUnusable(_)) => Err(CliError::new(error.to_string()).hint(format!(
            "VELOS_HOME must be a directory you own with mode 0700: check {} or set VELOS_HOME elsewhere",
            home.display()
        ))),
        Err(error @ DaemonError::SocketFailed(_)) => Err(CliError::new(error.to_string()).hint(
            "a socket path must be under 108 bytes: set VELOS_HOME to a shorter path if this one is long",
        )),
        Err(error) => Err(CliError::new(error.to_string())),
    }
}

pub fn kill(context: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.kill(KillRequest {})?;
    match outcome.pid {
        None => writeln!(out, "the velos daemon is not running")?,
        Some(pid) => writeln!(
            out,
            "daemon stopped (pid {pid}, {} stopped)",
            render::plural(outcome.apps_stopped, "running app")
        )?,
    }
    Ok(())
}

pub fn save(context: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let saved = context.ops.save(SaveRequest {})?;
    writeln!(out, "saved the process table to {}", saved.path.display())?;
    Ok(())
}

/// The PM2 verb after a reboot or `velos kill`: start the daemon, which starts again what it saved.
pub fn resurrect(context: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.resurrect(ResurrectRequest {})?;
    writeln!(
        out,
        "daemon running (pid {}) with {} ({} running)",
        outcome.pid,
        render::plural(outcome.apps, "app"),
        outcome.running
    )?;
    Ok(())
}
