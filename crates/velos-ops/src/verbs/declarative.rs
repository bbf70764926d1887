//! `plan`, `diff`, `validate`: velos.toml in, plans out, nothing changed. They never start the daemon: no
//! daemon means an empty host (said as a warning).
use crate::context::Ops;
use crate::convert::{config_error, daemon_error, plan_error};
use crate::error::{OpError, OpErrorKind};
use crate::outcome::{Warning, WarningKind};
use crate::verbs::apply::load_error;
use crate::verbs::git_source::{source_error, Origin};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use velos_config::Project;
use velos_controller::fetch_git_project;
use velos_core::ProcessRecord;
use velos_reconcile::{diff_projects, Plan};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanRequest {
    pub file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanOutcome {
    pub plan: Plan,
    pub warnings: Vec<Warning>,
}

/// What `diff` compares the file with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Against {
    /// The daemon's records.
    Live,
    /// Another velos.toml.
    File { path: PathBuf },
    /// A git revision of the file (`HEAD`, `origin/main`, a tag, a commit).
    Revision { revision: String },
}

impl Against {
    /// `live`; else an existing path is a file; else a git revision.
    pub fn from_arg(text: &str) -> Against {
        if text == "live" {
            Against::Live
        } else if Path::new(text).exists() {
            Against::File { path: PathBuf::from(text) }
        } else {
            Against::Revision { revision: text.to_string() }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DiffRequest {
    pub file: PathBuf,
    pub against: Against,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiffOutcome {
    /// What applying the file would change where `against` runs.
    pub plan: Plan,
    /// `the host`, the other file, or `REV:PATH`.
    pub against: String,
    /// The plan is not empty (the CLI exits 2).
    pub changes: bool,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ValidateRequest {
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ValidateOutcome {
    /// One per file, in request order.
    pub files: Vec<Validated>,
    /// How many are invalid.
    pub invalid: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Validated {
    pub file: PathBuf,
    /// Valid: the project, its apps (`[apps.NAME]` tables) and processes (instances counted).
    pub project: Option<String>,
    pub apps: usize,
    pub processes: usize,
    /// Invalid: why, with diagnostics.
    pub error: Option<OpError>,
}

impl Ops {
    /// What `apply` would change. A file with `[velos.git]` plans the repository's apps at the ref it
    /// tracks, not the file's own.
    pub fn plan(&self, request: PlanRequest) -> Result<PlanOutcome, OpError> {
        let mut warnings = Vec::new();
        let project = self.desired(&request.file, &mut warnings)?;
        let live = self.live_or_empty("planning", &mut warnings)?;
        let plan =
            velos_reconcile::plan(&project, &live).map_err(|error| plan_error(&error, &project.file))?;
        Ok(PlanOutcome { plan, warnings })
    }

    /// The file compared with the host, another file or a git revision of it.
    pub fn diff(&self, request: DiffRequest) -> Result<DiffOutcome, OpError> {
        let mut warnings = Vec::new();
        let (plan, against) = match &request.against {
            Against::Live => {
                let project = self.desired(&request.file, &mut warnings)?;
                let live = self.live_or_empty("comparing", &mut warnings)?;
                let plan = velos_reconcile::plan(&project, &live)
                    .map_err(|error| plan_error(&error, &project.file))?;
                (plan, "the host".to_string())
            }
            Against::File { path } => {
                let project = load(&request.file)?;
                let (text, _) = velos_config::load_source(path).map_err(|error| load_error(&error))?;
                let shown = path.display().to_string();
                (compare(&project, &shown, &text)?, shown)
            }
            Against::Revision { revision } => {
                let project = load(&request.file)?;
                let at = velos_controller::revision::file_at_revision(&project.file, revision)
                    .map_err(git_error)?;
                // No file there at that revision: nothing was declared, so everything is a create.
                let text = at.text.unwrap_or_default();
                (compare(&project, &at.shown, &text)?, at.shown)
            }
        };
        let changes = !plan.is_empty();
        Ok(DiffOutcome { plan, against, changes, warnings })
    }

    /// Checks each file; an invalid one is reported, not an error of the verb.
    pub fn validate(&self, request: ValidateRequest) -> Result<ValidateOutcome, OpError> {
        let files: Vec<Validated> = request
            .files
            .into_iter()
            .map(|file| match velos_config::load(&file) {
                Ok(project) => Validated {
                    project: Some(project.name.clone()),
                    apps: project.app_names().len(),
                    processes: project.apps.len(),
                    error: None,
                    file,
                },
                Err(error) => {
                    Validated { project: None, apps: 0, processes: 0, error: Some(load_error(&error)), file }
                }
            })
            .collect();
        let invalid = files.iter().filter(|file| file.error.is_some()).count();
        Ok(ValidateOutcome { files, invalid })
    }

    /// The project a file declares; with `[velos.git]`, the repository's at its ref.
    fn desired(&self, file: &Path, warnings: &mut Vec<Warning>) -> Result<Project, OpError> {
        let project = load(file)?;
        let Some(git) = project.controller.as_ref().and_then(|settings| settings.git.clone()) else {
            return Ok(project);
        };
        if !project.apps.is_empty() {
            warnings.push(Warning::new(
                WarningKind::FollowsGit,
                format!(
                    "{} follows git ({}): the repository's apps are planned, not the file's own",
                    file.display(),
                    git.describe()
                ),
            ));
        }
        let (_, from_git) = fetch_git_project(self.home().root(), &git)
            .map_err(|error| source_error(&error, Origin::File))?;
        Ok(from_git)
    }

    /// The live records of a running daemon, or none (with a warning) when no daemon runs.
    fn live_or_empty(&self, what: &str, warnings: &mut Vec<Warning>) -> Result<Vec<ProcessRecord>, OpError> {
        match self.connect_if_running()? {
            Some(mut backend) => backend.list().map_err(|error| daemon_error(error, None)),
            None => {
                warnings.push(Warning::new(
                    WarningKind::DaemonNotRunning,
                    format!("the velos daemon is not running: {what} against an empty host"),
                ));
                Ok(Vec::new())
            }
        }
    }
}

fn load(file: &Path) -> Result<Project, OpError> {
    velos_config::load(file).map_err(|error| load_error(&error))
}

/// What applying `project` would change on a host running `text`, read as another version of the same
/// file: parsed with the project's path, so the specs hash alike (the default `cwd` is the file's folder).
fn compare(project: &Project, shown: &str, text: &str) -> Result<Plan, OpError> {
    let other = velos_config::parse_as(text, Path::new(shown), &project.file)
        .map_err(|error| config_error(&error))?;
    diff_projects(project, &other).map_err(|error| plan_error(&error, &project.file))
}

fn git_error(error: velos_controller::revision::GitError) -> OpError {
    use velos_controller::revision::GitError;
    let (kind, hint) = match &error {
        GitError::UnknownRevision { .. } => (
            OpErrorKind::NotFound,
            "name a branch, tag or commit of the file's repository (git log shows them), or a file",
        ),
        GitError::NoRepository { .. } | GitError::Bare { .. } | GitError::OutsideWorkTree { .. } => (
            OpErrorKind::InvalidInput,
            "--against takes `live`, a file, or a git revision of FILE's repository",
        ),
        _ => (OpErrorKind::Io, "git show REV:PATH shows what the repository holds there"),
    };
    let op_error = OpError::new(kind, error.to_string());
    let op_error = match error.detail() {
        Some(detail) => op_error.cause(detail),
        None => op_error,
    };
    op_error.hint(hint)
}
