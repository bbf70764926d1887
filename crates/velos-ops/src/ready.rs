//! "Did it work?": after apply's actions, wait until every app the project wants running is ready (up for
//! its `min_uptime` without a restart; a job done with exit code 0), or has shown that it will not be, or
//! the apply's deadline passes. Each app's outcome is data ([`AppReadiness`]); one that is not ready
//! carries its last exit and the last lines of its stderr log file, so a face can say why without another
//! command.
//!
//! Every app the project wants running is watched, not only those the plan touched: a re-apply of a file
//! whose apps crash-loop or are errored must not say all is well because the plan is empty. An app the
//! plan (re)started is watched against 0 restarts (the daemon counts restarts since a client last started
//! it); any other against the restarts it had when the wait began.
use crate::convert::daemon_error;
use crate::error::OpError;
use crate::home::Home;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};
use velos_config::Project;
use velos_core::{ProcessRecord, Status, Stream};
use velos_reconcile::clock::Clock;
use velos_reconcile::readiness::{judge, last_exit, reason};
use velos_reconcile::{ActionType, ApplyReport, Daemon, Outcome, Plan, Readiness, ReadyCheck};

/// Lines of stderr an app that is not ready shows.
pub const STDERR_TAIL_LINES: usize = 10;
/// At most this much of the end of a log file is read for that tail.
const STDERR_TAIL_BYTES_MAX: u64 = 16 * 1024;
/// How often the wait lists the apps: often enough that a 1 s `min_uptime` is seen within a few percent.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// After an app is found failed, how long its stderr may take to reach the log file (the daemon drains
/// the pipe on its own loop).
const STDERR_SETTLE: Duration = Duration::from_millis(200);

/// What became of one app apply waited on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppReadiness {
    pub name: String,
    pub readiness: Readiness,
    /// Its status when the wait ended; `None` when the daemon does not know it.
    pub status: Option<Status>,
    pub restarts: u32,
    /// How its last run ended (`exit code 1`, `killed by SIGKILL`), if one did.
    pub last_exit: Option<String>,
    /// Why it is not ready, in a few words; empty when it is.
    pub reason: String,
    /// The last lines of its stderr log file when it is not ready (at most [`STDERR_TAIL_LINES`]).
    pub stderr_tail: Vec<String>,
}

impl AppReadiness {
    pub fn is_ready(&self) -> bool {
        self.readiness.is_ready()
    }
}

/// The apps to watch after `plan` was applied as `report` says, each with the restarts it may have.
/// Apps whose action failed or was skipped are left out: the report says why already.
pub fn watched(plan: &Plan, report: &ApplyReport) -> Vec<(String, Option<u32>)> {
    let started: Vec<&str> = report
        .results
        .iter()
        .filter(|result| result.outcome == Outcome::Done)
        .filter(|result| {
            matches!(result.action, ActionType::Create | ActionType::Replace | ActionType::Start)
        })
        .map(|result| result.name.as_str())
        .collect();
    let unapplied: Vec<&str> = report
        .results
        .iter()
        .filter(|result| result.outcome != Outcome::Done)
        .map(|result| result.name.as_str())
        .collect();
    plan.desired_running
        .iter()
        .filter(|name| !unapplied.contains(&name.as_str()))
        .map(|name| (name.clone(), started.contains(&name.as_str()).then_some(0)))
        .collect()
}

/// Waits until each of `apps` is settled (ready, or failed) or `deadline` passes; one outcome per app, in
/// the order given. `restarts_before`: `Some(n)` for an app known to have `n` restarts when watching
/// began; `None`: whatever it has at the first look. Each instance of `project` is judged by `check`
/// (which probes those with a readiness check); a name `project` does not declare, by its record alone.
pub fn wait_ready(
    daemon: &mut dyn Daemon,
    clock: &mut dyn Clock,
    home: &Home,
    (project, check): (&Project, &mut dyn ReadyCheck),
    apps: &[(String, Option<u32>)],
    deadline: Instant,
) -> Result<Vec<AppReadiness>, OpError> {
    let mut before: BTreeMap<&str, Option<u32>> =
        apps.iter().map(|(name, restarts)| (name.as_str(), *restarts)).collect();
    let mut settled: BTreeMap<&str, (Readiness, Option<ProcessRecord>)> = BTreeMap::new();
    loop {
        let live = daemon.list().map_err(|error| daemon_error(error, None))?;
        for (name, _) in apps {
            if settled.contains_key(name.as_str()) {
                continue;
            }
            let record = live.iter().find(|record| &record.name == name);
            let baseline = before.entry(name.as_str()).or_default();
            if baseline.is_none() {
                *baseline = Some(record.map_or(0, |record| record.restarts));
            }
            let readiness = match project.app(name) {
                Some(instance) => check.judge(instance, record, *baseline),
                None => judge(record, *baseline),
            };
            if readiness.is_settled() {
                settled.insert(name, (readiness, record.cloned()));
            } else if clock.now() >= deadline {
                settled.insert(name, (Readiness::TimedOut, record.cloned()));
            }
        }
        if settled.len() == apps.len() {
            break;
        }
        clock.sleep(POLL_INTERVAL);
    }
    let mut outcomes: Vec<AppReadiness> = apps
        .iter()
        .filter_map(|(name, _)| settled.remove(name.as_str()).map(|settled| (name, settled)))
        .map(|(name, (readiness, record))| {
            let mut app = outcome(home, name, readiness, record.as_ref());
            // A check knows better than the record why an app it probes is not ready.
            if let Some(why) = check.reason(name).filter(|_| !app.is_ready()) {
                app.reason = why;
            }
            app
        })
        .collect();
    let silent = |app: &AppReadiness| !app.is_ready() && app.stderr_tail.is_empty();
    if outcomes.iter().any(silent) {
        // The daemon writes an exited app's last output on its own loop: give it a moment to land.
        clock.sleep(STDERR_SETTLE);
        for app in outcomes.iter_mut().filter(|app| silent(app)) {
            app.stderr_tail = tail_lines(&home.log_file(&app.name, Stream::Err), STDERR_TAIL_LINES);
        }
    }
    Ok(outcomes)
}

fn outcome(home: &Home, name: &str, readiness: Readiness, record: Option<&ProcessRecord>) -> AppReadiness {
    let stderr_tail = if readiness.is_ready() {
        Vec::new()
    } else {
        tail_lines(&home.log_file(name, Stream::Err), STDERR_TAIL_LINES)
    };
    AppReadiness {
        name: name.to_string(),
        readiness,
        status: record.map(|record| record.status),
        restarts: record.map_or(0, |record| record.restarts),
        last_exit: record.and_then(last_exit),
        reason: reason(readiness, record),
        stderr_tail,
    }
}

/// The last `count` non-empty lines of `path` (read from its last [`STDERR_TAIL_BYTES_MAX`] bytes); none
/// when it cannot be read: a tail is a courtesy, never a reason to fail.
pub fn tail_lines(path: &Path, count: usize) -> Vec<String> {
    let Ok(mut file) = std::fs::File::open(path) else { return Vec::new() };
    let length = file.metadata().map_or(0, |metadata| metadata.len());
    let start = length.saturating_sub(STDERR_TAIL_BYTES_MAX);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // cut in the middle
    }
    let skip = lines.len().saturating_sub(count);
    // What the app wrote: without the time the daemon starts each line with (`log.timestamps`), or the
    // body of a JSON line (`log.format = "json"`).
    let body = |line: &str| {
        String::from_utf8_lossy(&velos_log_engine::file_line::split_line(line.as_bytes()).body).into_owned()
    };
    lines[skip..].iter().map(|line| body(line)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::AppSpec;
    use velos_reconcile::clock::TestClock;
    use velos_reconcile::testing::FakeDaemon;
    use velos_reconcile::ByRecord;

    /// A project declaring none of the apps: each is judged by its record.
    fn empty_project() -> Project {
        Project {
            name: "shop".into(),
            file: "/srv/shop/velos.toml".into(),
            revision: "file:0".into(),
            apps: Vec::new(),
            controller: None,
            on_failure: Default::default(),
        }
    }

    fn record(name: &str, status: Status, restarts: u32, uptime_ms: u64) -> ProcessRecord {
        let mut record = ProcessRecord::fresh(AppSpec::new(name, "/bin/sleep", "/"), status, 7);
        record.restarts = restarts;
        record.uptime_ms = uptime_ms;
        record
    }

    #[test]
    fn ready_crash_looping_errored_and_missing_apps_each_get_their_outcome() {
        let home_dir = tempfile::tempdir().expect("home");
        let home = Home::new(home_dir.path()).expect("home");
        std::fs::create_dir_all(home_dir.path().join("logs")).expect("logs");
        std::fs::write(
            home.log_file("crashy", Stream::Err),
            "2026-11-30T10:00:00.000Z starting\nboom: no config\n",
        )
        .expect("log");
        let mut crashy = record("crashy", Status::Running, 2, 1_500);
        crashy.exit_code = Some(3);
        let mut broken = record("broken", Status::Errored, 0, 0);
        broken.last_error = Some("cannot execute /nope: ENOENT".into());
        let mut daemon = FakeDaemon::with_records([record("web", Status::Running, 4, 5_000), crashy, broken]);
        let clock = TestClock::new();
        let apps = [
            ("web".to_string(), None),
            ("crashy".to_string(), Some(0)),
            ("broken".to_string(), Some(0)),
            ("gone".to_string(), Some(0)),
        ];
        let deadline = clock.now() + Duration::from_secs(60);
        let project = empty_project();
        let checks = (&project, &mut ByRecord as &mut dyn ReadyCheck);
        let outcomes =
            wait_ready(&mut daemon, &mut clock.clone(), &home, checks, &apps, deadline).expect("wait");
        let states: Vec<(&str, Readiness)> =
            outcomes.iter().map(|app| (app.name.as_str(), app.readiness)).collect();
        assert_eq!(
            states,
            [
                ("web", Readiness::Ready),
                ("crashy", Readiness::CrashLoop),
                ("broken", Readiness::Errored),
                ("gone", Readiness::Missing)
            ]
        );
        assert!(outcomes[0].stderr_tail.is_empty() && outcomes[0].reason.is_empty());
        assert_eq!(outcomes[1].reason, "restarted 2 times, last exit code 3");
        assert_eq!(outcomes[1].last_exit.as_deref(), Some("exit code 3"));
        assert_eq!(outcomes[1].stderr_tail, ["starting", "boom: no config"]);
        assert_eq!(outcomes[2].reason, "errored: cannot execute /nope: ENOENT");
        assert!(clock.elapsed() < Duration::from_secs(1), "settled at the first look: {:?}", clock.elapsed());
    }

    /// A daemon whose app never gets up for long enough.
    struct NeverUp;

    impl Daemon for NeverUp {
        fn list(&mut self) -> Result<Vec<ProcessRecord>, velos_reconcile::DaemonError> {
            Ok(vec![record("slow", Status::Running, 0, 10)])
        }
        fn info(&mut self, _: &str) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
            self.list().map(|mut records| records.remove(0))
        }
        fn start(
            &mut self,
            _: &velos_core::StartSpec,
        ) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
            self.info("slow")
        }
        fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
            self.info(name)
        }
        fn stop(&mut self, name: &str) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
            self.info(name)
        }
        fn delete(&mut self, _: &str) -> Result<(), velos_reconcile::DaemonError> {
            Ok(())
        }
        fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, velos_reconcile::DaemonError> {
            self.info(&spec.name)
        }
    }

    #[test]
    fn an_app_still_starting_at_the_deadline_timed_out() {
        let home = Home::new("/nonexistent/velos").expect("home");
        let clock = TestClock::new();
        let deadline = clock.now() + Duration::from_secs(3);
        let apps = [("slow".to_string(), Some(0))];
        let project = empty_project();
        let checks = (&project, &mut ByRecord as &mut dyn ReadyCheck);
        let outcomes =
            wait_ready(&mut NeverUp, &mut clock.clone(), &home, checks, &apps, deadline).expect("wait");
        assert_eq!(outcomes[0].readiness, Readiness::TimedOut);
        assert_eq!(outcomes[0].reason, "running, up 10ms of its min_uptime 1s");
        assert!(outcomes[0].stderr_tail.is_empty(), "no log file, no tail");
        assert!(clock.elapsed() >= Duration::from_secs(3), "waited until the deadline");
    }

    #[test]
    fn a_tail_is_the_last_lines_of_the_end_of_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big-err.log");
        let text: String = (0..5_000).map(|line| format!("line {line}\n")).collect();
        std::fs::write(&path, text).expect("write");
        assert_eq!(tail_lines(&path, 2), ["line 4998", "line 4999"]);
        let bounded = tail_lines(&path, 10_000);
        assert!(bounded.len() > 1_000 && bounded.len() < 5_000, "only the end is read: {}", bounded.len());
        assert!(bounded.iter().all(|line| line.starts_with("line ")), "no line cut in the middle");
        assert_eq!(bounded.last().map(String::as_str), Some("line 4999"));
        assert!(tail_lines(&dir.path().join("missing"), 3).is_empty());
    }
}
