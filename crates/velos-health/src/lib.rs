//! Health checks: what velos.toml's `readiness` and `liveness` ask, and how the answer is found.
//!
//! - [`check`]: the model ([`Check`]: one [`Probe`] and its timing), resolved by velos-config from the
//!   file, carried to every Rust process as a label of the app (compact JSON, [`Check::to_label`]) so the
//!   Zig core never runs or even parses a check.
//! - [`probe`]: running one probe once, bounded in time: `exec` (no shell, killed at its timeout, output
//!   discarded), `tcp` (connect), `http` (an HTTP/1.1 GET, body read bounded), `log` (a new line of the
//!   app's output matches).
//! - [`tracker`]: the pure threshold state machine (initial delay, interval, success and failure
//!   thresholds → unknown / healthy / unhealthy), driven by the caller's clock.
//!
//! - [`state`]: `$VELOS_HOME/health/state.json`, what the controller's prober found, read by every face
//!   through velos-ops (stale → unknown, never healthy).
//!
//! Who runs checks: apply's readiness wait (velos-ops) and the controller's prober thread. Never the
//! daemon's event loop.
pub mod check;
mod exec;
mod http;
mod log;
pub mod probe;
pub mod state;
pub mod tracker;

pub use check::{Check, CheckError, Probe, Use};
pub use probe::{LogStart, Prober, Target};
pub use state::{CheckState, HealthState, InstanceHealth};
pub use tracker::{Health, Tracker};
