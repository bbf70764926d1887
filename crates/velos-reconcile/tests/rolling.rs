//! Rolling replace over the in-memory daemon: batches of `max_unavailable`, each judged ready before the
//! next; a batch that is not ready stops the rollout (the rest keep their old version); start-first runs a
//! surge of the new version beside each instance and removes it afterwards; `roll` with `Swap::Restart` is
//! a rolling restart (`velos reload`).
mod common;

use common::{instances, live, options, project};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use velos_config::{DesiredApp, Strategy};
use velos_core::ProcessRecord;
use velos_reconcile::clock::Clock as _;
use velos_reconcile::readiness::{judge, Readiness};
use velos_reconcile::rolling::{roll, RollInstance, RollTiming, Swap, SURGE_OF_LABEL};
use velos_reconcile::testing::{FakeDaemon, ManualClock};
use velos_reconcile::{apply_checked, plan, render, Daemon, Outcome, Plan, ReadyCheck};

/// Three instances of `web`, rolled as given, with an env change pending against `daemon`.
fn web(strategy: Strategy, max_unavailable: u32) -> (velos_config::Project, FakeDaemon) {
    let old = project("shop", instances("web", 3));
    let daemon = FakeDaemon::with_records(live(&old));
    let new = project(
        "shop",
        instances("web", 3).into_iter().map(|app| app.env("PORT", "8081").rollout(strategy, max_unavailable)),
    );
    (new, daemon)
}

/// A ready check that records, for each judgement, the instance and what had been swapped by then.
struct Spy {
    daemon: Arc<Mutex<FakeDaemon>>,
    seen: Vec<(String, Vec<String>)>,
}

impl ReadyCheck for Spy {
    fn judge(
        &mut self,
        instance: &DesiredApp,
        record: Option<&ProcessRecord>,
        before: Option<u32>,
    ) -> Readiness {
        let swapped: Vec<String> = self
            .daemon
            .lock()
            .expect("daemon")
            .request_log()
            .into_iter()
            .filter(|request| request.starts_with("replace ") || request.starts_with("create "))
            .collect();
        self.seen.push((instance.spec.name.clone(), swapped));
        judge(record, before)
    }
}

fn apply_spied(plan: &Plan, daemon: Arc<Mutex<FakeDaemon>>) -> (velos_reconcile::ApplyReport, Spy) {
    let mut spy = Spy { daemon: daemon.clone(), seen: Vec::new() };
    let mut shared = daemon;
    let report = apply_checked(plan, &mut shared, options(), &mut ManualClock::new(), &mut spy, &mut |_| {});
    (report, spy)
}

#[test]
fn one_at_a_time_each_instance_is_ready_before_the_next_is_replaced() {
    let (new, daemon) = web(Strategy::StopFirst, 1);
    let daemon = Arc::new(Mutex::new(daemon));
    let plan = plan(&new, &daemon.lock().expect("daemon").records()).expect("plan");
    assert!(
        render(&plan, false).contains("~ replace web-0 (rolling, 1 at a time, stop-first)"),
        "{}",
        render(&plan, false)
    );
    let (report, spy) = apply_spied(&plan, daemon.clone());
    assert!(report.ok(), "{report:?}");
    let judged: Vec<(&str, usize)> =
        spy.seen.iter().map(|(name, swapped)| (name.as_str(), swapped.len())).collect();
    // Each instance is judged while only it (and those before it) have been replaced.
    assert!(
        judged.contains(&("web-0", 1)) && judged.contains(&("web-1", 2)) && judged.contains(&("web-2", 3)),
        "{judged:?}"
    );
    assert!(
        judged.iter().all(|(name, swapped)| match *name {
            "web-0" => *swapped == 1,
            "web-1" => *swapped == 2,
            _ => *swapped == 3,
        }),
        "{judged:?}"
    );
    let mut daemon = daemon.lock().expect("daemon");
    let replan = velos_reconcile::plan(&new, &daemon.list().expect("list")).expect("plan");
    assert!(replan.is_empty(), "{}", render(&replan, false));
}

#[test]
fn two_at_a_time_swaps_a_pair_then_waits() {
    let (new, daemon) = web(Strategy::StopFirst, 2);
    let daemon = Arc::new(Mutex::new(daemon));
    let plan = plan(&new, &daemon.lock().expect("daemon").records()).expect("plan");
    let (report, spy) = apply_spied(&plan, daemon);
    assert!(report.ok(), "{report:?}");
    let counts: Vec<(&str, usize)> =
        spy.seen.iter().map(|(name, swapped)| (name.as_str(), swapped.len())).collect();
    assert!(
        counts.iter().filter(|(name, _)| *name != "web-2").all(|(_, swapped)| *swapped == 2),
        "{counts:?}"
    );
    assert!(
        counts.iter().filter(|(name, _)| *name == "web-2").all(|(_, swapped)| *swapped == 3),
        "{counts:?}"
    );
}

#[test]
fn a_batch_that_is_not_ready_stops_the_rollout_and_the_rest_keep_their_old_version() {
    let (new, mut daemon) = web(Strategy::StopFirst, 1);
    let old_hash = daemon.record("web-2").expect("web-2").spec.spec_hash.clone();
    daemon.crash("web-1");
    let plan = plan(&new, &daemon.list().expect("list")).expect("plan");
    let report = apply_checked(
        &plan,
        &mut daemon,
        options(),
        &mut ManualClock::new(),
        &mut velos_reconcile::ByRecord,
        &mut |_| {},
    );
    assert!(!report.ok());
    let outcome = |name: &str| {
        report.results.iter().find(|result| result.name == name).expect("result").outcome.clone()
    };
    assert_eq!(outcome("web-0"), Outcome::Done);
    match outcome("web-1") {
        Outcome::Failed { message } => {
            assert!(message.starts_with("web-1 is not ready: errored"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match outcome("web-2") {
        Outcome::Skipped { reason } => assert!(reason.contains("stopped at web-1"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let web_2 = daemon.record("web-2").expect("web-2");
    assert_eq!(web_2.spec.spec_hash, old_hash, "web-2 keeps its old version");
    assert_eq!(web_2.status, velos_core::Status::Running);
    assert!(!daemon.request_log().contains(&"replace web-2".to_string()), "{:?}", daemon.request_log());
    assert!(report.summary().contains("failed: replace web-1"), "{}", report.summary());
}

#[test]
fn start_first_runs_a_surge_beside_each_instance_and_removes_it() {
    let (new, mut daemon) = web(Strategy::StartFirst, 1);
    let plan = plan(&new, &daemon.list().expect("list")).expect("plan");
    assert!(render(&plan, false).contains("~ replace web-1 (rolling, 1 at a time, start-first)"));
    let json = serde_json::to_value(&plan).expect("json");
    assert_eq!(
        json["actions"][0]["rollout"],
        serde_json::json!({"strategy": "start-first", "max_unavailable": 1})
    );
    let report = apply_checked(
        &plan,
        &mut daemon,
        options(),
        &mut ManualClock::new(),
        &mut velos_reconcile::ByRecord,
        &mut |_| {},
    );
    assert!(report.ok(), "{report:?}");
    let log: Vec<String> =
        daemon.request_log().into_iter().filter(|request| request.contains("web-0")).collect();
    assert_eq!(log, ["create web-0.next", "replace web-0", "delete web-0.next"]);
    let names: Vec<String> = daemon.list().expect("list").into_iter().map(|record| record.name).collect();
    assert_eq!(names, ["web-0", "web-1", "web-2"], "no surge left");
    assert!(velos_reconcile::plan(&new, &daemon.list().expect("list")).expect("plan").is_empty());
}

#[test]
fn start_first_a_surge_that_is_not_ready_leaves_the_old_instance_serving() {
    let (new, mut daemon) = web(Strategy::StartFirst, 1);
    let old_hash = daemon.record("web-0").expect("web-0").spec.spec_hash.clone();
    daemon.crash("web-0.next");
    let plan = plan(&new, &daemon.list().expect("list")).expect("plan");
    let report = apply_checked(
        &plan,
        &mut daemon,
        options(),
        &mut ManualClock::new(),
        &mut velos_reconcile::ByRecord,
        &mut |_| {},
    );
    match &report.results[0].outcome {
        Outcome::Failed { message } => {
            assert!(
                message.starts_with("web-0 keeps its old version: its new version is not ready: errored"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(report.results[1].outcome, Outcome::Skipped { .. }));
    assert!(!daemon.request_log().contains(&"replace web-0".to_string()));
    let names: Vec<String> = daemon.list().expect("list").into_iter().map(|record| record.name).collect();
    assert_eq!(names, ["web-0", "web-1", "web-2"], "the surge is removed");
    assert_eq!(daemon.record("web-0").expect("web-0").spec.spec_hash, old_hash);
}

#[test]
fn a_single_stop_first_instance_is_a_plain_replace() {
    let old = project("shop", instances("web", 1));
    let mut daemon = FakeDaemon::with_records(live(&old));
    let new = project("shop", instances("web", 1).into_iter().map(|app| app.env("PORT", "1")));
    let plan = plan(&new, &daemon.list().expect("list")).expect("plan");
    let text = render(&plan, false);
    assert!(text.contains("~ replace web\n"), "{text}");
    assert!(serde_json::to_value(&plan).expect("json")["actions"][0].get("rollout").is_none());
    let single = project(
        "shop",
        instances("web", 1).into_iter().map(|app| app.env("PORT", "1").rollout(Strategy::StartFirst, 1)),
    );
    let plan = velos_reconcile::plan(&single, &daemon.list().expect("list")).expect("plan");
    assert!(render(&plan, false).contains("~ replace web (rolling, 1 at a time, start-first)"));
}

#[test]
fn a_rolling_restart_stops_and_starts_each_instance_in_turn() {
    let shop =
        project("shop", instances("web", 2).into_iter().map(|app| app.rollout(Strategy::StopFirst, 1)));
    let mut daemon = FakeDaemon::new();
    assert!(common::converge(&shop, &mut daemon).ok());
    let pids: Vec<u32> = daemon.records().iter().map(|record| record.pid).collect();
    let instances: Vec<RollInstance> = shop
        .apps
        .iter()
        .map(|desired| RollInstance {
            desired: desired.clone(),
            swap: Swap::Restart { spec: daemon.record(&desired.spec.name).expect("live").spec.clone() },
        })
        .collect();
    let clock = ManualClock::new();
    let timing = RollTiming {
        clock: &mut clock.clone(),
        deadline: clock.now() + Duration::from_secs(5),
        poll_interval: Duration::from_millis(10),
    };
    let outcomes =
        roll(&instances, shop.apps[0].rollout, &mut daemon, timing, &mut velos_reconcile::ByRecord);
    assert_eq!(outcomes, [Outcome::Done, Outcome::Done]);
    let log: Vec<String> =
        daemon.request_log().into_iter().filter(|request| !request.starts_with("create")).collect();
    assert_eq!(log, ["stop web-0", "start-existing web-0", "stop web-1", "start-existing web-1"]);
    let after: Vec<u32> = daemon.records().iter().map(|record| record.pid).collect();
    assert!(after.iter().zip(&pids).all(|(after, before)| after != before), "{pids:?} → {after:?}");
}

#[test]
fn a_start_first_restart_labels_its_surge() {
    let shop =
        project("shop", instances("web", 1).into_iter().map(|app| app.rollout(Strategy::StartFirst, 1)));
    let mut daemon = FakeDaemon::with_records(live(&shop));
    let spec = daemon.record("web").expect("web").spec.clone();
    let instances = [RollInstance { desired: shop.apps[0].clone(), swap: Swap::Restart { spec } }];
    let clock = ManualClock::new();
    let timing = RollTiming {
        clock: &mut clock.clone(),
        deadline: clock.now() + Duration::from_secs(5),
        poll_interval: Duration::from_millis(10),
    };
    // A ready check that looks at the surge while it runs.
    struct Labels(Vec<Option<String>>);
    impl ReadyCheck for Labels {
        fn judge(
            &mut self,
            instance: &DesiredApp,
            record: Option<&ProcessRecord>,
            before: Option<u32>,
        ) -> Readiness {
            if instance.spec.name == "web.next" {
                self.0.push(record.and_then(|record| record.spec.labels.get(SURGE_OF_LABEL).cloned()));
            }
            judge(record, before)
        }
    }
    let mut labels = Labels(Vec::new());
    let outcomes = roll(&instances, shop.apps[0].rollout, &mut daemon, timing, &mut labels);
    assert_eq!(outcomes, [Outcome::Done]);
    assert!(
        !labels.0.is_empty() && labels.0.iter().all(|label| label.as_deref() == Some("web")),
        "{:?}",
        labels.0
    );
    assert_eq!(
        daemon.request_log(),
        ["create web.next", "stop web", "start-existing web", "delete web.next"]
    );
}

/// A daemon whose replaced apps are first seen `stopping` (their old process shutting down), as the real
/// one shows them.
struct SlowSwap {
    inner: FakeDaemon,
    swapping: std::collections::BTreeSet<String>,
}

impl Daemon for SlowSwap {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, velos_reconcile::DaemonError> {
        let mut records = self.inner.list()?;
        for record in records.iter_mut().filter(|record| self.swapping.remove(&record.name)) {
            record.status = velos_core::Status::Stopping;
        }
        Ok(records)
    }
    fn info(&mut self, name: &str) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.info(name)
    }
    fn start(
        &mut self,
        start: &velos_core::StartSpec,
    ) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
        if start.replace {
            self.swapping.insert(start.spec.name.clone());
        }
        self.inner.start(start)
    }
    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.start_existing(name)
    }
    fn stop(&mut self, name: &str) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.stop(name)
    }
    fn delete(&mut self, name: &str) -> Result<(), velos_reconcile::DaemonError> {
        self.inner.delete(name)
    }
    fn update_in_place(
        &mut self,
        spec: &velos_core::AppSpec,
    ) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.update_in_place(spec)
    }
}

#[test]
fn an_instance_still_stopping_its_old_process_is_waited_for_not_failed() {
    let (new, daemon) = web(Strategy::StartFirst, 1);
    let mut daemon = SlowSwap { inner: daemon, swapping: Default::default() };
    let plan = plan(&new, &daemon.list().expect("list")).expect("plan");
    let report = apply_checked(
        &plan,
        &mut daemon,
        options(),
        &mut ManualClock::new(),
        &mut velos_reconcile::ByRecord,
        &mut |_| {},
    );
    assert!(report.ok(), "{report:?}");
}
