//! What the controller says about each project it follows: `$VELOS_HOME/controller/<project>.json`, written
//! at the end of every reconcile (and before an apply, as `progressing`), on every path, errors included.
//!
//! `velos status` ([`crate::status()`]) lays these over what it computes from the registry: the source
//! (`git REPO@REF:PATH`), the revision running, and the states only the controller knows (`progressing`, an
//! `error` fetching a commit, `out_of_sync` because self-heal is off). A record is believed only while its
//! controller lives: the controller holds `controller/<project>.lock` for as long as it follows the project,
//! so a lock anyone can take means the record is stale.
use crate::history::{write_json_atomically, HistoryError, ProjectRecord};
use crate::status::{LastApply, ProjectStatus, SyncState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use velos_config::Project;

/// How an error is handled (Flux's and Argo's classes): retried soon, or waited out until the input
/// changes, or waiting on something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// May go away by itself (network, a daemon restarting): retried with backoff.
    Transient,
    /// Will not change until the input does (a bad commit, a missing ref): the next revision recovers.
    Terminal,
    /// Not an error of this project: waiting on something else (another controller owns it).
    Waiting,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Terminal => "terminal",
            ErrorClass::Waiting => "waiting",
        }
    }
}

/// `$VELOS_HOME/controller`.
pub const CONTROLLER_DIR: &str = "controller";

/// `controller/<project>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerRecord {
    pub project: String,
    /// The file's path, or `git REPO@REF:PATH`.
    pub source: String,
    /// The revision the host runs: the last one applied successfully (empty: none yet).
    pub revision: String,
    /// The revision the source gave at the last look, when it could be read and parsed.
    pub desired_revision: Option<String>,
    pub state: SyncState,
    /// Why it is out of sync, in error or progressing; empty when synced.
    pub message: String,
    /// Set when `state` is `error`.
    pub error_class: Option<ErrorClass>,
    /// The next step for the user, when the error has one (`velos status` shows it as `hint:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub self_heal: bool,
    /// When the last reconcile ended (or, for `progressing`, began).
    pub updated_unix_ms: u64,
    /// The last apply the controller made (`None`: none since it started).
    pub last_apply_unix_ms: Option<u64>,
    /// The controller's process.
    pub pid: u32,
}

fn dir(home: &Path) -> PathBuf {
    home.join(CONTROLLER_DIR)
}

fn check_name(project: &str) -> Result<(), HistoryError> {
    velos_core::validate_name(project).map_err(|_| HistoryError::BadProjectName(project.to_string()))
}

/// Writes (replaces) the record of `record.project`.
pub fn write_record(home: &Path, record: &ControllerRecord) -> Result<(), HistoryError> {
    check_name(&record.project)?;
    let dir = dir(home);
    fs::create_dir_all(&dir).map_err(|source| HistoryError::Io {
        context: "cannot create",
        path: dir.clone(),
        source,
    })?;
    write_json_atomically(&dir.join(format!("{}.json", record.project)), record)
}

/// Every record, sorted by project. Unreadable ones are skipped: status must answer even then.
pub fn read_records(home: &Path) -> Vec<ControllerRecord> {
    let Ok(items) = fs::read_dir(dir(home)) else { return Vec::new() };
    let mut records: Vec<ControllerRecord> = items
        .flatten()
        .filter(|item| {
            let name = item.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && name.ends_with(".json")
        })
        .filter_map(|item| fs::read_to_string(item.path()).ok())
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect();
    records.sort_by(|a, b| a.project.cmp(&b.project));
    records
}

/// Removes the record of `project` (the project is no longer followed). Absent: nothing to do.
pub fn remove_record(home: &Path, project: &str) -> Result<(), HistoryError> {
    check_name(project)?;
    let path = dir(home).join(format!("{project}.json"));
    match fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(HistoryError::Io { context: "cannot remove", path, source: error })
        }
        _ => Ok(()),
    }
}

/// The lock a controller holds for as long as it follows a project: two controllers (the system one and a
/// `velos apply --watch` in a terminal) never reconcile one project at once, and status can tell a live
/// controller's record from a stale one. Released when dropped (or when the process dies).
#[derive(Debug)]
pub struct ProjectLock {
    _file: fs::File,
    pub project: String,
}

/// Takes the lock of `project`; `Ok(None)` when another controller holds it.
pub fn lock_project(home: &Path, project: &str) -> std::io::Result<Option<ProjectLock>> {
    check_name(project).map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
    let dir = dir(home);
    fs::create_dir_all(&dir)?;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{project}.lock")))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(ProjectLock { _file: file, project: project.to_string() })),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(error)) => Err(error),
    }
}

/// Whether a controller (in any process, this one included) follows `project` now.
pub fn is_followed(home: &Path, project: &str) -> bool {
    if check_name(project).is_err() {
        return false;
    }
    let path = dir(home).join(format!("{project}.lock"));
    let Ok(file) = fs::OpenOptions::new().write(true).open(path) else { return false };
    matches!(file.try_lock(), Err(fs::TryLockError::WouldBlock))
}

/// The records of the controllers alive now, by project.
pub fn live_records(home: &Path) -> BTreeMap<String, ControllerRecord> {
    read_records(home)
        .into_iter()
        .filter(|record| is_followed(home, &record.project))
        .map(|record| (record.project.clone(), record))
        .collect()
}

/// The project's desired state as `status` compares it: its file, loaded now. The file of a project
/// applied from git is the work tree of its checkout, whose revision is the commit checked out, not a hash
/// of the file.
pub fn load_for_status(record: &ProjectRecord) -> Result<Project, String> {
    let mut project = velos_config::load(&record.file).map_err(|error| error.to_string())?;
    if record.revision.starts_with("git:") {
        if let Some(commit) = git_head(record.file.parent().unwrap_or(Path::new("/"))) {
            set_revision(&mut project, &format!("git:{commit}"));
        }
    }
    Ok(project)
}

/// Sets the revision of a project read from a source, on the project and on every app's `source_rev`.
pub fn set_revision(project: &mut Project, revision: &str) {
    project.revision = revision.to_string();
    for app in &mut project.apps {
        app.spec.labels.insert("source_rev".to_string(), revision.to_string());
    }
}

/// The commit the work tree holding `folder` has checked out, read from its `.git` files (the checkouts
/// the controller makes: a detached HEAD, or a branch in `refs/` or `packed-refs`). Reading two small files
/// keeps git2 out of this crate.
fn git_head(folder: &Path) -> Option<String> {
    let git_dir = folder.ancestors().map(|dir| dir.join(".git")).find(|dir| dir.is_dir())?;
    let head = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let commit = match head.strip_prefix("ref: ") {
        None => head.to_string(),
        Some(name) => match fs::read_to_string(git_dir.join(name)) {
            Ok(text) => text.trim().to_string(),
            Err(_) => fs::read_to_string(git_dir.join("packed-refs"))
                .ok()?
                .lines()
                .find_map(|line| line.strip_suffix(name).map(|commit| commit.trim().to_string()))?,
        },
    };
    (commit.len() == 40 && commit.bytes().all(|byte| byte.is_ascii_hexdigit())).then_some(commit)
}

/// `status` as computed from the registry, corrected by what a live controller knows: its source, the
/// revision running, and `progressing` / `error` / `out_of_sync` when it says so. A controller's `synced`
/// does not hide drift the computation sees since its last look.
pub fn overlay(mut status: ProjectStatus, record: Option<&ControllerRecord>) -> ProjectStatus {
    let Some(record) = record else { return status };
    status.source = record.source.clone();
    if !record.revision.is_empty() {
        status.revision = record.revision.clone();
    }
    match record.state {
        // The controller's last look does not hide an app found not ready since.
        SyncState::Synced | SyncState::Degraded => {}
        SyncState::Progressing | SyncState::OutOfSync | SyncState::Error => {
            status.state = record.state;
            status.message = record.message.clone();
            status.hint = record.hint.clone();
        }
    }
    status
}

/// The status of a project a live controller follows but that was never applied (its first revision
/// failed): from the record alone.
pub fn unregistered_status(record: &ControllerRecord) -> ProjectStatus {
    ProjectStatus {
        project: record.project.clone(),
        source: record.source.clone(),
        revision: record.revision.clone(),
        state: record.state,
        message: record.message.clone(),
        hint: record.hint.clone(),
        last_apply: record.last_apply_unix_ms.map(|time_unix_ms| LastApply {
            seq: None,
            time_unix_ms,
            result: crate::history::LastResult::Failed,
            message: record.message.clone(),
        }),
        apps: Vec::new(),
    }
}
