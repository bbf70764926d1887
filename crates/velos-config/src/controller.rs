//! `[velos]` and `[velos.git]`: how the controller follows a file (docs/CONFIG.md, "The controller").
//!
//! Resolved apart from the apps on purpose: nothing here reaches an [`velos_core::AppSpec`], so turning
//! the watcher on or pointing a project at git never changes a spec hash and never restarts an app.
use crate::diagnostic::Diagnostic;
use crate::git_auth::{transport, GitAuth, Transport};
use crate::raw::{RawGit, RawVelos};
use crate::resolve::Context;
use crate::services::{ApiSettings, OtlpSettings};
use crate::units::parse_duration_ms;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use velos_core::limits;

/// `resync` when the file sets none.
pub const RESYNC_DEFAULT_MS: u64 = 30_000;
/// `[velos.git] poll` when the file sets none.
pub const POLL_DEFAULT_MS: u64 = 30_000;
/// The shortest `resync` and `poll`: shorter would keep the controller (and the daemon) busy for nothing.
pub const INTERVAL_MIN_MS: u64 = *limits::INTERVAL_MS.start();
/// `[velos.git] ref` when the file sets none.
pub const GIT_REF_DEFAULT: &str = "main";
/// `[velos.git] path` when the file sets none.
pub const GIT_PATH_DEFAULT: &str = "velos.toml";

/// `[velos]`, resolved: what the controller does for this project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerSettings {
    /// Apply the file each time it is saved.
    pub watch: bool,
    /// Undo drift at every resync; false: only report it.
    pub self_heal: bool,
    /// Period of the level-triggered resync.
    pub resync_ms: u64,
    /// Follow this repository instead of the file's own apps.
    pub git: Option<GitSource>,
    /// `[velos.api]`: serve the REST API from the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiSettings>,
    /// `[velos.otlp]`: export metrics and log lines from the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp: Option<OtlpSettings>,
}

impl Default for ControllerSettings {
    fn default() -> ControllerSettings {
        ControllerSettings {
            watch: false,
            self_heal: true,
            resync_ms: RESYNC_DEFAULT_MS,
            git: None,
            api: None,
            otlp: None,
        }
    }
}

impl ControllerSettings {
    /// Whether this project needs the controller running: it watches its file, follows git, or has the
    /// controller serve the API or export to a collector.
    pub fn wants_controller(&self) -> bool {
        self.watch || self.git.is_some() || self.api.is_some() || self.otlp.is_some()
    }
}

/// `[velos.git]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitSource {
    /// An absolute path, a `file://` / `git://` URL (a relative path in the file is made absolute against
    /// the file's folder), an `https://` URL or an ssh address.
    pub repo: String,
    /// A branch, a tag or a full commit id.
    pub ref_name: String,
    /// Relative to the repository's root, `.` components removed, never `..`.
    pub path: String,
    /// Period of the fetch.
    pub poll_ms: u64,
    /// Where the credentials of a remote repository are (never the secrets themselves).
    #[serde(default)]
    pub auth: GitAuth,
}

impl GitSource {
    /// `file:///srv/deploy.git@main:deploy/velos.toml`: how status and messages name the source.
    pub fn describe(&self) -> String {
        format!("{}@{}:{}", self.repo, self.ref_name, self.path)
    }
}

/// Resolves `[velos]` (absent: `None`), adding a diagnostic for each bad value.
pub(crate) fn resolve(
    raw: Option<&RawVelos>,
    context: &Context<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ControllerSettings> {
    let raw = raw?;
    let mut resolver = Resolver { context, diagnostics };
    let defaults = ControllerSettings::default();
    let resync_ms = match &raw.resync {
        Some(text) => resolver.interval(&["velos", "resync"], &text.0).unwrap_or(defaults.resync_ms),
        None => defaults.resync_ms,
    };
    let git = raw.git.as_ref().and_then(|git| resolver.git(git));
    let api = raw.api.as_ref().and_then(|api| resolver.api(api));
    let otlp = raw.otlp.as_ref().and_then(|otlp| resolver.otlp(otlp));
    Some(ControllerSettings {
        watch: raw.watch.unwrap_or(defaults.watch),
        self_heal: raw.self_heal.unwrap_or(defaults.self_heal),
        resync_ms,
        git,
        api,
        otlp,
    })
}

pub(crate) struct Resolver<'a, 'c> {
    pub(crate) context: &'a Context<'c>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Resolver<'_, '_> {
    pub(crate) fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.diagnostics.push(self.context.map.diagnostic(span, message, help));
    }

    pub(crate) fn span(&self, path: &[&str]) -> Range<usize> {
        self.context.spans.value(path)
    }

    /// A duration within [`limits::INTERVAL_MS`].
    fn interval(&mut self, path: &[&str], text: &str) -> Option<u64> {
        let key = path.join(".");
        match parse_duration_ms(text) {
            Ok(milliseconds) if limits::INTERVAL_MS.contains(&milliseconds) => Some(milliseconds),
            Ok(_) => {
                let span = self.span(path);
                let (min, max) =
                    (limits::format_ms(INTERVAL_MIN_MS), limits::format_ms(*limits::INTERVAL_MS.end()));
                self.error(
                    span,
                    format!("`{key}` must be between {min} and {max}, found {text:?}"),
                    Some(format!("write `{} = \"30s\"` (the default)", path.last().unwrap_or(&""))),
                );
                None
            }
            Err(error) => {
                let span = self.span(path);
                self.error(span, format!("invalid `{key}`: {}", error.message), error.help);
                None
            }
        }
    }

    fn git(&mut self, raw: &RawGit) -> Option<GitSource> {
        let repo = self.repo(&raw.repo);
        let ref_name = self.ref_name(raw.ref_name.as_deref().unwrap_or(GIT_REF_DEFAULT));
        let path = self.path(raw.path.as_deref().unwrap_or(GIT_PATH_DEFAULT));
        let poll_ms = match &raw.poll {
            Some(text) => self.interval(&["velos", "git", "poll"], &text.0),
            None => Some(POLL_DEFAULT_MS),
        };
        let repo = repo?;
        let auth = self.auth(raw, &repo);
        Some(GitSource { repo, ref_name: ref_name?, path: path?, poll_ms: poll_ms?, auth: auth? })
    }

    fn repo(&mut self, repo: &str) -> Option<String> {
        let path = ["velos", "git", "repo"];
        let lowered = repo.to_ascii_lowercase();
        if repo.is_empty() {
            let span = self.span(&path);
            self.error(span, "`velos.git.repo` is empty".into(), None);
            return None;
        }
        if repo.contains('\0') || repo.chars().any(char::is_control) {
            let span = self.span(&path);
            self.error(span, "`velos.git.repo` contains a control character".into(), None);
            return None;
        }
        if transport(repo) != Transport::Local {
            return self.remote_repo(repo);
        }
        if lowered.starts_with("file://") || lowered.starts_with("git://") {
            return Some(repo.to_string());
        }
        if repo.starts_with('~') {
            let span = self.span(&path);
            self.error(
                span,
                "`~` is not expanded in `velos.git.repo`".into(),
                Some("write an absolute path, or one relative to the folder of velos.toml".into()),
            );
            return None;
        }
        // A path: relative to the file's folder, like `cwd`.
        let base = self.context.file.parent().unwrap_or(Path::new("/"));
        let joined: PathBuf =
            base.join(repo).components().filter(|component| *component != Component::CurDir).collect();
        match joined.to_str() {
            Some(text) => Some(text.to_string()),
            None => {
                let span = self.span(&path);
                self.error(span, format!("the path {} is not valid UTF-8", joined.display()), None);
                None
            }
        }
    }

    fn ref_name(&mut self, ref_name: &str) -> Option<String> {
        let problem = if ref_name.is_empty() {
            Some("`velos.git.ref` is empty")
        } else if ref_name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some("`velos.git.ref` contains a space or a control character")
        } else if ref_name.starts_with('-') {
            Some("`velos.git.ref` cannot start with `-`")
        } else {
            None
        };
        match problem {
            Some(problem) => {
                let span = self.span(&["velos", "git", "ref"]);
                self.error(
                    span,
                    problem.into(),
                    Some("name a branch (`\"main\"`), a tag (`\"v1.2.0\"`) or a full commit id".into()),
                );
                None
            }
            None => Some(ref_name.to_string()),
        }
    }

    fn path(&mut self, text: &str) -> Option<String> {
        let relative = Path::new(text);
        let problem = if text.is_empty() {
            Some("`velos.git.path` is empty")
        } else if relative.is_absolute() {
            Some("`velos.git.path` is relative to the repository's root, not an absolute path")
        } else if relative.components().any(|component| component == Component::ParentDir) {
            Some("`velos.git.path` cannot leave the repository (`..`)")
        } else if text.ends_with('/') {
            Some("`velos.git.path` names a folder, not a file")
        } else if text.contains('\0') || text.contains('\\') {
            Some("`velos.git.path` contains a NUL character or a backslash")
        } else {
            None
        };
        if let Some(problem) = problem {
            let span = self.span(&["velos", "git", "path"]);
            self.error(
                span,
                problem.into(),
                Some("write the file's path inside the repository: `path = \"deploy/velos.toml\"`".into()),
            );
            return None;
        }
        let normal: Vec<&str> = relative
            .components()
            .filter_map(|component| match component {
                Component::Normal(part) => part.to_str(),
                _ => None,
            })
            .collect();
        if normal.is_empty() {
            let span = self.span(&["velos", "git", "path"]);
            self.error(span, "`velos.git.path` names no file".into(), None);
            return None;
        }
        Some(normal.join("/"))
    }
}

/// `[velos.agents]`: what AI agents may do to a project beyond reading it and proposing changes. Part of
/// no spec, and no reason to run the controller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentPolicy {
    /// `apply_proposal`: apply a proposal without a human.
    pub apply: bool,
    /// `restart_app`.
    pub restart: bool,
}

impl AgentPolicy {
    // (`document["velos"]` would panic on a file without `[velos]`: look keys up instead.)
    /// The policy a velos.toml's text sets (defaults for a file that does not parse: it grants nothing).
    pub fn of_source(source: &str) -> AgentPolicy {
        let Ok(document) = source.parse::<toml_edit::DocumentMut>() else { return AgentPolicy::default() };
        let agents = document.get("velos").and_then(|velos| velos.get("agents"));
        let flag = |key: &str| {
            agents.and_then(|agents| agents.get(key)).and_then(toml_edit::Item::as_bool).unwrap_or(false)
        };
        AgentPolicy { apply: flag("apply"), restart: flag("restart") }
    }
}
