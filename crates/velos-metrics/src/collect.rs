//! The snapshot turned into metric families, for prometheus-client's encoders.
use crate::{ProjectSample, Snapshot};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use velos_core::{ProcessRecord, Status, Stream};

/// Upper bounds of `velos_reconcile_duration_seconds`: an apply takes from a few milliseconds (nothing to
/// do) to the apply timeout (60 s by default) when it waits for an app that never comes up.
pub(crate) const DURATION_BUCKETS_SECONDS: [f64; 12] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];

/// One instance's values (owned: a collector lives in the registry, which wants `'static`).
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) project: String,
    pub(crate) app: String,
    pub(crate) name: String,
    pub(crate) up: bool,
    pub(crate) cpu_ratio: f64,
    pub(crate) cpu_seconds: f64,
    pub(crate) memory_bytes: u64,
    pub(crate) start_time_seconds: Option<f64>,
    pub(crate) restarts: u64,
    pub(crate) health: Option<crate::HealthSample>,
    /// Lines and bytes written, stdout then stderr (the daemon's counters).
    pub(crate) log_counts: [(u64, u64); 2],
}

impl Instance {
    pub(crate) fn new(record: &ProcessRecord, now_unix_ms: u64) -> Instance {
        let label = |key: &str| record.spec.labels.get(key).cloned();
        let running = record.pid != 0 && matches!(record.status, Status::Running | Status::Stopping);
        Instance {
            project: label("project").unwrap_or_default(),
            app: label("app").unwrap_or_else(|| record.name.clone()),
            name: record.name.clone(),
            up: record.status == Status::Running,
            cpu_ratio: record.cpu / 100.0,
            cpu_seconds: record.cpu_time_ms as f64 / 1000.0,
            memory_bytes: record.memory,
            start_time_seconds: running.then(|| now_unix_ms.saturating_sub(record.uptime_ms) as f64 / 1000.0),
            restarts: u64::from(record.restarts),
            health: None,
            log_counts: [record.log_counts(Stream::Out), record.log_counts(Stream::Err)],
        }
    }

    pub(crate) fn labels(&self) -> [(&'static str, &str); 3] {
        [("project", &self.project), ("app", &self.app), ("name", &self.name)]
    }
}

/// What one scrape encodes.
#[derive(Debug)]
pub(crate) struct Scrape {
    instances: Vec<Instance>,
    projects: Vec<ProjectSample>,
}

impl Scrape {
    pub(crate) fn new(snapshot: &Snapshot) -> Scrape {
        let mut instances: Vec<Instance> = snapshot
            .records
            .iter()
            .map(|record| Instance {
                health: snapshot.health.get(&record.name).cloned(),
                ..Instance::new(record, snapshot.now_unix_ms)
            })
            .collect();
        instances.sort_by(|a, b| a.name.cmp(&b.name));
        let mut projects = snapshot.projects.clone();
        projects.sort_by(|a, b| a.project.cmp(&b.project));
        Scrape { instances, projects }
    }
}

/// One family per call: a descriptor, then one sample per item that has a value.
fn family<T, M: EncodeMetric, const N: usize>(
    encoder: &mut DescriptorEncoder<'_>,
    (name, help, unit, metric_type): (&str, &str, Option<&Unit>, MetricType),
    items: &[T],
    sample: impl for<'a> Fn(&'a T) -> Option<([(&'static str, &'a str); N], M)>,
) -> Result<(), std::fmt::Error> {
    let mut metric_encoder = encoder.encode_descriptor(name, help, unit, metric_type)?;
    for item in items {
        if let Some((labels, metric)) = sample(item) {
            metric.encode(metric_encoder.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let gauge = MetricType::Gauge;
        let counter = MetricType::Counter;
        let seconds = Some(&Unit::Seconds);
        let bytes = Some(&Unit::Bytes);
        let instances = &self.instances;
        family(
            &mut encoder,
            ("velos_process_up", "1 while the main process runs", None, gauge),
            instances,
            |i| Some((i.labels(), ConstGauge::new(i64::from(i.up)))),
        )?;
        let cpu = ("velos_process_cpu_usage_ratio", "Share of one core over the last sample", None, gauge);
        family(&mut encoder, cpu, instances, |i| Some((i.labels(), ConstGauge::new(i.cpu_ratio))))?;
        let cpu_total = (
            "velos_process_cpu_seconds",
            "CPU time of its processes since the daemon started",
            None,
            counter,
        );
        family(&mut encoder, cpu_total, instances, |i| Some((i.labels(), ConstCounter::new(i.cpu_seconds))))?;
        let memory =
            ("velos_process_resident_memory", "Resident memory of its whole process tree", bytes, gauge);
        family(&mut encoder, memory, instances, |i| {
            Some((i.labels(), ConstGauge::new(i.memory_bytes as f64)))
        })?;
        let start = ("velos_process_start_time", "Unix time the running process started", seconds, gauge);
        family(&mut encoder, start, instances, |i| {
            i.start_time_seconds.map(|time| (i.labels(), ConstGauge::new(time)))
        })?;
        let restarts =
            ("velos_process_restarts", "Automatic restarts since a client last started it", None, counter);
        family(&mut encoder, restarts, instances, |i| Some((i.labels(), ConstCounter::new(i.restarts))))?;
        if instances.iter().any(|i| i.health.is_some()) {
            self.encode_health(&mut encoder)?;
        }
        self.encode_logs(&mut encoder)?;
        self.encode_projects(&mut encoder)
    }
}

impl Scrape {
    /// Only when an instance has a check: a host without checks keeps the exposition it always had.
    fn encode_health(&self, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let checks: Vec<(&Instance, &'static str, bool)> = self
            .instances
            .iter()
            .filter_map(|i| i.health.as_ref().map(|health| (i, health)))
            .flat_map(|(i, health)| {
                [("readiness", health.readiness), ("liveness", health.liveness)]
                    .into_iter()
                    .filter_map(move |(check, passing)| passing.map(|passing| (i, check, passing)))
            })
            .collect();
        let healthy = (
            "velos_process_healthy",
            "1 when the check passes, 0 when it fails (absent while unknown)",
            None,
            MetricType::Gauge,
        );
        family(encoder, healthy, &checks, |(i, check, passing)| {
            let [project, app, name] = i.labels();
            Some(([project, app, name, ("check", *check)], ConstGauge::new(i64::from(*passing))))
        })?;
        let restarts = (
            "velos_process_liveness_restarts",
            "Restarts the controller made because liveness failed",
            None,
            MetricType::Counter,
        );
        family(encoder, restarts, &self.instances, |i| {
            i.health.as_ref().map(|health| (i.labels(), ConstCounter::new(health.liveness_restarts)))
        })
    }

    /// `velos_log_lines_total` and `velos_log_bytes_total`, one series per instance and stream.
    fn encode_logs(&self, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let streams: Vec<(&Instance, &'static str, (u64, u64))> = self
            .instances
            .iter()
            .flat_map(|i| [(i, "out", i.log_counts[0]), (i, "err", i.log_counts[1])])
            .collect();
        fn labels<'a>(i: &'a Instance, stream: &'static str) -> [(&'static str, &'a str); 4] {
            [("project", &i.project), ("app", &i.app), ("name", &i.name), ("stream", stream)]
        }
        let lines = ("velos_log_lines", "Lines written since the daemon started", None, MetricType::Counter);
        family(encoder, lines, &streams, |(i, stream, (count, _))| {
            Some((labels(i, stream), ConstCounter::new(*count)))
        })?;
        let bytes = ("velos_log_bytes", "Bytes written since the daemon started", None, MetricType::Counter);
        family(encoder, bytes, &streams, |(i, stream, (_, count))| {
            Some((labels(i, stream), ConstCounter::new(*count)))
        })
    }
}

impl Scrape {
    fn encode_projects(&self, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let projects = &self.projects;
        fn label(p: &ProjectSample) -> [(&'static str, &str); 1] {
            [("project", &p.project)]
        }
        let synced =
            ("velos_project_synced", "1 when the host runs what the file says", None, MetricType::Gauge);
        family(encoder, synced, projects, |p| Some((label(p), ConstGauge::new(i64::from(p.synced)))))?;
        let drift = ("velos_drift_apps", "Apps with a pending action", None, MetricType::Gauge);
        family(encoder, drift, projects, |p| Some((label(p), ConstGauge::new(p.drift_apps as f64))))?;
        let total = ("velos_reconcile", "Recorded applies by result", None, MetricType::Counter);
        let results: Vec<(&ProjectSample, &str, u64)> = projects
            .iter()
            .flat_map(|p| [(p, "ok", p.reconciles_ok), (p, "failed", p.reconciles_failed)])
            .collect();
        family(encoder, total, &results, |(p, result, count)| {
            Some(([("project", p.project.as_str()), ("result", result)], ConstCounter::new(*count)))
        })?;
        let duration = (
            "velos_reconcile_duration",
            "How long recorded applies took",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        );
        family(encoder, duration, projects, |p| {
            let histogram = Histogram::new(DURATION_BUCKETS_SECONDS);
            p.reconcile_durations_seconds.iter().for_each(|seconds| histogram.observe(*seconds));
            Some((label(p), histogram))
        })
    }
}
