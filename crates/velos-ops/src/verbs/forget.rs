//! `forget PROJECT`: the project's record goes — its apps stopped and deleted (asking for `yes` when some
//! run), the controller no longer following its file or repository, its registry entry removed. Its
//! history stays (what was applied, when).
use crate::address::close_names;
use crate::context::Ops;
use crate::convert::{daemon_error, history_error};
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::follow::{converge_system, git_follower};
use crate::outcome::{WaitOptions, Warning, WarningKind};
use crate::wait::{rest_timeout, until_gone};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_controller::{file_target, read_records, remove_record, unregister_target, SYSTEM_PROJECT};
use velos_reconcile::history::{read_projects, remove_project};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ForgetRequest {
    pub project: String,
    /// Stop and delete its apps even when some are running.
    #[serde(default)]
    pub yes: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ForgetOutcome {
    pub project: String,
    /// The apps deleted, sorted.
    pub deleted: Vec<String>,
    /// What the controller no longer follows (`file:…`, `git:…`).
    pub unfollowed: Vec<String>,
    pub warnings: Vec<Warning>,
}

impl Ops {
    pub fn forget(&self, request: ForgetRequest) -> Result<ForgetOutcome, OpError> {
        let name = request.project.as_str();
        if name == SYSTEM_PROJECT {
            return Err(OpError::refused(format!(
                "project {SYSTEM_PROJECT} is Velos's own: it goes when no project asks for the controller"
            ))
            .hint("velos status --all shows it"));
        }
        let _lock = self.lock_edits()?;
        let home = self.home().root();
        let registered = read_projects(home).map_err(|error| history_error(&error))?;
        let record = registered.iter().find(|record| record.project == name);
        let follower = git_follower(home, name);
        let mut backend = self.connect_or_start()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let mut apps: Vec<&velos_core::ProcessRecord> =
            live.iter().filter(|app| velos_reconcile::project_of(app) == Some(name)).collect();
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        if record.is_none() && follower.is_none() && apps.is_empty() {
            let known: Vec<&str> = registered
                .iter()
                .map(|record| record.project.as_str())
                .filter(|project| *project != SYSTEM_PROJECT)
                .collect();
            let candidates = close_names(name, known.iter().copied());
            return Err(OpError::new(
                OpErrorKind::NotFound,
                format!("no project named {name:?} on this host"),
            )
            .hint("velos status lists the projects")
            .detail(ErrorDetail::NotFound {
                what: "project".into(),
                name: name.to_string(),
                candidates,
            }));
        }
        let running: Vec<String> =
            apps.iter().filter(|app| !app.status.is_at_rest()).map(|app| app.name.clone()).collect();
        if !running.is_empty() && !request.yes {
            return Err(OpError::refused(format!(
                "project {name} has {} running app(s): {}; forgetting it stops and deletes them",
                running.len(),
                running.join(", ")
            ))
            .hint(format!("velos forget {name} --yes"))
            .detail(ErrorDetail::Refused { apps: running }));
        }
        let mut warnings = Vec::new();
        let mut deleted = Vec::new();
        let mut clock = self.clock();
        for app in &apps {
            backend.delete(&app.name).map_err(|error| daemon_error(error, Some(&app.name)))?;
            until_gone(backend.as_mut(), clock.as_mut(), &app.name, rest_timeout(app))?;
            deleted.push(app.name.clone());
        }
        let mut unfollowed = Vec::new();
        let mut targets = Vec::new();
        if let Some(record) = record {
            targets.push(file_target(&record.file));
        }
        if let Some((target, _)) = follower {
            targets.push(target);
        }
        for target in targets {
            let key = target.key();
            if velos_controller::registered_targets(home).iter().any(|known| known.key() == key) {
                unregister_target(home, &target)
                    .map_err(|error| OpError::io(format!("could not stop following {key}"), &error))?;
                unfollowed.push(key);
            }
        }
        if read_records(home).iter().any(|controller| controller.project == name) {
            remove_record(home, name).map_err(|error| history_error(&error))?;
        }
        remove_project(home, name).map_err(|error| history_error(&error))?;
        // Its apps may have been what wanted the controller (checks, schedules), or its target.
        if !unfollowed.is_empty() || !deleted.is_empty() {
            if let Err(error) =
                converge_system(self, backend.as_mut(), WaitOptions::default(), &mut |_| {}, &mut warnings)
            {
                warnings.push(Warning::new(
                    WarningKind::Controller,
                    format!("the controller app was not updated: {}", error.message),
                ));
            }
        }
        Ok(ForgetOutcome { project: name.to_string(), deleted, unfollowed, warnings })
    }
}
