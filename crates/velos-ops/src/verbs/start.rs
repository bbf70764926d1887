//! `start`: an app by name (`state = "running"` in its file), a velos.toml (applied), or a program, added
//! to the default project (`VELOS_HOME/velos.toml`) as a new app.
use crate::address::ALL;
use crate::context::Ops;
use crate::converge::Progress;
use crate::convert::daemon_error;
use crate::edit::apply_app::{app_change, direct_start, failures_error, Expect};
use crate::edit::new_app::{build_app, NewApp};
use crate::edit::refuse::{orphan_error, Verb};
use crate::edit::session::{Declared, Found, Session};
use crate::error::{OpError, OpErrorKind};
use crate::outcome::{AppChange, WaitOptions, Warning};
use crate::verbs::apply::{ApplyOutcome, ApplyRequest, ApplySource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use velos_config::{DesiredState, Edit, Project};
use velos_core::{RestartPolicy, Status};
use velos_reconcile::ownership::{self, default_project_file, Orphan, DEFAULT_PROJECT_SOURCE};
use velos_reconcile::ApplyOptions;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StartRequest {
    /// An app's name (or `all`), a velos.toml to apply, or the program to run.
    pub target: String,
    /// Arguments of the program.
    #[serde(default)]
    pub args: Vec<String>,
    /// How a new app runs.
    #[serde(default)]
    pub options: NewAppOptions,
    /// The caller's directory: a new app runs there (or in `options.cwd`, relative to it).
    pub caller_dir: PathBuf,
    /// The caller's environment: a new app gets PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_ALL, TZ from it
    /// (everything with `inherit_env`).
    #[serde(default)]
    pub caller_env: BTreeMap<String, String>,
    /// For a velos.toml: how its apply waits.
    #[serde(default)]
    pub wait: WaitOptions,
}

/// The settings of a new app, each written into its `[apps.NAME]` table when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NewAppOptions {
    /// Default: the program's file stem.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Set over the passed variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub inherit_env: bool,
    #[serde(default)]
    pub restart: Option<RestartPolicy>,
    #[serde(default)]
    pub max_restarts: Option<u32>,
    #[serde(default)]
    pub restart_window_ms: Option<u64>,
    #[serde(default)]
    pub backoff_initial_ms: Option<u64>,
    #[serde(default)]
    pub backoff_max_ms: Option<u64>,
    #[serde(default)]
    pub min_uptime_ms: Option<u64>,
    #[serde(default)]
    pub kill_signal: Option<u8>,
    #[serde(default)]
    pub kill_timeout_ms: Option<u64>,
}

impl NewAppOptions {
    fn is_empty(&self) -> bool {
        *self == NewAppOptions::default()
    }
}

impl StartRequest {
    /// `start api` alone: the PM2 habit of starting an existing app by name.
    fn is_bare_name(&self) -> bool {
        self.args.is_empty() && self.options.is_empty() && velos_core::validate_name(&self.target).is_ok()
    }

    /// `start velos.toml`, `start deploy/app.toml`: the PM2 habit of starting an ecosystem file.
    fn config_file(&self) -> Option<PathBuf> {
        let path = self.caller_dir.join(&self.target);
        (self.target.ends_with(".toml") && self.args.is_empty() && path.is_file()).then_some(path)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StartOutcome {
    /// `start FILE.toml`: the file was applied (what `apply` says).
    pub applied: Option<ApplyOutcome>,
    /// The apps started.
    pub apps: Vec<AppChange>,
    pub warnings: Vec<Warning>,
}

impl Ops {
    pub fn start(&self, request: StartRequest) -> Result<StartOutcome, OpError> {
        self.start_with(request, &mut |_| {})
    }

    /// [`Ops::start`]; `progress` sees the apply of a velos.toml.
    pub fn start_with(
        &self,
        request: StartRequest,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<StartOutcome, OpError> {
        if let Some(file) = request.config_file() {
            let apply = ApplyRequest {
                source: ApplySource::File { path: file },
                wait: request.wait,
                force_local: false,
            };
            let applied = self.apply_with(apply, progress)?;
            return Ok(StartOutcome { applied: Some(applied), apps: Vec::new(), warnings: Vec::new() });
        }
        let mut session = Session::open(self)?;
        let mut warnings = Vec::new();
        if request.is_bare_name() {
            if request.target == ALL {
                let apps = crate::edit::bulk::each_app(
                    &mut session,
                    Verb::Start,
                    &mut warnings,
                    &mut |session, name, warnings| start_by_name(session, name, warnings),
                )?;
                return Ok(StartOutcome { applied: None, apps, warnings });
            }
            if let Some(change) = start_existing(&mut session, &request.target, &mut warnings)? {
                return Ok(StartOutcome { applied: None, apps: vec![change], warnings });
            }
        }
        let new_app = build_app(&request)?;
        let change = start_program(&mut session, new_app, &mut warnings)?;
        Ok(StartOutcome { applied: None, apps: vec![change], warnings })
    }
}

/// `start NAME` of an app that exists (declared, or live without a file); `None`: no app of that name.
fn start_existing(
    session: &mut Session<'_>,
    name: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<AppChange>, OpError> {
    match session.find(name, Verb::Start)? {
        Found::Unknown => Ok(None),
        _ => start_by_name(session, name, warnings).map(Some),
    }
}

fn start_by_name(
    session: &mut Session<'_>,
    name: &str,
    warnings: &mut Vec<Warning>,
) -> Result<AppChange, OpError> {
    match session.find_existing(name, Verb::Start)? {
        Found::Declared(declared) => start_declared(session, &declared, warnings),
        Found::Orphan(record, Orphan::Unlabelled) => direct_start(session, &record.name),
        Found::Orphan(record, orphan) => Err(orphan_error(&record.name, &orphan, Verb::Start)),
        Found::Unknown => Err(session.no_such_app(name)),
    }
}

/// A program: added to the default project, unless an app of that name exists (the same command again
/// is idempotent: the app is started if it is not running).
fn start_program(
    session: &mut Session<'_>,
    new_app: NewApp,
    warnings: &mut Vec<Warning>,
) -> Result<AppChange, OpError> {
    match session.find(&new_app.name, Verb::Start)? {
        Found::Declared(declared) if same_spec(&declared, &new_app) => {
            start_declared(session, &declared, warnings)
        }
        Found::Declared(declared) => Err(exists_error(&new_app.name, Some(&declared.file))),
        Found::Orphan(record, Orphan::Unlabelled) => {
            if default_candidate(session.ops.home().root(), &new_app)?.as_deref()
                == Some(record.spec.spec_hash.as_str())
            {
                direct_start(session, &record.name)
            } else {
                Err(exists_error(&new_app.name, None))
            }
        }
        // An app of the default project whose file lost it (edited or removed by hand): declared again if
        // it is the same program, so the file and the host agree.
        Found::Orphan(record, Orphan::NotInFile { project, .. } | Orphan::FileGone { project, .. })
            if project == ownership::DEFAULT_PROJECT
                && default_candidate(session.ops.home().root(), &new_app)?.as_deref()
                    == Some(record.spec.spec_hash.as_str()) =>
        {
            add_to_default(session, new_app, warnings)
        }
        Found::Orphan(record, orphan) => Err(orphan_error(&record.name, &orphan, Verb::Start).hint(format!(
            "another app already has that name: velos delete {} first, or choose another --name",
            record.name
        ))),
        Found::Unknown => add_to_default(session, new_app, warnings),
    }
}

/// `state = "running"` (when the file said otherwise), then start it.
fn start_declared(
    session: &mut Session<'_>,
    declared: &Declared,
    warnings: &mut Vec<Warning>,
) -> Result<AppChange, OpError> {
    let edits = [Edit::SetState { app: declared.app.clone(), state: DesiredState::Running }];
    let prepared = session.prepare(&declared.file, &declared.source, &edits, &declared.app)?;
    started(session, &prepared, warnings)
}

/// Adds `[apps.NAME]` to the default project's file (creating it), then creates the app.
fn add_to_default(
    session: &mut Session<'_>,
    new_app: NewApp,
    warnings: &mut Vec<Warning>,
) -> Result<AppChange, OpError> {
    let (file, source) = default_source(session.ops.home().root())?;
    let edits = [Edit::AddApp { app: new_app.name.clone(), table: new_app.table }];
    let prepared = session.prepare(&file, &source, &edits, &new_app.name)?;
    started(session, &prepared, warnings)
}

/// Applies a start without waiting (the reply of START names the pid); an instance that failed to start
/// fails the verb.
fn started(
    session: &mut Session<'_>,
    prepared: &crate::edit::session::Prepared,
    warnings: &mut Vec<Warning>,
) -> Result<AppChange, OpError> {
    let options = ApplyOptions { wait: false, ..ApplyOptions::default() };
    let mut executed = session.execute(prepared, options, &mut |_| {}, warnings)?;
    run_again_if_finished(session, prepared, &mut executed)?;
    let change = app_change(session, prepared, &executed, Expect::Start);
    failures_error(&executed, &prepared.app, |app| format!("check the path, then velos delete {app}"))?;
    Ok(change)
}

/// A finished job or an app the daemon gave up on, with its spec unchanged: a plan leaves it alone (a job
/// runs once, a crash loop is not retried by self-heal), but a user's `start` asks for it, so each such
/// instance the plan did not touch is STARTed by name, as `velos restart` would.
fn run_again_if_finished(
    session: &mut Session<'_>,
    prepared: &crate::edit::session::Prepared,
    executed: &mut crate::edit::session::Executed,
) -> Result<(), OpError> {
    let names: Vec<String> =
        prepared.project.instances_of(&prepared.app).iter().map(|app| app.spec.name.clone()).collect();
    for name in names {
        let acted_on = executed.converged.report.results.iter().any(|result| result.name == name);
        let finished = executed
            .seen
            .get(&name)
            .or(session.live(&name))
            .is_some_and(|record| matches!(record.status, Status::Completed | Status::Errored));
        if finished && !acted_on {
            let record =
                session.backend.start_existing(&name).map_err(|error| daemon_error(error, Some(&name)))?;
            executed.seen.insert(name, record);
        }
    }
    Ok(())
}

/// The text of the default project's file now (a new one if it does not exist yet).
fn default_source(home: &Path) -> Result<(PathBuf, String), OpError> {
    let file = default_project_file(home);
    match std::fs::read_to_string(&file) {
        Ok(source) => Ok((file, source)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Ok((file, DEFAULT_PROJECT_SOURCE.to_string()))
        }
        Err(error) => Err(OpError::io(format!("could not read {}", file.display()), &error)),
    }
}

/// The spec hash `new_app` would have in the default project, if it can be added there.
fn default_candidate(home: &Path, new_app: &NewApp) -> Result<Option<String>, OpError> {
    let (file, source) = default_source(home)?;
    let edit = Edit::AddApp { app: new_app.name.clone(), table: new_app.table.clone() };
    Ok(velos_config::apply_edits(&source, &file, &[edit])
        .ok()
        .and_then(|(_, project)| project.app(&new_app.name).map(|app| app.spec.spec_hash.clone())))
}

/// Whether `new_app` declares what `declared` already does (same instances, same specs).
fn same_spec(declared: &Declared, new_app: &NewApp) -> bool {
    let edits = [
        Edit::RemoveApp { app: declared.app.clone() },
        Edit::AddApp { app: declared.app.clone(), table: new_app.table.clone() },
    ];
    let specs = |project: &Project| -> Vec<(String, String)> {
        project
            .instances_of(&declared.app)
            .iter()
            .map(|app| (app.spec.name.clone(), app.spec.spec_hash.clone()))
            .collect()
    };
    velos_config::apply_edits(&declared.source, &declared.file, &edits)
        .is_ok_and(|(_, candidate)| specs(&candidate) == specs(&declared.project))
}

fn exists_error(name: &str, file: Option<&Path>) -> OpError {
    let error = OpError::new(
        OpErrorKind::Conflict,
        format!("an app named {name:?} already exists, with another command or settings"),
    );
    let edit = file.map(|file| format!(", or edit {}", file.display())).unwrap_or_default();
    let error = match file {
        Some(file) => error.cause(format!("it is declared in {}", file.display())),
        None => error,
    };
    error.hint(format!(
        "velos restart {name} restarts it as it is; to change it, velos delete {name} first{edit}"
    ))
}
