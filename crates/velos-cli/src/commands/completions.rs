//! `velos completions SHELL`: the shell code that asks velos itself what to complete (clap_complete's
//! dynamic completion, `COMPLETE=SHELL velos -- …`), so app and project names come from the daemon.
//!
//! The candidate functions run inside the shell's completion: they never start the daemon, wait at most
//! [`DAEMON_TIMEOUT`], and offer nothing rather than print an error.
use crate::cli::{CompletionsArgs, Shell};
use crate::error::CliError;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::EnvCompleter;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The environment variable the generated shell code sets when it asks for completions.
pub const COMPLETE_VAR: &str = "COMPLETE";
/// How long a completion may wait for the daemon: a Tab key must never hang.
pub const DAEMON_TIMEOUT: Duration = Duration::from_millis(300);

/// Answers a completion request when the shell code asked for one (`COMPLETE` set), then exits.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(<crate::cli::Cli as clap::CommandFactory>::command)
        .var(COMPLETE_VAR)
        .complete();
}

pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let exe = std::env::current_exe()
        .map_err(|error| CliError::new("could not find the velos executable").cause(error.to_string()))?;
    let completer: &dyn EnvCompleter = match args.shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
        Shell::Powershell => &clap_complete::env::Powershell,
    };
    completer.write_registration(COMPLETE_VAR, "velos", "velos", &exe.to_string_lossy(), out)?;
    Ok(())
}

fn home() -> Option<PathBuf> {
    match std::env::var_os("VELOS_HOME").filter(|home| !home.is_empty()) {
        Some(home) => Some(PathBuf::from(home)),
        None => std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".velos")),
    }
}

/// Every process name and app name the daemon knows (`web`, `web-0`, `web-1`).
pub fn app_names() -> Vec<CompletionCandidate> {
    let Some(home) = home() else { return Vec::new() };
    let Ok(mut client) = velos_client::Client::connect(&home) else { return Vec::new() };
    if client.set_timeout(DAEMON_TIMEOUT).is_err() {
        return Vec::new();
    }
    let Ok(records) = client.list() else { return Vec::new() };
    let mut names: Vec<(String, String)> = Vec::with_capacity(records.len() * 2);
    for record in &records {
        names.push((record.name.clone(), record.status.to_string()));
        if let Some(app) = record.spec.labels.get("app").filter(|app| **app != record.name) {
            names.push((app.clone(), "app".to_string()));
        }
    }
    names.sort();
    names.dedup_by(|a, b| a.0 == b.0);
    names.into_iter().map(|(name, help)| CompletionCandidate::new(name).help(Some(help.into()))).collect()
}

/// Every project applied on this host (read from VELOS_HOME, no daemon needed).
pub fn project_names() -> Vec<CompletionCandidate> {
    let Some(home) = home() else { return Vec::new() };
    velos_reconcile::history::read_projects(&home)
        .map(|projects| {
            projects.into_iter().map(|project| CompletionCandidate::new(project.project)).collect()
        })
        .unwrap_or_default()
}
