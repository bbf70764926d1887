//! "Did it work?": apply waits until each app is ready (up for its min_uptime without a restart, or a job
//! done with exit code 0) and fails naming the app, its last exit and its stderr; status is a CI gate.
#![allow(clippy::unwrap_used)]
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};
use velos_e2e::Velos;

/// A velos.toml in its own folder: `apps` are `[apps.NAME]` blocks, each given the test marker.
fn project(velos: &Velos, apps: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("rollout-").tempdir_in("/tmp").unwrap();
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let mut text = String::from("[project]\nname = \"rollout\"\n\n");
    for (name, body) in apps {
        text.push_str(&format!("[apps.{name}]\n{body}\nenv = {{ {key} = \"{value}\" }}\n\n"));
    }
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

fn apply(velos: &Velos, file: &std::path::Path) -> (Output, String, String) {
    let output = velos.run(&["apply", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

const SLEEPER: &str = "command = \"/bin/sleep\"\nargs = [\"3600\"]\nmin_uptime = \"400ms\"";
const CRASHY: &str = "command = \"/bin/sh\"\nargs = [\"-c\", \"echo starting; echo 'boom: config missing' >&2; sleep 0.5; exit 3\"]\nbackoff = { initial = \"50ms\", max = \"100ms\" }";

#[test]
fn a_healthy_app_is_ready_once_it_ran_its_min_uptime_and_apply_exits_0() {
    let velos = Velos::new();
    let (_dir, file) = project(&velos, &[("web", SLEEPER)]);
    let began = Instant::now();
    let (output, stdout, stderr) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        began.elapsed() >= Duration::from_millis(400),
        "apply waited for min_uptime: {:?}",
        began.elapsed()
    );
    assert!(stdout.contains("Ready: web (1 app)."), "{stdout}");
    assert!(stdout.contains("Apply complete: 1 action done."), "{stdout}");
    let web = velos.app("web").unwrap();
    assert!(web["uptime_ms"].as_u64().unwrap() >= 400 && web["restarts"] == 0, "{web}");
    // Status agrees, and exits 0.
    let status = velos.ok(&["status"]);
    assert!(status.contains("synced") && status.contains("1/1"), "{status}");
}

#[test]
fn an_app_that_exits_after_half_a_second_fails_apply_with_its_last_exit_and_stderr() {
    let velos = Velos::new();
    let (_dir, file) = project(&velos, &[("crashy", CRASHY), ("web", SLEEPER)]);
    let (output, stdout, stderr) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("error: crashy is not ready: restarted"), "{stderr}");
    assert!(stderr.contains("last exit code 3"), "{stderr}");
    assert!(stderr.contains("velos logs crashy --stderr"), "{stderr}");
    assert!(stdout.contains("crash_loop"), "{stdout}");
    assert!(stdout.contains("    | boom: config missing"), "the stderr tail is shown: {stdout}");
    assert!(stdout.contains("Ready: web (1 app)."), "{stdout}");
    assert!(stdout.contains("Apply failed: 2 actions done; 1 of 2 apps not ready."), "{stdout}");
    assert!(!stdout.contains("Apply complete"), "{stdout}");
    // --json carries the same outcome for a machine.
    let output = velos.run(&["apply", file.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let crashy = json["ready"].as_array().unwrap().iter().find(|app| app["name"] == "crashy").unwrap();
    assert_eq!(crashy["readiness"], "crash_loop", "{json}");
    assert_eq!(crashy["last_exit"], "exit code 3", "{json}");
    assert!(
        crashy["stderr_tail"].as_array().unwrap().iter().any(|line| line == "boom: config missing"),
        "{json}"
    );
}

#[test]
fn a_job_that_completes_with_0_is_done_and_one_that_fails_fails_apply() {
    let velos = Velos::new();
    let job = |code: u8| {
        format!("command = \"/bin/sh\"\nargs = [\"-c\", \"echo migrating >&2; exit {code}\"]\nrestart = \"never\"")
    };
    let (_dir, file) = project(&velos, &[("migrate", &job(0)), ("web", SLEEPER)]);
    let (output, stdout, stderr) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Ready: migrate, web (2 apps)."), "{stdout}");

    let (_dir, file) = project(&velos, &[("migrate", &job(2)), ("web", SLEEPER)]);
    let (output, stdout, stderr) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("error: migrate is not ready: exited with exit code 2"), "{stderr}");
    assert!(stdout.contains("    | migrating"), "{stdout}");
}

#[test]
fn a_reapply_with_an_errored_app_is_not_no_changes_and_status_exits_1() {
    let velos = Velos::new();
    let errs = format!("{CRASHY}\nmax_restarts = 1");
    let (_dir, file) = project(&velos, &[("crashy", &errs), ("web", SLEEPER)]);
    let (output, stdout, _) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    velos.wait_status("crashy", "errored", Duration::from_secs(10));

    let (output, stdout, stderr) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stdout.contains("No changes:"), "{stdout}");
    assert!(stdout.contains("No changes to apply, but 1 of 2 apps is not ready."), "{stdout}");
    assert!(stdout.contains("crashy: errored"), "{stdout}");
    assert!(stderr.contains("velos restart crashy"), "the hint says what runs it again: {stderr}");

    let status = velos.run(&["status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(1), "{text}");
    assert!(text.contains("degraded") && text.contains("1/2") && text.contains("crashy (errored"), "{text}");
    assert!(String::from_utf8_lossy(&status.stderr)
        .contains("1 project is not synced and ready: rollout (degraded)"));
    let json = velos.run(&["status", "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json[0]["state"], "degraded");
    let readiness: Vec<(&str, &str)> = json[0]["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|app| (app["name"].as_str().unwrap(), app["readiness"].as_str().unwrap()))
        .collect();
    assert_eq!(readiness, [("crashy", "errored"), ("web", "ready")]);

    // Fixed by hand and started again: synced, exit 0.
    std::fs::write(file.clone(), std::fs::read_to_string(&file).unwrap().replace(CRASHY, SLEEPER)).unwrap();
    let (output, stdout, stderr) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    velos.ok(&["status"]);
}

#[test]
fn status_exits_1_when_a_project_is_out_of_sync() {
    let velos = Velos::new();
    let (_dir, file) = project(&velos, &[("web", SLEEPER)]);
    let (output, ..) = apply(&velos, &file);
    assert_eq!(output.status.code(), Some(0));
    velos.ok(&["status"]);
    velos.ok(&["stop", "web"]);
    // The file says running; stop edits the file, so the project stays synced: change it by hand instead.
    std::fs::write(&file, std::fs::read_to_string(&file).unwrap().replace("3600", "3601")).unwrap();
    let stderr = velos.fails(&["status"]);
    assert!(stderr.contains("rollout (out of sync)"), "{stderr}");
}

#[test]
fn an_app_not_ready_by_the_timeout_fails_apply_within_it() {
    let velos = Velos::new();
    let slow = "command = \"/bin/sleep\"\nargs = [\"3600\"]\nmin_uptime = \"30s\"";
    let (_dir, file) = project(&velos, &[("slow", slow)]);
    let began = Instant::now();
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "1s"]);
    let took = began.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "bounded by --timeout: {took:?}"
    );
    assert!(stderr.contains("error: slow is not ready: running, up "), "{stderr}");
    assert!(stderr.contains("of its min_uptime 30s"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("(timed_out)"));
    // --no-wait does not wait for readiness at all.
    std::fs::write(&file, std::fs::read_to_string(&file).unwrap().replace("3600", "3601")).unwrap();
    let began = Instant::now();
    velos.ok(&["apply", file.to_str().unwrap(), "--no-wait"]);
    assert!(began.elapsed() < Duration::from_secs(10));
}
