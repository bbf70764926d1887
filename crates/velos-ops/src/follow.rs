//! What the controller follows, from the ops layer's side: registering targets, the system project that
//! runs the controller as a supervised app, and which git source a project follows.
use crate::backend::Backend;
use crate::context::Ops;
use crate::converge::{converge_project, Applied, Progress};
use crate::convert::config_error;
use crate::error::OpError;
use crate::outcome::{WaitOptions, Warning, WarningKind};
use std::path::Path;
use velos_config::GitSource;
use velos_controller::{
    checkout_dir, controller_wanted, read_records, registered_targets, system_project_text,
    write_system_project, Target, TargetSource, SYSTEM_FILE,
};
use velos_reconcile::history::read_projects;

/// Applies the system project (`$VELOS_HOME/system/velos.toml`): the controller as a daemon-supervised app
/// while any target is registered, no app otherwise. Skipped on a host that never ran the controller.
pub fn converge_system(
    ops: &Ops,
    backend: &mut dyn Backend,
    wait: WaitOptions,
    progress: &mut dyn FnMut(Progress<'_>),
    warnings: &mut Vec<Warning>,
) -> Result<Option<Applied>, OpError> {
    let home = ops.home().root();
    let wanted = controller_wanted(home);
    if !wanted && !home.join(SYSTEM_FILE).exists() {
        return Ok(None);
    }
    let exe = ops.velos_exe()?;
    let project = write_system_project(home, &exe, wanted).map_err(|error| {
        config_error(&error).hint(format!("{SYSTEM_FILE} is Velos's own file: velos apply writes it"))
    })?;
    let text = system_project_text(home, &exe, wanted);
    converge_project(ops, backend, (&project, &text), wait, true, progress, warnings).map(Some)
}

/// The git target that follows project `name`, if one does: the controller's record names its source;
/// before the controller's first look, the registry's checkout path does.
pub fn git_follower(home: &Path, name: &str) -> Option<(Target, GitSource)> {
    let git_targets: Vec<(Target, GitSource)> = registered_targets(home)
        .into_iter()
        .filter_map(|target| match &target.source {
            TargetSource::Git { git } => Some((target.clone(), git.clone())),
            TargetSource::File { .. } => None,
        })
        .collect();
    let recorded = read_records(home).into_iter().find(|record| record.project == name);
    if let Some(record) = recorded {
        if let Some(found) =
            git_targets.iter().find(|(_, git)| record.source == format!("git {}", git.describe()))
        {
            return Some(found.clone());
        }
    }
    let registered = read_projects(home).ok()?.into_iter().find(|record| record.project == name)?;
    git_targets
        .into_iter()
        .find(|(_, git)| registered.file.starts_with(checkout_dir(home, &git.repo, &git.ref_name)))
}

/// A warning that the controller was not told to look now.
pub fn sync_not_requested(project: &str, error: &std::io::Error) -> Warning {
    Warning::new(
        WarningKind::Controller,
        format!("could not ask the controller to look at {project} now: {error}"),
    )
}
