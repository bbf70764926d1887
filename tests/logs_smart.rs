//! `velos logs` over the log files, its filters and JSON, `--summary`, `--templates` and `velos flush`:
//! the real binary against a real daemon in a temporary VELOS_HOME, apps declared in a velos.toml.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
use std::time::Duration;
use velos_e2e::{wait_until, Velos};

/// Applies a velos.toml with one app running `script` under /bin/sh, with `log` settings.
fn apply_app(velos: &Velos, dir: &tempfile::TempDir, name: &str, script: &str, log: &str) {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let text = format!(
        "[project]\nname = \"smart\"\n\n[apps.{name}]\ncommand = \"/bin/sh\"\nargs = [\"-c\", {script:?}]\n\
         env = {{ {key} = \"{value}\" }}\nlog = {{ {log} }}\n"
    );
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    velos.ok(&["apply", file.to_str().unwrap()]);
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn both_streams_interleave_in_time_order_with_levels_and_filters() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    // Far enough apart that the daemon reads (and dates) each line on its own.
    let script = "for i in 1 2 3; do echo \"INFO request $i ok\"; sleep 0.3; \
                  echo \"ERROR request $i failed: timeout after 30 ms\" >&2; sleep 0.3; done; sleep 3600";
    apply_app(&velos, &dir, "web", script, "timestamps = true");
    wait_until(Duration::from_secs(10), "six lines", || {
        velos.ok(&["logs", "web", "-n", "6"]).lines().count() == 6
    });
    let text = velos.ok(&["logs", "web", "-n", "6"]);
    let marks: Vec<&str> = lines(&text)
        .iter()
        .map(|line| line.split(" | ").next().unwrap().rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(marks, ["out", "err", "out", "err", "out", "err"], "interleaved in order:\n{text}");
    assert!(lines(&text)[1].contains("web err | ERROR request 1 failed"), "{text}");

    let errors = velos.ok(&["logs", "web", "-n", "10", "--level", "error"]);
    assert_eq!(lines(&errors).len(), 3, "{errors}");
    let grep = velos.ok(&["logs", "web", "-n", "10", "--grep", "request 2"]);
    assert_eq!(lines(&grep).len(), 2, "{grep}");
    let out_only = velos.ok(&["logs", "web", "-n", "10", "--stream", "out", "--since", "1h"]);
    assert_eq!(lines(&out_only).len(), 3, "{out_only}");
    assert_eq!(velos.ok(&["logs", "web", "-n", "10", "--until", "1h"]), "", "nothing is an hour old");

    let json = velos.ok(&["logs", "web", "-n", "2", "--json"]);
    let records: Vec<serde_json::Value> =
        json.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let last = &records[1];
    assert_eq!(
        (last["app"].as_str(), last["instance"].as_str(), last["stream"].as_str()),
        (Some("web"), Some("web"), Some("err"))
    );
    assert_eq!((last["severity_text"].as_str(), last["severity_number"].as_u64()), (Some("ERROR"), Some(17)));
    assert!(
        last["ts"].as_str().unwrap().ends_with('Z')
            && last["body"].as_str().unwrap().starts_with("ERROR request 3")
    );
    assert!(last.get("template_id").is_some());

    let stderr = String::from_utf8(velos.run(&["logs", "web", "-n", "50"]).stderr).unwrap();
    assert!(stderr.contains("note: 6 of 50 lines"), "{stderr}");
    let bad = velos.fails(&["logs", "web", "--level", "loud"]);
    assert!(bad.contains("unknown level") && bad.contains("hint:"), "{bad}");
}

#[test]
fn both_streams_come_in_the_order_written_with_the_default_settings() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    // No `log` key: timestamps are on by default, so the two files can be put back in one order. The
    // writes alternate every 40 ms, well apart for the daemon (it dates each read to the millisecond).
    let script = "i=0; while [ $i -lt 10 ]; do i=$((i+1)); echo o$i; sleep 0.04; echo e$i >&2; sleep 0.04; \
                  done; sleep 3600";
    apply_app(&velos, &dir, "talk", script, "");
    wait_until(Duration::from_secs(10), "twenty lines", || {
        velos.ok(&["logs", "talk", "-n", "20"]).lines().count() == 20
    });
    let text = velos.ok(&["logs", "talk", "-n", "20"]);
    let expected: Vec<String> =
        (1..=10).flat_map(|i| [format!("talk out | o{i}"), format!("talk err | e{i}")]).collect();
    assert_eq!(lines(&text), expected, "in the order written:\n{text}");
    let newest = velos.ok(&["logs", "talk", "-n", "3"]);
    assert_eq!(lines(&newest), ["talk err | e9", "talk out | o10", "talk err | e10"], "{newest}");
    // The time, on demand, as --since takes it.
    let timed = velos.ok(&["logs", "talk", "-n", "1", "--timestamps"]);
    let (ts, rest) = timed.trim_end().split_once(' ').unwrap();
    assert!(ts.len() == 24 && ts.ends_with('Z') && rest == "talk err | e10", "{timed}");
    assert_eq!(velos.ok(&["logs", "talk", "-n", "20", "--since", ts]), "talk err | e10\n");
}

#[test]
fn repeats_show_once_with_their_count_unless_every_line_is_asked() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let script =
        "echo starting; i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo \"retrying connection to db\"; \
                  done; echo gave up; sleep 3600";
    apply_app(&velos, &dir, "flood", script, "");
    wait_until(Duration::from_secs(10), "the last line", || {
        velos.ok(&["logs", "flood", "-n", "1"]).contains("gave up")
    });
    let text = velos.ok(&["logs", "flood", "-n", "3"]);
    assert_eq!(
        lines(&text),
        [
            "flood out | starting",
            "flood out | retrying connection to db (repeated 300×)",
            "flood out | gave up"
        ],
        "{text}"
    );
    let every = velos.ok(&["logs", "flood", "-n", "3", "--no-collapse"]);
    assert_eq!(
        lines(&every),
        [
            "flood out | retrying connection to db",
            "flood out | retrying connection to db",
            "flood out | gave up"
        ]
    );
    let json = velos.ok(&["logs", "flood", "-n", "3", "--json"]);
    assert_eq!(json.lines().count(), 3, "JSON keeps every line: {json}");
}

#[test]
fn lines_come_from_rotated_files_and_long_lines_are_cut_not_dropped() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let script = "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo \"line $i\"; done; \
                  head -c 100000 /dev/zero | tr '\\000' x; echo; echo after-long; sleep 3600";
    apply_app(&velos, &dir, "rot", script, "max_size = \"8K\", max_files = 20");
    wait_until(Duration::from_secs(10), "the last line", || {
        velos.ok(&["logs", "rot", "-n", "1"]).contains("after-long")
    });
    let rotated = std::fs::read_dir(velos.home().join("logs"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().file_name().to_string_lossy().starts_with("rot-out.log."));
    assert!(rotated.count() >= 2, "the log rotated");
    let text = velos.ok(&["logs", "rot", "-n", "1002", "--stream", "out"]);
    let got = lines(&text);
    assert_eq!(got.len(), 1002, "N lines when the files hold them");
    assert!(got[1001].ends_with("| after-long"));
    let start: String = got[1000].chars().take(80).collect();
    assert!(got[1000].contains("| xxxx") && got[1000].ends_with(" [… cut, 100000 bytes]"), "{start}");
    let numbers: Vec<u32> =
        got[..1000].iter().map(|l| l.rsplit(' ').next().unwrap().parse().unwrap()).collect();
    assert_eq!(numbers, (2001..=3000).collect::<Vec<_>>(), "the newest thousand, in order, across files");
}

#[test]
fn the_summary_fits_its_budget_and_names_what_is_new_since_the_restart() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("restarted");
    let script = format!(
        "if [ -e {flag} ]; then echo \"ERROR db connection refused to 10.0.0.9:5432\" >&2; \
         else touch {flag}; i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo \"GET /items/$i 200 ${{i}}ms\"; \
         echo \"cache hit for key user:$i\"; done; fi; sleep 3600",
        flag = flag.display()
    );
    apply_app(&velos, &dir, "api", &script, "timestamps = true");
    wait_until(Duration::from_secs(10), "the first run's lines", || {
        velos.ok(&["logs", "api", "-n", "1", "--stream", "out"]).contains("user:500")
    });
    let first = velos.ok(&["logs", "api", "--summary"]);
    assert!(first.contains("GET <*> <*> <*>ms") && first.contains("×500"), "{first}");
    // The first summary has the state; a restart makes the error new.
    std::thread::sleep(Duration::from_millis(1100)); // the restart must be a later second than the lines
    velos.ok(&["restart", "api"]);
    wait_until(Duration::from_secs(10), "the error after the restart", || {
        velos.ok(&["logs", "api", "-n", "1", "--stream", "err"]).contains("refused")
    });
    for budget in ["100", "400"] {
        let text = velos.ok(&["logs", "api", "--summary", "--budget", budget]);
        assert!(text.len() <= budget.parse::<usize>().unwrap() * 4, "{budget}: {} chars\n{text}", text.len());
        assert!(text.contains("ERROR"), "{text}");
    }
    let text = velos.ok(&["logs", "api", "--summary"]);
    assert!(
        text.contains("new since the last restart:") && text.contains("db connection refused to <*>"),
        "{text}"
    );
    assert!(text.contains("last error"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&velos.ok(&["logs", "api", "--summary", "--json"])).unwrap();
    assert!(json["tokens"].as_u64().unwrap() <= 400 && json["levels"]["ERROR"].as_u64() == Some(1), "{json}");

    let templates = velos.ok(&["logs", "api", "--templates"]);
    assert_eq!(lines(&templates).len(), 3, "{templates}");
    // Lines shown as JSON carry the ids `--templates` lists.
    let line: serde_json::Value =
        serde_json::from_str(&velos.ok(&["logs", "api", "-n", "1", "--stream", "err", "--json"])).unwrap();
    let id = line["template_id"].as_str().expect("a template id once the app has a model");
    assert!(
        templates.lines().any(|row| row.split_whitespace().next() == Some(id) && row.contains("refused")),
        "{id}\n{templates}"
    );
    let too_small = velos.fails(&["logs", "api", "--summary", "--budget", "10"]);
    assert!(too_small.contains("too small") && too_small.contains("hint:"), "{too_small}");
}

#[test]
fn the_summary_window_starts_at_the_last_apply_or_restart_or_as_asked() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("go");
    let script = format!(
        "echo first thing happened; while [ ! -e {flag} ]; do sleep 0.05; done; \
         echo ERROR second thing failed >&2; sleep 3600",
        flag = flag.display()
    );
    apply_app(&velos, &dir, "win", &script, "");
    wait_until(Duration::from_secs(10), "the first line", || velos.ok(&["logs", "win"]).contains("first"));
    let first = velos.ok(&["logs", "win", "--summary"]);
    // The apply that started the app began a moment before it: the window is the apply's.
    assert!(first.starts_with("win: 1 lines since ") && first.contains("first thing happened"), "{first}");

    // A later apply that changes nothing but a setting applied in place: the app keeps running, and the
    // window starts again at the apply. The window moves only by more than a second (a restart is told
    // from the uptime, which wobbles), and a restart is placed 250 ms early: wait that long.
    std::thread::sleep(Duration::from_millis(1500));
    apply_app(&velos, &dir, "win", &script, "max_files = 7");
    std::fs::write(&flag, b"").unwrap();
    wait_until(Duration::from_secs(10), "the error", || velos.ok(&["logs", "win"]).contains("second"));
    let since_apply = velos.ok(&["logs", "win", "--summary"]);
    let head = since_apply.lines().next().unwrap();
    assert!(
        head.starts_with("win: 1 lines since ") && head.ends_with("(the last apply); ERROR 1"),
        "{since_apply}"
    );
    assert!(
        since_apply.contains("new since the last apply:") && !since_apply.contains("first"),
        "{since_apply}"
    );

    let asked = velos.ok(&["logs", "win", "--summary", "--since", "1h"]);
    assert!(asked.starts_with("win: 2 lines since ") && asked.contains("first thing"), "{asked}");
    let json: serde_json::Value =
        serde_json::from_str(&velos.ok(&["logs", "win", "--summary", "--since", "1h", "--json"])).unwrap();
    assert_eq!((json["window"].as_str(), json["lines"].as_u64()), (Some("asked"), Some(2)), "{json}");
    assert_eq!(json["last_error"]["line"].as_str(), Some("second thing failed"), "{json}");
    let before = velos.ok(&["logs", "win", "--summary", "--until", "1h"]);
    assert!(before.starts_with("win: 0 lines until "), "nothing is an hour old: {before}");

    // A restart later still: the window is the restart's, and the new run says both things again.
    std::thread::sleep(Duration::from_millis(1500));
    velos.ok(&["restart", "win"]);
    wait_until(Duration::from_secs(10), "the second run's error", || {
        velos
            .ok(&["logs", "win", "--summary"])
            .lines()
            .next()
            .unwrap()
            .ends_with("(the last restart); ERROR 1, UNSPECIFIED 1")
    });
    let bad = velos.fails(&["logs", "win", "--summary", "--since", "yesterday"]);
    assert!(bad.contains("--since") && bad.contains("hint:"), "{bad}");
}

#[test]
fn a_damaged_model_is_rebuilt_with_a_warning_and_flush_empties_the_logs() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    apply_app(
        &velos,
        &dir,
        "job",
        "for i in 1 2 3; do echo step $i done; done; sleep 3600",
        "timestamps = false",
    );
    wait_until(Duration::from_secs(10), "three lines", || velos.ok(&["logs", "job"]).lines().count() == 3);
    velos.ok(&["logs", "job", "--summary"]);
    let model = velos.home().join("log-models/job.json");
    assert!(model.exists());
    std::fs::write(&model, b"{ not json").unwrap();
    let output = velos.run(&["logs", "job", "--summary"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.contains("warning:") && stderr.contains("rebuilt"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("×3"));

    let flushed = velos.ok(&["flush", "job"]);
    assert!(flushed.starts_with("Flushed job"), "{flushed}");
    assert_eq!(std::fs::metadata(velos.log_path("job", "out")).unwrap().len(), 0);
    assert!(!model.exists());
    assert_eq!(velos.ok(&["logs", "job"]), "");

    // A deleted log file is no error: there is nothing to show.
    std::fs::remove_file(velos.log_path("job", "out")).unwrap();
    assert_eq!(velos.ok(&["logs", "job"]), "");
}

#[test]
fn binary_output_is_shown_safely_and_summarized() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let script = "head -c 3000 /dev/urandom; printf '\\n\\033[31mred\\033[0m caf\\303\\251 \\377\\376\\n'; echo done; sleep 3600";
    apply_app(&velos, &dir, "noisy", script, "timestamps = false");
    wait_until(Duration::from_secs(10), "the last line", || {
        velos.ok(&["logs", "noisy", "-n", "1"]).contains("done")
    });
    let output = velos.run(&["logs", "noisy", "-n", "50"]);
    assert!(output.status.success());
    assert!(!output.stdout.contains(&0x1b), "no terminal escape reaches the terminal");
    let text = String::from_utf8(output.stdout).expect("valid UTF-8: bad bytes replaced");
    assert!(text.contains("?[31mred?[0m café"), "{text}");
    let json = velos.ok(&["logs", "noisy", "-n", "50", "--json"]);
    assert!(json.lines().all(|line| serde_json::from_str::<serde_json::Value>(line).is_ok()), "{json}");
    let summary = velos.ok(&["logs", "noisy", "--summary"]);
    assert!(summary.starts_with("noisy: "), "{summary}");
    assert!(!summary.contains('\u{1b}'), "{summary}");
}
