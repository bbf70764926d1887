//! Logs: files byte for byte (each line dated by the daemon: `log.timestamps` is on by default), complete
//! under load, the ring for `velos logs`, and follow.
#![allow(clippy::unwrap_used)]
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;
use velos_e2e::{wait_until, Velos};

#[test]
fn a_chatty_apps_log_is_complete_and_in_order() {
    let velos = Velos::new();
    let lines = 300_000;
    velos.start("chatty", &["/usr/bin/seq", "1", &lines.to_string()], &["--restart", "never"]);
    velos.wait_status("chatty", "completed", Duration::from_secs(20));
    let path = velos.log_path("chatty", "out");
    // The process has exited; the daemon drains the pipe to EOF, so the file completes shortly after.
    wait_until(Duration::from_secs(10), "the whole log on disk", || {
        std::fs::metadata(&path).map(|meta| meta.len()).unwrap_or(0) >= expected_len(lines)
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let mut count = 0u64;
    let mut last_ts = "";
    for (index, line) in text.lines().enumerate() {
        let (ts, body) = dated(line);
        assert_eq!(body, (index + 1).to_string(), "line {} is wrong: lost or duplicated output", index + 1);
        assert!(ts >= last_ts, "line {} is dated before the line above it: {ts} < {last_ts}", index + 1);
        last_ts = ts;
        count += 1;
    }
    assert_eq!(count, lines);
    assert_eq!(text.len() as u64, expected_len(lines), "no byte added or lost");
}

/// Bytes of the daemon's time prefix (`2026-11-30T10:41:02.123Z `).
const TS_PREFIX_BYTES: u64 = 25;

fn expected_len(lines: u64) -> u64 {
    (1..=lines).map(|n| TS_PREFIX_BYTES + n.to_string().len() as u64 + 1).sum()
}

/// A line of a log file split into its time prefix and what the app wrote.
fn dated(line: &str) -> (&str, &str) {
    let (ts, body) = line.split_once(' ').unwrap_or_else(|| panic!("no time prefix: {line:?}"));
    assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "not a time: {line:?}");
    (ts, body)
}

/// What the app wrote to a log file, without the daemon's time prefixes.
fn bodies(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|line| format!("{}\n", dated(line).1)).collect()
}

#[test]
fn stdout_and_stderr_go_to_their_own_files_without_prefix() {
    let velos = Velos::new();
    velos.start("both", &["/bin/sh", "-c", "echo to-out; echo to-err >&2"], &["--restart", "never"]);
    velos.wait_status("both", "completed", Duration::from_secs(5));
    wait_until(Duration::from_secs(5), "both files", || bodies(&velos.log_path("both", "err")) == "to-err\n");
    assert_eq!(bodies(&velos.log_path("both", "out")), "to-out\n");
}

#[test]
fn logs_prints_the_last_lines_of_the_chosen_stream() {
    let velos = Velos::new();
    velos.start(
        "talker",
        &["/bin/sh", "-c", "for i in $(seq 1 50); do echo out-$i; echo err-$i >&2; done; sleep 3600"],
        &[],
    );
    wait_until(Duration::from_secs(5), "all 50 lines", || {
        velos.ok(&["logs", "talker", "--lines", "1", "--stream", "out"]) == "talker out | out-50\n"
    });
    assert_eq!(
        velos.ok(&["logs", "talker", "--lines", "3", "--stream", "out"]),
        "talker out | out-48\ntalker out | out-49\ntalker out | out-50\n"
    );
    assert_eq!(
        velos.ok(&["logs", "talker", "--lines", "2", "--stderr"]),
        "talker err | err-49\ntalker err | err-50\n"
    );
}

#[test]
fn logs_follow_streams_new_lines() {
    let velos = Velos::new();
    velos.start(
        "ticker",
        &["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.05; done"],
        &[],
    );
    wait_until(Duration::from_secs(5), "a first tick", || {
        velos.ok(&["logs", "ticker", "--lines", "1"]).starts_with("ticker out | tick-")
    });
    let mut follower = velos
        .command()
        .args(["logs", "ticker", "--follow", "--lines", "1", "--stream", "out"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(follower.stdout.take().unwrap());
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "follow ended early after {seen:?}");
        seen.push(line.trim_end().strip_prefix("ticker out | tick-").unwrap().parse::<u64>().unwrap());
    }
    follower.kill().unwrap();
    let _ = follower.wait();
    assert!(seen.windows(2).all(|pair| pair[1] == pair[0] + 1), "consecutive, no gap or repeat: {seen:?}");
}
