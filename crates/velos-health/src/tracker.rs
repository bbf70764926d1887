//! The threshold state machine of one check on one instance, pure: the caller says what time it is and
//! what a probe answered; the tracker says when the next probe is due and what the instance's health is.
//!
//! - Nothing is probed before `initial_delay` has passed since the tracker began (the instance started).
//! - `success_threshold` passes in a row make it healthy; `failure_threshold` failures in a row make it
//!   unhealthy. In between it keeps its state: unknown at first, as Kubernetes keeps a pod's.
//! - Probes are due every `interval` after the previous one ended (never overlapping).
use crate::check::Check;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// What a check says of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Not probed enough yet to say (or the state is stale: nobody is probing).
    #[default]
    Unknown,
    Healthy,
    Unhealthy,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    initial_delay: Duration,
    interval: Duration,
    success_threshold: u32,
    failure_threshold: u32,
    health: Health,
    next_due: Instant,
    /// Consecutive passes / failures (one of them is 0).
    successes: u32,
    failures: u32,
    /// Every probe ever run, and the passes among them.
    probes: u64,
    last_error: Option<String>,
}

impl Tracker {
    /// A tracker for `check` on an instance that started (or began to be watched) at `began`.
    pub fn new(check: &Check, began: Instant) -> Tracker {
        let initial_delay = Duration::from_millis(check.initial_delay_ms);
        Tracker {
            initial_delay,
            interval: Duration::from_millis(check.interval_ms),
            success_threshold: check.success_threshold.max(1),
            failure_threshold: check.failure_threshold.max(1),
            health: Health::Unknown,
            next_due: began + initial_delay,
            successes: 0,
            failures: 0,
            probes: 0,
            last_error: None,
        }
    }

    /// Whether a probe should run at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        now >= self.next_due
    }

    /// When the next probe is due.
    pub fn next_due(&self) -> Instant {
        self.next_due
    }

    /// Records a probe that ended at `now` with `result`; returns the health after it.
    pub fn record(&mut self, now: Instant, result: Result<(), String>) -> Health {
        self.probes += 1;
        match result {
            Ok(()) => {
                self.successes = self.successes.saturating_add(1);
                self.failures = 0;
                if self.successes >= self.success_threshold {
                    self.health = Health::Healthy;
                }
            }
            Err(error) => {
                self.failures = self.failures.saturating_add(1);
                self.successes = 0;
                self.last_error = Some(error);
                if self.failures >= self.failure_threshold {
                    self.health = Health::Unhealthy;
                }
            }
        }
        self.next_due = now + self.interval;
        self.health
    }

    /// Starts over for a new run of the instance (it restarted): unknown, thresholds counted afresh,
    /// the initial delay again from `began`.
    pub fn restart(&mut self, began: Instant) {
        self.health = Health::Unknown;
        self.successes = 0;
        self.failures = 0;
        self.next_due = began + self.initial_delay;
    }

    pub fn health(&self) -> Health {
        self.health
    }

    /// Failures in a row now.
    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    pub fn probes(&self) -> u64 {
        self.probes
    }

    /// The error of the last failed probe (kept after a pass, to say what went wrong last).
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Probe, Use};

    fn check(initial_delay_ms: u64, success_threshold: u32, failure_threshold: u32) -> Check {
        let mut check = Check::new(Probe::Tcp { address: "127.0.0.1:1".into() }, Use::Readiness);
        check.initial_delay_ms = initial_delay_ms;
        check.success_threshold = success_threshold;
        check.failure_threshold = failure_threshold;
        check
    }

    fn fail() -> Result<(), String> {
        Err("connection refused".into())
    }

    #[test]
    fn nothing_is_due_before_the_initial_delay_then_every_interval() {
        let began = Instant::now();
        let mut tracker = Tracker::new(&check(2_000, 1, 3), began);
        assert!(!tracker.is_due(began));
        assert!(!tracker.is_due(began + Duration::from_millis(1_999)));
        let first = began + Duration::from_secs(2);
        assert!(tracker.is_due(first));
        tracker.record(first, Ok(()));
        assert!(!tracker.is_due(first + Duration::from_millis(999)));
        assert!(tracker.is_due(first + Duration::from_secs(1)));
        assert_eq!(tracker.next_due(), first + Duration::from_secs(1));
    }

    #[test]
    fn thresholds_count_in_a_row() {
        let mut now = Instant::now();
        let mut tracker = Tracker::new(&check(0, 2, 3), now);
        let mut step = |tracker: &mut Tracker, result| {
            now += Duration::from_secs(1);
            tracker.record(now, result)
        };
        assert_eq!(step(&mut tracker, Ok(())), Health::Unknown, "one pass of two");
        assert_eq!(step(&mut tracker, fail()), Health::Unknown, "a failure resets the passes");
        assert_eq!(step(&mut tracker, Ok(())), Health::Unknown);
        assert_eq!(step(&mut tracker, Ok(())), Health::Healthy);
        assert_eq!(step(&mut tracker, fail()), Health::Healthy, "one failure of three");
        assert_eq!(step(&mut tracker, fail()), Health::Healthy);
        assert_eq!(tracker.consecutive_failures(), 2);
        assert_eq!(step(&mut tracker, fail()), Health::Unhealthy);
        assert_eq!(tracker.last_error(), Some("connection refused"));
        assert_eq!(step(&mut tracker, Ok(())), Health::Unhealthy, "one pass of two");
        assert_eq!(step(&mut tracker, Ok(())), Health::Healthy, "recovered");
        assert_eq!(tracker.probes(), 9);
    }

    #[test]
    fn a_restart_forgets_the_state_and_waits_the_initial_delay_again() {
        let began = Instant::now();
        let mut tracker = Tracker::new(&check(500, 1, 1), began);
        let later = began + Duration::from_secs(1);
        assert_eq!(tracker.record(later, fail()), Health::Unhealthy);
        tracker.restart(later);
        assert_eq!(tracker.health(), Health::Unknown);
        assert_eq!(tracker.consecutive_failures(), 0);
        assert!(!tracker.is_due(later + Duration::from_millis(499)));
        assert!(tracker.is_due(later + Duration::from_millis(500)));
    }
}
