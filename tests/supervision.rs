//! Supervision: restart after a kill, crash loops, stop with a kill timeout, process groups, environment.
#![allow(clippy::unwrap_used)]
use std::time::{Duration, Instant};
use velos_e2e::{environ_of, process_alive, signal, wait_until, Velos};

#[test]
fn an_app_killed_with_sigkill_is_restarted() {
    let velos = Velos::new();
    velos.start("worker", &["/bin/sleep", "3600"], &["--restart", "always"]);
    let first = velos.pid("worker");
    signal(first as i32, "KILL");
    wait_until(Duration::from_secs(5), "a new worker process", || {
        let app = velos.app("worker").unwrap();
        app["status"] == "running" && app["pid"].as_u64().unwrap() as u32 != first
    });
    let app = velos.app("worker").unwrap();
    assert_eq!(app["restarts"], 1);
    assert!(process_alive(app["pid"].as_u64().unwrap() as i32));
}

#[test]
fn on_failure_does_not_restart_a_clean_exit() {
    let velos = Velos::new();
    velos.start("once", &["/bin/sh", "-c", "exit 0"], &["--restart", "on-failure"]);
    let app = velos.wait_status("once", "completed", Duration::from_secs(5));
    assert_eq!(app["restarts"], 0);
    assert_eq!(app["exit_code"], 0);
}

#[test]
fn a_crash_loop_ends_in_errored_once_the_restart_budget_is_spent() {
    let velos = Velos::new();
    velos.start(
        "crasher",
        &["/bin/sh", "-c", "exit 3"],
        &["--restart", "always", "--max-restarts", "3", "--backoff-initial", "10ms", "--backoff-max", "40ms"],
    );
    let app = velos.wait_status("crasher", "errored", Duration::from_secs(10));
    assert_eq!(app["restarts"], 3, "{app}");
    assert_eq!(app["exit_code"], 3);
    let reason = app["last_error"].as_str().unwrap_or_default();
    assert!(!reason.is_empty(), "errored says why: {app}");
    // It stays errored: no restart after the budget is spent.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(velos.app("crasher").unwrap()["restarts"], 3);
}

#[test]
fn an_app_ignoring_sigterm_is_killed_after_its_timeout() {
    let velos = Velos::new();
    velos.start(
        "stubborn",
        &["/bin/sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"],
        &["--kill-timeout", "700ms"],
    );
    velos.wait_status("stubborn", "running", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(100)); // let the shell install its trap
    let began = Instant::now();
    velos.ok(&["stop", "stubborn"]);
    let took = began.elapsed();
    assert_eq!(velos.status("stubborn"), "stopped");
    assert!(took >= Duration::from_millis(600), "SIGKILL came too early: {took:?}");
    assert!(took < Duration::from_secs(4), "SIGKILL came too late: {took:?}");
    velos.assert_no_app_processes(Duration::from_millis(500));
}

#[test]
fn grandchildren_are_gone_after_stop() {
    let velos = Velos::new();
    velos.start(
        "family",
        &["/bin/sh", "-c", "sleep 3600 & sleep 3600 & sleep 3600"],
        &["--restart", "never"],
    );
    wait_until(Duration::from_secs(5), "three grandchildren", || velos.app_processes().len() >= 3);
    velos.ok(&["stop", "family"]);
    velos.assert_no_app_processes(Duration::from_millis(500));
}

#[test]
fn grandchildren_are_gone_after_kill() {
    let velos = Velos::new();
    velos.start("family", &["/bin/sh", "-c", "sleep 3600 & sleep 3600 & wait"], &[]);
    wait_until(Duration::from_secs(5), "the shell and two grandchildren", || {
        velos.app_processes().len() >= 3
    });
    velos.ok(&["kill"]);
    velos.assert_no_app_processes(Duration::from_millis(500));
}

#[test]
fn restart_gives_a_new_process_and_stop_keeps_it_stopped() {
    let velos = Velos::new();
    velos.start("web", &["/bin/sleep", "3600"], &[]);
    let first = velos.pid("web");
    velos.ok(&["restart", "web"]);
    let second = velos.wait_status("web", "running", Duration::from_secs(5))["pid"].as_u64().unwrap() as u32;
    assert_ne!(first, second);
    assert!(!process_alive(first as i32));

    velos.ok(&["stop", "web"]);
    assert_eq!(velos.status("web"), "stopped");
    assert_eq!(velos.pid("web"), 0);
    velos.ok(&["start", "web"]); // PM2 habit: start an existing app by name
    velos.wait_status("web", "running", Duration::from_secs(5));

    velos.ok(&["delete", "web"]);
    assert!(velos.app("web").is_none());
    velos.assert_no_app_processes(Duration::from_millis(500));
}

#[test]
fn the_app_gets_exactly_the_environment_and_cwd_it_was_given() {
    let velos = Velos::new();
    let cwd = tempfile::tempdir().unwrap();
    let cwd_arg = cwd.path().display().to_string();
    velos.start("envy", &["/bin/sleep", "3600"], &["--env", "PORT=8081", "--cwd", &cwd_arg]);
    let pid = velos.pid("envy");
    let environ = environ_of(pid);
    assert!(environ.contains(&"PORT=8081".to_string()), "{environ:?}");
    assert!(!environ.iter().any(|entry| entry.starts_with("VELOS_HOME=")), "daemon env leaked: {environ:?}");
    let actual_cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(actual_cwd, cwd.path().canonicalize().unwrap());
}

#[test]
fn info_shows_one_app() {
    let velos = Velos::new();
    velos.start("solo", &["/bin/sleep", "3600"], &[]);
    let info: serde_json::Value = serde_json::from_str(&velos.ok(&["info", "solo", "--json"])).unwrap();
    assert_eq!(info["name"], "solo");
    assert_eq!(info["status"], "running");
    assert_eq!(info["pid"].as_u64().unwrap() as u32, velos.pid("solo"));
    let human = velos.ok(&["info", "solo"]);
    assert!(human.contains("solo") && human.contains("/bin/sleep"), "{human}");
}
