//! What Velos did about a rollout that did not become ready (`[project] on_failure`), and what it needs to
//! know to do it:
//!
//! - which revisions **became ready**: after apply's readiness wait, the project's newest history entry is
//!   marked ([`mark_ready`]), so "the last revision that became ready" ([`last_ready`]) is a fact of the
//!   history, not a guess from "the apply succeeded" (an apply can succeed and its app crash a second
//!   later);
//! - the **remediation** itself, in the project's registry entry ([`record_remediation`]): rolled back
//!   from which revision to which, or which apps were stopped, and why. `velos status` reports it, and the
//!   controller does not apply the revision it names again ([`held_revision`]): the bad commit stays the
//!   reported cause until a new commit arrives, instead of the host flapping between the two. A new apply
//!   of any revision replaces the registry entry, and with it the remediation.
use crate::history::{
    read_projects, write_json_atomically, write_project, History, HistoryEntry, HistoryError,
};
use serde::{Deserialize, Serialize};
use std::path::Path;
use velos_config::{ConfigError, Project};

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemedyAction {
    /// The last revision that became ready was applied again.
    Rollback,
    /// The apps that did not become ready were stopped.
    Stop,
}

/// A remediation of a failed rollout, as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Remediation {
    pub action: RemedyAction,
    /// The revision that did not become ready.
    pub from: String,
    /// The revision rolled back to (rollback only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Why `from` failed: the apply's error.
    pub reason: String,
    /// The apps stopped (stop only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    pub time_unix_ms: u64,
}

impl Remediation {
    /// `rolled back from file:3f9a0c1d… to file:77b2e0aa…: web is not ready: ...`, or `stopped web after
    /// file:3f9a0c1d… was not ready: ...`.
    pub fn describe(&self) -> String {
        let short = crate::render::short_revision;
        match (self.action, &self.to) {
            (RemedyAction::Rollback, Some(to)) => {
                format!("rolled back from {} to {}: {}", short(&self.from), short(to), self.reason)
            }
            (RemedyAction::Rollback, None) => {
                format!("rolled back from {}: {}", short(&self.from), self.reason)
            }
            (RemedyAction::Stop, _) => format!(
                "stopped {} after {} was not ready: {}",
                self.apps.join(", "),
                short(&self.from),
                self.reason
            ),
        }
    }
}

/// Marks the newest history entry of `project` ready (or not), if it is of `revision`. An apply that
/// recorded nothing (an empty plan of a revision applied before) marks the entry that applied it.
pub fn mark_ready(home: &Path, project: &str, revision: &str, ready: bool) -> Result<(), HistoryError> {
    let history = History::open(home)?;
    let Some(mut entry) = history.list(Some(project))?.pop() else { return Ok(()) };
    if entry.revision != revision || entry.ready == Some(ready) {
        return Ok(());
    }
    entry.ready = Some(ready);
    write_json_atomically(&history.dir().join(crate::history::file_name(entry.seq, project)), &entry)
}

/// The newest entry of `project` marked ready whose revision is not `except` (the one that failed).
pub fn last_ready(home: &Path, project: &str, except: &str) -> Result<Option<HistoryEntry>, HistoryError> {
    let entries = History::open(home)?.list(Some(project))?;
    Ok(entries.into_iter().rev().find(|entry| entry.ready == Some(true) && entry.revision != except))
}

/// The project `entry` applied, read back from its text, with the entry's revision (a git commit stays
/// `git:…`, not the hash of the text).
pub fn project_of_entry(entry: &HistoryEntry) -> Result<Project, ConfigError> {
    let mut project = velos_config::parse(&entry.source_text, &entry.file)?;
    project.revision = entry.revision.clone();
    Ok(project)
}

/// Writes `remediation` into the registry entry of `project` (after the apply that carried it out, which
/// wrote the entry afresh). No entry: nothing to write to.
pub fn record_remediation(home: &Path, project: &str, remediation: &Remediation) -> Result<(), HistoryError> {
    let Some(mut record) = read_projects(home)?.into_iter().find(|record| record.project == project) else {
        return Ok(());
    };
    record.message = remediation.describe();
    record.last_result = crate::history::LastResult::Failed;
    record.remediation = Some(remediation.clone());
    write_project(home, &record)
}

/// The remediation that holds `revision` of `project` back: that revision failed and was rolled back or
/// stopped, so it is not applied again until another revision comes.
pub fn held_revision(
    home: &Path,
    project: &str,
    revision: &str,
) -> Result<Option<Remediation>, HistoryError> {
    Ok(read_projects(home)?
        .into_iter()
        .find(|record| record.project == project)
        .and_then(|record| record.remediation)
        .filter(|remediation| remediation.from == revision))
}
