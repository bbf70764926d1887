//! `reload` over the fake daemon: a rolling restart by each app's `rollout`, the surge of start-first
//! removed, an instance that does not come back stops the reload, and addressing errors.
mod common;

use common::Host;
use velos_ops::{ApplyRequest, ApplySource, OpErrorKind, ReloadRequest, StopRequest, WaitOptions};
use velos_reconcile::Outcome;

const ROLLING: &str = r#"[project]
name = "shop"

[apps.api]
command = "/bin/sleep"
args = ["3600"]
instances = 3
rollout = { strategy = "start-first", max_unavailable = 2 }

[apps.web]
command = "/bin/sleep"
args = ["3600"]
"#;

fn applied() -> Host {
    let host = Host::new();
    let file = host.file("shop/velos.toml", ROLLING);
    host.ops
        .apply(ApplyRequest {
            source: ApplySource::File { path: file },
            wait: WaitOptions::default(),
            force_local: false,
        })
        .unwrap_or_else(|error| panic!("{error:?}"));
    host
}

fn reload(host: &Host, name: &str) -> Result<velos_ops::ReloadOutcome, velos_ops::OpError> {
    host.ops.reload(ReloadRequest { name: name.into(), wait: WaitOptions::default() })
}

#[test]
fn an_app_reloads_by_its_rollout_and_leaves_no_surge() {
    let host = applied();
    let before: Vec<u32> = ["api-0", "api-1", "api-2", "web"].map(|name| host.pid(name)).to_vec();
    let outcome = reload(&host, "api").expect("reload api");
    assert_eq!(outcome.apps.len(), 1);
    let api = &outcome.apps[0];
    assert_eq!((api.rollout.strategy.as_str(), api.rollout.max_unavailable), ("start-first", 2));
    let names: Vec<&str> = api.instances.iter().map(|instance| instance.name.as_str()).collect();
    assert_eq!(names, ["api-0", "api-1", "api-2"]);
    for (instance, pid_before) in api.instances.iter().zip(&before) {
        assert_eq!(instance.outcome, Outcome::Done);
        assert_eq!(instance.pid_before, *pid_before);
        assert!(instance.pid != 0 && instance.pid != *pid_before, "{instance:?}");
        assert_eq!(host.pid(&instance.name), instance.pid);
    }
    assert_eq!(host.pid("web"), before[3], "web untouched");
    assert_eq!(host.names(), ["api-0", "api-1", "api-2", "web"], "surges removed");
    let log = host.fake.lock().daemon.request_log();
    let creates: Vec<&String> = log.iter().filter(|request| request.starts_with("create api")).collect();
    // Two at a time: both surges of the first batch start before either instance restarts.
    let position = |wanted: &str| log.iter().position(|request| request == wanted).expect(wanted);
    assert!(position("create api-1.next") < position("stop api-0"), "{log:?}");
    assert!(position("delete api-1.next") < position("create api-2.next"), "{log:?}");
    assert_eq!(creates.len(), 6, "three instances and three surges: {log:?}");
}

#[test]
fn an_instance_that_does_not_come_back_stops_the_reload() {
    let host = applied();
    let api_2 = host.pid("api-2");
    host.fake.lock().daemon.crash("api-0");
    let error = reload(&host, "api").expect_err("api-0 crashes");
    assert_eq!(error.kind, OpErrorKind::Incomplete);
    assert!(error.message.contains("api-0 is not ready: errored"), "{}", error.message);
    assert!(error.hint_text().is_some_and(|hint| hint.contains("velos logs api-0 --stderr")), "{error:?}");
    assert_eq!(host.pid("api-2"), api_2, "the next batch keeps its process");
}

#[test]
fn unknown_names_and_stopped_apps_are_refused_with_a_hint() {
    let host = applied();
    let error = reload(&host, "apx").expect_err("unknown");
    assert_eq!(error.kind, OpErrorKind::NotFound);
    host.ops.stop(StopRequest { name: "web".into() }).expect("stop web");
    let error = reload(&host, "web").expect_err("stopped");
    assert_eq!(error.kind, OpErrorKind::Refused);
    assert!(error.hint_text().is_some_and(|hint| hint.contains("velos start web")), "{error:?}");
    let all = reload(&host, "all").expect("all running apps");
    assert_eq!(all.apps.iter().map(|app| app.app.as_str()).collect::<Vec<_>>(), ["api"]);
}
