//! `log.format = "json"`: the daemon writes one JSON object per line to the app's log files, the readers
//! (`velos logs`, `--json`, `--summary`) see the app's own text, and a switch back to text applies in place.
//! The real binary against a real daemon in a temporary VELOS_HOME.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
use serde_json::Value;
use std::time::Duration;
use velos_e2e::{wait_until, Velos};

/// Applies a velos.toml with one app `web` running `script` under /bin/sh, with `log = { LOG }`.
fn apply(velos: &Velos, dir: &tempfile::TempDir, script: &str, log: &str) {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let text = format!(
        "[project]\nname = \"structured\"\n\n[apps.web]\ncommand = \"/bin/sh\"\nargs = [\"-c\", {script:?}]\n\
         env = {{ {key} = \"{value}\" }}\nlog = {{ {log} }}\n"
    );
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    velos.ok(&["apply", file.to_str().unwrap()]);
}

/// Every line of `path`, each of which must be one JSON object `{ts, stream, body}`.
fn records(path: &std::path::Path) -> Vec<Value> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8(bytes).expect("a JSON log file is valid UTF-8, whatever the app wrote");
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line:?}")))
        .collect()
}

fn bodies(records: &[Value]) -> Vec<&str> {
    records.iter().map(|record| record["body"].as_str().unwrap()).collect()
}

#[test]
fn json_log_files_read_as_the_app_wrote_and_switch_to_text_in_place() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("go");
    // Quotes, a tab, a backslash, a control byte and invalid UTF-8 (a lone 0xff byte), on both streams,
    // far enough apart that each line is read (and dated) on its own.
    let script = format!(
        "printf 'INFO say \"hi\"\\tnow\\n'; sleep 0.3; \
         printf 'ERROR C:\\\\dir \\377 bad \\001\\n' >&2; sleep 0.3; \
         printf 'INFO third\\n'; \
         while [ ! -e {flag} ]; do sleep 0.05; done; printf 'INFO after \"switch\"\\n'; sleep 3600",
        flag = flag.display()
    );
    apply(&velos, &dir, &script, "format = \"json\"");
    let (out, err) = (velos.log_path("web", "out"), velos.log_path("web", "err"));
    wait_until(Duration::from_secs(10), "three lines", || {
        records(&out).len() == 2 && records(&err).len() == 1
    });

    let out_records = records(&out);
    assert_eq!(bodies(&out_records), ["INFO say \"hi\"\tnow", "INFO third"]);
    let err_records = records(&err);
    assert_eq!(bodies(&err_records), ["ERROR C:\\dir \u{fffd} bad \u{1}"]);
    for record in out_records.iter().chain(&err_records) {
        let ts = record["ts"].as_str().unwrap();
        assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{record}");
    }
    assert_eq!(out_records[0]["stream"], "out");
    assert_eq!(err_records[0]["stream"], "err");

    // `velos logs` shows the bodies, both streams in order; `--json` gives the same bodies and times.
    let text = velos.ok(&["logs", "web", "-n", "3"]);
    let shown: Vec<&str> = text.lines().map(|line| line.split_once(" | ").unwrap().1).collect();
    assert_eq!(shown.len(), 3, "{text}");
    assert!(shown[0].starts_with("INFO say \"hi\""), "{text}");
    assert!(shown[1].starts_with("ERROR C:\\dir \u{fffd} bad"), "{text}");
    assert_eq!(shown[2], "INFO third", "{text}");
    let json: Vec<Value> = velos
        .ok(&["logs", "web", "-n", "3", "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let json_bodies: Vec<&str> = json.iter().map(|record| record["body"].as_str().unwrap()).collect();
    assert_eq!(json_bodies, ["INFO say \"hi\"\tnow", "ERROR C:\\dir \u{fffd} bad \u{1}", "INFO third"]);
    assert_eq!(json[1]["severity_text"], "ERROR", "{:?}", json[1]);
    assert!(json.iter().all(|record| record["ts"].is_string()), "{json:?}");

    // The summary mines the bodies, not the JSON framing.
    let summary = velos.ok(&["logs", "web", "--summary", "--since", "1h"]);
    assert!(summary.starts_with("web: 3 lines since "), "{summary}");
    assert!(summary.contains("C:\\dir") && !summary.contains("\"body\""), "{summary}");

    // Back to text in place: the same process goes on, and what it writes next is a plain, dated line.
    let pid = velos.pid("web");
    apply(&velos, &dir, &script, "format = \"text\"");
    assert_eq!(velos.pid("web"), pid, "a log format change does not restart the app");
    assert_eq!(velos.app("web").unwrap()["restarts"], 0);
    std::fs::write(&flag, b"").unwrap();
    wait_until(Duration::from_secs(10), "the line after the switch", || {
        std::fs::read_to_string(&out).unwrap_or_default().lines().count() == 3
    });
    let file = std::fs::read_to_string(&out).unwrap();
    let last = file.lines().last().unwrap();
    assert!(last.ends_with("Z INFO after \"switch\"") && !last.starts_with('{'), "{file}");
    // One file, both forms: the readers take each line as it is.
    let text = velos.ok(&["logs", "web", "-n", "4"]);
    let shown: Vec<&str> = text.lines().map(|line| line.split_once(" | ").unwrap().1).collect();
    assert_eq!(shown.last(), Some(&"INFO after \"switch\""), "{text}");
    assert!(shown[..3].iter().all(|line| !line.starts_with('{')), "{text}");
}

#[test]
fn a_log_readiness_check_matches_the_body_of_a_json_line() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    // In the file the quotes are escaped (`worker \"ready\"`): the pattern matches only the unescaped body.
    let text = format!(
        "[project]\nname = \"structured\"\n\n[apps.worker]\ncommand = \"/bin/sh\"\n\
         args = [\"-c\", \"echo 'worker \\\"ready\\\"'; exec sleep 3600\"]\nmin_uptime = \"0ms\"\n\
         env = {{ {key} = \"{value}\" }}\nlog = {{ format = \"json\" }}\n\
         readiness = {{ log = '^worker \"ready\"$', interval = \"100ms\", failure_threshold = 50 }}\n"
    );
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "30s"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Ready: worker"), "{stdout}");
    assert_eq!(bodies(&records(&velos.log_path("worker", "out"))), ["worker \"ready\""]);
    // The controller's prober, reading the same lines later, finds it too.
    wait_until(Duration::from_secs(20), "the prober to find it ready", || {
        velos.app("worker").is_some_and(|app| app["health"]["health"] == "healthy")
    });
}
