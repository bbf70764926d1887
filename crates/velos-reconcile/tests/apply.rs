//! apply over the in-memory daemon: each action's effect, partial failures, skipped dependents, conflicts,
//! waits with a manual clock (no real sleeping), and idempotence.
mod common;

use common::{app, converge, live, options, project, set_status};
use std::time::Duration;
use velos_core::{ErrorCode, Status};
use velos_reconcile::testing::{record_for, FakeDaemon, ManualClock};
use velos_reconcile::{
    apply_with_clock, plan, render_report, ActionType, ApplyEvent, ApplyOptions, ApplyReport, Daemon, Outcome,
};

fn apply_plan(
    desired: &velos_config::Project,
    daemon: &mut FakeDaemon,
    options: ApplyOptions,
) -> ApplyReport {
    let live = daemon.list().expect("list");
    let plan = plan(desired, &live).expect("plan");
    apply_with_clock(&plan, daemon, options, &mut ManualClock::new(), &mut |_| {})
}

fn outcome<'a>(report: &'a ApplyReport, name: &str) -> &'a Outcome {
    &report.results.iter().find(|result| result.name == name).expect("no result").outcome
}

fn replan_is_empty(desired: &velos_config::Project, daemon: &mut FakeDaemon) {
    let plan = plan(desired, &daemon.list().expect("list")).expect("plan");
    assert!(plan.is_empty(), "not converged:\n{}", velos_reconcile::render(&plan, false));
}

#[test]
fn from_nothing_to_running_then_a_second_apply_does_nothing() {
    let shop = project("shop", [app("db"), app("api").depends_on(&["db"]), app("cron").stopped()]);
    let mut daemon = FakeDaemon::new();
    let mut events = Vec::new();
    let live = daemon.list().expect("list");
    let plan = plan(&shop, &live).expect("plan");
    let report = apply_with_clock(&plan, &mut daemon, options(), &mut ManualClock::new(), &mut |event| {
        events.push(match event {
            ApplyEvent::ActionStarted { index, total, action } => {
                format!("{}/{total} {}", index + 1, action.name)
            }
            ApplyEvent::ActionFinished { result, .. } => format!("done {}", result.name),
            ApplyEvent::Waiting { running, wanted } => format!("running {running}/{wanted}"),
        })
    });
    assert!(report.ok(), "{report:?}");
    assert_eq!(events, ["1/3 cron", "done cron", "2/3 db", "done db", "3/3 api", "done api", "running 2/2"],);
    // cron is wanted stopped: created with autostart off, it never runs and needs no stop.
    assert_eq!(daemon.request_log(), ["create cron", "create db", "create api"]);
    assert_eq!(daemon.record("cron").map(|record| record.status), Some(Status::Stopped));
    insta::assert_snapshot!(render_report(&report, false), @r"
      + create cron: done
      + create db: done
      + create api: done
    Apply complete: 3 actions done.
    ");

    replan_is_empty(&shop, &mut daemon);
    let pids: Vec<u32> = daemon.records().iter().map(|record| record.pid).collect();
    let requests = daemon.requests.len();
    let again = apply_plan(&shop, &mut daemon, options());
    assert!(again.ok() && again.results.is_empty());
    assert_eq!(daemon.requests.len(), requests, "a no-op apply sent a request");
    assert_eq!(daemon.records().iter().map(|record| record.pid).collect::<Vec<_>>(), pids);
}

#[test]
fn one_env_change_restarts_exactly_that_app() {
    let before = project("shop", (0..10).map(|index| app(&format!("app-{index}"))));
    let mut daemon = FakeDaemon::with_records(live(&before));
    let pids: Vec<(String, u32)> = daemon.records().iter().map(|r| (r.name.clone(), r.pid)).collect();
    let after = project(
        "shop",
        (0..10).map(
            |index| if index == 3 { app("app-3").env("PORT", "81") } else { app(&format!("app-{index}")) },
        ),
    );
    let report = apply_plan(&after, &mut daemon, options());
    assert!(report.ok(), "{report:?}");
    assert_eq!(daemon.request_log(), ["replace app-3"]);
    for (name, pid) in pids {
        let now = daemon.record(&name).expect("record").pid;
        assert_eq!(now == pid, name != "app-3", "{name}: {pid} → {now}");
    }
    assert!(daemon.record("app-3").expect("record").spec.env.contains(&"PORT=81".to_string()));
    replan_is_empty(&after, &mut daemon);
}

#[test]
fn a_failure_skips_dependents_but_not_independent_apps() {
    let shop = project(
        "shop",
        [app("db"), app("api").depends_on(&["db"]), app("web").depends_on(&["api"]), app("worker")],
    );
    let mut daemon = FakeDaemon::new();
    daemon.fail_spawn("db");
    let report = apply_plan(&shop, &mut daemon, options());
    assert!(!report.ok());
    assert!(matches!(outcome(&report, "db"), Outcome::Failed { .. }));
    assert!(matches!(outcome(&report, "api"), Outcome::Skipped { .. }));
    assert!(matches!(outcome(&report, "web"), Outcome::Skipped { .. }));
    assert_eq!(outcome(&report, "worker"), &Outcome::Done);
    assert_eq!(daemon.request_log(), ["create db", "create worker"], "a skipped action reached the daemon");
    insta::assert_snapshot!(render_report(&report, false), @r"
      + create db: failed: cannot execute /bin/sleep: ENOENT
      + create worker: done
      + create api: skipped: depends on db, which was not applied
      + create web: skipped: depends on api, which was not applied
    Apply failed: 1 done, 1 failed, 2 skipped. Re-run apply to finish.
    ");
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["ok"], false);
    assert_eq!(
        json["results"][0],
        serde_json::json!({
            "name": "db", "action": "create", "outcome": "failed", "message": "cannot execute /bin/sleep: ENOENT"
        })
    );
    assert_eq!(json["results"][2]["reason"], "depends on db, which was not applied");

    // Once the cause is gone, the user starts the app that errored (apply leaves an errored app with an
    // unchanged spec alone) and a re-run finishes the job.
    let mut fixed = FakeDaemon::with_records(daemon.records());
    fixed.start_existing("db").expect("start db");
    let report = apply_plan(&shop, &mut fixed, options());
    assert!(report.ok(), "{report:?}");
    assert_eq!(fixed.request_log(), ["start-existing db", "create api", "create web"]);
    replan_is_empty(&shop, &mut fixed);
}

#[test]
fn a_spec_changed_since_the_plan_is_a_conflict() {
    let before = project("shop", [app("web"), app("api")]);
    let mut daemon = FakeDaemon::with_records(live(&before));
    let after = project("shop", [app("web").env("PORT", "8081"), app("api").env("PORT", "9000"), app("new")]);
    let plan = plan(&after, &daemon.list().expect("list")).expect("plan");
    // Someone else replaces web and creates `new` between the plan and the apply.
    let mut theirs = daemon.record("web").expect("web").clone();
    theirs.spec.env.push("THEIRS=1".into());
    theirs.spec = theirs.spec.with_computed_hash();
    daemon.insert(theirs);
    let other = project("shop", [app("new").env("THEIRS", "1")]);
    daemon.insert(record_for(&other.apps[0].spec, Status::Running, 7));
    let report = apply_with_clock(&plan, &mut daemon, options(), &mut ManualClock::new(), &mut |_| {});
    assert_eq!(
        outcome(&report, "web"),
        &Outcome::Failed { message: "web was changed by someone else since the plan; re-run apply".into() }
    );
    assert_eq!(
        outcome(&report, "new"),
        &Outcome::Failed { message: "new was changed by someone else since the plan; re-run apply".into() }
    );
    assert_eq!(outcome(&report, "api"), &Outcome::Done);
    assert!(
        daemon.record("web").expect("web").spec.env.contains(&"THEIRS=1".to_string()),
        "theirs was overwritten"
    );
}

#[test]
fn two_concurrent_applies_never_both_create() {
    let shop = project("shop", [app("web")]);
    let mut daemon = FakeDaemon::new();
    let first = plan(&shop, &[]).expect("plan");
    let second = plan(&shop, &[]).expect("plan");
    let one = apply_with_clock(&first, &mut daemon, options(), &mut ManualClock::new(), &mut |_| {});
    let two = apply_with_clock(&second, &mut daemon, options(), &mut ManualClock::new(), &mut |_| {});
    assert!(one.ok());
    assert!(matches!(outcome(&two, "web"), Outcome::Failed { message } if message.contains("re-run apply")));
    assert_eq!(daemon.creates_of_existing, ["web"]);
    assert_eq!(daemon.records().len(), 1);
}

#[test]
fn a_stop_that_hangs_times_out_and_keeps_its_dependency_running() {
    let before = project("shop", [app("db"), app("api").depends_on(&["db"])]);
    let mut daemon = FakeDaemon::with_records(live(&before));
    daemon.hang_on_stop("api");
    let after = project("shop", [app("db").stopped(), app("api").depends_on(&["db"]).stopped()]);
    let mut clock = ManualClock::new();
    let live = daemon.list().expect("list");
    let plan = plan(&after, &live).expect("plan");
    let options = ApplyOptions { timeout: Duration::from_secs(3), ..options() };
    let report = apply_with_clock(&plan, &mut daemon, options, &mut clock, &mut |_| {});
    assert_eq!(
        outcome(&report, "api"),
        &Outcome::Failed { message: "timed out after 3s waiting for api to stop (still stopping)".into() }
    );
    assert_eq!(
        outcome(&report, "db"),
        &Outcome::Skipped { reason: "api depends on it and was not stopped".into() }
    );
    assert_eq!(daemon.record("db").map(|record| record.status), Some(Status::Running));
    assert!(
        clock.elapsed() >= Duration::from_secs(3) && clock.elapsed() < Duration::from_secs(4),
        "{:?}",
        clock.elapsed()
    );
    // The report says how long it took, by the same clock: what the reconcile histogram is made of.
    assert_eq!(Duration::from_millis(report.duration_ms), clock.elapsed());
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["duration_ms"].as_u64(), Some(report.duration_ms));
}

#[test]
fn waiting_reports_apps_that_do_not_run() {
    let shop = project("shop", [app("web"), app("jobs"), app("slow")]);
    let mut daemon = FakeDaemon::new();
    daemon.crash("jobs");
    // `slow` is waiting (restart backoff) and stays so.
    let mut slow = record_for(&shop.app("slow").expect("slow").spec, Status::Waiting, 0);
    slow.restarts = 3;
    slow.exit_code = Some(2);
    let live = vec![slow.clone()];
    let plan = plan(&shop, &live).expect("plan");
    daemon.insert(slow);
    let mut clock = ManualClock::new();
    let report = apply_with_clock(&plan, &mut daemon, options(), &mut clock, &mut |_| {});
    assert!(!report.ok());
    insta::assert_snapshot!(render_report(&report, false), @r"
      + create jobs: done
      + create web: done
    Not running:
      jobs: errored: too many restarts (exit code 1)
      slow: still waiting after 5s (3 restarts, last exit code 2)
    Apply failed: 2 done; 2 apps not running. Re-run apply to finish.
    ");

    // --no-wait: no waiting, nothing reported as not running.
    let mut daemon = FakeDaemon::new();
    daemon.crash("jobs");
    let mut clock = ManualClock::new();
    let plan = velos_reconcile::plan(&shop, &[]).expect("plan");
    let report = apply_with_clock(
        &plan,
        &mut daemon,
        ApplyOptions { wait: false, ..options() },
        &mut clock,
        &mut |_| {},
    );
    assert!(report.ok() && report.not_running.is_empty());
    assert_eq!(clock.elapsed(), Duration::ZERO);
}

#[test]
fn update_in_place_keeps_the_process() {
    let before = project("shop", [app("worker").max_memory(256 << 20)]);
    let mut daemon = FakeDaemon::with_records(live(&before));
    let pid = daemon.record("worker").expect("worker").pid;
    let after = project("shop", [app("worker").max_memory(512 << 20)]);
    let report = apply_plan(&after, &mut daemon, options());
    assert!(report.ok(), "{report:?}");
    assert_eq!(daemon.request_log(), ["update worker"]);
    assert_eq!(daemon.record("worker").expect("worker").pid, pid);
    assert_eq!(report.results[0].action, ActionType::UpdateInPlace);
    replan_is_empty(&after, &mut daemon);
}

#[test]
fn update_in_place_of_an_errored_app_leaves_it_errored() {
    let before = project("shop", [app("worker")]);
    let live = set_status(live(&before), "worker", Status::Errored);
    let mut daemon = FakeDaemon::with_records(live);
    let after = project("shop", [app("worker").log_timestamps()]);
    let report = apply_plan(&after, &mut daemon, options());
    // Applied, and said: the app is not running, and why.
    assert_eq!(daemon.request_log(), ["update worker"]);
    assert_eq!(daemon.record("worker").expect("worker").status, Status::Errored);
    assert_eq!(report.not_running.len(), 1, "{report:?}");
    assert!(report.not_running[0].reason.starts_with("errored"), "{report:?}");
    replan_is_empty(&after, &mut daemon);
}

#[test]
fn a_failed_first_action_skips_the_second_on_the_same_app() {
    let before = project("shop", [app("worker")]);
    let mut daemon = FakeDaemon::with_records(set_status(live(&before), "worker", Status::Stopped));
    daemon.fail("worker", ErrorCode::Internal, "disk full");
    let after = project("shop", [app("worker").log_timestamps()]);
    let report = apply_plan(&after, &mut daemon, options());
    assert_eq!(outcome(&report, "worker"), &Outcome::Failed { message: "disk full".into() });
    assert_eq!(
        report.results[1].outcome,
        Outcome::Skipped { reason: "an earlier action on it was not applied".into() }
    );
}

#[test]
fn delete_waits_until_gone_and_rename_converges() {
    let before = project("shop", [app("worker"), app("web")]);
    let mut daemon = FakeDaemon::with_records(live(&before));
    let after = project("shop", [app("jobs"), app("web")]);
    let report = apply_plan(&after, &mut daemon, options());
    assert!(report.ok(), "{report:?}");
    assert_eq!(daemon.request_log(), ["delete worker", "create jobs"]);
    assert!(daemon.record("worker").is_none());
    replan_is_empty(&after, &mut daemon);
}

#[test]
fn replace_of_an_app_wanted_stopped_leaves_it_stopped() {
    let before = project("shop", [app("cron")]);
    let mut daemon = FakeDaemon::with_records(live(&before));
    let after = project("shop", [app("cron").env("SCHEDULE", "daily").stopped()]);
    let report = apply_plan(&after, &mut daemon, options());
    assert!(report.ok(), "{report:?}");
    // Stopped first, then its spec swapped without starting: the new version never runs.
    assert_eq!(daemon.request_log(), ["stop cron", "replace cron"]);
    assert_eq!(daemon.record("cron").map(|record| record.status), Some(Status::Stopped));
    replan_is_empty(&after, &mut daemon);
}

#[test]
fn other_projects_survive_an_apply() {
    let blog = project("blog", [app("blog")]);
    let mut daemon = FakeDaemon::with_records(live(&blog));
    let before = daemon.records();
    let shop = project("shop", [app("web")]);
    assert!(converge(&shop, &mut daemon).ok());
    assert!(converge(&project("shop", []), &mut daemon).ok());
    assert_eq!(daemon.records(), before);
}

/// Records the size of every `start_many` batch, delegating everything to a [`FakeDaemon`].
struct Batching {
    inner: FakeDaemon,
    batches: Vec<Vec<String>>,
}

impl Daemon for Batching {
    fn list(&mut self) -> Result<Vec<velos_core::ProcessRecord>, velos_reconcile::DaemonError> {
        self.inner.list()
    }
    fn info(&mut self, name: &str) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.info(name)
    }
    fn start(
        &mut self,
        spec: &velos_core::StartSpec,
    ) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.start(spec)
    }
    fn start_existing(
        &mut self,
        name: &str,
    ) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.start_existing(name)
    }
    fn stop(&mut self, name: &str) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.stop(name)
    }
    fn delete(&mut self, name: &str) -> Result<(), velos_reconcile::DaemonError> {
        self.inner.delete(name)
    }
    fn update_in_place(
        &mut self,
        spec: &velos_core::AppSpec,
    ) -> Result<velos_core::ProcessRecord, velos_reconcile::DaemonError> {
        self.inner.update_in_place(spec)
    }
    fn start_many(
        &mut self,
        specs: &[velos_core::StartSpec],
    ) -> Vec<Result<velos_core::ProcessRecord, velos_reconcile::DaemonError>> {
        self.batches.push(specs.iter().map(|start| start.spec.name.clone()).collect());
        self.inner.start_many(specs)
    }
}

#[test]
fn independent_creates_go_in_one_batch_and_a_dependent_waits_for_its_dependency() {
    let shop = project(
        "shop",
        [
            app("db"),
            app("cache"),
            app("queue"),
            app("api").depends_on(&["db"]),
            app("web").depends_on(&["api"]),
        ],
    );
    let mut daemon = Batching { inner: FakeDaemon::new(), batches: Vec::new() };
    daemon.inner.fail_spawn("db");
    let plan = plan(&shop, &daemon.list().expect("list")).expect("plan");
    let report = apply_with_clock(&plan, &mut daemon, options(), &mut ManualClock::new(), &mut |_| {});
    // One round trip for the three apps that depend on nothing; api and web are never in a batch with
    // what they depend on, so db's failure skips them instead of starting them.
    assert_eq!(daemon.batches, vec![vec!["cache".to_string(), "db".into(), "queue".into()]]);
    assert!(matches!(outcome(&report, "db"), Outcome::Failed { .. }), "{report:?}");
    assert!(matches!(outcome(&report, "api"), Outcome::Skipped { .. }), "{report:?}");
    assert!(matches!(outcome(&report, "web"), Outcome::Skipped { .. }), "{report:?}");
    assert_eq!(outcome(&report, "cache"), &Outcome::Done);
}
