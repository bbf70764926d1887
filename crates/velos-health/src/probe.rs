//! Running the probe of one check on one instance: [`Prober`] holds what a probe needs between runs (the
//! compiled regex, the log cursors) and a [`Tracker`] for its thresholds. [`Prober::poll`] runs the probe
//! when it is due and returns the health; the caller chooses the thread (never the daemon's loop).
use crate::check::{compile, Check, CheckError, Probe};
use crate::log::Cursor;
use crate::tracker::{Health, Tracker};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What a probe needs to know of the instance: where it runs and with what environment (for `exec`), and
/// its log files (for `log`: stdout's and stderr's, as velos-ops names them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub cwd: String,
    /// `KEY=VALUE`, as the app's spec has it.
    pub env: Vec<String>,
    pub log_files: Vec<PathBuf>,
    /// Where a `log` probe begins to read `log_files`.
    pub log_start: LogStart,
}

/// Where a `log` probe begins to read an instance's log files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LogStart {
    /// At their end when the prober is made: only lines written from then on count.
    #[default]
    End,
    /// At these offsets, by file (taken before the app was started, so a line it writes at once counts);
    /// a file without one, at its end.
    At(Vec<u64>),
    /// The last whole lines within this many bytes of each file's end, then on: for a prober that meets an
    /// instance already running (the controller started after it), whose start-up line is behind it.
    Tail(u64),
}

#[derive(Debug)]
pub struct Prober {
    check: Check,
    /// `http`'s `body` or `log`'s pattern, compiled once.
    pattern: Option<regex::Regex>,
    cursors: Vec<Cursor>,
    /// A `log` probe that matched in this run keeps passing until the instance restarts: the line said the
    /// app is up once, and its silence since then says nothing.
    log_seen: bool,
    tracker: Tracker,
}

impl Prober {
    /// A prober for `check` on the instance `target`, which started (or began to be watched) at `began`.
    /// A `log` probe counts the lines written from now on.
    pub fn new(check: Check, target: &Target, began: Instant) -> Result<Prober, CheckError> {
        let pattern = match &check.probe {
            Probe::Http { body: Some(body), .. } => Some(compile(body)?),
            Probe::Log { pattern } => Some(compile(pattern)?),
            _ => None,
        };
        let cursors = match check.probe {
            Probe::Log { .. } => (target.log_files.iter().enumerate())
                .map(|(index, path)| match &target.log_start {
                    LogStart::At(offsets) => match offsets.get(index) {
                        Some(offset) => Cursor::at(path.clone(), *offset),
                        None => Cursor::at_end(path.clone()),
                    },
                    LogStart::Tail(bytes) => Cursor::tail(path.clone(), *bytes),
                    LogStart::End => Cursor::at_end(path.clone()),
                })
                .collect(),
            _ => Vec::new(),
        };
        let tracker = Tracker::new(&check, began);
        Ok(Prober { check, pattern, cursors, log_seen: false, tracker })
    }

    pub fn check(&self) -> &Check {
        &self.check
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// The instance began a new run at `began` (it was restarted): thresholds start over.
    pub fn restart(&mut self, began: Instant) {
        self.tracker.restart(began);
        self.log_seen = false;
    }

    /// Runs the probe if it is due by the caller's clock (`now`), and returns the health. The interval
    /// counts from the probe's end (`now` asked again), so a slow probe never piles up behind itself.
    pub fn poll(&mut self, target: &Target, now: &dyn Fn() -> Instant) -> Health {
        if !self.tracker.is_due(now()) {
            return self.tracker.health();
        }
        let result = self.run_once(target);
        self.tracker.record(now(), result)
    }

    /// Runs the probe once, now; Ok when it passes, else why not.
    pub fn run_once(&mut self, target: &Target) -> Result<(), String> {
        let timeout = Duration::from_millis(self.check.timeout_ms);
        match &self.check.probe {
            Probe::Exec { argv } => crate::exec::run(argv, &target.cwd, &target.env, timeout),
            Probe::Tcp { address } => match crate::check::split_host_port(address) {
                Some((host, port)) => crate::http::connect(host, port, timeout).map(drop),
                None => Err(CheckError::TcpAddress(address.clone()).to_string()),
            },
            Probe::Http { url, .. } => crate::http::get(url, self.pattern.as_ref(), timeout),
            Probe::Log { pattern } => {
                let pattern = pattern.clone();
                self.log_matches(&pattern)
            }
        }
    }

    fn log_matches(&mut self, pattern: &str) -> Result<(), String> {
        let Some(regex) = &self.pattern else { return Err(format!("invalid regex {pattern:?}")) };
        for cursor in &mut self.cursors {
            // Every cursor reads on, so a line seen now is not seen again after a restart.
            self.log_seen |= cursor.matches(regex)?;
        }
        if self.log_seen {
            Ok(())
        } else {
            Err(format!("no line matching {pattern:?} yet"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Use;
    use std::io::Write;

    #[test]
    fn a_log_probe_passes_once_its_line_appeared_until_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("web-out.log");
        let err = dir.path().join("web-err.log");
        std::fs::write(&out, "ready\n").expect("old line");
        let target = Target { log_files: vec![out.clone(), err.clone()], ..Target::default() };
        let check = Check::new(Probe::Log { pattern: "^ready$".into() }, Use::Readiness);
        let began = Instant::now();
        let mut prober = Prober::new(check, &target, began).expect("prober");
        let clock = std::cell::Cell::new(began);
        let now = || clock.get();
        assert_eq!(prober.poll(&target, &now), Health::Unknown, "the old line does not count");
        std::fs::write(&err, "ready\n").expect("new line");
        clock.set(began + Duration::from_secs(1));
        assert_eq!(prober.poll(&target, &now), Health::Healthy, "a new line on stderr counts");
        for second in 2..6 {
            clock.set(began + Duration::from_secs(second));
            assert_eq!(prober.poll(&target, &now), Health::Healthy, "silence since says nothing");
        }
        prober.restart(clock.get());
        for second in 6..9 {
            clock.set(began + Duration::from_secs(second));
            prober.poll(&target, &now);
        }
        assert_eq!(prober.tracker().health(), Health::Unhealthy, "no new line after the restart");
        assert_eq!(prober.tracker().last_error(), Some("no line matching \"^ready$\" yet"));
        let mut file = std::fs::OpenOptions::new().append(true).open(&out).expect("open");
        file.write_all(b"ready\n").expect("append");
        clock.set(began + Duration::from_secs(10));
        assert_eq!(prober.poll(&target, &now), Health::Healthy);
        // From an offset taken earlier: the line written since counts.
        let offsets = Target { log_start: LogStart::At(vec![0, 0]), ..target.clone() };
        let check = Check::new(Probe::Log { pattern: "^ready$".into() }, Use::Readiness);
        let mut early = Prober::new(check, &offsets, began).expect("prober");
        assert_eq!(early.run_once(&offsets), Ok(()));
        // A prober that meets the app running looks at the recent tail: the start-up line is there.
        let tail = Target { log_start: LogStart::Tail(1024), ..target.clone() };
        let check = Check::new(Probe::Log { pattern: "^ready$".into() }, Use::Readiness);
        let mut late = Prober::new(check, &tail, began).expect("prober");
        assert_eq!(late.run_once(&tail), Ok(()));
    }

    #[test]
    fn a_tcp_probe_follows_the_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let mut check = Check::new(Probe::Tcp { address }, Use::Liveness);
        check.failure_threshold = 1;
        let target = Target::default();
        let mut prober = Prober::new(check, &target, Instant::now()).expect("prober");
        assert_eq!(prober.run_once(&target), Ok(()));
        drop(listener);
        let refused = prober.run_once(&target);
        assert!(refused.as_ref().is_err_and(|error| error.contains("refused")), "{refused:?}");
    }
}
