//! The same metrics as OTLP/HTTP JSON (`ExportMetricsServiceRequest`), for an OpenTelemetry collector.
//!
//! Built from the same [`Snapshot`] as the Prometheus text, with the same names and labels (as attributes),
//! so a dashboard reads the same series through either path. Counters are cumulative monotonic sums,
//! starting at `start_unix_ms` (when the exporter started); 64-bit integers are JSON strings, as the
//! protobuf JSON mapping asks.
use crate::collect::{Instance, DURATION_BUCKETS_SECONDS};
use crate::{ProjectSample, Snapshot};
use serde_json::{json, Value};

/// OTLP's `AGGREGATION_TEMPORALITY_CUMULATIVE`.
const CUMULATIVE: u32 = 2;

fn attributes(pairs: &[(&str, &str)]) -> Value {
    pairs.iter().map(|(key, value)| json!({"key": key, "value": {"stringValue": value}})).collect()
}

fn point(pairs: &[(&str, &str)], time: &str, start: &str, value: Value) -> Value {
    let mut point =
        json!({"attributes": attributes(pairs), "timeUnixNano": time, "startTimeUnixNano": start});
    if let (Some(object), Value::Object(value)) = (point.as_object_mut(), value) {
        object.extend(value);
    }
    point
}

fn as_int(value: u64) -> Value {
    json!({"asInt": value.to_string()})
}

fn as_double(value: f64) -> Value {
    json!({"asDouble": value})
}

fn gauge(name: &str, unit: &str, points: Vec<Value>) -> Value {
    json!({"name": name, "unit": unit, "gauge": {"dataPoints": points}})
}

fn counter(name: &str, unit: &str, points: Vec<Value>) -> Value {
    json!({"name": name, "unit": unit, "sum": {"dataPoints": points, "aggregationTemporality": CUMULATIVE, "isMonotonic": true}})
}

fn histogram(project: &ProjectSample, time: &str, start: &str) -> Value {
    let mut buckets = vec![0u64; DURATION_BUCKETS_SECONDS.len() + 1];
    for seconds in &project.reconcile_durations_seconds {
        let index = DURATION_BUCKETS_SECONDS.iter().position(|bound| seconds <= bound);
        buckets[index.unwrap_or(DURATION_BUCKETS_SECONDS.len())] += 1;
    }
    json!({
        "attributes": attributes(&[("project", &project.project)]),
        "timeUnixNano": time,
        "startTimeUnixNano": start,
        "count": project.reconcile_durations_seconds.len().to_string(),
        "sum": project.reconcile_durations_seconds.iter().sum::<f64>(),
        "bucketCounts": buckets.iter().map(u64::to_string).collect::<Vec<_>>(),
        "explicitBounds": DURATION_BUCKETS_SECONDS,
    })
}

/// The export request for `snapshot`; `host` names the resource (`host.name`).
pub fn export_request(snapshot: &Snapshot, start_unix_ms: u64, host: &str) -> Value {
    let time = (u128::from(snapshot.now_unix_ms) * 1_000_000).to_string();
    let start = (u128::from(start_unix_ms) * 1_000_000).to_string();
    let instances: Vec<Instance> =
        snapshot.records.iter().map(|record| Instance::new(record, snapshot.now_unix_ms)).collect();
    let each = |value: &dyn Fn(&Instance) -> Option<Value>| -> Vec<Value> {
        instances.iter().filter_map(|i| value(i).map(|v| point(&i.labels(), &time, &start, v))).collect()
    };
    let projects = &snapshot.projects;
    let per_project = |value: &dyn Fn(&ProjectSample) -> Value| -> Vec<Value> {
        projects.iter().map(|p| point(&[("project", &p.project)], &time, &start, value(p))).collect()
    };
    let reconciles: Vec<Value> = projects
        .iter()
        .flat_map(|p| {
            [("ok", p.reconciles_ok), ("failed", p.reconciles_failed)].map(|(result, count)| {
                point(&[("project", &p.project), ("result", result)], &time, &start, as_int(count))
            })
        })
        .collect();
    let per_stream = |index: usize, value: &dyn Fn((u64, u64)) -> u64| -> Vec<Value> {
        instances
            .iter()
            .map(|i| {
                let [project, app, name] = i.labels();
                let stream = if index == 0 { "out" } else { "err" };
                let labels = [project, app, name, ("stream", stream)];
                point(&labels, &time, &start, as_int(value(i.log_counts[index])))
            })
            .collect()
    };
    let log_points = |value: &dyn Fn((u64, u64)) -> u64| -> Vec<Value> {
        let mut points = per_stream(0, value);
        points.extend(per_stream(1, value));
        points
    };
    let metrics = vec![
        gauge("velos_process_up", "1", each(&|i| Some(as_int(u64::from(i.up))))),
        gauge("velos_process_cpu_usage_ratio", "1", each(&|i| Some(as_double(i.cpu_ratio)))),
        counter("velos_process_cpu_seconds_total", "s", each(&|i| Some(as_double(i.cpu_seconds)))),
        gauge("velos_process_resident_memory_bytes", "By", each(&|i| Some(as_int(i.memory_bytes)))),
        gauge("velos_process_start_time_seconds", "s", each(&|i| i.start_time_seconds.map(as_double))),
        counter("velos_process_restarts_total", "1", each(&|i| Some(as_int(i.restarts)))),
        counter("velos_log_lines_total", "1", log_points(&|(lines, _)| lines)),
        counter("velos_log_bytes_total", "By", log_points(&|(_, bytes)| bytes)),
        gauge("velos_project_synced", "1", per_project(&|p| as_int(u64::from(p.synced)))),
        gauge("velos_drift_apps", "1", per_project(&|p| as_int(p.drift_apps))),
        counter("velos_reconcile_total", "1", reconciles),
        json!({
            "name": "velos_reconcile_duration_seconds",
            "unit": "s",
            "histogram": {
                "dataPoints": projects.iter().map(|p| histogram(p, &time, &start)).collect::<Vec<_>>(),
                "aggregationTemporality": CUMULATIVE,
            },
        }),
    ];
    json!({
        "resourceMetrics": [{
            "resource": {"attributes": attributes(&[("service.name", "velos"), ("host.name", host)])},
            "scopeMetrics": [{
                "scope": {"name": "velos", "version": env!("CARGO_PKG_VERSION")},
                "metrics": metrics,
            }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::snapshot;

    fn metric<'a>(request: &'a Value, name: &str) -> &'a Value {
        request["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
            .as_array()
            .and_then(|metrics| metrics.iter().find(|metric| metric["name"] == name))
            .unwrap_or_else(|| panic!("no {name} in {request}"))
    }

    fn attribute<'a>(point: &'a Value, key: &str) -> Option<&'a str> {
        point["attributes"].as_array()?.iter().find(|a| a["key"] == key)?["value"]["stringValue"].as_str()
    }

    #[test]
    fn the_same_series_as_the_text_with_labels_as_attributes() {
        let request = export_request(&snapshot(), 1_700_000_000_000, "box");
        let up = &metric(&request, "velos_process_up")["gauge"]["dataPoints"];
        let web0 = up.as_array().expect("points").iter().find(|p| attribute(p, "name") == Some("web-0"));
        let web0 = web0.expect("web-0");
        assert_eq!((attribute(web0, "project"), attribute(web0, "app")), (Some("shop"), Some("web")));
        assert_eq!(web0["asInt"], "1");
        assert_eq!(web0["timeUnixNano"], "1700000010000000000");
        let restarts = &metric(&request, "velos_process_restarts_total")["sum"];
        assert_eq!(
            (restarts["isMonotonic"].as_bool(), restarts["aggregationTemporality"].as_u64()),
            (Some(true), Some(2))
        );
        assert_eq!(request["resourceMetrics"][0]["resource"]["attributes"][1]["value"]["stringValue"], "box");
    }

    #[test]
    fn log_counters_are_sums_per_instance_and_stream() {
        let request = export_request(&snapshot(), 0, "box");
        let points =
            metric(&request, "velos_log_bytes_total")["sum"]["dataPoints"].as_array().expect("points");
        assert_eq!(points.len(), 6, "three instances, two streams");
        let err = points
            .iter()
            .find(|p| attribute(p, "name") == Some("web-0") && attribute(p, "stream") == Some("err"))
            .expect("web-0 err");
        assert_eq!(err["asInt"], "90");
    }

    #[test]
    fn the_histogram_counts_each_apply_in_its_bucket() {
        let request = export_request(&snapshot(), 0, "box");
        let point = &metric(&request, "velos_reconcile_duration_seconds")["histogram"]["dataPoints"][0];
        assert_eq!(point["count"], "3");
        let counts: Vec<&str> =
            point["bucketCounts"].as_array().expect("buckets").iter().filter_map(Value::as_str).collect();
        assert_eq!(counts.len(), DURATION_BUCKETS_SECONDS.len() + 1);
        // 0.004 s → the first bucket, 0.2 s → le 0.25, 3 s → le 5.
        assert_eq!((counts[0], counts[5], counts[9]), ("1", "1", "1"));
    }
}
