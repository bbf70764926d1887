//! velos.toml: the desired state of one project (docs/CONFIG.md is the user's reference).
//!
//! Loading is a pipeline of named steps, each pure except the first:
//!
//! 1. [`load`] reads the file (IO errors are [`ConfigError::Read`]);
//! 2. [`parse`] parses the TOML with `toml_edit` (keeping spans), checks its shape against the keys of the
//!    [`raw`] types (unknown keys, wrong types, missing `command`), and decodes it into [`raw::RawFile`];
//! 3. it resolves that into a [`Project`]: units parsed, commands split, paths made absolute, instances
//!    expanded, environments merged and sorted, dependencies checked, and each app's [`AppSpec`] hashed.
//!
//! Every problem found on the way is a [`Diagnostic`] with `file:line:column`; all of them are returned at
//! once ([`ConfigError::Invalid`]) when they can be. The result depends only on the file's bytes and path —
//! never on the environment of the process reading it — so a CI job, a user and the controller compute the
//! same spec hashes.
//!
//! Writes go through [`apply_edits`] or [`apply_patch`] (format-preserving, validated) and
//! [`write_atomically`].
mod controller;
mod diagnostic;
mod edit;
mod git_auth;
mod patch;
pub mod raw;
mod read;
mod resolve;
mod rollout;
mod services;
mod shell;
mod units;
pub use units::human;

pub use controller::{
    AgentPolicy, ControllerSettings, GitSource, GIT_PATH_DEFAULT, GIT_REF_DEFAULT, INTERVAL_MIN_MS,
    POLL_DEFAULT_MS, RESYNC_DEFAULT_MS,
};
pub use diagnostic::{ConfigError, Diagnostic};
pub use edit::{apply_edits, write_atomically, write_atomically_with_mode, Edit};
pub use git_auth::{host as repo_host, transport, GitAuth, TokenSource, Transport, GIT_USERNAME_DEFAULT};
pub use patch::{apply_patch, patched_text, Patch};
pub use raw::json_schema;
pub use rollout::{OnFailure, RawRollout, Rollout, Strategy, MAX_UNAVAILABLE_DEFAULT, MAX_UNAVAILABLE_MAX};
pub use services::{ApiSettings, OtlpSettings, OTLP_INTERVAL_DEFAULT_MS};
pub use shell::quote_program;
pub use velos_core::{AppSpec, LogFormat, RestartPolicy};
pub use velos_health::{Check, Probe, Use as CheckUse};
pub use velos_schedule::WatchSpec;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `PATH` an app gets when its file sets none: the usual system directories, so `command = "python3"`
/// works, and the same on every machine (the caller's own `PATH` is never used).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The variable holding an instance's number when an app has `instances` > 1.
pub const INSTANCE_VARIABLE: &str = "VELOS_INSTANCE";
/// Project name used when the file's folder has no usable name (e.g. a file at `/`).
pub const FALLBACK_PROJECT_NAME: &str = "default";
/// `log.timestamps` when a file leaves it out: on, because the daemon's time prefix is the only thing that
/// puts an app's stdout and stderr (two files) back in one order, and what `--since`/`--until` select on.
/// It costs 25 bytes a line on disk.
pub const LOG_TIMESTAMPS_DEFAULT: bool = true;

/// One velos.toml, resolved: what should run, exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// `[project] name`, else the name of the file's folder.
    pub name: String,
    /// Absolute path of the file.
    pub file: PathBuf,
    /// `file:` and 16 hex digits of a hash of the file's bytes: identifies this revision in history.
    pub revision: String,
    /// Instances expanded (`web-0`, `web-1`, ...), sorted by name.
    pub apps: Vec<DesiredApp>,
    /// `[velos]`: how the controller follows this file; `None` when the file has no `[velos]` table.
    /// Part of no spec: it never changes an app's hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<ControllerSettings>,
    /// `[project] on_failure`: what apply does when a rollout does not become ready. Part of no spec.
    #[serde(default)]
    pub on_failure: OnFailure,
}

impl Project {
    /// The app instance named `name`, if any.
    pub fn app(&self, name: &str) -> Option<&DesiredApp> {
        self.apps.binary_search_by(|app| app.spec.name.as_str().cmp(name)).ok().map(|index| &self.apps[index])
    }

    /// The distinct `[apps.NAME]` keys, sorted.
    pub fn app_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.apps.iter().map(|app| app.app.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The instances of `[apps.APP]`, by name (`web`, or `web-0`, `web-1`, ...); empty if it is not declared.
    pub fn instances_of(&self, app: &str) -> Vec<&DesiredApp> {
        self.apps.iter().filter(|desired| desired.app == app).collect()
    }

    /// The other `[apps.NAME]` keys whose `depends_on` names `app`, sorted: what removing `app` would break.
    pub fn dependents_of(&self, app: &str) -> Vec<&str> {
        let instances: Vec<&str> =
            self.instances_of(app).iter().map(|desired| desired.spec.name.as_str()).collect();
        let mut dependents: Vec<&str> = self
            .apps
            .iter()
            .filter(|desired| desired.app != app)
            .filter(|desired| desired.depends_on.iter().any(|name| instances.contains(&name.as_str())))
            .map(|desired| desired.app.as_str())
            .collect();
        dependents.sort_unstable();
        dependents.dedup();
        dependents
    }
}

/// One process the project wants: an app, or one instance of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredApp {
    /// What the daemon runs: `name` is the instance name, `cwd` absolute, `env` sorted by key,
    /// `spec_hash` = `spec.compute_hash()`, `labels` = project, app, instance, source_rev.
    pub spec: AppSpec,
    /// The `[apps.NAME]` key this instance comes from.
    pub app: String,
    /// 0 .. instances-1.
    pub instance: u32,
    pub state: DesiredState,
    /// Instance names this one waits for (every instance of each dependency), sorted.
    pub depends_on: Vec<String>,
    /// What this one waits for of each instance in `depends_on`, by instance name: those written in the
    /// table form with a condition other than `started` (absent: started).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Condition>,
    /// Settings the daemon applies without a restart (not part of the spec hash).
    pub in_place: InPlace,
    /// How a replace rolls over the app's instances (not part of the spec hash).
    #[serde(default)]
    pub rollout: Rollout,
}

fn is_text(format: &LogFormat) -> bool {
    *format == LogFormat::Text
}

/// Settings that change without restarting the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InPlace {
    /// Restart the app when its resident memory goes above this.
    pub max_memory_bytes: Option<u64>,
    /// Rotate a log file at this size (`None`: the daemon's default).
    pub log_max_size_bytes: Option<u64>,
    /// Rotated log files to keep (`None`: the daemon's default).
    pub log_max_files: Option<u32>,
    /// Prefix log lines with the time they were read.
    pub log_timestamps: bool,
    /// Plain text or JSON lines in the log files.
    #[serde(default, skip_serializing_if = "is_text")]
    pub log_format: LogFormat,
    /// `cron_restart`, as written (checked): the controller restarts the app at these times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_restart: Option<String>,
    /// `watch`, resolved: the controller restarts the app when these files change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchSpec>,
    /// `readiness`: carried to the daemon as the `velos.readiness` label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Check>,
    /// `liveness`: carried to the daemon as the `velos.liveness` label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Check>,
}

/// What `depends_on = { db = "…" }` waits for before the dependent is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// It was started (the list form).
    #[default]
    Started,
    /// It is ready: its readiness check passed (running for `min_uptime` when it has none).
    Healthy,
    /// A job that exited with code 0.
    CompletedSuccessfully,
}

impl Condition {
    pub const ALL: [Condition; 3] =
        [Condition::Started, Condition::Healthy, Condition::CompletedSuccessfully];

    /// The word written in velos.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Healthy => "healthy",
            Condition::CompletedSuccessfully => "completed_successfully",
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Whether an app should be running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DesiredState {
    #[default]
    Running,
    Stopped,
}

impl DesiredState {
    pub const ALL: [DesiredState; 2] = [DesiredState::Running, DesiredState::Stopped];

    /// The word written in velos.toml (`running`, `stopped`).
    pub fn as_str(self) -> &'static str {
        match self {
            DesiredState::Running => "running",
            DesiredState::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for DesiredState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::str::FromStr for DesiredState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DesiredState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| format!("unknown state {text:?} (expected running or stopped)"))
    }
}

/// Reads, parses and validates the velos.toml at `path`. The project's file is
/// [`canonical_file_path`]`(path)`, so the same file gives the same specs whatever path leads to it.
pub fn load(path: &Path) -> Result<Project, ConfigError> {
    load_source(path).map(|(_, project)| project)
}

/// [`load`], also returning the file's text: what an edit starts from and what history records, read in
/// the same read as the project, so the two always agree.
pub fn load_source(path: &Path) -> Result<(String, Project), ConfigError> {
    let read_error = |source| ConfigError::Read { path: path.to_path_buf(), source };
    let bytes = read_bounded(path).map_err(read_error)?;
    let file = canonical_file_path(path).map_err(read_error)?;
    match String::from_utf8(bytes) {
        Ok(source) => parse_file(&source, path, file).map(|project| (source, project)),
        Err(error) => {
            let bytes = error.as_bytes();
            let error = error.utf8_error();
            // Point at the first bad byte, showing the valid text before it.
            let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
            let map = diagnostic::SourceMap::new(path, valid);
            let diagnostic = map.diagnostic(
                valid.len()..valid.len(),
                "the file is not valid UTF-8".into(),
                Some("TOML files are UTF-8 text; re-save it as UTF-8".into()),
            );
            Err(ConfigError::Invalid { file: path.to_path_buf(), diagnostics: vec![diagnostic] })
        }
    }
}

/// Parses and validates `source` as the contents of the velos.toml at `path`. Reads nothing: `path` gives
/// the project's default name, the base of relative `cwd`s (made absolute against the current directory
/// if `path` is relative) and the file name in messages.
///
/// To compare with what [`load`] gives for a file on disk (e.g. the same file at another git revision),
/// pass [`canonical_file_path`] of that file.
pub fn parse(source: &str, path: &Path) -> Result<Project, ConfigError> {
    let file = absolute(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    parse_file(source, path, file)
}

/// Parses and validates `source` as the contents of the velos.toml at `file` (absolute: the base of
/// relative `cwd`s and of the default project name), naming it `shown` in messages. For the same file at
/// another revision (`velos diff --against HEAD`): pass [`canonical_file_path`] of the working file as
/// `file`, so the specs hash alike, and `HEAD:deploy/velos.toml` as `shown`.
pub fn parse_as(source: &str, shown: &Path, file: &Path) -> Result<Project, ConfigError> {
    let file = absolute(file).map_err(|source| ConfigError::Read { path: shown.to_path_buf(), source })?;
    parse_file(source, shown, file)
}

/// `path` is the file as shown in messages, `file` its absolute path.
pub(crate) fn parse_file(source: &str, path: &Path, file: PathBuf) -> Result<Project, ConfigError> {
    let map = diagnostic::SourceMap::new(path, source);
    let invalid = |mut diagnostics: Vec<Diagnostic>| {
        diagnostics.sort_by(|a, b| (a.line, a.column, &a.message).cmp(&(b.line, b.column, &b.message)));
        diagnostics.dedup();
        ConfigError::Invalid { file: path.to_path_buf(), diagnostics }
    };
    let document = toml_edit::Document::parse(source).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        invalid(vec![map.diagnostic(
            span,
            format!("invalid TOML: {}", error.message()),
            toml_help(error.message()),
        )])
    })?;
    let (raw, spans, mut problems) = read::read(document, &map).map_err(invalid)?;
    let revision = revision(source.as_bytes());
    let context = resolve::Context { map: &map, spans: &spans, file: &file, revision: &revision };
    match resolve::resolve(&raw, &context) {
        Ok(project) if problems.is_empty() => Ok(project),
        Ok(_) => Err(invalid(problems)),
        Err(more) => {
            problems.extend(more);
            Err(invalid(problems))
        }
    }
}

fn toml_help(message: &str) -> Option<String> {
    if message.starts_with("duplicate key") {
        Some("each key may appear once in a table; remove or rename one of them".into())
    } else if message.contains("invalid basic string") || message.contains("unexpected content") {
        Some("strings are quoted: `command = \"/bin/sleep\"`".into())
    } else {
        None
    }
}

/// The largest velos.toml [`load`] reads (a file of 1000 apps is about 200 KiB).
pub const FILE_BYTES_MAX: u64 = 16 << 20;

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(FILE_BYTES_MAX + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > FILE_BYTES_MAX {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the file is larger than {} MiB", FILE_BYTES_MAX >> 20),
        ));
    }
    Ok(bytes)
}

/// The absolute path of an existing file, with its folder's symlinks and `..` resolved (the file itself may
/// be a symlink: its folder stays the base of relative `cwd`s). `velos apply velos.toml` in `/srv/shop` and
/// `velos apply ../shop/velos.toml` from `/srv/other` then resolve to the same specs.
pub fn canonical_file_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    Ok(std::fs::canonicalize(folder)?.join(name))
}

/// `path` made absolute (against the current directory) without touching the file system, with `.`
/// components removed. `..` is kept: removing it is only right when no symlink is involved.
pub(crate) fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    Ok(std::path::absolute(path)?.components().collect())
}

/// `file:` and 16 hex digits of the FNV-1a 64 hash of `bytes`.
pub fn revision(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("file:{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_is_fnv1a_of_the_bytes() {
        assert_eq!(revision(b""), "file:cbf29ce484222325");
        assert_eq!(revision(b"foobar"), "file:85944171f73967e8");
    }

    #[test]
    fn desired_state_words() {
        for state in DesiredState::ALL {
            assert_eq!(state.as_str().parse::<DesiredState>(), Ok(state));
        }
        assert!("paused".parse::<DesiredState>().is_err());
    }
}
