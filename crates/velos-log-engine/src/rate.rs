//! A count per minute and its usual level: an exponentially weighted mean and variance over closed
//! minutes (empty minutes included), so "620 in this minute against 85 usually" needs a few numbers per
//! template, not a history.
use serde::{Deserialize, Serialize};

/// The width of a bucket.
pub const BUCKET_MS: i64 = 60_000;
/// Weight of the newest bucket in the moving mean (about the last ten minutes count).
const ALPHA: f64 = 0.1;
/// Buckets of history needed before a spike can be called.
const HISTORY_MIN: u32 = 5;
/// A spike is at least this many events in a bucket …
const SPIKE_COUNT_MIN: u32 = 10;
/// … and this many times the usual count …
const SPIKE_RATIO_MIN: f64 = 3.0;
/// … and this many standard deviations above it.
const SPIKE_SIGMAS_MIN: f64 = 4.0;
/// Empty buckets folded in one step at most (a gap of days decays the mean to nothing anyway).
const GAP_BUCKETS_MAX: i64 = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    bucket: i64,
    current: u32,
    mean: f64,
    variance: f64,
    history: u32,
}

/// A bucket that held far more events than usual.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    /// Start of the bucket.
    pub at_ms: i64,
    pub count: u32,
    /// The usual count per bucket before it.
    pub usual: f64,
}

impl Rate {
    /// Counts one event at `ts_ms`; returns the spike a bucket it closed turned out to be, if any.
    pub fn add(&mut self, ts_ms: i64) -> Option<Spike> {
        let bucket = ts_ms.div_euclid(BUCKET_MS);
        let mut spike = None;
        if self.history == 0 && self.current == 0 {
            self.bucket = bucket;
        } else if bucket > self.bucket {
            spike = self.spike();
            self.fold(f64::from(self.current));
            for _ in 1..(bucket - self.bucket).min(GAP_BUCKETS_MAX) {
                self.fold(0.0);
            }
            self.bucket = bucket;
            self.current = 0;
        }
        // An event older than the open bucket (clock skew between streams) counts in the open one.
        self.current = self.current.saturating_add(1);
        spike
    }

    /// The open bucket, if it is a spike already.
    pub fn spike(&self) -> Option<Spike> {
        let count = f64::from(self.current);
        let threshold =
            (self.mean * SPIKE_RATIO_MIN).max(self.mean + SPIKE_SIGMAS_MIN * self.variance.sqrt());
        let is_spike = self.history >= HISTORY_MIN && self.current >= SPIKE_COUNT_MIN && count > threshold;
        is_spike.then_some(Spike { at_ms: self.bucket * BUCKET_MS, count: self.current, usual: self.mean })
    }

    /// The usual count per bucket.
    pub fn usual(&self) -> f64 {
        self.mean
    }

    fn fold(&mut self, count: f64) {
        if self.history == 0 {
            self.mean = count;
        } else {
            let delta = count - self.mean;
            self.mean += ALPHA * delta;
            self.variance = (1.0 - ALPHA) * (self.variance + ALPHA * delta * delta);
        }
        self.history = self.history.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(n: i64) -> i64 {
        n * BUCKET_MS + 1
    }

    #[test]
    fn a_burst_against_a_steady_rate_is_a_spike() {
        let mut rate = Rate::default();
        for m in 0..20 {
            for _ in 0..5 {
                assert_eq!(rate.add(minute(m)), None, "steady traffic is no spike");
            }
        }
        for _ in 0..100 {
            rate.add(minute(20));
        }
        let open = rate.spike().expect("the open minute is a spike");
        assert_eq!(open.count, 100);
        let closed = rate.add(minute(21)).expect("closing the minute reports it");
        assert_eq!(closed.at_ms, 20 * BUCKET_MS);
        assert!((closed.usual - 5.0).abs() < 0.5, "{}", closed.usual);
    }

    #[test]
    fn no_spike_without_history_or_below_the_floor() {
        let mut rate = Rate::default();
        for _ in 0..500 {
            rate.add(minute(0));
        }
        assert_eq!(rate.spike(), None, "a first minute has nothing to compare with");
        let mut quiet = Rate::default();
        for m in 0..10 {
            quiet.add(minute(m));
        }
        for _ in 0..8 {
            quiet.add(minute(10));
        }
        assert_eq!(quiet.spike(), None, "9 events are too few to call");
    }
}
