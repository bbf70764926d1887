//! Prometheus exposition of Velos: what each app instance costs and whether each project is converged.
//!
//! Everything is computed at scrape time from one snapshot — the daemon's LIST and the projects' status and
//! history as the operations layer reports them — by the pure [`render`]. Nothing is kept between scrapes,
//! so a deleted app's series are gone from the next scrape, and no two sources can disagree (PM2's exporters
//! count restarts on their own and drift from PM2). There is no `pid` label: a restart must not start a new
//! series.
//!
//! Metrics (labels `project`, `app`, `name` per instance; `project` per project):
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `velos_process_up` | gauge | 1 while the instance's main process runs |
//! | `velos_process_cpu_usage_ratio` | gauge | share of one core over the daemon's last 1 s sample |
//! | `velos_process_cpu_seconds_total` | counter | CPU time of its processes since the daemon started |
//! | `velos_process_resident_memory_bytes` | gauge | resident bytes of its process tree, as sampled |
//! | `velos_process_start_time_seconds` | gauge | Unix time the running process started (running only) |
//! | `velos_process_restarts_total` | counter | automatic restarts since a client last started it |
//! | `velos_log_lines_total{stream}` | counter | lines the instance wrote to `out` / `err` since the daemon started |
//! | `velos_log_bytes_total{stream}` | counter | bytes the instance wrote to `out` / `err` since the daemon started |
//! | `velos_project_synced` | gauge | 1 when the host runs what the project's file says |
//! | `velos_reconcile_total{result}` | counter | recorded applies, `result` = `ok` or `failed` |
//! | `velos_reconcile_duration_seconds` | histogram | how long each recorded apply took |
//! | `velos_drift_apps` | gauge | apps whose live state differs from the desired one |
//! | `velos_process_healthy{check}` | gauge | 1 when the instance's `readiness` / `liveness` check passes, 0 when it fails; absent while unknown (not probed yet, or the controller is down) |
//! | `velos_process_liveness_restarts_total` | counter | restarts the controller made because liveness failed |
//!
//! Both text formats are served: Prometheus text 0.0.4 and OpenMetrics 1.0, chosen by [`negotiate`].
mod collect;
mod format;
pub mod otlp;

pub use format::{negotiate, Format};

use std::collections::BTreeMap;
use velos_core::ProcessRecord;

/// One project's facts, as `status` and `history` give them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectSample {
    pub project: String,
    /// The host runs what the project's file says (status `synced`).
    pub synced: bool,
    /// Apps with a pending action (create, replace, start, stop, delete…).
    pub drift_apps: u64,
    /// Applies recorded as successful.
    pub reconciles_ok: u64,
    /// Applies recorded with a failed action or an app that did not come up.
    pub reconciles_failed: u64,
    /// How long each recorded apply took, for those that say.
    pub reconcile_durations_seconds: Vec<f64>,
}

/// Everything one scrape shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// The daemon's LIST.
    pub records: Vec<ProcessRecord>,
    pub projects: Vec<ProjectSample>,
    /// When the LIST was taken: turns each record's `uptime_ms` into a start time.
    pub now_unix_ms: u64,
    /// The health of each instance with a check, by name (as velos-ops reads it: stale is unknown).
    pub health: BTreeMap<String, HealthSample>,
}

/// One instance's checks: `Some(true)` passing, `Some(false)` failing, `None` unknown or no such check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthSample {
    pub readiness: Option<bool>,
    pub liveness: Option<bool>,
    pub liveness_restarts: u64,
}

/// Why the exposition could not be written. Only a bug of ours (a formatter failing on a `String`) can
/// cause it; it is returned rather than panicking so a scrape answers 500 instead of killing the server.
#[derive(Debug, thiserror::Error)]
#[error("could not encode the metrics")]
pub struct MetricsError(#[source] std::fmt::Error);

/// The exposition text of `snapshot` in `format`. Pure: the same snapshot always gives the same text,
/// instances and projects in name order.
pub fn render(snapshot: &Snapshot, format: Format) -> Result<String, MetricsError> {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(collect::Scrape::new(snapshot)));
    let mut text = String::with_capacity(256 + snapshot.records.len() * 640);
    let written = match format {
        Format::Text => prometheus_client::encoding::prometheus_text::encode(&mut text, &registry),
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, &registry),
    };
    written.map_err(MetricsError)?;
    Ok(text)
}

#[cfg(test)]
mod tests;
