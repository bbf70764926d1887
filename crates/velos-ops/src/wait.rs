//! Waiting on the daemon with the injected clock: poll INFO until a condition holds or a deadline passes.
use crate::convert::daemon_error;
use crate::error::{OpError, OpErrorKind};
use std::time::Duration;
use velos_core::{ErrorCode, ProcessRecord};
use velos_reconcile::clock::Clock;
use velos_reconcile::Daemon;

/// How often a wait asks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How long stop, restart and delete wait beyond the app's kill timeout.
pub const WAIT_GRACE: Duration = Duration::from_secs(5);

/// How long to wait for `record` to come to rest: its kill timeout, and some grace.
pub fn rest_timeout(record: &ProcessRecord) -> Duration {
    Duration::from_millis(record.spec.kill_timeout_ms) + WAIT_GRACE
}

/// Polls INFO of `name` until `done` holds; returns that record. Past `timeout`: `daemon_unreachable`
/// naming the last status seen.
pub fn until(
    daemon: &mut dyn Daemon,
    clock: &mut dyn Clock,
    name: &str,
    timeout: Duration,
    mut done: impl FnMut(&ProcessRecord) -> bool,
) -> Result<ProcessRecord, OpError> {
    let began = clock.now();
    loop {
        let record = daemon.info(name).map_err(|error| daemon_error(error, Some(name)))?;
        if done(&record) {
            return Ok(record);
        }
        if clock.now() - began >= timeout {
            return Err(timed_out(name, &record, timeout));
        }
        clock.sleep(POLL_INTERVAL);
    }
}

/// Polls INFO of `name` until the daemon no longer knows it (after a delete).
pub fn until_gone(
    daemon: &mut dyn Daemon,
    clock: &mut dyn Clock,
    name: &str,
    timeout: Duration,
) -> Result<(), OpError> {
    let began = clock.now();
    loop {
        let record = match daemon.info(name) {
            Err(error) if error.code() == Some(&ErrorCode::NotFound) => return Ok(()),
            other => other.map_err(|error| daemon_error(error, Some(name)))?,
        };
        if clock.now() - began >= timeout {
            return Err(timed_out(name, &record, timeout));
        }
        clock.sleep(POLL_INTERVAL);
    }
}

fn timed_out(name: &str, record: &ProcessRecord, timeout: Duration) -> OpError {
    OpError::new(
        OpErrorKind::DaemonUnreachable,
        format!(
            "timed out after {} waiting for {name} (still {})",
            velos_config::human::format_duration_ms(timeout.as_millis() as u64),
            record.status
        ),
    )
    .hint(format!("velos info {name} shows its state; velos logs {name} --stderr what it says"))
}
