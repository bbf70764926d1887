//! What `velos apply` and the other commands need around the controller: the registry of what it follows
//! (`$VELOS_HOME/controller/targets/`), the `velos-system` project that runs it as a supervised app, the
//! check that refuses local edits to a project that follows git, and `--git` from the command line.
use crate::git::{GitSource, SOURCES_DIR};
use crate::source::{self, Fetched, Source as _, SourceError};
use crate::{Target, TargetSource};
use std::path::{Path, PathBuf};
use velos_config::{ConfigError, Project};
use velos_reconcile::followed::{read_records, CONTROLLER_DIR};

/// `controller/targets`: one JSON file per followed target.
pub const TARGETS_DIR: &str = "targets";
/// The project of the apps Velos runs for itself.
pub const SYSTEM_PROJECT: &str = "velos-system";
/// The controller's app in [`SYSTEM_PROJECT`].
pub const CONTROLLER_APP: &str = "velos-controller";
/// The label every app of [`SYSTEM_PROJECT`] carries (`velos list` hides them without `--all`).
pub const SYSTEM_LABEL: &str = "velos.system";
/// `$VELOS_HOME/system/velos.toml`: the system project's file, written by [`write_system_project`].
pub const SYSTEM_FILE: &str = "system/velos.toml";

fn targets_dir(home: &Path) -> PathBuf {
    home.join(CONTROLLER_DIR).join(TARGETS_DIR)
}

fn target_file(home: &Path, target: &Target) -> PathBuf {
    let hash = velos_config::revision(target.key().as_bytes());
    targets_dir(home).join(format!("{}.json", hash.trim_start_matches("file:")))
}

/// Adds (or updates) `target` to what the controller of `home` follows. Idempotent.
pub fn register_target(home: &Path, target: &Target) -> std::io::Result<()> {
    let path = target_file(home, target);
    std::fs::create_dir_all(targets_dir(home))?;
    let mut text = serde_json::to_string_pretty(target).map_err(std::io::Error::other)?;
    text.push('\n');
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    velos_config::write_atomically(&path, &text)
}

/// Stops following `target` (by its [`Target::key`]). Absent: nothing to do.
pub fn unregister_target(home: &Path, target: &Target) -> std::io::Result<()> {
    match std::fs::remove_file(target_file(home, target)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// What the controller of `home` follows, sorted by key. Unreadable entries are skipped.
pub fn registered_targets(home: &Path) -> Vec<Target> {
    let Ok(items) = std::fs::read_dir(targets_dir(home)) else { return Vec::new() };
    let mut targets: Vec<Target> = items
        .flatten()
        .filter(|item| item.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|item| std::fs::read_to_string(item.path()).ok())
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect();
    targets.sort_by_key(Target::key);
    targets.dedup_by_key(|target| target.key());
    targets
}

/// Whether anything asks for the controller: then [`SYSTEM_PROJECT`] runs it. Each reason is a predicate
/// of its own: followed targets, then those judged from the live apps (one LIST for all of them, none
/// when targets already decide): apps with a `cron_restart` or `watch`
/// ([`crate::schedule::schedules_wanted`]) and apps with a readiness or liveness check
/// ([`health_checks_wanted`]).
pub fn controller_wanted(home: &Path) -> bool {
    if !registered_targets(home).is_empty() {
        return true;
    }
    let live = live_apps(home);
    crate::schedule::schedules_wanted(&live) || health_checks_wanted(&live)
}

/// Whether a live app carries a readiness or liveness check (its `velos.readiness` / `velos.liveness`
/// label): the controller's prober runs them continuously, restarts on liveness, and keeps
/// `health/state.json`.
pub fn health_checks_wanted(live: &[velos_core::ProcessRecord]) -> bool {
    live.iter().any(|record| {
        [velos_health::Use::Readiness, velos_health::Use::Liveness]
            .iter()
            .any(|purpose| record.spec.labels.contains_key(purpose.label()))
    })
}

/// The apps the daemon of `home` runs; none when it does not answer (then it runs nothing to want a
/// controller for). Never starts it.
fn live_apps(home: &Path) -> Vec<velos_core::ProcessRecord> {
    velos_client::Client::connect(home).and_then(|mut client| client.list()).unwrap_or_default()
}

/// The text of the system project's file: the controller app when `controller`, else no app (so applying
/// it removes the controller).
pub fn system_project_text(home: &Path, velos_exe: &Path, controller: bool) -> String {
    let string = |text: &str| serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into());
    let mut text = format!(
        "# Written by velos: the apps Velos runs for itself (`velos list --all`). `velos apply` rewrites it.\n\n\
         [project]\nname = \"{SYSTEM_PROJECT}\"\n"
    );
    if controller {
        text.push_str(&format!(
            "\n# Follows the projects registered in {}: file watch, git, resync.\n\
             [apps.{CONTROLLER_APP}]\n\
             command = {}\n\
             args = [\"controller\"]\n\
             restart = \"always\"\n\
             kill_timeout = \"10s\"\n\
             env = {{ VELOS_HOME = {} }}\n",
            home.join(CONTROLLER_DIR).join(TARGETS_DIR).display(),
            string(&velos_config::quote_program(&velos_exe.display().to_string())),
            string(&home.display().to_string()),
        ));
    }
    text
}

/// Writes `$VELOS_HOME/system/velos.toml` (when its text changes) and loads it, with [`SYSTEM_LABEL`] on
/// every app. The CLI plans and applies the result like any project: the daemon then supervises the
/// controller (restarted if it dies, logs collected), and removes it when nothing needs it.
pub fn write_system_project(home: &Path, velos_exe: &Path, controller: bool) -> Result<Project, ConfigError> {
    let path = home.join(SYSTEM_FILE);
    let text = system_project_text(home, velos_exe, controller);
    let read_error = |source| ConfigError::Read { path: path.clone(), source };
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::create_dir_all(path.parent().unwrap_or(home)).map_err(read_error)?;
        velos_config::write_atomically(&path, &text).map_err(read_error)?;
    }
    let mut project = velos_config::load(&path)?;
    for app in &mut project.apps {
        app.spec.labels.insert(SYSTEM_LABEL.to_string(), "true".to_string());
    }
    Ok(project)
}

/// Where `project` takes its desired state from when that is not the file on this host: `REPO@REF:PATH`
/// for a file with `[velos.git]`, or for the checkout of a project applied from git. The CLI refuses local
/// edits to such a project: "this project follows git REPO@REF; commit the change there".
pub fn tracking(home: &Path, project: &Project) -> Option<String> {
    if let Some(git) = project.controller.as_ref().and_then(|settings| settings.git.as_ref()) {
        return Some(git.describe());
    }
    let sources = std::fs::canonicalize(home.join(SOURCES_DIR)).unwrap_or_else(|_| home.join(SOURCES_DIR));
    if !project.file.starts_with(&sources) && !project.revision.starts_with("git:") {
        return None;
    }
    let recorded = read_records(home)
        .into_iter()
        .find(|record| record.project == project.name)
        .and_then(|record| record.source.strip_prefix("git ").map(str::to_string));
    Some(recorded.unwrap_or_else(|| format!("the git checkout {}", project.file.display())))
}

/// Whether `project` follows git (see [`tracking`]).
pub fn is_tracked(home: &Path, project: &Project) -> bool {
    tracking(home, project).is_some()
}

/// `velos apply --git REPO [--ref REF] [--path PATH]`, checked exactly as `[velos.git]` in a file is (a
/// relative `REPO` is relative to `cwd`). The error is the problems found, one per line, with their help.
pub fn git_from_args(
    repo: &str,
    ref_name: Option<&str>,
    path: Option<&str>,
    cwd: &Path,
) -> Result<velos_config::GitSource, String> {
    let string = |text: &str| serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into());
    let mut text = format!("[velos.git]\nrepo = {}\n", string(repo));
    if let Some(ref_name) = ref_name {
        text.push_str(&format!("ref = {}\n", string(ref_name)));
    }
    if let Some(path) = path {
        text.push_str(&format!("path = {}\n", string(path)));
    }
    let parsed = velos_config::parse(&text, &cwd.join("velos.toml")).map_err(|error| {
        error
            .diagnostics()
            .iter()
            .map(|diagnostic| match &diagnostic.help {
                Some(help) => format!("{}\n  = help: {help}", diagnostic.message),
                None => diagnostic.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    parsed.controller.and_then(|settings| settings.git).ok_or_else(|| "no repository given".to_string())
}

/// Fetches the project `git` names, parses it, and checks its files out: what `velos apply` does once for a
/// file with `[velos.git]` or `--git`, before registering the target for the controller.
pub fn fetch_git_project(
    home: &Path,
    git: &velos_config::GitSource,
) -> Result<(Fetched, Project), SourceError> {
    let mut source = GitSource::new(home, git);
    let (fetched, project) = source::load(&mut source)?;
    source.materialize(&fetched)?;
    Ok((fetched, project))
}

/// The target for `velos apply FILE` when FILE asks for the controller (or `--watch`).
pub fn file_target(file: &Path) -> Target {
    let path = velos_config::canonical_file_path(file).unwrap_or_else(|_| file.to_path_buf());
    Target { source: TargetSource::File { path }, settings: velos_config::ControllerSettings::default() }
}
