//! The app log model and its summary, through the public API: what a user of `velos logs --summary`
//! would check.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
use velos_log_engine::budget::estimate_tokens;
use velos_log_engine::rate::BUCKET_MS;
use velos_log_engine::{AppLog, EpochCause, Format, Request, Severity, Stream, Summary, SummaryError};

const START_MS: i64 = 1_796_000_000_000;

fn request(budget_tokens: usize, now_ms: i64) -> Request {
    Request { app: "web".to_string(), budget_tokens, now_ms }
}

/// A web server's day: requests, cache notes, a slow warning now and then, one error before the restart.
fn noisy_app(lines: usize) -> AppLog {
    let mut log = AppLog::default();
    for n in 0..lines {
        let ts = START_MS + n as i64 * 100;
        let line = match n % 50 {
            0 => format!(
                "2026-11-30 10:00:{:02},{:03} WARN [pool-1] db.Pool: slow query took {} ms",
                n % 60,
                n % 1000,
                900 + n % 77
            ),
            1..=4 => format!(
                "2026-11-30 10:00:{:02},{:03} INFO [cache] app.Cache: cache hit for key user:{n}",
                n % 60,
                n % 1000
            ),
            _ => format!(
                "2026-11-30 10:00:{:02},{:03} INFO [http-{}] app.Http: GET /api/items/{} 200 {}ms",
                n % 60,
                n % 1000,
                n % 8,
                n,
                n % 40
            ),
        };
        log.ingest(line.as_bytes(), Stream::Out, ts);
    }
    log
}

#[test]
fn a_noisy_app_fits_the_budget_and_names_what_is_new_since_the_restart() {
    let mut log = noisy_app(20_000);
    let restart = START_MS + 20_000 * 100;
    log.mark_epoch(restart, EpochCause::Restart);
    for n in 0..300 {
        let line =
            format!("2026-11-30 11:00:00,{:03} INFO [http-1] app.Http: GET /api/items/{n} 200 3ms", n % 1000);
        log.ingest(line.as_bytes(), Stream::Out, restart + n * 10);
    }
    let error = "2026-11-30 11:00:05,000 ERROR [main] db.Pool: connection refused to 10.0.0.7:5432";
    log.ingest(error.as_bytes(), Stream::Out, restart + 5_000);
    log.ingest(b"2026-11-30 11:00:05,001 INFO [main] db.Pool: retrying in 5 s", Stream::Out, restart + 5_001);

    let (summary, text) = Summary::build(&log, &request(400, restart + 6_000), Format::Text).unwrap();
    assert!(estimate_tokens(&text) <= 400, "{text}");
    assert_eq!(summary.lines, 302, "the window starts at the restart");
    assert_eq!(summary.levels.get("ERROR"), Some(&1));
    assert_eq!(summary.top_templates[0].count, 300);
    assert!(summary.top_templates[0].template.contains("GET <*>"), "{text}");
    let new: Vec<&str> = summary.new_templates.iter().map(|t| t.template.as_str()).collect();
    assert!(new.iter().any(|t| t.contains("connection refused to <*>")), "{text}");
    assert!(!new.iter().any(|t| t.contains("GET")), "GET was logged before the restart: {text}");
    let last_error = summary.last_error.as_ref().expect("the last error");
    assert!(last_error.line.contains("connection refused"));
    assert_eq!(last_error.after, ["retrying in 5 s"]);
    assert!(text.contains("new since the last restart:") && text.contains("last error"), "{text}");
}

#[test]
fn every_budget_is_enforced_in_text_and_json() {
    let mut log = noisy_app(5_000);
    for n in 0..40 {
        let line = format!(
            "ERROR: job {n} failed with code {} in stage {}",
            n % 7,
            ["fetch", "build", "test"][n % 3]
        );
        log.ingest(line.as_bytes(), Stream::Err, START_MS + 600_000 + n as i64);
    }
    for budget in [velos_log_engine::summary::BUDGET_TOKENS_MIN, 100, 250, 400, 1_000, 4_000] {
        for format in [Format::Text, Format::Json] {
            let (summary, rendered) = Summary::build(&log, &request(budget, START_MS), format).unwrap();
            let tokens = estimate_tokens(&rendered);
            assert!(tokens <= budget, "{budget} {format:?}: {tokens}\n{rendered}");
            if format == Format::Json {
                let value: serde_json::Value = serde_json::from_str(&rendered).unwrap();
                assert_eq!(value["tokens"], summary.tokens);
                assert_eq!(value["budget_tokens"], budget);
            }
        }
    }
    let (summary, _) = Summary::build(&log, &request(4_000, START_MS), Format::Text).unwrap();
    assert_eq!(summary.levels.get("ERROR"), Some(&40), "`ERROR:` is a level, not a component");
    let small = Summary::build(&log, &request(5, START_MS), Format::Json);
    assert!(matches!(small, Err(SummaryError::BudgetTooSmall { budget: 5, .. })), "{small:?}");
}

#[test]
fn a_burst_and_a_silence_are_anomalies() {
    let mut log = AppLog::default();
    for minute in 0..30 {
        for n in 0..4 {
            let ts = START_MS + minute * BUCKET_MS + n * 1_000;
            log.ingest(format!("heartbeat seq={}", minute * 4 + n).as_bytes(), Stream::Out, ts);
        }
    }
    for n in 0..200 {
        let ts = START_MS + 30 * BUCKET_MS + n;
        log.ingest(format!("retrying upstream call id={n}").as_bytes(), Stream::Out, ts);
        log.ingest(format!("heartbeat seq={}", 1000 + n).as_bytes(), Stream::Out, ts);
    }
    let now = START_MS + 31 * BUCKET_MS;
    let (summary, text) = Summary::build(&log, &request(400, now), Format::Text).unwrap();
    let spikes: Vec<_> = summary.anomalies.iter().filter(|a| a.kind == "rate_spike").collect();
    assert_eq!(spikes.len(), 1, "only the heartbeat has a history to spike against: {text}");
    assert!(spikes[0].text.contains("200 lines"), "{text}");

    let later = now + 3_600_000;
    let (summary, text) = Summary::build(&log, &request(400, later), Format::Text).unwrap();
    assert!(summary.anomalies.iter().any(|a| a.kind == "silence"), "{text}");
}

#[test]
fn a_persisted_model_resumes_where_it_stopped() {
    let lines: Vec<String> = (0..2_000)
        .map(|n| match n % 3 {
            0 => format!(
                "081109 2036{:02} {} INFO dfs.DataNode: Receiving block blk_{n} src: /10.0.0.{}:500",
                n % 60,
                n,
                n % 9
            ),
            1 => format!(
                "081109 2036{:02} {} INFO dfs.FSNamesystem: BLOCK* allocateBlock: /user/x/part-{n}",
                n % 60,
                n
            ),
            _ => format!(
                "081109 2036{:02} {} WARN dfs.DataNode: PacketResponder {} for block blk_{n} terminating",
                n % 60,
                n,
                n % 3
            ),
        })
        .collect();
    let mut whole = AppLog::default();
    let mut resumed = AppLog::default();
    for (n, line) in lines.iter().enumerate() {
        whole.ingest(line.as_bytes(), Stream::Out, START_MS + n as i64);
        if n == 700 {
            let saved = serde_json::to_string(&resumed).unwrap();
            resumed = serde_json::from_str(&saved).unwrap();
        }
        resumed.ingest(line.as_bytes(), Stream::Out, START_MS + n as i64);
    }
    let counts = |log: &AppLog| -> Vec<(String, u64)> {
        log.templates().iter().map(|(&id, stats)| (log.miner().render(id), stats.count)).collect()
    };
    assert_eq!(counts(&whole), counts(&resumed));
    assert_eq!(whole.templates().len(), 3, "{:?}", counts(&whole));
    assert_eq!(whole.levels(false), [(Severity::Info, 1334), (Severity::Warn, 666)]);
}

#[test]
fn levels_come_from_the_line_not_from_the_stream() {
    let mut log = AppLog::default();
    let facts = |log: &mut AppLog, line: &str, stream| {
        log.ingest(line.as_bytes(), stream, START_MS);
        log.classify(line.as_bytes(), stream).0
    };
    assert_eq!(facts(&mut log, "Serving HTTP on 0.0.0.0 port 8000", Stream::Err), Severity::Unspecified);
    assert_eq!(facts(&mut log, r#"{"level":50,"time":1,"msg":"db down"}"#, Stream::Out), Severity::Error);
    assert_eq!(facts(&mut log, r#"{"level":"warn","msg":"slow"}"#, Stream::Out), Severity::Warn);
    assert_eq!(facts(&mut log, "thread 'main' panicked at src/main.rs:2:5:", Stream::Err), Severity::Fatal);
}

#[test]
fn binary_invalid_utf8_and_huge_lines_have_a_defined_result() {
    let mut log = AppLog::default();
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).filter(|&b| b != b'\n').collect();
    log.ingest(&binary, Stream::Out, START_MS);
    log.ingest(b"caf\xc3\x28 \xff\xfe latin-1 bytes", Stream::Out, START_MS);
    let huge = vec![b'a'; 10 * 1024 * 1024];
    log.ingest(&huge, Stream::Out, START_MS);
    log.settle();
    assert_eq!(log.lines, 3);
    let stats = log.templates();
    assert!(stats
        .values()
        .all(|s| s.example.chars().count() <= velos_log_engine::app_log::EXAMPLE_CHARS_MAX));
    let (_, text) = Summary::build(&log, &request(400, START_MS), Format::Text).unwrap();
    assert!(estimate_tokens(&text) <= 400);
}

#[test]
fn lines_dated_before_the_restart_count_before_it_even_when_read_after() {
    let mut log = AppLog::default();
    log.ingest(b"2026-11-30 10:00:00,000 INFO [main] app: warming cache", Stream::Out, START_MS);
    log.mark_epoch(START_MS + 1_000, EpochCause::Restart);
    log.ingest(
        b"2026-11-30 10:00:00,500 INFO [main] app: late line from before",
        Stream::Out,
        START_MS + 500,
    );
    log.ingest(
        b"2026-11-30 10:00:02,000 ERROR [main] app: boom after the restart",
        Stream::Out,
        START_MS + 2_000,
    );
    let (summary, text) = Summary::build(&log, &request(400, START_MS + 3_000), Format::Text).unwrap();
    assert_eq!(summary.lines, 1, "{text}");
    assert_eq!(summary.new_templates.len(), 1, "{text}");
    assert!(summary.new_templates[0].template.contains("boom"), "{text}");
}
