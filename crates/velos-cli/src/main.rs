//! The `velos` command: parse (clap), build the operations layer for VELOS_HOME, call one verb, render.
//! The decisions are velos-ops's; this crate words them.
//!
//! Exit codes (`exit.rs`): 0 success, 1 error (`error:` / `caused by:` / `hint:` on stderr, usage errors
//! included), and for `velos diff` 2 when there are changes.
mod cli;
mod commands;
mod error;
mod exit;
mod parse;
mod render;

use clap::Parser;
use error::CliError;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use velos_ops::{Home, Notice, Ops};

fn main() -> ExitCode {
    if let Some(exit) = auto_started_daemon() {
        return exit;
    }
    commands::completions::complete_if_asked();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(exit::usage(&error));
        }
    };
    let result = context(cli.home).and_then(|context| {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let result = commands::run(cli.command, &context, &mut out);
        // Whatever was printed before an error is still shown, before the error.
        let flushed = out.flush().map_err(CliError::from);
        result.and_then(|exit| flushed.map(|()| exit))
    });
    match result {
        Ok(commands::Exit::Success) => ExitCode::SUCCESS,
        Ok(commands::Exit::Changes) => ExitCode::from(exit::CHANGES),
        Err(error) if error.broken_pipe => ExitCode::SUCCESS,
        Err(error) => {
            let _ = std::io::stderr().write_all(error.render().as_bytes());
            exit::error()
        }
    }
}

/// The daemon the client starts in the background (`velos daemon --foreground --detached`, with
/// `VELOS_HOME` set) goes straight into the core's loop. Parsing with clap first would page in CLI code the
/// daemon never runs again, which stays resident for the daemon's whole life (~1.5 MiB of a ~4.5 MiB
/// daemon). Any other command line, however close, takes the normal path.
fn auto_started_daemon() -> Option<ExitCode> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args != ["daemon", "--foreground", "--detached"] {
        return None;
    }
    let home = std::env::var_os("VELOS_HOME").filter(|value| !value.is_empty())?;
    let result = context(Some(PathBuf::from(home))).and_then(|context| {
        let args = cli::DaemonArgs { foreground: true, detached: true };
        commands::daemon_foreground(&context, &args)
    });
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = std::io::stderr().write_all(error.render().as_bytes());
            exit::error()
        }
    })
}

/// `--home`, else `VELOS_HOME` (clap reads both), else `~/.velos`; the ops layer over it, telling stderr
/// when it waits for another command's edit.
fn context(home: Option<PathBuf>) -> Result<commands::Context, CliError> {
    let home = match home.filter(|path| !path.as_os_str().is_empty()) {
        Some(home) => Home::new(home)?,
        None => Home::from_env()?,
    };
    let ops = Ops::new(home).with_notices(|notice| match notice {
        Notice::WaitingForEditLock => {
            eprintln!("waiting for another velos command to finish its edit (edit.lock)...")
        }
    });
    Ok(commands::Context { ops })
}
