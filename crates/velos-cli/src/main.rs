//! The `velos` command. Parses (clap), resolves VELOS_HOME, runs one command, renders its error.
//!
//! Exit codes: 0 success, 1 error (`error:` / `caused by:` / `hint:` on stderr), 2 usage (clap), and for
//! `velos diff` 2 when there are changes.
mod cli;
mod commands;
mod error;
mod parse;
mod render;

use clap::Parser;
use error::CliError;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(exit) = auto_started_daemon() {
        return exit;
    }
    let cli = cli::Cli::parse();
    let result = resolve_home(cli.home).and_then(|home| {
        let context = commands::Context { home };
        // `velos mcp` writes the protocol to stdout from its own threads: it must not hold stdout's lock.
        if let cli::Command::Mcp(args) = &cli.command {
            return commands::mcp(&context, args).map(|()| commands::Exit::Success);
        }
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let result = commands::run(cli.command, &context, &mut out);
        // Whatever was printed before an error is still shown, before the error.
        let flushed = out.flush().map_err(CliError::from);
        result.and_then(|exit| flushed.map(|()| exit))
    });
    match result {
        Ok(commands::Exit::Success) => ExitCode::SUCCESS,
        Ok(commands::Exit::Changes) => ExitCode::from(2),
        Err(error) if error.broken_pipe => ExitCode::SUCCESS,
        Err(error) => {
            let _ = std::io::stderr().write_all(error.render().as_bytes());
            ExitCode::from(1)
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
    let result = resolve_home(Some(PathBuf::from(home))).and_then(|home| {
        let context = commands::Context { home };
        let args = cli::DaemonArgs { foreground: true, detached: true };
        commands::daemon_foreground(&context, &args)
    });
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = std::io::stderr().write_all(error.render().as_bytes());
            ExitCode::from(1)
        }
    })
}

/// `--home`, else `VELOS_HOME` (clap reads both), else `~/.velos`; made absolute.
fn resolve_home(home: Option<PathBuf>) -> Result<PathBuf, CliError> {
    let home = match home.filter(|path| !path.as_os_str().is_empty()) {
        Some(home) => home,
        None => match std::env::var_os("HOME").filter(|value| !value.is_empty()) {
            Some(user_home) => PathBuf::from(user_home).join(".velos"),
            None => {
                return Err(CliError::new("neither VELOS_HOME nor HOME is set")
                    .hint("export VELOS_HOME=/path/to/dir"))
            }
        },
    };
    std::path::absolute(&home).map_err(|error| {
        CliError::new(format!("could not make VELOS_HOME {} absolute", home.display()))
            .cause(error.to_string())
    })
}
