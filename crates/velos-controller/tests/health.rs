//! The controller's health prober over a scripted daemon and the test clock, with real TCP probes on
//! loopback: liveness failures restart the app (once per failure, recorded), readiness is reported, and
//! the state file is what every face reads.
use std::collections::BTreeMap;
use std::time::Duration;
use velos_config::{Check, CheckUse, Probe};
use velos_controller::health::{HealthDaemon, HealthProber};
use velos_core::{AppSpec, ProcessRecord, Status};
use velos_health::{Health, HealthState};
use velos_reconcile::clock::{Clock, TestClock};

struct Scripted {
    records: BTreeMap<String, ProcessRecord>,
    restarts: Vec<String>,
}

impl HealthDaemon for Scripted {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, String> {
        Ok(self.records.values().cloned().collect())
    }

    fn restart(&mut self, name: &str, spec_hash: &str) -> Result<(), String> {
        let record = self.records.get_mut(name).ok_or("no such app")?;
        assert_eq!(record.spec.spec_hash, spec_hash, "restarts only the spec it probed");
        record.pid += 1;
        record.uptime_ms = 0;
        self.restarts.push(name.to_string());
        Ok(())
    }
}

fn record(name: &str, pid: u32, checks: &[(CheckUse, Check)]) -> ProcessRecord {
    let mut spec = AppSpec::new(name, "/bin/sleep", "/").with_computed_hash();
    for (purpose, check) in checks {
        spec.labels.insert(purpose.label().to_string(), check.to_label());
    }
    let mut record = ProcessRecord::fresh(spec, Status::Running, pid);
    record.uptime_ms = 5_000;
    record
}

fn tcp(address: String, purpose: CheckUse) -> Check {
    let mut check = Check::new(Probe::Tcp { address }, purpose);
    check.interval_ms = 200;
    check.failure_threshold = 2;
    check
}

#[test]
fn a_failing_liveness_check_restarts_the_app_once_and_is_recorded() {
    let home = tempfile::tempdir().expect("home");
    let open = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_address = closed.local_addr().expect("address").to_string();
    drop(closed);
    let open_address = open.local_addr().expect("address").to_string();
    let mut daemon = Scripted {
        records: BTreeMap::from([
            (
                "web".into(),
                record("web", 100, &[(CheckUse::Liveness, tcp(closed_address, CheckUse::Liveness))]),
            ),
            (
                "api".into(),
                record("api", 200, &[(CheckUse::Readiness, tcp(open_address, CheckUse::Readiness))]),
            ),
            ("plain".into(), record("plain", 300, &[])),
        ]),
        restarts: Vec::new(),
    };
    let clock = TestClock::new();
    let mut prober = HealthProber::new(home.path(), Box::new(clock.clone()), false);
    let pause = prober.tick(&mut daemon).expect("tick");
    assert_eq!(pause, Duration::from_millis(200), "sleeps until the next probe is due");
    let state = HealthState::read(home.path());
    assert_eq!(state.instances.keys().collect::<Vec<_>>(), ["api", "web"], "only apps with checks");
    let web = &state.instances["web"];
    let liveness = web.liveness.as_ref().expect("liveness");
    assert_eq!((liveness.health, liveness.consecutive_failures), (Health::Unknown, 1), "1 failure of 2");
    assert!(liveness.last_error.as_deref().is_some_and(|error| error.contains("refused")), "{liveness:?}");
    let api = state.instances["api"].readiness.as_ref().expect("readiness");
    assert_eq!(api.health, Health::Healthy);
    assert!(daemon.restarts.is_empty());

    clock.advance(Duration::from_millis(200));
    prober.tick(&mut daemon).expect("tick");
    assert_eq!(daemon.restarts, ["web"], "restarted at the second failure in a row");
    let state = HealthState::read(home.path());
    let web = &state.instances["web"];
    assert_eq!(web.liveness_restarts, 1);
    assert_eq!(web.last_liveness_restart_unix_ms, Some(clock.unix_ms()));

    // The new run starts over: one more failure is not a second restart.
    clock.advance(Duration::from_millis(200));
    prober.tick(&mut daemon).expect("tick");
    assert_eq!(daemon.restarts, ["web"]);
    let state = HealthState::read(home.path());
    assert_eq!(state.instances["web"].pid, 101);
    assert_eq!(state.instances["web"].liveness.as_ref().map(|check| check.consecutive_failures), Some(1));
    clock.advance(Duration::from_millis(200));
    prober.tick(&mut daemon).expect("tick");
    assert_eq!(daemon.restarts, ["web", "web"]);

    // A later prober (the controller restarted) keeps the count.
    let mut again = HealthProber::new(home.path(), Box::new(clock.clone()), false);
    again.tick(&mut daemon).expect("tick");
    assert_eq!(HealthState::read(home.path()).instances["web"].liveness_restarts, 2);
}

#[test]
fn a_stopped_app_is_unknown_and_a_removed_one_forgotten() {
    let home = tempfile::tempdir().expect("home");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let mut web = record("web", 100, &[(CheckUse::Readiness, tcp(address, CheckUse::Readiness))]);
    let mut daemon =
        Scripted { records: BTreeMap::from([("web".into(), web.clone())]), restarts: Vec::new() };
    let clock = TestClock::new();
    let mut prober = HealthProber::new(home.path(), Box::new(clock.clone()), false);
    prober.tick(&mut daemon).expect("tick");
    let health = |home: &std::path::Path| {
        HealthState::read(home)
            .instances
            .get("web")
            .and_then(|web| web.readiness.clone())
            .map(|check| check.health)
    };
    assert_eq!(health(home.path()), Some(Health::Healthy));
    web.status = Status::Stopped;
    web.pid = 0;
    daemon.records.insert("web".into(), web);
    clock.advance(Duration::from_millis(200));
    prober.tick(&mut daemon).expect("tick");
    assert_eq!(health(home.path()), Some(Health::Unknown));
    daemon.records.clear();
    clock.advance(Duration::from_millis(200));
    prober.tick(&mut daemon).expect("tick");
    assert_eq!(health(home.path()), None);
}

#[test]
fn a_live_app_with_a_check_wants_the_controller() {
    let plain = ProcessRecord::fresh(AppSpec::new("web", "/bin/sleep", "/"), Status::Running, 7);
    assert!(!velos_controller::health_checks_wanted(std::slice::from_ref(&plain)), "no check: no prober");
    let mut checked = plain.clone();
    checked.spec.labels.insert("velos.liveness".into(), "{\"tcp\":\"127.0.0.1:80\"}".into());
    assert!(velos_controller::health_checks_wanted(&[plain, checked]));
}

#[test]
fn the_controllers_passes_judge_healthy_by_what_its_prober_found() {
    use velos_reconcile::{Readiness, ReadyCheck};
    let home = tempfile::tempdir().expect("home");
    let source = "[apps.db]\ncommand = \"/bin/sleep 60\"\nreadiness = { tcp = \"127.0.0.1:5432\" }\n";
    let project = velos_config::parse(source, std::path::Path::new("/srv/shop/velos.toml")).expect("valid");
    let db = &project.apps[0];
    let mut record = ProcessRecord::fresh(db.spec.clone(), Status::Running, 7);
    record.uptime_ms = 5_000;
    let mut readiness = velos_controller::ProbedReadiness::new(home.path());
    assert_eq!(
        readiness.judge(db, Some(&record), Some(0)),
        Readiness::Ready,
        "no prober: the record decides"
    );
    let write = |health: Health| {
        let check = velos_health::CheckState {
            health,
            check: "tcp 127.0.0.1:5432".into(),
            last_check_unix_ms: None,
            last_error: Some("connection refused".into()),
            consecutive_failures: 3,
        };
        let instance = velos_health::InstanceHealth { pid: 7, readiness: Some(check), ..Default::default() };
        let state = HealthState {
            written_unix_ms: velos_reconcile::now_unix_ms(),
            pid: 1,
            instances: BTreeMap::from([("db".to_string(), instance)]),
        };
        state.write(home.path()).expect("write");
    };
    write(Health::Unhealthy);
    let mut readiness = velos_controller::ProbedReadiness::new(home.path());
    assert_eq!(readiness.judge(db, Some(&record), Some(0)), Readiness::Unhealthy);
    assert_eq!(
        readiness.reason("db").as_deref(),
        Some("readiness tcp 127.0.0.1:5432 failed 3 times in a row: connection refused")
    );
    write(Health::Healthy);
    let mut readiness = velos_controller::ProbedReadiness::new(home.path());
    assert_eq!(readiness.judge(db, Some(&record), Some(0)), Readiness::Ready);
    record.restarts = 1;
    assert_eq!(readiness.judge(db, Some(&record), Some(0)), Readiness::CrashLoop, "the record speaks first");
}
