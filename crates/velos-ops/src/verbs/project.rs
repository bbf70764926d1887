//! `status`, `history`, `rollback`: the projects applied on this host and their recorded applies.
use crate::context::Ops;
use crate::converge::{await_ready, converge_project, Progress, Waiting};
use crate::convert::{config_error, daemon_error, history_error};
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::{WaitOptions, Warning, WarningKind};
use crate::ready::AppReadiness;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use velos_controller::SYSTEM_PROJECT;
use velos_reconcile::history::{read_projects, HISTORY_DIR};
use velos_reconcile::{History, HistoryEntry, ProjectStatus, RollbackTarget, SyncState};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusRequest {
    /// Also Velos's own project (`velos-system`).
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatusOutcome {
    /// Sorted by project name.
    pub projects: Vec<ProjectStatus>,
    /// A project whose file is gone, once each, with how to forget it.
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryRequest {
    /// Only this project's applies.
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryOutcome {
    /// Oldest first.
    pub entries: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RollbackRequest {
    /// Default: the project of ./velos.toml if it is applied here, else the only one applied.
    #[serde(default)]
    pub project: Option<String>,
    /// How many revisions back (default 1: the previous).
    #[serde(default = "one")]
    pub steps: u32,
    #[serde(default)]
    pub wait: WaitOptions,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RollbackOutcome {
    pub project: String,
    /// The revision written back, and the history entry it comes from.
    pub revision: String,
    pub seq: u64,
    /// The file it was written to (then applied).
    pub file: PathBuf,
    pub plan: velos_reconcile::Plan,
    pub report: velos_reconcile::ApplyReport,
    /// Each app the project wants running, ready (an app that is not fails the rollback, `incomplete`).
    pub ready: Vec<AppReadiness>,
    pub warnings: Vec<Warning>,
}

impl Ops {
    /// Per project applied on this host: source, revision, synced / progressing / out of sync / error.
    pub fn status(&self, request: StatusRequest) -> Result<StatusOutcome, OpError> {
        let mut backend = self.connect_running()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let mut projects =
            velos_reconcile::status(self.home().root(), &live).map_err(|error| history_error(&error))?;
        if !request.all {
            projects.retain(|status| status.project != SYSTEM_PROJECT);
        }
        let warnings = projects
            .iter()
            .filter(|status| {
                status.state == SyncState::Error
                    && !status.source.starts_with("git ")
                    && !Path::new(&status.source).exists()
            })
            .map(|status| {
                Warning::new(
                    WarningKind::FileGone,
                    format!(
                        "project {}: its file {} is gone; velos forget {} removes the project and its apps",
                        status.project, status.source, status.project
                    ),
                )
            })
            .collect();
        Ok(StatusOutcome { projects, warnings })
    }

    /// The applies recorded on this host, oldest first.
    pub fn history(&self, request: HistoryRequest) -> Result<HistoryOutcome, OpError> {
        // Opening the history creates its folder: only when VELOS_HOME has one already.
        if !self.home().root().join(HISTORY_DIR).is_dir() {
            return Ok(HistoryOutcome { entries: Vec::new() });
        }
        let entries = History::open(self.home().root())
            .and_then(|history| history.list(request.project.as_deref()))
            .map_err(|error| history_error(&error))?;
        Ok(HistoryOutcome { entries })
    }

    pub fn rollback(&self, request: RollbackRequest) -> Result<RollbackOutcome, OpError> {
        self.rollback_with(request, &mut |_| {})
    }

    /// Writes an earlier revision of a project back to its file, then applies it.
    pub fn rollback_with(
        &self,
        request: RollbackRequest,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<RollbackOutcome, OpError> {
        let _lock = self.lock_edits()?;
        let home = self.home().root();
        let project_name = match &request.project {
            Some(project) => project.clone(),
            None => rollback_project(home)?,
        };
        if project_name == SYSTEM_PROJECT {
            return Err(OpError::refused(format!(
                "project {SYSTEM_PROJECT} holds the apps Velos runs for itself: velos apply writes it, nothing rolls it back"
            ))
            .hint("velos rollback --project PROJECT names one of yours (velos status lists them)"));
        }
        let target = velos_reconcile::rollback(home, &project_name, RollbackTarget::Steps(request.steps))
            .map_err(|error| history_error(&error))?;
        if target.revision.starts_with("git:") {
            return Err(OpError::new(
                OpErrorKind::FollowsGit,
                format!("project {project_name} follows git: its revisions are commits, so rollback does not write its file"),
            )
            .hint("revert the commit in the repository, or follow an earlier commit with its `ref`"));
        }
        let project = velos_config::parse_as(&target.source_text, &target.file, &target.file)
            .map_err(|error| config_error(&error))?;
        velos_config::write_atomically(&target.file, &target.source_text).map_err(|error| {
            OpError::io(format!("could not write {}", target.file.display()), &error)
                .hint("nothing was applied; check that the file and its folder are writable")
        })?;
        let mut warnings = Vec::new();
        let mut backend = self.connect_or_start()?;
        let waiting = Waiting::before(self, &project, self.clock().now());
        let applied = converge_project(
            self,
            backend.as_mut(),
            (&project, &target.source_text),
            request.wait,
            false,
            progress,
            &mut warnings,
        );
        // A rollback is an apply of the earlier revision: it works when its apps are ready.
        let (applied, ready) =
            await_ready(self, backend.as_mut(), applied, request.wait, waiting, &target.file)?;
        Ok(RollbackOutcome {
            project: project_name,
            revision: target.revision,
            seq: target.seq,
            file: target.file,
            plan: applied.plan,
            report: applied.report,
            ready,
            warnings,
        })
    }
}

/// The project `rollback` means without one named: that of ./velos.toml if it is registered, else the only
/// registered one.
fn rollback_project(home: &Path) -> Result<String, OpError> {
    let mut registered = read_projects(home).map_err(|error| history_error(&error))?;
    registered.retain(|record| record.project != SYSTEM_PROJECT);
    if let Ok(here) = velos_config::load(Path::new("velos.toml")) {
        if registered.iter().any(|record| record.project == here.name) {
            return Ok(here.name);
        }
    }
    match registered.as_slice() {
        [] => Err(OpError::new(
            OpErrorKind::NotFound,
            "no project has been applied on this host yet, so there is nothing to roll back",
        )
        .hint("velos apply FILE applies one")),
        [only] => Ok(only.project.clone()),
        several => {
            let names: Vec<String> = several.iter().map(|record| record.project.clone()).collect();
            Err(OpError::invalid(format!("several projects are applied on this host: {}", names.join(", ")))
                .hint(format!("velos rollback --project {}", names[0]))
                .detail(ErrorDetail::NotFound {
                    what: "project".into(),
                    name: String::new(),
                    candidates: names,
                }))
        }
    }
}
