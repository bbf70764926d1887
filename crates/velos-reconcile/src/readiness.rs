//! Readiness: whether an app the project wants running does what it should, judged from its live record
//! alone (no health checks exist yet). An app is ready once it has run for its `min_uptime` without a
//! restart; a job (`restart = "never"`, or `on-failure` that ended well) that completed with exit code 0
//! is done. `velos status` judges a snapshot; apply's wait (velos-ops) judges each look against the
//! restarts it saw first, so a restart during the wait is a crash loop even when it is running again.
use serde::{Deserialize, Serialize};
use velos_core::{ProcessRecord, Status};

/// `"ready"`, `"completed"`, `"starting"`, `"crash_loop"`, `"exited"`, `"errored"`, `"stopped"`,
/// `"missing"`, `"timed_out"`, `"unhealthy"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Running for at least its `min_uptime` without a restart.
    Ready,
    /// A job that ended with exit code 0 and stays down by its restart policy.
    Completed,
    /// Not yet up for its `min_uptime` (or not yet running): look again.
    Starting,
    /// Restarted (or backing off before a restart) since it was started: it keeps exiting.
    CrashLoop,
    /// A job that ended badly (an exit code other than 0, or a signal).
    Exited,
    /// The daemon gave up on it (restart budget spent, program not executable): `velos restart` or
    /// `velos start` runs it again.
    Errored,
    /// Stopped although the project wants it running.
    Stopped,
    /// The daemon does not know it.
    Missing,
    /// Still starting when apply stopped waiting.
    TimedOut,
    /// Running, but its readiness check failed `failure_threshold` times in a row.
    Unhealthy,
}

impl Readiness {
    pub fn as_str(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::Completed => "completed",
            Readiness::Starting => "starting",
            Readiness::CrashLoop => "crash_loop",
            Readiness::Exited => "exited",
            Readiness::Errored => "errored",
            Readiness::Stopped => "stopped",
            Readiness::Missing => "missing",
            Readiness::TimedOut => "timed_out",
            Readiness::Unhealthy => "unhealthy",
        }
    }

    /// Ready, or done as a job should be.
    pub fn is_ready(self) -> bool {
        matches!(self, Readiness::Ready | Readiness::Completed)
    }

    /// Nothing more will come of waiting: ready, done, or failed.
    pub fn is_settled(self) -> bool {
        self != Readiness::Starting
    }
}

impl std::fmt::Display for Readiness {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Judges `record` (None: the daemon does not know the app). `restarts_before`: the restarts counted when
/// the caller began to watch (0 for an app apply has just started: the daemon counts restarts since a
/// client last started it); any restart beyond that is a crash loop. Without it (a snapshot, `velos
/// status`), an app restarted at some time is a crash loop until it has been up for `min_uptime` again.
pub fn judge(record: Option<&ProcessRecord>, restarts_before: Option<u32>) -> Readiness {
    let Some(record) = record else { return Readiness::Missing };
    match record.status {
        Status::Errored => Readiness::Errored,
        Status::Completed if completed_well(record) => Readiness::Completed,
        Status::Completed => Readiness::Exited,
        Status::Stopped | Status::Stopping => Readiness::Stopped,
        // Backing off before a restart: it has exited again.
        Status::Waiting => Readiness::CrashLoop,
        _ if restarts_before.is_some_and(|before| record.restarts > before) => Readiness::CrashLoop,
        Status::Running if record.uptime_ms >= record.spec.min_uptime_ms => Readiness::Ready,
        // A snapshot cannot tell a loop from one restart: restarted and not yet up long since, it counts
        // as looping until it has run its min_uptime (the daemon's own measure of a good run).
        _ if restarts_before.is_none() && record.restarts > 0 => Readiness::CrashLoop,
        Status::Starting | Status::Running | Status::Unknown => Readiness::Starting,
    }
}

/// A completed job ended well: exit code 0, or no exit status at all (a daemon that restarted restores a
/// completed job without how it ended; it was judged when it ran).
fn completed_well(record: &ProcessRecord) -> bool {
    match (record.exit_code, record.exit_signal) {
        (Some(code), _) => code == 0,
        (None, Some(_)) => false,
        (None, None) => true,
    }
}

/// Why an app is as judged, in a few words: `restarted 3 times, last exit code 1`, `errored: ENOENT`,
/// `up 200ms of its min_uptime 1s`. Empty for a ready app.
pub fn reason(readiness: Readiness, record: Option<&ProcessRecord>) -> String {
    let Some(record) = record else { return "the daemon does not know it".into() };
    let exit = last_exit(record);
    let up = |record: &ProcessRecord| {
        format!(
            "{}, up {} of its min_uptime {}",
            record.status,
            crate::diff::duration_ms(record.uptime_ms),
            crate::diff::duration_ms(record.spec.min_uptime_ms)
        )
    };
    match readiness {
        Readiness::Ready | Readiness::Completed => String::new(),
        Readiness::CrashLoop => {
            let restarts = match record.restarts {
                1 => "restarted once".to_string(),
                count => format!("restarted {count} times"),
            };
            match exit {
                Some(exit) => format!("{restarts}, last {exit}"),
                None => restarts,
            }
        }
        Readiness::Errored => match (&record.last_error, exit) {
            (Some(error), _) => format!("errored: {error}"),
            (None, Some(exit)) => format!("errored, last {exit}"),
            (None, None) => "errored".into(),
        },
        Readiness::Exited => format!("exited with {}", exit.unwrap_or_else(|| "no exit status".into())),
        Readiness::Stopped => match exit {
            Some(exit) => format!("stopped, last {exit}"),
            None => "stopped".into(),
        },
        Readiness::Missing => "the daemon does not know it".into(),
        // Only a check knows why: a ReadyCheck that probes words it (ReadyCheck::reason).
        Readiness::Unhealthy => "its readiness check fails".into(),
        Readiness::Starting | Readiness::TimedOut => up(record),
    }
}

/// `exit code 1`, `killed by SIGKILL`: how the last run ended, if one did.
pub fn last_exit(record: &ProcessRecord) -> Option<String> {
    match (record.exit_code, record.exit_signal) {
        (Some(code), _) => Some(format!("exit code {code}")),
        (None, Some(signal)) => Some(format!("killed by {}", crate::diff::signal(signal))),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::AppSpec;

    fn record(status: Status, restarts: u32, uptime_ms: u64) -> ProcessRecord {
        let mut record = ProcessRecord::fresh(AppSpec::new("web", "/bin/sleep", "/"), status, 0);
        record.restarts = restarts;
        record.uptime_ms = uptime_ms;
        record
    }

    #[test]
    fn running_for_min_uptime_without_a_restart_is_ready() {
        assert_eq!(judge(Some(&record(Status::Running, 0, 1_000)), Some(0)), Readiness::Ready);
        assert_eq!(judge(Some(&record(Status::Running, 0, 999)), Some(0)), Readiness::Starting);
        assert_eq!(judge(Some(&record(Status::Starting, 0, 0)), Some(0)), Readiness::Starting);
        assert_eq!(judge(None, Some(0)), Readiness::Missing);
    }

    #[test]
    fn a_restart_since_the_wait_began_is_a_crash_loop_even_when_running_again() {
        let again = record(Status::Running, 1, 5_000);
        assert_eq!(judge(Some(&again), Some(0)), Readiness::CrashLoop);
        // Restarts from before the wait are history; a snapshot has no baseline.
        assert_eq!(judge(Some(&again), Some(1)), Readiness::Ready);
        assert_eq!(judge(Some(&again), None), Readiness::Ready);
        assert_eq!(judge(Some(&record(Status::Running, 8, 200)), None), Readiness::CrashLoop);
        assert_eq!(judge(Some(&record(Status::Running, 8, 200)), Some(8)), Readiness::Starting);
        assert_eq!(judge(Some(&record(Status::Running, 0, 200)), None), Readiness::Starting);
        let mut waiting = record(Status::Waiting, 8, 0);
        waiting.exit_code = Some(1);
        assert_eq!(judge(Some(&waiting), None), Readiness::CrashLoop);
        assert_eq!(reason(Readiness::CrashLoop, Some(&waiting)), "restarted 8 times, last exit code 1");
    }

    #[test]
    fn a_job_is_done_with_exit_code_0_and_failed_otherwise() {
        let mut done = record(Status::Completed, 0, 0);
        done.exit_code = Some(0);
        assert_eq!(judge(Some(&done), Some(0)), Readiness::Completed);
        assert!(Readiness::Completed.is_ready());
        done.exit_code = Some(2);
        assert_eq!(judge(Some(&done), Some(0)), Readiness::Exited);
        assert_eq!(reason(Readiness::Exited, Some(&done)), "exited with exit code 2");
        done.exit_code = None;
        assert_eq!(judge(Some(&done), Some(0)), Readiness::Completed, "restored by a restarted daemon");
        done.exit_signal = Some(9);
        assert_eq!(judge(Some(&done), Some(0)), Readiness::Exited);
        assert_eq!(reason(Readiness::Exited, Some(&done)), "exited with killed by SIGKILL");
    }

    #[test]
    fn errored_and_stopped_say_why() {
        let mut errored = record(Status::Errored, 3, 0);
        errored.last_error = Some("too many restarts".into());
        assert_eq!(judge(Some(&errored), Some(0)), Readiness::Errored);
        assert_eq!(reason(Readiness::Errored, Some(&errored)), "errored: too many restarts");
        assert_eq!(judge(Some(&record(Status::Stopped, 0, 0)), Some(0)), Readiness::Stopped);
        let starting = record(Status::Running, 0, 200);
        assert_eq!(reason(Readiness::TimedOut, Some(&starting)), "running, up 200ms of its min_uptime 1s");
        assert!(!Readiness::Starting.is_settled() && Readiness::TimedOut.is_settled());
    }
}
