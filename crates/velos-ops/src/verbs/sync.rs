//! `sync`: tell the controller to look now. With no controller running, look here, once, at every
//! followed source, so that `sync` always converges; then say where each one stands.
use crate::backend::Backend;
use crate::context::Ops;
use crate::convert::{daemon_error, history_error};
use crate::error::{OpError, OpErrorKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_controller::{
    is_followed, live_records, registered_targets, request_sync, Controller, ControllerOptions,
    DaemonFactory, Targets, CONTROLLER_APP,
};
use velos_reconcile::{Daemon, ProjectStatus, SyncState};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SyncRequest {
    /// Only this project (default: every followed one).
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SyncOutcome {
    pub how: SyncHow,
    /// `ran_here`: where each followed project stands after the look.
    pub projects: Vec<ProjectStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncHow {
    /// The running controller was asked; `followed` false when it does not follow the named project.
    Requested { followed: bool },
    /// No controller runs: the sources were looked at here, once, over this many of them.
    RanHere { sources: usize },
}

impl Ops {
    pub fn sync(&self, request: SyncRequest) -> Result<SyncOutcome, OpError> {
        let home = self.home().root();
        let project = request.project.as_deref();
        match request_sync(home, project) {
            Ok(true) => {
                let followed = project.is_none_or(|name| is_followed(home, name));
                return Ok(SyncOutcome { how: SyncHow::Requested { followed }, projects: Vec::new() });
            }
            Ok(false) => {}
            Err(error) => {
                return Err(OpError::new(OpErrorKind::DaemonUnreachable, "the controller did not take the sync request")
                    .cause(error.to_string())
                    .hint(format!("velos list --all shows {CONTROLLER_APP}; velos logs {CONTROLLER_APP} --stderr shows what it says")))
            }
        }
        let sources = registered_targets(home).len();
        if sources == 0 {
            return Err(OpError::new(OpErrorKind::NotFound, "no controller is running, and no project asks for one: nothing to sync").hint(
                "velos apply FILE applies a file; [velos] watch = true in it, or velos apply --git REPO, has the controller follow it",
            ));
        }
        // A stopped daemon is left stopped: `velos kill` means it, and a push (the hook runs `velos sync`) must
        // not bring the host back behind the operator's back. Started, it restores the controller, which syncs.
        if self.connect_if_running()?.is_none() {
            return Err(OpError::new(
                OpErrorKind::DaemonNotRunning,
                "the velos daemon is not running, so there is nothing to sync",
            )
            .hint(format!("velos daemon starts it, with its apps and {CONTROLLER_APP}, which then syncs")));
        }
        let (connector, home_of_daemon) = (self.connector(), self.home().clone());
        let factory: DaemonFactory = Box::new(move || {
            Ok(Box::new(BackendDaemon(connector.connect(&home_of_daemon)?)) as Box<dyn Daemon>)
        });
        let options = ControllerOptions { verbose: true, ..ControllerOptions::default() };
        let mut controller = Controller::new(home, Targets::Registered, factory, self.clock(), options, None)
            .map_err(|error| OpError::new(OpErrorKind::Io, error.to_string()).causes_of(&error))?;
        controller.reconcile_all();
        // While this process holds the projects' locks, its records are what status believes: read them now.
        let followed = live_records(home);
        let live = self.connect_running()?.list().map_err(|error| daemon_error(error, None))?;
        let mut projects = velos_reconcile::status(home, &live).map_err(|error| history_error(&error))?;
        drop(controller);
        projects.retain(|status| followed.contains_key(&status.project));
        if let Some(name) = project {
            if !projects.iter().any(|status| status.project == name) {
                return Err(OpError::new(
                    OpErrorKind::NotFound,
                    format!("no followed project is named {name}"),
                )
                .hint("velos status lists the projects; velos sync without a name syncs every one"));
            }
        }
        let failed: Vec<String> = projects
            .iter()
            .filter(|status| {
                status.state == SyncState::Error && project.is_none_or(|name| status.project == name)
            })
            .map(|status| format!("{}: {}", status.project, status.message))
            .collect();
        if let Some((first, rest)) = failed.split_first() {
            let mut error = OpError::new(OpErrorKind::Incomplete, format!("sync failed for {first}"));
            for more in rest {
                error = error.cause(more.clone());
            }
            return Err(error.hint("the apps were left as they were; fix the source, then velos sync again"));
        }
        Ok(SyncOutcome { how: SyncHow::RanHere { sources }, projects })
    }
}

/// A [`Backend`] as the controller's [`Daemon`].
struct BackendDaemon(Box<dyn Backend>);

impl Daemon for BackendDaemon {
    fn list(&mut self) -> Result<Vec<velos_core::ProcessRecord>, velos_reconcile::DaemonError> {
        self.0.list()
    }
    fn info(&mut self, name: &str) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.0.info(name)
    }
    fn start(
        &mut self,
        start: &velos_core::StartSpec,
    ) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.0.start(start)
    }
    fn start_many(
        &mut self,
        specs: &[velos_core::StartSpec],
    ) -> Vec<Result<velos_core::ProcessRecord, velos_reconcile::DaemonError>> {
        self.0.start_many(specs)
    }
    fn start_existing(
        &mut self,
        name: &str,
    ) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.0.start_existing(name)
    }
    fn stop(&mut self, name: &str) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.0.stop(name)
    }
    fn delete(&mut self, name: &str) -> Result<(), velos_reconcile::DaemonError> {
        self.0.delete(name)
    }
    fn update_in_place(
        &mut self,
        spec: &velos_core::AppSpec,
    ) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.0.update_in_place(spec)
    }
}
