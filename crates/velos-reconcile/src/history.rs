//! What was applied, kept under `$VELOS_HOME`:
//!
//! - `history/NNNNNN-<project>.json`: one file per apply (sequence numbers shared by all projects, zero
//!   padded to 6 digits), `{seq, project, file, revision, source_text, time_unix_ms, plan, report}`. The
//!   last [`HISTORY_KEEP_PER_PROJECT`] of each project are kept.
//! - `projects/<project>.json`: the registry of projects applied on this host, `{project, file, revision,
//!   last_apply_seq, last_apply_time_unix_ms, last_result, message}`, read by `velos status`.
//!
//! Every file is written whole to a temporary file in the same folder, fsynced and renamed into place, so a
//! reader never sees half of one. Sequence numbers are taken under an exclusive lock on `history/.lock`, so
//! two applies finishing together (two projects, or two terminals) never share one.
use crate::apply::ApplyReport;
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};
use velos_config::Project;

pub const HISTORY_DIR: &str = "history";
pub const PROJECTS_DIR: &str = "projects";
/// History entries kept per project; older ones are removed when a new one is recorded.
pub const HISTORY_KEEP_PER_PROJECT: usize = 200;
const LOCK_FILE: &str = ".lock";
/// `$VELOS_HOME/edit.lock`: held by every writer of desired state from reading the file to recording the
/// apply (the CLI's `apply`, `rollback` and edits; the controller's reconciles), so two never interleave
/// their read-plan-apply on one host.
pub const EDIT_LOCK_FILE: &str = "edit.lock";

/// Takes [`EDIT_LOCK_FILE`] in `home`, waiting for whoever holds it. Held until the file is dropped (or
/// the process ends).
pub fn lock_edits(home: &Path) -> std::io::Result<fs::File> {
    lock_edits_or_wait(home, &mut || {})
}

/// [`lock_edits`], creating `home` (mode 0700, as the daemon requires) if needed, and calling `waiting`
/// once before it blocks on another holder (a command says "waiting for another velos command"). The lock
/// file is opened with `O_NOFOLLOW`: a symlink planted in its place is refused, never followed.
pub fn lock_edits_or_wait(home: &Path, waiting: &mut dyn FnMut()) -> std::io::Result<fs::File> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    fs::DirBuilder::new().recursive(true).mode(0o700).create(home)?;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(home.join(EDIT_LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(fs::TryLockError::WouldBlock) => waiting(),
        Err(fs::TryLockError::Error(error)) => return Err(error),
    }
    file.lock()?;
    Ok(file)
}

/// Why history or the registry could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{context} {}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid history or project file", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A project name that cannot name a file (velos-config never produces one).
    #[error("invalid project name {0:?}")]
    BadProjectName(String),
    #[error("no apply #{0} in the history")]
    NoSuchEntry(u64),
    #[error("apply #{seq} belongs to project `{project}`, not `{wanted}`")]
    OtherProject { seq: u64, project: String, wanted: String },
    #[error("project `{project}` has no revision {wanted} applies back (it has {available})")]
    NotThatFarBack { project: String, wanted: u32, available: usize },
}

fn io<'a>(context: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> HistoryError + 'a {
    move |source| HistoryError::Io { context, path: path.to_path_buf(), source }
}

/// One recorded apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HistoryEntry {
    pub seq: u64,
    pub project: String,
    /// The velos.toml applied (absolute).
    pub file: PathBuf,
    pub revision: String,
    /// The file's text as applied: what `rollback` restores.
    pub source_text: String,
    pub time_unix_ms: u64,
    /// The plan as `velos plan --json` prints it.
    pub plan: serde_json::Value,
    /// The report as `velos apply --json` prints it.
    pub report: serde_json::Value,
    /// Whether the apps became ready after this apply (`None`: not waited for, or recorded before Velos
    /// kept it). What automatic rollback goes back to (see [`crate::remediation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

impl HistoryEntry {
    /// Whether the apply succeeded (`report.ok`).
    pub fn ok(&self) -> bool {
        self.report.get("ok").and_then(serde_json::Value::as_bool).unwrap_or(false)
    }
}

/// `$VELOS_HOME/history`.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
}

impl History {
    /// Opens (creating if needed) the history of `home`.
    pub fn open(home: &Path) -> Result<History, HistoryError> {
        let dir = home.join(HISTORY_DIR);
        fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
        Ok(History { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records one apply of `project` and returns the entry, with its new sequence number. Then removes
    /// the project's entries beyond the last [`HISTORY_KEEP_PER_PROJECT`].
    pub fn record(
        &self,
        project: &Project,
        source_text: &str,
        plan: &Plan,
        report: &ApplyReport,
        time_unix_ms: u64,
    ) -> Result<HistoryEntry, HistoryError> {
        check_project_name(&project.name)?;
        let to_value = |value: Result<serde_json::Value, serde_json::Error>| {
            value.map_err(|source| HistoryError::Corrupt { path: self.dir.clone(), source })
        };
        let lock_path = self.dir.join(LOCK_FILE);
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("cannot open", &lock_path))?;
        lock.lock().map_err(io("cannot lock", &lock_path))?;
        let files = self.files()?;
        let seq = files.iter().map(|file| file.seq).max().unwrap_or(0) + 1;
        let entry = HistoryEntry {
            seq,
            project: project.name.clone(),
            file: project.file.clone(),
            revision: project.revision.clone(),
            source_text: source_text.to_string(),
            time_unix_ms,
            plan: to_value(serde_json::to_value(plan))?,
            report: to_value(serde_json::to_value(report))?,
            ready: None,
        };
        let path = self.dir.join(file_name(seq, &project.name));
        write_json_atomically(&path, &entry)?;
        let mut mine: Vec<&EntryFile> = files.iter().filter(|file| file.project == project.name).collect();
        mine.sort_by_key(|file| file.seq);
        // `mine` does not hold the new entry: keep one fewer of the old ones.
        let excess = (mine.len() + 1).saturating_sub(HISTORY_KEEP_PER_PROJECT);
        for old in &mine[..excess] {
            fs::remove_file(&old.path).map_err(io("cannot remove", &old.path))?;
        }
        drop(lock);
        Ok(entry)
    }

    /// Every entry (of `project`, if given), oldest first.
    pub fn list(&self, project: Option<&str>) -> Result<Vec<HistoryEntry>, HistoryError> {
        let mut files = self.files()?;
        files.retain(|file| project.is_none_or(|project| file.project == project));
        files.sort_by_key(|file| file.seq);
        files.iter().map(|file| read_json(&file.path)).collect()
    }

    /// The entry with sequence number `seq`.
    pub fn get(&self, seq: u64) -> Result<HistoryEntry, HistoryError> {
        let files = self.files()?;
        let file = files.iter().find(|file| file.seq == seq).ok_or(HistoryError::NoSuchEntry(seq))?;
        read_json(&file.path)
    }

    /// The entry files, unsorted; other files (the lock, temporary files) are ignored.
    fn files(&self) -> Result<Vec<EntryFile>, HistoryError> {
        let mut files = Vec::new();
        for item in fs::read_dir(&self.dir).map_err(io("cannot read", &self.dir))? {
            let item = item.map_err(io("cannot read", &self.dir))?;
            let name = item.file_name();
            let Some((seq, project)) = name.to_str().and_then(parse_file_name) else { continue };
            files.push(EntryFile { seq, project: project.to_string(), path: item.path() });
        }
        Ok(files)
    }
}

struct EntryFile {
    seq: u64,
    project: String,
    path: PathBuf,
}

/// `000042-shop.json`.
pub(crate) fn file_name(seq: u64, project: &str) -> String {
    format!("{seq:06}-{project}.json")
}

/// The sequence number and project of an entry's file name.
fn parse_file_name(name: &str) -> Option<(u64, &str)> {
    let stem = name.strip_suffix(".json")?;
    let (digits, project) = stem.split_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) || project.is_empty() {
        return None;
    }
    Some((digits.parse().ok()?, project))
}

fn check_project_name(name: &str) -> Result<(), HistoryError> {
    velos_core::validate_name(name).map_err(|_| HistoryError::BadProjectName(name.to_string()))
}

/// Writes `value` as pretty JSON to a temporary file beside `path`, fsyncs it, and renames it over `path`.
pub(crate) fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<(), HistoryError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|source| HistoryError::Corrupt { path: path.to_path_buf(), source })?;
    text.push('\n');
    // Private: an entry holds the file's text, env values included.
    velos_config::write_atomically_with_mode(path, &text, 0o600).map_err(io("cannot write", path))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, HistoryError> {
    let text = fs::read_to_string(path).map_err(io("cannot read", path))?;
    serde_json::from_str(&text).map_err(|source| HistoryError::Corrupt { path: path.to_path_buf(), source })
}

// ---- the registry of projects ----------------------------------------------------------------------------

/// How the last apply of a project ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LastResult {
    Ok,
    Failed,
}

/// `projects/<project>.json`: a project applied on this host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectRecord {
    pub project: String,
    /// Its velos.toml (absolute): what `status` re-reads.
    pub file: PathBuf,
    /// The revision last applied (or attempted).
    pub revision: String,
    /// The history entry of the last apply; `None` when it failed before acting (no plan).
    pub last_apply_seq: Option<u64>,
    pub last_apply_time_unix_ms: u64,
    pub last_result: LastResult,
    /// `ok`, or what failed.
    pub message: String,
    /// What `[project] on_failure` did about the last rollout (rolled back, stopped), until a new apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<crate::remediation::Remediation>,
}

/// Writes (replaces) the registry entry of `record.project`.
pub fn write_project(home: &Path, record: &ProjectRecord) -> Result<(), HistoryError> {
    check_project_name(&record.project)?;
    let dir = home.join(PROJECTS_DIR);
    fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
    write_json_atomically(&dir.join(format!("{}.json", record.project)), record)
}

/// Every registered project, sorted by name. No registry yet: empty.
pub fn read_projects(home: &Path) -> Result<Vec<ProjectRecord>, HistoryError> {
    let dir = home.join(PROJECTS_DIR);
    let items = match fs::read_dir(&dir) {
        Ok(items) => items,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io("cannot read", &dir)(error)),
    };
    let mut records: Vec<ProjectRecord> = Vec::new();
    for item in items {
        let item = item.map_err(io("cannot read", &dir))?;
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        records.push(read_json(&item.path())?);
    }
    records.sort_by(|a, b| a.project.cmp(&b.project));
    Ok(records)
}

/// Whether the registry says `project` was last applied from this very file and revision, successfully:
/// then an apply with an empty plan has nothing to record (`velos apply` twice touches nothing, not even
/// the history).
pub fn is_recorded(home: &Path, project: &Project) -> Result<bool, HistoryError> {
    Ok(read_projects(home)?.iter().any(|record| {
        record.project == project.name
            && record.file == project.file
            && record.revision == project.revision
            && record.last_result == LastResult::Ok
    }))
}

/// Removes a project from the registry (its history stays). Absent: nothing to do.
pub fn remove_project(home: &Path, project: &str) -> Result<(), HistoryError> {
    check_project_name(project)?;
    let path = home.join(PROJECTS_DIR).join(format!("{project}.json"));
    match fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove", &path)(error)),
        _ => Ok(()),
    }
}

/// Records an apply: its history entry, then the project's registry entry. Returns the history entry.
pub fn record_apply(
    home: &Path,
    project: &Project,
    source_text: &str,
    plan: &Plan,
    report: &ApplyReport,
    time_unix_ms: u64,
) -> Result<HistoryEntry, HistoryError> {
    let entry = History::open(home)?.record(project, source_text, plan, report, time_unix_ms)?;
    write_project(
        home,
        &ProjectRecord {
            project: project.name.clone(),
            file: project.file.clone(),
            revision: project.revision.clone(),
            last_apply_seq: Some(entry.seq),
            last_apply_time_unix_ms: time_unix_ms,
            last_result: if report.ok() { LastResult::Ok } else { LastResult::Failed },
            message: report.summary(),
            remediation: None,
        },
    )?;
    Ok(entry)
}

/// Records an apply that failed before acting (the plan could not be made: a name owned by another
/// project, ...), so `status` says so. No history entry: nothing was applied. A project not registered yet
/// stays unregistered: a refused apply registers nothing.
pub fn record_failure(
    home: &Path,
    project: &Project,
    message: &str,
    time_unix_ms: u64,
) -> Result<(), HistoryError> {
    let Some(previous) = read_projects(home)?.into_iter().find(|record| record.project == project.name)
    else {
        return Ok(());
    };
    write_project(
        home,
        &ProjectRecord {
            project: project.name.clone(),
            file: project.file.clone(),
            revision: project.revision.clone(),
            last_apply_seq: previous.last_apply_seq,
            last_apply_time_unix_ms: time_unix_ms,
            last_result: LastResult::Failed,
            message: message.to_string(),
            remediation: previous.remediation,
        },
    )
}

pub use crate::clock::now_unix_ms;

// ---- rollback ----------------------------------------------------------------------------------------------

/// Which earlier revision `velos rollback` goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The n-th revision before the current one (1: the previous). Revisions are counted among successful
    /// applies, a run of applies of the same revision counting once; the current revision is that of the
    /// project's latest apply, whatever its result.
    Steps(u32),
    /// The revision of history entry `seq`.
    Seq(u64),
}

/// The revision to go back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// The history entry it comes from.
    pub seq: u64,
    /// The project's velos.toml, where the CLI writes `source_text` back.
    pub file: PathBuf,
    pub revision: String,
    pub source_text: String,
}

/// Finds the earlier revision of `project` to return to and returns its text.
///
/// The CLI writes `source_text` back to the project's file (atomically, through velos-config) and then
/// applies the file as usual. It does not apply the old text on the side: the file is the desired state.
/// If the host ran the old revision while the file still said the new one, the next `velos apply` — or
/// the controller's next resync, which re-reads the file — would undo the rollback, and `status` would
/// show the project out of sync. Writing first makes the file and the host agree, and the rollback itself
/// becomes one more entry in the history (which a later rollback can undo).
pub fn rollback(home: &Path, project: &str, target: RollbackTarget) -> Result<Rollback, HistoryError> {
    let history = History::open(home)?;
    let entry = match target {
        RollbackTarget::Seq(seq) => {
            let entry = history.get(seq)?;
            if entry.project != project {
                return Err(HistoryError::OtherProject {
                    seq,
                    project: entry.project,
                    wanted: project.into(),
                });
            }
            entry
        }
        RollbackTarget::Steps(steps) => {
            let mut entries = history.list(Some(project))?;
            entries.reverse(); // newest first
            let Some(current) = entries.first() else {
                return Err(HistoryError::NotThatFarBack {
                    project: project.into(),
                    wanted: steps,
                    available: 0,
                });
            };
            let mut revisions: Vec<&HistoryEntry> = vec![current];
            for entry in entries.iter().skip(1).filter(|entry| entry.ok()) {
                if revisions.last().is_some_and(|last| last.revision != entry.revision) {
                    revisions.push(entry);
                }
            }
            let index = usize::try_from(steps).unwrap_or(usize::MAX);
            match revisions.get(index) {
                Some(entry) if index > 0 => (*entry).clone(),
                _ => {
                    return Err(HistoryError::NotThatFarBack {
                        project: project.into(),
                        wanted: steps,
                        available: revisions.len() - 1,
                    })
                }
            }
        }
    };
    Ok(Rollback {
        seq: entry.seq,
        file: entry.file,
        revision: entry.revision,
        source_text: entry.source_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip() {
        assert_eq!(file_name(42, "shop"), "000042-shop.json");
        assert_eq!(parse_file_name("000042-shop.json"), Some((42, "shop")));
        assert_eq!(parse_file_name("1234567-my-shop.json"), Some((1_234_567, "my-shop")));
        assert_eq!(parse_file_name(".lock"), None);
        assert_eq!(parse_file_name(".tmp-abc"), None);
        assert_eq!(parse_file_name("x1-shop.json"), None);
        assert_eq!(parse_file_name("000001-.json"), None);
    }
}
