//! `[project] on_failure` with real processes: a change whose app is not ready is rolled back to the last
//! revision that became ready (both applies in the history, status saying so), or its apps are stopped.
#![allow(clippy::unwrap_used)]
use serde_json::Value;
use std::path::{Path, PathBuf};
use velos_e2e::Velos;

/// Version `version` of app `web`: version 2 exits at once with a message on stderr.
fn file_text(velos: &Velos, on_failure: &str, version: u32) -> String {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    format!(
        "[project]\nname = \"shop\"\non_failure = \"{on_failure}\"\n\n[apps.web]\ncommand = \"/bin/sh\"\n\
         args = [\"-c\", \"if [ $V = 2 ]; then echo 'v2: cannot bind' >&2; exit 3; fi; exec sleep 3600\"]\n\
         min_uptime = \"300ms\"\nbackoff = {{ initial = \"50ms\", max = \"100ms\" }}\n\
         env = {{ V = \"{version}\", {key} = \"{value}\" }}\n"
    )
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join("velos.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn apply(velos: &Velos, file: &Path) -> (Option<i32>, String, String) {
    let output = velos.run(&["apply", file.to_str().unwrap()]);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn status_of(velos: &Velos) -> (Option<i32>, Value) {
    let output = velos.run(&["status", "--json"]);
    let all: Value = serde_json::from_slice(&output.stdout).unwrap();
    let shop = all.as_array().unwrap().iter().find(|entry| entry["project"] == "shop").cloned().unwrap();
    (output.status.code(), shop)
}

#[test]
fn a_change_that_is_not_ready_is_rolled_back_to_the_last_ready_revision() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &file_text(&velos, "rollback", 1));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let good = velos_revision(&velos);

    write(dir.path(), &file_text(&velos, "rollback", 2));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(1), "the change failed: {stdout}\n{stderr}");
    assert!(stderr.contains("web is not ready"), "{stderr}");
    assert!(stderr.contains("rolled back to file:"), "{stderr}");
    assert!(stderr.contains("(on_failure = rollback)"), "{stderr}");
    assert_eq!(velos.env_of("web", "V").as_deref(), Some("1"), "the last ready version runs again");
    assert_eq!(velos.status("web"), "running");
    assert!(
        std::fs::read_to_string(&file).unwrap().contains("V = \"2\""),
        "the file keeps the failed change"
    );

    // Both applies are in the history: the failed one, then the rollback, which became ready.
    let history: Value = serde_json::from_str(&velos.ok(&["history", "--json"])).unwrap();
    let entries = history.as_array().unwrap();
    let last_two: Vec<(&str, bool)> = entries[entries.len() - 2..]
        .iter()
        .map(|entry| (entry["revision"].as_str().unwrap(), entry["report"]["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(last_two[1].0, good, "{history}");
    assert_ne!(last_two[0].0, good, "{history}");
    assert_eq!(entries.last().unwrap()["ready"], true, "{history}");
    assert_eq!(entries[entries.len() - 2]["ready"], false, "{history}");

    // Status: degraded, naming both revisions and why, and exits non-zero.
    let (code, shop) = status_of(&velos);
    assert_eq!(code, Some(1), "{shop}");
    assert_eq!(shop["state"], "degraded", "{shop}");
    let message = shop["message"].as_str().unwrap();
    assert!(message.starts_with("rolled back from file:") && message.contains(" to file:"), "{message}");
    assert!(message.contains("web is not ready"), "{message}");

    // A fixed file is applied as usual and clears it.
    write(dir.path(), &file_text(&velos, "rollback", 3));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(velos.env_of("web", "V").as_deref(), Some("3"));
    let (code, shop) = status_of(&velos);
    assert_eq!((code, shop["state"].as_str()), (Some(0), Some("synced")), "{shop}");
}

/// The revision the registry says runs.
fn velos_revision(velos: &Velos) -> String {
    status_of(velos).1["revision"].as_str().unwrap().to_string()
}

#[test]
fn with_nothing_ready_before_there_is_nothing_to_roll_back_to() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &file_text(&velos, "rollback", 2));
    let (code, _, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no earlier revision of shop became ready: nothing was rolled back"), "{stderr}");
}

#[test]
fn on_failure_stop_stops_the_apps_that_are_not_ready() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &file_text(&velos, "stop", 1));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    write(dir.path(), &file_text(&velos, "stop", 2));
    let (code, _, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("stopped web (on_failure = stop)"), "{stderr}");
    assert_eq!(velos.status("web"), "stopped", "no crash loop left running");
    let (code, shop) = status_of(&velos);
    assert_eq!(code, Some(1));
    assert_eq!(shop["state"], "degraded", "{shop}");
    assert!(shop["message"].as_str().unwrap().starts_with("stopped web after file:"), "{shop}");
}
