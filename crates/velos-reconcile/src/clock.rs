//! The one clock of the reconciler, the controller and the operations layer: monotonic time for waits and
//! timers, wall time for what is recorded. [`SystemClock`] in production; [`TestClock`] in tests, which
//! moves only when told to or slept on, so no test waits for real time to pass.
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where time comes from. `Send`, so a controller thread can own one.
pub trait Clock: Send {
    fn now(&self) -> Instant;
    fn sleep(&mut self, duration: Duration);
    /// Wall time, for history and status records.
    fn unix_ms(&self) -> u64;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn unix_ms(&self) -> u64 {
        now_unix_ms()
    }
}

/// The time now, in milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// A clock for tests. Clones share one time, so a test keeps a clone and moves the time of the code under
/// test ([`TestClock::advance`]); the code's own sleeps (apply's waits) move it too, at no real cost.
#[derive(Debug, Clone)]
pub struct TestClock {
    start: Instant,
    unix_start_ms: u64,
    elapsed: Arc<Mutex<Duration>>,
}

impl TestClock {
    /// Starts at 2023-11-14T22:13:20Z, a fixed wall time, so recorded times are reproducible.
    pub fn new() -> TestClock {
        TestClock { start: Instant::now(), unix_start_ms: 1_700_000_000_000, elapsed: Arc::default() }
    }

    pub fn advance(&self, duration: Duration) {
        *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner) += duration;
    }

    /// How far the clock moved since it was made.
    pub fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for TestClock {
    fn default() -> TestClock {
        TestClock::new()
    }
}

impl Clock for TestClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn sleep(&mut self, duration: Duration) {
        self.advance(duration);
    }

    fn unix_ms(&self) -> u64 {
        self.unix_start_ms + u64::try_from(self.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_time_and_sleeping_moves_it() {
        let clock = TestClock::new();
        let mut held = clock.clone();
        let (before, wall_before) = (clock.now(), clock.unix_ms());
        held.sleep(Duration::from_millis(1500));
        clock.advance(Duration::from_millis(500));
        assert_eq!(held.now() - before, Duration::from_secs(2));
        assert_eq!(clock.unix_ms() - wall_before, 2000);
        assert_eq!(clock.elapsed(), Duration::from_secs(2));
    }
}
