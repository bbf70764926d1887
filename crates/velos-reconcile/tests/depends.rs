//! `depends_on` conditions in apply: a dependent starts only once its dependencies are healthy or
//! completed successfully, and is skipped, naming the dependency, when one fails or the deadline passes.
use std::path::Path;
use std::time::Duration;
use velos_config::{DesiredApp, Project};
use velos_core::{AppSpec, ProcessRecord, StartSpec, Status};
use velos_reconcile::testing::{FakeDaemon, ManualClock};
use velos_reconcile::{
    apply_gated, plan, ApplyOptions, ApplyReport, Daemon, DaemonError, Gates, Outcome, Readiness, ReadyCheck,
};

fn project(source: &str) -> Project {
    velos_config::parse(source, Path::new("/srv/shop/velos.toml")).expect("valid")
}

/// Says `Starting` of `name` for its first `looks` looks, then `then`; every other app is ready.
struct Scripted {
    name: &'static str,
    looks: usize,
    then: Readiness,
    seen: usize,
}

impl ReadyCheck for Scripted {
    fn judge(&mut self, instance: &DesiredApp, _: Option<&ProcessRecord>, _: Option<u32>) -> Readiness {
        if instance.spec.name != self.name {
            return Readiness::Ready;
        }
        self.seen += 1;
        if self.seen > self.looks {
            self.then
        } else {
            Readiness::Starting
        }
    }

    fn reason(&self, name: &str) -> Option<String> {
        (name == self.name && self.then == Readiness::Unhealthy)
            .then(|| "readiness tcp 127.0.0.1:5432 failed 3 times in a row: connection refused".into())
    }
}

/// A FakeDaemon where the job `name` ends with `exit_code` at the `after`-th LIST.
struct Job {
    inner: FakeDaemon,
    name: &'static str,
    exit_code: i32,
    after: usize,
    lists: usize,
}

impl Daemon for Job {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        self.lists += 1;
        if self.lists == self.after {
            if let Some(mut record) = self.inner.record(self.name).cloned() {
                record.status = Status::Completed;
                record.pid = 0;
                record.exit_code = Some(self.exit_code);
                self.inner.insert(record);
            }
        }
        self.inner.list()
    }
    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.inner.info(name)
    }
    fn start(&mut self, start: &StartSpec) -> Result<ProcessRecord, DaemonError> {
        self.inner.start(start)
    }
    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.inner.start_existing(name)
    }
    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.inner.stop(name)
    }
    fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
        self.inner.delete(name)
    }
    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        self.inner.update_in_place(spec)
    }
}

fn options() -> ApplyOptions {
    ApplyOptions { wait: false, timeout: Duration::from_secs(5), poll_interval: Duration::from_millis(10) }
}

fn run(project: &Project, daemon: &mut dyn Daemon, check: &mut dyn ReadyCheck) -> ApplyReport {
    let plan = plan(project, &daemon.list().expect("list")).expect("plan");
    let gates = Some(Gates { project, check });
    apply_gated(&plan, daemon, options(), &mut ManualClock::new(), gates, &mut |_| {})
}

fn outcome<'r>(report: &'r ApplyReport, name: &str) -> &'r Outcome {
    &report.results.iter().find(|result| result.name == name).expect("a result").outcome
}

const WEB_AFTER_HEALTHY_DB: &str = r#"
[apps.db]
command = "/bin/sleep 60"
readiness = { tcp = "127.0.0.1:5432" }

[apps.web]
command = "/bin/sleep 60"
depends_on = { db = "healthy" }
"#;

#[test]
fn a_dependent_starts_once_its_dependency_is_healthy() {
    let project = project(WEB_AFTER_HEALTHY_DB);
    let mut daemon = FakeDaemon::new();
    let mut check = Scripted { name: "db", looks: 3, then: Readiness::Ready, seen: 0 };
    let report = run(&project, &mut daemon, &mut check);
    assert!(report.ok(), "{report:?}");
    assert_eq!(check.seen, 4, "db was looked at until it was ready, then no more");
    assert_eq!(daemon.request_log(), ["create db", "create web"], "one at a time, never batched");
}

#[test]
fn an_unhealthy_dependency_stops_its_dependents_naming_both() {
    let project = project(WEB_AFTER_HEALTHY_DB);
    let mut daemon = FakeDaemon::new();
    let mut check = Scripted { name: "db", looks: 1, then: Readiness::Unhealthy, seen: 0 };
    let report = run(&project, &mut daemon, &mut check);
    assert!(!report.ok());
    assert_eq!(
        outcome(&report, "web"),
        &Outcome::Skipped {
            reason:
                "db is not healthy: readiness tcp 127.0.0.1:5432 failed 3 times in a row: connection refused"
                    .into()
        }
    );
    assert_eq!(daemon.request_log(), ["create db"], "web never started");
    assert_eq!(report.summary(), "skipped: create web");
}

#[test]
fn a_dependency_still_starting_at_the_deadline_times_out() {
    let project = project(WEB_AFTER_HEALTHY_DB);
    let mut daemon = FakeDaemon::new();
    let mut check = Scripted { name: "db", looks: usize::MAX, then: Readiness::Ready, seen: 0 };
    let report = run(&project, &mut daemon, &mut check);
    let Outcome::Skipped { reason } = outcome(&report, "web") else { panic!("{report:?}") };
    assert!(reason.starts_with("timed out after 5s waiting for db to be healthy ("), "{reason}");
}

const WEB_AFTER_MIGRATION: &str = r#"
[apps.migrate]
command = "/bin/sleep 1"
restart = "never"

[apps.web]
command = "/bin/sleep 60"
depends_on = { migrate = "completed_successfully" }

[apps.admin]
command = "/bin/sleep 60"
depends_on = ["migrate"]
"#;

#[test]
fn a_dependent_of_a_migration_starts_once_it_exited_0() {
    let project = project(WEB_AFTER_MIGRATION);
    let mut daemon = Job { inner: FakeDaemon::new(), name: "migrate", exit_code: 0, after: 5, lists: 0 };
    let mut check = velos_reconcile::ByRecord;
    let report = run(&project, &mut daemon, &mut check);
    assert!(report.ok(), "{report:?}");
    assert!(daemon.lists >= 5, "web waited for the migration to end: {} lists", daemon.lists);
    assert_eq!(daemon.inner.request_log(), ["create migrate", "create admin", "create web"]);
}

#[test]
fn a_failed_migration_stops_its_dependents_and_the_list_form_only_orders() {
    let project = project(WEB_AFTER_MIGRATION);
    let mut daemon = Job { inner: FakeDaemon::new(), name: "migrate", exit_code: 2, after: 3, lists: 0 };
    let report = run(&project, &mut daemon, &mut velos_reconcile::ByRecord);
    assert_eq!(
        outcome(&report, "web"),
        &Outcome::Skipped { reason: "migrate did not complete successfully: exited with exit code 2".into() }
    );
    assert_eq!(outcome(&report, "admin"), &Outcome::Done, "`[\"migrate\"]` means started");
}
