use super::*;
use std::collections::BTreeMap;
use velos_core::{AppSpec, ProcessRecord, Status};

fn record(name: &str, app: &str, project: &str, status: Status, pid: u32) -> ProcessRecord {
    let mut spec = AppSpec::new(name, "/bin/sleep", "/srv");
    spec.labels.insert("project".into(), project.into());
    spec.labels.insert("app".into(), app.into());
    let mut record = ProcessRecord::fresh(spec, status, pid);
    record.cpu = 12.5;
    record.memory = 4096;
    record.uptime_ms = if pid == 0 { 0 } else { 2_500 };
    record.restarts = 3;
    record.cpu_time_ms = 2_250;
    record.log_out_lines = 40;
    record.log_out_bytes = 4_000;
    record.log_err_lines = 2;
    record.log_err_bytes = 90;
    record
}

pub(crate) fn snapshot() -> Snapshot {
    Snapshot {
        records: vec![
            record("web-1", "web", "shop", Status::Running, 101),
            record("web-0", "web", "shop", Status::Running, 100),
            record("jobs", "jobs", "shop", Status::Stopped, 0),
        ],
        projects: vec![ProjectSample {
            project: "shop".into(),
            synced: false,
            drift_apps: 2,
            reconciles_ok: 4,
            reconciles_failed: 1,
            reconcile_durations_seconds: vec![0.004, 0.2, 3.0],
        }],
        now_unix_ms: 1_700_000_010_000,
        health: BTreeMap::new(),
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.starts_with('#')).collect()
}

#[test]
fn each_instance_gets_its_series_with_project_app_and_name_and_no_pid() {
    let text = render(&snapshot(), Format::Text).expect("renders");
    let samples = lines(&text);
    assert!(samples.contains(&r#"velos_process_up{project="shop",app="web",name="web-0"} 1"#), "{text}");
    assert!(samples.contains(&r#"velos_process_up{project="shop",app="jobs",name="jobs"} 0"#), "{text}");
    assert!(samples.contains(&r#"velos_process_restarts_total{project="shop",app="web",name="web-1"} 3"#));
    assert!(
        samples.contains(&r#"velos_process_cpu_usage_ratio{project="shop",app="web",name="web-0"} 0.125"#)
    );
    assert!(samples
        .contains(&r#"velos_process_resident_memory_bytes{project="shop",app="web",name="web-0"} 4096.0"#));
    let cpu_total = r#"velos_process_cpu_seconds_total{project="shop",app="web",name="web-0"} 2.25"#;
    assert!(samples.contains(&cpu_total), "{text}");
    assert!(!text.contains("pid"), "{text}");
}

#[test]
fn log_lines_and_bytes_are_counters_per_instance_and_stream() {
    let mut snapshot = snapshot();
    snapshot.records[2].log_err_lines = 0; // nothing on the wire yet is a 0, still a series
    let text = render(&snapshot, Format::Text).expect("renders");
    let samples = lines(&text);
    for expected in [
        r#"velos_log_lines_total{project="shop",app="web",name="web-0",stream="out"} 40"#,
        r#"velos_log_lines_total{project="shop",app="web",name="web-0",stream="err"} 2"#,
        r#"velos_log_bytes_total{project="shop",app="web",name="web-1",stream="out"} 4000"#,
        r#"velos_log_bytes_total{project="shop",app="web",name="web-1",stream="err"} 90"#,
        r#"velos_log_lines_total{project="shop",app="jobs",name="jobs",stream="err"} 0"#,
    ] {
        assert!(samples.contains(&expected), "{expected} missing from\n{text}");
    }
    assert!(text.contains("# TYPE velos_log_lines_total counter"), "{text}");
    let open_metrics = render(&snapshot, Format::OpenMetrics).expect("renders");
    assert!(open_metrics.contains("# TYPE velos_log_bytes counter"), "{open_metrics}");
}

#[test]
fn a_start_time_is_given_only_for_a_running_process() {
    let text = render(&snapshot(), Format::Text).expect("renders");
    let starts: Vec<&str> = lines(&text)
        .into_iter()
        .filter(|line| line.starts_with("velos_process_start_time_seconds"))
        .collect();
    assert_eq!(
        starts,
        [
            r#"velos_process_start_time_seconds{project="shop",app="web",name="web-0"} 1700000007.5"#,
            r#"velos_process_start_time_seconds{project="shop",app="web",name="web-1"} 1700000007.5"#,
        ]
    );
}

#[test]
fn instances_come_in_name_order_whatever_the_list_order() {
    let text = render(&snapshot(), Format::Text).expect("renders");
    let names: Vec<&str> = lines(&text)
        .into_iter()
        .filter(|line| line.starts_with("velos_process_up"))
        .filter_map(|line| line.split("name=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(names, ["jobs", "web-0", "web-1"]);
}

#[test]
fn a_deleted_app_has_no_series_in_the_next_scrape() {
    let mut snapshot = snapshot();
    let before = render(&snapshot, Format::Text).expect("renders");
    snapshot.records.retain(|record| record.name != "jobs");
    let after = render(&snapshot, Format::Text).expect("renders");
    assert!(before.contains(r#"name="jobs""#));
    assert!(!after.contains(r#"name="jobs""#), "{after}");
}

#[test]
fn projects_report_sync_drift_results_and_a_duration_histogram() {
    let text = render(&snapshot(), Format::Text).expect("renders");
    let samples = lines(&text);
    for expected in [
        r#"velos_project_synced{project="shop"} 0"#,
        r#"velos_drift_apps{project="shop"} 2.0"#,
        r#"velos_reconcile_total{project="shop",result="ok"} 4"#,
        r#"velos_reconcile_total{project="shop",result="failed"} 1"#,
        r#"velos_reconcile_duration_seconds_bucket{project="shop",le="0.005"} 1"#,
        r#"velos_reconcile_duration_seconds_bucket{project="shop",le="0.25"} 2"#,
        r#"velos_reconcile_duration_seconds_bucket{project="shop",le="+Inf"} 3"#,
        r#"velos_reconcile_duration_seconds_count{project="shop"} 3"#,
    ] {
        assert!(samples.contains(&expected), "missing {expected} in\n{text}");
    }
}

#[test]
fn the_text_format_types_every_family_and_has_no_eof_marker() {
    let text = render(&snapshot(), Format::Text).expect("renders");
    assert!(text.contains("# TYPE velos_process_restarts_total counter\n"), "{text}");
    assert!(text.contains("# TYPE velos_reconcile_duration_seconds histogram\n"), "{text}");
    assert!(!text.contains("# EOF"));
}

#[test]
fn openmetrics_ends_with_eof_and_names_units() {
    let text = render(&snapshot(), Format::OpenMetrics).expect("renders");
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("# UNIT velos_process_resident_memory_bytes bytes\n"), "{text}");
    assert!(text.contains("# TYPE velos_process_restarts counter\n"), "{text}");
}

#[test]
fn label_values_are_escaped() {
    let mut snapshot = snapshot();
    snapshot.projects[0].project = "a\"b\\c\nd".into();
    let text = render(&snapshot, Format::Text).expect("renders");
    assert!(text.contains(r#"velos_project_synced{project="a\"b\\c\nd"} 0"#), "{text}");
}

#[test]
fn an_empty_host_still_renders_every_family_header() {
    let text = render(&Snapshot::default(), Format::Text).expect("renders");
    assert!(lines(&text).is_empty(), "{text}");
    assert!(text.contains("# TYPE velos_process_up gauge"));
}

#[test]
fn health_is_one_gauge_per_known_check_and_a_restart_counter() {
    let mut snapshot = snapshot();
    snapshot.health.insert(
        "web-0".into(),
        HealthSample { readiness: Some(true), liveness: Some(false), liveness_restarts: 2 },
    );
    snapshot
        .health
        .insert("web-1".into(), HealthSample { readiness: None, liveness: None, liveness_restarts: 0 });
    let text = render(&snapshot, Format::Text).expect("render");
    let health: Vec<&str> = lines(&text)
        .into_iter()
        .filter(|line| line.contains("healthy") || line.contains("liveness"))
        .collect();
    assert_eq!(
        health,
        [
            "velos_process_healthy{project=\"shop\",app=\"web\",name=\"web-0\",check=\"readiness\"} 1",
            "velos_process_healthy{project=\"shop\",app=\"web\",name=\"web-0\",check=\"liveness\"} 0",
            "velos_process_liveness_restarts_total{project=\"shop\",app=\"web\",name=\"web-0\"} 2",
            "velos_process_liveness_restarts_total{project=\"shop\",app=\"web\",name=\"web-1\"} 0",
        ]
    );
    assert!(
        !render(&self::snapshot(), Format::Text).expect("render").contains("healthy"),
        "no check, no family"
    );
}
