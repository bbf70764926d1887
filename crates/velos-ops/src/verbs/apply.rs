//! `apply`: make the host run what a velos.toml (or a git repository) says. A project that asks for the
//! controller (`[velos]` in the file, or a git source) is then followed by it.
use crate::context::Ops;
use crate::converge::{await_ready, converge_project, Applied, Progress, Waiting};
use crate::convert::config_error;
use crate::edit::session::follows_git;
use crate::error::{OpError, OpErrorKind};
use crate::follow::{converge_system, git_follower, sync_not_requested};
use crate::outcome::{WaitOptions, Warning, WarningKind};
use crate::ready::AppReadiness;
use crate::verbs::git_source::{git_request, source_error, GitRequest, Origin};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use velos_config::{ControllerSettings, Project};
use velos_controller::{
    fetch_git_project, file_target, register_target, request_sync, unregister_target, Target, TargetSource,
    CONTROLLER_APP,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApplyRequest {
    pub source: ApplySource,
    #[serde(default)]
    pub wait: WaitOptions,
    /// Apply a file whose project follows git anyway, taking the project off git (status then shows the
    /// file as its source).
    #[serde(default)]
    pub force_local: bool,
}

/// Where the desired state comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApplySource {
    /// A velos.toml on this host.
    File { path: PathBuf },
    /// A repository, followed by the controller from then on.
    Git(GitRequest),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApplyOutcome {
    pub project: String,
    pub plan: velos_reconcile::Plan,
    pub report: velos_reconcile::ApplyReport,
    /// Each app the project wants running, and whether it became ready (empty with `wait: false`). An
    /// app that did not makes the apply fail instead (`incomplete`, the outcomes in its detail).
    pub ready: Vec<AppReadiness>,
    /// What the controller now follows for this project, if anything.
    pub following: Option<Following>,
    /// The system project (the controller app), when it was applied.
    pub system: Option<Applied>,
    pub warnings: Vec<Warning>,
}

/// The controller follows `project` from `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Following {
    pub project: String,
    /// `git REPO@REF:PATH`, or the file's path.
    pub source: String,
    /// The repository, when the project comes from git.
    pub git: Option<FollowedGit>,
    pub watch: bool,
    pub self_heal: bool,
    /// How often the controller looks again at the latest (resync, or git poll), in milliseconds.
    pub look_ms: u64,
    /// What the controller runs for it besides: the API's addresses (`http://127.0.0.1:9700`,
    /// `unix:/srv/api.sock`) and the OTLP collector (`otlp http://127.0.0.1:4318`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serves: Vec<String>,
}

/// A followed repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FollowedGit {
    pub repo: String,
    pub ref_name: String,
    pub path: String,
    /// How often it is fetched, in milliseconds.
    pub poll_ms: u64,
}

impl Ops {
    pub fn apply(&self, request: ApplyRequest) -> Result<ApplyOutcome, OpError> {
        self.apply_with(request, &mut |_| {})
    }

    /// [`Ops::apply`], reporting the plan and each step to `progress` as they happen.
    pub fn apply_with(
        &self,
        request: ApplyRequest,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<ApplyOutcome, OpError> {
        let _lock = self.lock_edits()?;
        let mut warnings = Vec::new();
        match &request.source {
            ApplySource::Git(git) => {
                let git = git_request(git)?;
                let (fetched, project) = fetch_git_project(self.home().root(), &git)
                    .map_err(|error| source_error(&error, Origin::Request))?;
                let settings = ControllerSettings { git: Some(git.clone()), ..ControllerSettings::default() };
                let target = Target::git(git, ControllerSettings::default());
                self.follow(&request, &target, &settings, &project, &fetched.text, progress, warnings)
            }
            ApplySource::File { path } => {
                let (source, project) =
                    velos_config::load_source(path).map_err(|error| load_error(&error))?;
                if !request.force_local {
                    self.refuse_git_follower(&project)?;
                } else if let Some((target, git)) = git_follower(self.home().root(), &project.name) {
                    unregister_target(self.home().root(), &target)
                        .map_err(|error| OpError::io("could not stop following the repository", &error))?;
                    warnings.push(Warning::new(
                        WarningKind::FollowsGit,
                        format!(
                            "project {} no longer follows git {} (velos apply --git {} follows it again)",
                            project.name,
                            git.describe(),
                            git.repo
                        ),
                    ));
                }
                if project.controller.as_ref().is_some_and(ControllerSettings::wants_controller) {
                    return self.apply_followed(&request, path, &source, &project, progress, warnings);
                }
                let mut backend = self.connect_or_start()?;
                let waiting = Waiting::before(self, &project, self.clock().now());
                let applied = converge_project(
                    self,
                    backend.as_mut(),
                    (&project, &source),
                    request.wait,
                    false,
                    progress,
                    &mut warnings,
                );
                let applied = await_ready(self, backend.as_mut(), applied, request.wait, waiting, path);
                let applied = crate::remedy::settle(
                    self,
                    backend.as_mut(),
                    &project,
                    applied,
                    request.wait,
                    progress,
                    &mut warnings,
                );
                // The file no longer asks for the controller (if it ever did).
                if let Err(error) = unregister_target(self.home().root(), &file_target(path)) {
                    warnings.push(Warning::new(
                        WarningKind::Controller,
                        format!("the controller may still follow {}: {error}", path.display()),
                    ));
                }
                let system = converge_system(self, backend.as_mut(), request.wait, progress, &mut warnings);
                let (applied, ready) = applied?;
                Ok(ApplyOutcome {
                    project: project.name,
                    plan: applied.plan,
                    report: applied.report,
                    ready,
                    following: None,
                    system: system?,
                    warnings,
                })
            }
        }
    }

    /// A file of a project that follows git is changed in the repository, not here (the controller would
    /// undo it at its next look).
    fn refuse_git_follower(&self, project: &Project) -> Result<(), OpError> {
        if project.controller.as_ref().is_some_and(|settings| settings.git.is_some()) {
            return Ok(()); // the file itself names the repository: applying it follows that
        }
        match git_follower(self.home().root(), &project.name) {
            None => Ok(()),
            Some((_, git)) => Err(follows_git_source(project, &git)),
        }
    }

    /// `[velos]` asks for the controller: apply the project (with `[velos.git]`, the repository's at its
    /// commit, not the file's own apps), then have the controller follow the file.
    fn apply_followed(
        &self,
        request: &ApplyRequest,
        path: &std::path::Path,
        source: &str,
        project: &Project,
        progress: &mut dyn FnMut(Progress<'_>),
        mut warnings: Vec<Warning>,
    ) -> Result<ApplyOutcome, OpError> {
        let settings = project.controller.clone().unwrap_or_default();
        let target = file_target(path);
        match &settings.git {
            None => self.follow(request, &target, &settings, project, source, progress, warnings),
            Some(git) => {
                if !project.apps.is_empty() {
                    warnings.push(Warning::new(
                        WarningKind::FollowsGit,
                        format!("{} follows git ({}): its own [apps] are not applied, those of the repository are", path.display(), git.describe()),
                    ));
                }
                let (fetched, from_git) = fetch_git_project(self.home().root(), git)
                    .map_err(|error| source_error(&error, Origin::File))?;
                self.follow(request, &target, &settings, &from_git, &fetched.text, progress, warnings)
            }
        }
    }

    /// Registers `target` for the controller, applies `project`, makes sure the controller runs, and tells
    /// it to look. The controller is started even when the apply fails: it retries. A plan that cannot be
    /// made registers nothing.
    #[allow(clippy::too_many_arguments)]
    fn follow(
        &self,
        request: &ApplyRequest,
        target: &Target,
        settings: &ControllerSettings,
        project: &Project,
        text: &str,
        progress: &mut dyn FnMut(Progress<'_>),
        mut warnings: Vec<Warning>,
    ) -> Result<ApplyOutcome, OpError> {
        let home = self.home().root();
        let mut backend = self.connect_or_start()?;
        let live = backend.list().map_err(|error| crate::convert::daemon_error(error, None))?;
        if let Err(error) = velos_reconcile::plan(project, &live) {
            return Err(crate::convert::plan_error(&error, &project.file));
        }
        register_target(home, target).map_err(|error| {
            OpError::io(format!("could not register {} for the controller", target.key()), &error)
                .hint(format!("nothing was applied; check that {} is writable", home.display()))
        })?;
        let waiting = Waiting::before(self, project, self.clock().now());
        let applied = converge_project(
            self,
            backend.as_mut(),
            (project, text),
            request.wait,
            false,
            progress,
            &mut warnings,
        );
        let applied = await_ready(self, backend.as_mut(), applied, request.wait, waiting, &project.file);
        let applied = crate::remedy::settle(
            self,
            backend.as_mut(),
            project,
            applied,
            request.wait,
            progress,
            &mut warnings,
        );
        let system = converge_system(self, backend.as_mut(), request.wait, progress, &mut warnings);
        if let Err(error) = request_sync(home, Some(&project.name)) {
            warnings.push(sync_not_requested(&project.name, &error));
        }
        let (applied, ready) = applied?;
        let system = system?;
        let look_ms =
            settings.git.as_ref().map_or(settings.resync_ms, |git| git.poll_ms.min(settings.resync_ms));
        let source = match (&settings.git, &target.source) {
            (Some(git), _) => format!("git {}", git.describe()),
            (None, TargetSource::File { path }) => path.display().to_string(),
            (None, TargetSource::Git { git }) => format!("git {}", git.describe()),
        };
        let following = Following {
            project: project.name.clone(),
            source,
            git: settings.git.as_ref().map(|git| FollowedGit {
                repo: git.repo.clone(),
                ref_name: git.ref_name.clone(),
                path: git.path.clone(),
                poll_ms: git.poll_ms,
            }),
            watch: settings.watch,
            self_heal: settings.self_heal,
            look_ms,
            serves: served(settings),
        };
        Ok(ApplyOutcome {
            project: project.name.clone(),
            plan: applied.plan,
            report: applied.report,
            ready,
            following: Some(following),
            system,
            warnings,
        })
    }
}

/// A velos.toml that cannot be loaded; a missing one says how to name it.
pub fn load_error(error: &velos_config::ConfigError) -> OpError {
    let op_error = config_error(error);
    if op_error.kind == OpErrorKind::NotFound {
        op_error.hint("name the file: velos COMMAND path/to/velos.toml (without one, velos.toml in the current directory)")
    } else {
        op_error
    }
}

/// `follows_git` for a file whose project a git target follows.
fn follows_git_source(project: &Project, git: &velos_config::GitSource) -> OpError {
    let mut error = follows_git(
        project,
        &format!("{} via {CONTROLLER_APP}", git.describe()),
        &format!("velos apply {} would replace its apps with this file's", project.file.display()),
    );
    if let Some(crate::error::ErrorDetail::FollowsGit { repository, ref_name, path, .. }) =
        error.detail.as_deref_mut()
    {
        *repository = git.repo.clone();
        *ref_name = git.ref_name.clone();
        *path = git.path.clone();
    }
    error.hint(format!(
        "commit the change to {} (branch {}), the controller applies it; velos apply --force-local {} takes the project off git",
        git.repo,
        git.ref_name,
        project.file.display()
    ))
}

/// What `[velos.api]` and `[velos.otlp]` have the controller run, as [`Following::serves`] names it.
fn served(settings: &velos_config::ControllerSettings) -> Vec<String> {
    let api = settings.api.iter().flat_map(|api| {
        let tcp = api.listen.map(|address| format!("http://{address}"));
        let unix = api.unix.as_ref().map(|path| format!("unix:{}", path.display()));
        [tcp, unix].into_iter().flatten()
    });
    let otlp = settings.otlp.iter().map(|otlp| format!("otlp {}", otlp.endpoint));
    api.chain(otlp).collect()
}
