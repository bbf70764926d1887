//! The log verbs over the fake daemon: `logs` reads the files of the addressed instances, merged and
//! filtered; `logs_summary`, `logs_templates` and `flush` work on them and on the saved model.
mod common;

use common::Host;
use velos_ops::{
    FlushRequest, LogsRequest, LogsSummaryRequest, LogsTemplatesRequest, OpErrorKind, StreamChoice,
};

/// A running host with app `web` and its two log files.
fn host_with_logs() -> Host {
    let host = Host::running();
    host.start("/bin/sleep", &["300"], Some("web")).expect("start");
    let logs = host.path().join("home/logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let mut out = String::new();
    let mut err = String::new();
    for n in 0..40 {
        out.push_str(&format!("2026-11-30T10:00:{:02}.000Z GET /items/{n} 200 {n}ms\n", n));
        if n % 10 == 9 {
            err.push_str(&format!("2026-11-30T10:00:{:02}.500Z ERROR job {n} failed: timeout\n", n));
        }
    }
    std::fs::write(logs.join("web-out.log"), out).expect("out");
    std::fs::write(logs.join("web-err.log"), err).expect("err");
    host
}

#[test]
fn logs_come_from_the_files_merged_in_time_order_and_filtered() {
    let host = host_with_logs();
    let outcome = host.ops.logs(LogsRequest { lines: 4, ..LogsRequest::new("web") }).expect("logs");
    let bodies: Vec<&str> = outcome.lines.iter().map(|line| line.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "GET /items/37 200 37ms",
            "GET /items/38 200 38ms",
            "GET /items/39 200 39ms",
            "ERROR job 39 failed: timeout"
        ]
    );
    assert_eq!(outcome.lines[3].severity_text, "ERROR");
    assert_eq!(outcome.lines[3].ts.as_deref(), Some("2026-11-30T10:00:39.500Z"));

    let errors = LogsRequest { lines: 100, level: Some("error".into()), ..LogsRequest::new("web") };
    let outcome = host.ops.logs(errors).expect("logs --level error");
    assert_eq!((outcome.lines.len(), outcome.wanted), (4, 100), "fewer than asked: all that match");

    let out_only = LogsRequest {
        lines: 100,
        stream: StreamChoice::Out,
        grep: Some("items/3".into()),
        ..LogsRequest::new("web")
    };
    assert_eq!(host.ops.logs(out_only).expect("grep").lines.len(), 11);

    let bad = host.ops.logs(LogsRequest { level: Some("loud".into()), ..LogsRequest::new("web") });
    assert_eq!(bad.expect_err("unknown level").kind, OpErrorKind::InvalidInput);
    let ghost = host.ops.logs(LogsRequest::new("ghost")).expect_err("no such app");
    assert_eq!(ghost.kind, OpErrorKind::NotFound);
}

#[test]
fn collapsed_logs_fold_a_flood_and_reach_back_past_it() {
    let host = host_with_logs();
    let mut flood = String::new();
    for n in 0..5000 {
        // The app's own header (its time) differs; the message is the same.
        flood.push_str(&format!(
            "2026-11-30T10:01:00.000Z 10:01:{:02}.{n:04} WARN pool exhausted, waiting\n",
            n % 60
        ));
    }
    flood.push_str("2026-11-30T10:01:01.000Z 10:01:01.0000 INFO pool recovered\n");
    let logs = host.path().join("home/logs");
    let mut out = std::fs::read_to_string(logs.join("web-out.log")).expect("out");
    out.push_str(&flood);
    std::fs::write(logs.join("web-out.log"), out).expect("out");

    let request =
        LogsRequest { lines: 3, stream: StreamChoice::Out, collapse: true, ..LogsRequest::new("web") };
    let outcome = host.ops.logs(request).expect("logs");
    let rows: Vec<(&str, Option<u64>)> =
        outcome.lines.iter().map(|line| (line.body.as_str(), line.repeated)).collect();
    assert_eq!(
        rows,
        [
            ("GET /items/39 200 39ms", None),
            ("10:01:00.0000 WARN pool exhausted, waiting", Some(5000)),
            ("10:01:01.0000 INFO pool recovered", None),
        ],
        "three lines past a flood of 5000, the flood in one"
    );
    let every = LogsRequest { lines: 3, stream: StreamChoice::Out, ..LogsRequest::new("web") };
    assert!(host.ops.logs(every).expect("logs").lines.iter().all(|line| line.repeated.is_none()));
}

#[test]
fn summary_templates_and_flush() {
    let host = host_with_logs();
    let summary = host
        .ops
        .logs_summary(LogsSummaryRequest {
            name: "web".into(),
            budget: 200,
            json: false,
            since_ms: None,
            until_ms: None,
        })
        .expect("summary");
    let text = summary.summaries[0].text.as_deref().expect("text");
    assert!(text.contains("GET <*> <*> <*>ms") && text.contains("last error"), "{text}");
    assert!(text.len() <= 200 * 4, "{text}");
    let json = host
        .ops
        .logs_summary(LogsSummaryRequest {
            name: "web".into(),
            budget: 400,
            json: true,
            since_ms: None,
            until_ms: None,
        })
        .expect("json");
    let value = json.summaries[0].summary.as_ref().expect("object");
    assert_eq!(value["levels"]["ERROR"], 4);
    assert_eq!(json.summaries[0].bytes_read, 0, "the model was up to date: nothing read again");

    let small = host.ops.logs_summary(LogsSummaryRequest {
        name: "web".into(),
        budget: 20,
        json: false,
        since_ms: None,
        until_ms: None,
    });
    assert_eq!(small.expect_err("too small").kind, OpErrorKind::InvalidInput);

    let templates = host.ops.logs_templates(LogsTemplatesRequest { name: "web".into() }).expect("templates");
    assert_eq!(templates.templates.len(), 2);
    assert_eq!(templates.templates[0].count, 40);

    let flushed = host.ops.flush(FlushRequest { name: "web".into() }).expect("flush");
    assert_eq!((flushed.instances, flushed.files), (vec!["web".to_string()], 2));
    assert!(host.ops.logs(LogsRequest::new("web")).expect("logs").lines.is_empty());
    assert!(!host.path().join("home/log-models/web.json").exists());
}
