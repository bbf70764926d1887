//! Readiness that probes: velos-reconcile's [`ReadyCheck`] for apps with a `readiness` check. Such an app is
//! ready only while it runs and its check has passed `success_threshold` times in a row; failing
//! `failure_threshold` times in a row makes it [`Readiness::Unhealthy`], with a reason naming the check
//! and its last error. An app without a check is judged from its record alone, as before.
//!
//! The record still speaks first: a crash loop, an errored app or a job that exited badly is that, whatever
//! a probe would say. Probes run on the caller's thread when due (each bounded by its `timeout`); the
//! thresholds count by the caller's clock, so a test clock drives them.
use crate::home::Home;
use std::collections::BTreeMap;
use std::time::Duration;
use velos_config::{CheckUse, DesiredApp, Probe, Project};
use velos_core::{ProcessRecord, Status, Stream};
use velos_health::{Health, LogStart, Prober, Target};
use velos_reconcile::clock::Clock;
use velos_reconcile::readiness::judge;
use velos_reconcile::{Readiness, ReadyCheck};

/// One instance being probed: its prober and the run it probes (a new pid is a new run).
struct Watched {
    prober: Prober,
    pid: u32,
}

pub struct Probing {
    home: Home,
    clock: Box<dyn Clock>,
    /// Where each instance's log files ended before apply's actions, for `log` checks.
    log_offsets: BTreeMap<String, Vec<u64>>,
    watched: BTreeMap<String, Watched>,
    /// Why an instance is not ready, when its check decided it.
    reasons: BTreeMap<String, String>,
}

impl Probing {
    pub fn new(home: &Home, clock: Box<dyn Clock>) -> Probing {
        Probing {
            home: home.clone(),
            clock,
            log_offsets: BTreeMap::new(),
            watched: BTreeMap::new(),
            reasons: BTreeMap::new(),
        }
    }

    /// Remembers where the log files of `project`'s instances with a `log` readiness check end now: call it
    /// before starting them, so a line an app writes as it starts is seen.
    pub fn mark_logs(&mut self, project: &Project) {
        for app in &project.apps {
            if !matches!(app.in_place.readiness.as_ref().map(|check| &check.probe), Some(Probe::Log { .. })) {
                continue;
            }
            let offsets = log_files(&self.home, &app.spec.name)
                .iter()
                .map(|path| std::fs::metadata(path).map_or(0, |metadata| metadata.len()))
                .collect();
            self.log_offsets.insert(app.spec.name.clone(), offsets);
        }
    }

    fn target(&self, record: &ProcessRecord) -> Target {
        Target {
            cwd: record.spec.cwd.clone(),
            env: record.spec.env.clone(),
            log_files: log_files(&self.home, &record.name),
            log_start: match self.log_offsets.get(&record.name) {
                Some(offsets) => LogStart::At(offsets.clone()),
                None => LogStart::End,
            },
        }
    }
}

/// An instance's stdout and stderr log files.
fn log_files(home: &Home, name: &str) -> Vec<std::path::PathBuf> {
    vec![home.log_file(name, Stream::Out), home.log_file(name, Stream::Err)]
}

impl ReadyCheck for Probing {
    fn judge(
        &mut self,
        instance: &DesiredApp,
        record: Option<&ProcessRecord>,
        restarts_before: Option<u32>,
    ) -> Readiness {
        let name = instance.spec.name.as_str();
        self.reasons.remove(name);
        let by_record = judge(record, restarts_before);
        let (Some(check), Some(record)) = (&instance.in_place.readiness, record) else {
            return by_record;
        };
        let probing =
            matches!(by_record, Readiness::Ready | Readiness::Starting) && record.status == Status::Running;
        if !probing {
            self.watched.remove(name);
            return by_record;
        }
        let now = self.clock.now();
        let target = self.target(record);
        let began = now.checked_sub(Duration::from_millis(record.uptime_ms)).unwrap_or(now);
        let stale = self.watched.get(name).is_none_or(|watched| watched.prober.check() != check);
        if stale {
            match Prober::new(check.clone(), &target, began) {
                Ok(prober) => {
                    self.watched.insert(name.to_string(), Watched { prober, pid: record.pid });
                }
                Err(error) => {
                    self.reasons.insert(name.to_string(), format!("readiness {}: {error}", check.probe));
                    return Readiness::Unhealthy;
                }
            }
        }
        let Some(watched) = self.watched.get_mut(name) else { return by_record };
        if watched.pid != record.pid {
            watched.pid = record.pid;
            watched.prober.restart(began);
        }
        let clock = &self.clock;
        let health = watched.prober.poll(&target, &|| clock.now());
        let tracker = watched.prober.tracker();
        let summary = watched.prober.check().summary(CheckUse::Readiness);
        match health {
            Health::Healthy => Readiness::Ready,
            Health::Unhealthy => {
                let failures = tracker.consecutive_failures();
                let error = tracker.last_error().unwrap_or("no error recorded");
                let times = if failures == 1 { "once".to_string() } else { format!("{failures} times") };
                self.reasons.insert(
                    name.to_string(),
                    format!("readiness {summary} failed {times} in a row: {error}"),
                );
                Readiness::Unhealthy
            }
            Health::Unknown => {
                let reason = match tracker.last_error() {
                    Some(error) => format!("readiness {summary} has not passed yet: {error}"),
                    None if tracker.probes() == 0 => format!("readiness {summary} has not run yet"),
                    None => format!("readiness {summary} has not passed enough times yet"),
                };
                self.reasons.insert(name.to_string(), reason);
                Readiness::Starting
            }
        }
    }

    fn reason(&self, name: &str) -> Option<String> {
        self.reasons.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ready::wait_ready;
    use std::path::Path;
    use velos_reconcile::clock::TestClock;
    use velos_reconcile::testing::FakeDaemon;

    /// `web`, with `readiness` as written, running with pid 7 for 5 s.
    fn setup(readiness: &str) -> (Project, FakeDaemon) {
        let source = format!("[apps.web]\ncommand = \"/bin/sleep 60\"\nreadiness = {readiness}\n");
        let project = velos_config::parse(&source, Path::new("/srv/shop/velos.toml")).expect("valid");
        let mut record = ProcessRecord::fresh(project.apps[0].spec.clone(), Status::Running, 7);
        record.uptime_ms = 5_000;
        (project, FakeDaemon::with_records([record]))
    }

    fn wait(project: &Project, daemon: &mut FakeDaemon, seconds: u64) -> (crate::AppReadiness, Duration) {
        let home = Home::new("/nonexistent/velos").expect("home");
        let clock = TestClock::new();
        let mut probing = Probing::new(&home, Box::new(clock.clone()));
        let deadline = clock.now() + Duration::from_secs(seconds);
        let apps = [("web".to_string(), Some(0))];
        let checks = (project, &mut probing as &mut dyn ReadyCheck);
        let mut outcomes =
            wait_ready(daemon, &mut clock.clone(), &home, checks, &apps, deadline).expect("wait");
        (outcomes.remove(0), clock.elapsed())
    }

    #[test]
    fn an_app_is_ready_once_its_check_passes() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let (project, mut daemon) = setup(&format!("{{ tcp = \"{address}\", success_threshold = 2 }}"));
        let (outcome, elapsed) = wait(&project, &mut daemon, 60);
        assert_eq!(outcome.readiness, Readiness::Ready, "{}", outcome.reason);
        assert!(elapsed >= Duration::from_secs(1), "two passes, one interval apart: {elapsed:?}");
    }

    #[test]
    fn a_check_that_keeps_failing_makes_the_app_unhealthy_naming_the_check() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        let (project, mut daemon) = setup(&format!("{{ tcp = \"{address}\", interval = \"2s\" }}"));
        let (outcome, elapsed) = wait(&project, &mut daemon, 60);
        assert_eq!(outcome.readiness, Readiness::Unhealthy);
        let expected =
            format!("readiness tcp {address} every 2s failed 3 times in a row: connect to {address}:");
        assert!(outcome.reason.starts_with(&expected), "{}", outcome.reason);
        assert!(elapsed >= Duration::from_secs(4) && elapsed < Duration::from_secs(5), "{elapsed:?}");
    }

    #[test]
    fn a_check_still_failing_at_the_deadline_times_out_with_its_last_error() {
        let (project, mut daemon) =
            setup("{ http = \"http://127.0.0.1:1/health\", failure_threshold = 100 }");
        let (outcome, _) = wait(&project, &mut daemon, 3);
        assert_eq!(outcome.readiness, Readiness::TimedOut);
        assert!(
            outcome.reason.starts_with(
                "readiness http http://127.0.0.1:1/health, failure_threshold 100 has not passed yet: "
            ),
            "{}",
            outcome.reason
        );
    }

    #[test]
    fn the_record_speaks_first() {
        let (project, mut daemon) = setup("{ tcp = \"127.0.0.1:1\" }");
        let mut looping = velos_reconcile::Daemon::list(&mut daemon).expect("list").remove(0);
        looping.restarts = 2;
        looping.exit_code = Some(1);
        let mut daemon = FakeDaemon::with_records([looping]);
        let (outcome, _) = wait(&project, &mut daemon, 60);
        assert_eq!(outcome.readiness, Readiness::CrashLoop);
        assert_eq!(outcome.reason, "restarted 2 times, last exit code 1");
    }
}
