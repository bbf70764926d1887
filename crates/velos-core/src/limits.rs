//! The one range of every number in an app spec, shared by `velos validate` (velos-config), the JSON schema
//! and the daemon (zig/src/protocol.zig keeps the same constants; `limits_agree_with_the_daemon` in
//! zig/src/golden_test.zig and the e2e test `hardening_limits` check they agree). docs/CONFIG.md has the
//! table for users.
//!
//! The bounds are wide enough for any real program and narrow enough that no arithmetic on them can overflow
//! a u64 of milliseconds (the daemon adds a deadline to its monotonic clock, doubles a backoff, sums a
//! window): a file `velos validate` accepts can never crash the daemon.
use std::ops::RangeInclusive;

const SECOND_MS: u64 = 1_000;
const HOUR_MS: u64 = 3_600 * SECOND_MS;
const DAY_MS: u64 = 24 * HOUR_MS;

/// `instances`.
pub const INSTANCES: RangeInclusive<u32> = 1..=100;
/// `max_restarts`.
pub const MAX_RESTARTS: RangeInclusive<u32> = 0..=1000;
/// `restart_window`: under a second would let a crash loop restart without ever counting as one.
pub const RESTART_WINDOW_MS: RangeInclusive<u64> = SECOND_MS..=DAY_MS;
/// `backoff.initial` and `backoff.max`.
pub const BACKOFF_MS: RangeInclusive<u64> = 0..=HOUR_MS;
/// `min_uptime`.
pub const MIN_UPTIME_MS: RangeInclusive<u64> = 0..=HOUR_MS;
/// `kill_timeout`.
pub const KILL_TIMEOUT_MS: RangeInclusive<u64> = 0..=HOUR_MS;
/// `kill_signal`: the standard signals (a name is translated to this platform's number).
pub const KILL_SIGNAL: RangeInclusive<u8> = 1..=31;
/// `max_memory` (64 TiB: more than any machine this runs on has).
pub const MAX_MEMORY_BYTES: RangeInclusive<u64> = 1..=(64 << 40);
/// `log.max_size` (on the wire, 0 also means "never rotate").
pub const LOG_MAX_SIZE_BYTES: RangeInclusive<u64> = (1 << 10)..=(1 << 40);
/// `log.max_files`.
pub const LOG_MAX_FILES: RangeInclusive<u32> = 1..=1000;
/// `[velos] resync` and `[velos.git] poll`.
pub const INTERVAL_MS: RangeInclusive<u64> = 100..=DAY_MS;

/// A duration in milliseconds the way users write them (`"1h"`, `"250ms"`), for messages.
pub fn format_ms(milliseconds: u64) -> String {
    const UNITS: [(&str, u64); 5] =
        [("d", DAY_MS), ("h", HOUR_MS), ("m", 60 * SECOND_MS), ("s", SECOND_MS), ("ms", 1)];
    if milliseconds == 0 {
        return "0ms".into();
    }
    let mut rest = milliseconds;
    let mut text = String::new();
    for (unit, size) in UNITS {
        if rest >= size {
            text.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    text
}

/// A byte size the way users write them (`"64T"`, `"1K"`), for messages.
pub fn format_bytes(bytes: u64) -> String {
    for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_back_as_written() {
        assert_eq!(format_ms(0), "0ms");
        assert_eq!(format_ms(*RESTART_WINDOW_MS.end()), "1d");
        assert_eq!(format_ms(90_500), "1m30s500ms");
        assert_eq!(format_bytes(*MAX_MEMORY_BYTES.end()), "64T");
        assert_eq!(format_bytes(*LOG_MAX_SIZE_BYTES.start()), "1K");
        assert_eq!(format_bytes(1000), "1000");
    }

    #[test]
    fn no_sum_of_two_bounds_overflows_a_millisecond_clock() {
        // The daemon adds one of these to a monotonic clock that runs for years (< 2^40 ms in 30 years).
        let largest =
            [*RESTART_WINDOW_MS.end(), *BACKOFF_MS.end(), *MIN_UPTIME_MS.end(), *KILL_TIMEOUT_MS.end()];
        for bound in largest {
            assert!(bound.checked_mul(2).and_then(|twice| twice.checked_add(1 << 40)).is_some());
        }
    }
}
