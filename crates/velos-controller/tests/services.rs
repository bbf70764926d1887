//! The controller tells its [`Services`] what each target's `[velos.api]` / `[velos.otlp]` ask for, after
//! each look and when a target goes; a service that cannot run makes the project's status an error with
//! the service's hint, and fixing the file clears it.
mod gitrepo;

use gitrepo::velos_toml;
use std::path::Path;
use std::sync::{Arc, Mutex};
use velos_config::{ApiSettings, ControllerSettings};
use velos_controller::{
    read_records, register_target, ControllerOptions, ErrorClass, ServiceProblem, Services, Targets,
    TestClock,
};
use velos_reconcile::testing::FakeDaemon;
use velos_reconcile::{Daemon, SyncState};

/// What the fake was told, in order: the target's key and the API it asks for.
type Calls = Arc<Mutex<Vec<(String, Option<ApiSettings>)>>>;

/// Refuses any `listen` off loopback, as the real API does without a token.
struct FakeServices {
    calls: Calls,
}

impl Services for FakeServices {
    fn sync(&mut self, key: &str, settings: Option<&ControllerSettings>) -> Result<(), ServiceProblem> {
        let api = settings.and_then(|settings| settings.api.clone());
        self.calls.lock().expect("calls").push((key.to_string(), api.clone()));
        match api.and_then(|api| api.listen) {
            Some(address) if !address.ip().is_loopback() => Err(ServiceProblem {
                message: format!("refusing to listen on {address} without a bearer token"),
                hint: Some("velos serve --print-token".into()),
            }),
            _ => Ok(()),
        }
    }
}

fn file_with(dir: &Path, api: &str) -> std::path::PathBuf {
    let file = dir.join("velos.toml");
    std::fs::write(&file, format!("{}\n{api}", velos_toml(&[("web", "100")]))).expect("write");
    file
}

#[test]
fn the_api_a_file_asks_for_is_served_reported_and_stopped() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = file_with(dir.path(), "[velos.api]\nlisten = \"127.0.0.1:9700\"\n");
    let daemon: Arc<Mutex<FakeDaemon>> = Arc::default();
    let shared = Arc::clone(&daemon);
    let calls = Calls::default();
    let mut controller = velos_controller::Controller::new(
        home.path(),
        Targets::Registered,
        Box::new(move || Ok(Box::new(Arc::clone(&shared)) as Box<dyn Daemon>)),
        Box::new(TestClock::new()),
        ControllerOptions::default(),
        None,
    )
    .expect("controller")
    .with_services(Box::new(FakeServices { calls: Arc::clone(&calls) }));
    let target = velos_controller::file_target(&file);
    register_target(home.path(), &target).expect("register");
    controller.run_due();
    let last = || calls.lock().expect("calls").last().cloned().expect("a call");
    let listen = |settings: Option<ApiSettings>| settings.and_then(|api| api.listen).map(|a| a.to_string());
    assert_eq!((last().0, listen(last().1)), (target.key(), Some("127.0.0.1:9700".into())));
    let status = || read_records(home.path()).into_iter().next().expect("a record");
    assert_eq!(status().state, SyncState::Synced);

    // Off loopback without a token: the apps are synced, the project is in error, with the hint.
    file_with(dir.path(), "[velos.api]\nlisten = \"0.0.0.0:9700\"\n");
    controller.reconcile_all();
    let refused = status();
    assert_eq!((refused.state, refused.error_class), (SyncState::Error, Some(ErrorClass::Terminal)));
    assert!(refused.message.contains("without a bearer token"), "{refused:?}");
    assert_eq!(refused.hint.as_deref(), Some("velos serve --print-token"));

    // The key removed (the watch keeps the project followed): told to serve nothing, synced again.
    file_with(dir.path(), "[velos]\nwatch = true\n");
    controller.reconcile_all();
    assert_eq!(last(), (target.key(), None));
    assert_eq!(status().state, SyncState::Synced);

    // Nothing asks for the controller: the target goes, and its services with it.
    file_with(dir.path(), "");
    calls.lock().expect("calls").clear();
    controller.reconcile_all();
    assert!(controller.target_keys().is_empty());
    assert_eq!(*calls.lock().expect("calls"), [(target.key(), None)]);
}
