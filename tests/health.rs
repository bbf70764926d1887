//! Health checks end to end: real apps serving real HTTP and TCP on loopback, the real binary and daemon.
//! Readiness gates apply; a readiness that never passes fails it naming the check.
#![allow(clippy::unwrap_used)]
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use velos_e2e::{repository, wait_until, Velos};

/// A velos.toml in its own folder: `apps` are `[apps.NAME]` blocks, each given the test marker.
fn project(velos: &Velos, apps: &[(&str, String)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("health-").tempdir_in("/tmp").unwrap();
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let mut text = String::from("[project]\nname = \"health\"\n\n");
    for (name, body) in apps {
        text.push_str(&format!("[apps.{name}]\n{body}\nenv = {{ {key} = \"{value}\" }}\n\n"));
    }
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `command` and `args` of tests/python/health_server.py in `mode`.
fn server(mode: &str, port: u16, file: &Path) -> String {
    let script = repository().join("tests/python/health_server.py");
    format!(
        "command = \"/usr/bin/python3\"\nargs = [\"-u\", \"{}\", \"{mode}\", \"{port}\", \"{}\"]",
        script.display(),
        file.display()
    )
}

/// Whether `name` runs; false while apply is still starting the daemon.
fn running(velos: &Velos, name: &str) -> bool {
    let output = velos.run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    list.as_array().into_iter().flatten().any(|app| app["name"] == name && app["status"] == "running")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn apply_waits_for_an_http_readiness_check_then_exits_0() {
    let velos = Velos::new();
    let port = free_port();
    let flags = tempfile::Builder::new().prefix("health-flags-").tempdir_in("/tmp").unwrap();
    let ready = flags.path().join("ready");
    let body = format!(
        "{}\nreadiness = {{ http = \"http://127.0.0.1:{port}/health\", body = \"^ok$\", interval = \"200ms\", failure_threshold = 100 }}",
        server("http", port, &ready)
    );
    let (_dir, file) = project(&velos, &[("web", body)]);
    let mut command = velos.command();
    command.args(["apply", file.to_str().unwrap(), "--timeout", "60s"]);
    let mut apply = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // The app runs and answers 503: apply must still be waiting.
    wait_until(Duration::from_secs(20), "web to run", || running(&velos, "web"));
    std::thread::sleep(Duration::from_millis(1_500)); // several probe intervals, all failing
    assert!(apply.try_wait().unwrap().is_none(), "apply returned before the check passed");
    let created = Instant::now();
    std::fs::write(&ready, "").unwrap();
    let output = apply.wait_with_output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(created.elapsed() < Duration::from_secs(10), "apply noticed the pass promptly");
    assert!(stdout.contains("Ready: web (1 app)."), "{stdout}");
    // The check rides as a label; the daemon stores it as it is.
    let info = velos.ok(&["info", "web", "--json"]);
    assert!(info.contains("velos.readiness"), "{info}");
}

#[test]
fn a_readiness_check_that_never_passes_fails_apply_naming_the_check() {
    let velos = Velos::new();
    let port = free_port();
    let never = Path::new("/nonexistent/ready");
    let body = format!(
        "{}\nreadiness = {{ http = \"http://127.0.0.1:{port}/health\", interval = \"200ms\", initial_delay = \"300ms\", failure_threshold = 3 }}",
        server("http", port, never)
    );
    let (_dir, file) = project(&velos, &[("web", body)]);
    let began = Instant::now();
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "60s"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let check = format!("readiness http http://127.0.0.1:{port}/health every 200ms, initial_delay 300ms");
    assert!(
        stderr.contains(&format!("error: web is not ready: {check} failed 3 times in a row: HTTP 503")),
        "{stderr}"
    );
    assert!(stdout.contains("(unhealthy)"), "{stdout}");
    assert!(began.elapsed() < Duration::from_secs(30), "failed by the threshold, not the timeout");
    // The process itself runs: readiness never restarts an app.
    assert_eq!(velos.status("web"), "running");
    // The controller's prober keeps finding it failing: status says degraded, naming the check.
    wait_until(Duration::from_secs(20), "status to show web unhealthy", || {
        let status = velos.project_status("health");
        status["state"] == "degraded" && status["apps"][0]["readiness"] == "unhealthy"
    });
    let status = velos.project_status("health");
    let reason = status["apps"][0]["reason"].as_str().unwrap().to_string();
    assert!(reason.starts_with(&format!("{check} failed ")) && reason.contains("HTTP 503"), "{reason}");
    assert_eq!(velos.run(&["status"]).status.code(), Some(1), "status is a CI gate");
    let json = velos.run(&["apply", file.to_str().unwrap(), "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let web = json["ready"].as_array().unwrap().iter().find(|app| app["name"] == "web").unwrap().clone();
    assert_eq!(web["readiness"], "unhealthy", "{json}");
}

#[test]
fn a_dependent_starts_only_after_its_dependency_became_healthy() {
    let velos = Velos::new();
    let port = free_port();
    let flags = tempfile::Builder::new().prefix("health-flags-").tempdir_in("/tmp").unwrap();
    let (ready, started) = (flags.path().join("ready"), flags.path().join("web-started"));
    let db = format!(
        "{}\nreadiness = {{ http = \"http://127.0.0.1:{port}/health\", interval = \"200ms\", failure_threshold = 100 }}",
        server("http", port, &ready)
    );
    let web = format!(
        "command = \"/bin/sh\"\nargs = [\"-c\", \"touch {}; exec sleep 3600\"]\nmin_uptime = \"200ms\"\ndepends_on = {{ db = \"healthy\" }}",
        started.display()
    );
    let (_dir, file) = project(&velos, &[("db", db), ("web", web)]);
    let mut command = velos.command();
    command.args(["apply", file.to_str().unwrap(), "--timeout", "60s"]);
    let apply = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_until(Duration::from_secs(20), "db to run", || running(&velos, "db"));
    std::thread::sleep(Duration::from_millis(1_000)); // db runs but is not healthy: web must wait
    assert!(!started.exists(), "web started before db was healthy");
    assert!(!running(&velos, "web"));
    std::fs::write(&ready, "").unwrap();
    let output = apply.wait_with_output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(started.exists(), "web ran once db was healthy");
    assert!(stdout.contains("Ready: db, web (2 apps)."), "{stdout}");
}

/// `migrate` (a job ending with `code` after a moment) and `web`, which refuses to run without its output.
fn migration(velos: &Velos, code: i32) -> ([tempfile::TempDir; 2], PathBuf) {
    let flags = tempfile::Builder::new().prefix("health-flags-").tempdir_in("/tmp").unwrap();
    let migrated = flags.path().join("migrated");
    let migrate = format!(
        "command = \"/bin/sh\"\nargs = [\"-c\", \"sleep 0.5; touch {}; exit {code}\"]\nrestart = \"never\"",
        migrated.display()
    );
    let web = format!(
        "command = \"/bin/sh\"\nargs = [\"-c\", \"test -f {} && exec sleep 3600\"]\nmin_uptime = \"200ms\"\ndepends_on = {{ migrate = \"completed_successfully\" }}",
        migrated.display()
    );
    let (dir, file) = project(velos, &[("migrate", migrate), ("web", web)]);
    ([dir, flags], file)
}

#[test]
fn a_dependent_of_a_migration_starts_after_it_completed_successfully() {
    let velos = Velos::new();
    let (_dir, file) = migration(&velos, 0);
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "60s"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(velos.status("web"), "running", "web found the migration's output");
    assert_eq!(velos.status("migrate"), "completed");
}

#[test]
fn a_failed_migration_stops_its_dependent_and_apply_exits_1_naming_both() {
    let velos = Velos::new();
    let (_dir, file) = migration(&velos, 3);
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "60s"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let both = format!("{stdout}\n{stderr}");
    assert!(both.contains("migrate did not complete successfully: exited with exit code 3"), "{both}");
    assert!(
        stderr.contains("hint: web was not started: migrate did not complete successfully"),
        "the hint names both: {stderr}"
    );
    assert!(velos.app("web").is_none(), "web was never created");
}

#[test]
fn a_server_that_stops_accepting_is_restarted_by_liveness_and_it_is_recorded() {
    let velos = Velos::new();
    let port = free_port();
    let flags = tempfile::Builder::new().prefix("health-flags-").tempdir_in("/tmp").unwrap();
    let stop = flags.path().join("stop");
    let body = format!(
        "{}\nliveness = {{ tcp = \"127.0.0.1:{port}\", interval = \"200ms\", timeout = \"200ms\", failure_threshold = 2 }}",
        server("tcp", port, &stop)
    );
    let (_dir, file) = project(&velos, &[("web", body)]);
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "60s"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    // A liveness check asks for the controller, which runs the prober.
    let all = velos.ok(&["list", "--all", "--json"]);
    assert!(all.contains("velos-controller"), "{all}");
    let state_file = velos.home().join("health/state.json");
    let state = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap_or_default()).unwrap_or_default()
    };
    wait_until(Duration::from_secs(20), "the prober to find web healthy", || {
        state()["instances"]["web"]["liveness"]["health"] == "healthy"
    });
    let first_pid = velos.pid("web");
    // The server stops accepting but stays alive: only liveness can notice.
    std::fs::write(&stop, "").unwrap();
    wait_until(Duration::from_secs(20), "web to be restarted by liveness", || {
        velos.pid("web") != first_pid && running(&velos, "web")
    });
    let web = &state()["instances"]["web"];
    assert_eq!(web["liveness_restarts"], 1, "{web}");
    assert!(web["last_liveness_restart_unix_ms"].as_u64().is_some(), "{web}");
    // The restarted server accepts again (it removed the stop file): healthy, and no second restart.
    wait_until(Duration::from_secs(20), "the new run to be healthy", || {
        let web = &state()["instances"]["web"];
        web["liveness"]["health"] == "healthy" && web["pid"] == velos.pid("web")
    });
    assert_eq!(state()["instances"]["web"]["liveness_restarts"], 1);
    // Every face reads the one state: list (a HEALTH column, and --json), info, status.
    let table = velos.ok(&["list"]);
    assert!(table.lines().next().unwrap().contains("HEALTH"), "{table}");
    assert!(table.lines().any(|line| line.starts_with("web") && line.contains("healthy")), "{table}");
    let listed = velos.app("web").unwrap();
    assert_eq!(listed["health"]["health"], "healthy", "{listed}");
    assert_eq!(listed["health"]["liveness_restarts"], 1, "{listed}");
    let info = velos.ok(&["info", "web"]);
    assert!(info.contains("restarted by liveness  1 time, last at "), "{info}");
    assert!(info.contains(&format!("healthy (tcp 127.0.0.1:{port} every 200ms")), "{info}");
    let status = velos.project_status("health");
    assert_eq!(status["apps"][0]["health"], "healthy", "{status}");
    let controller_log =
        std::fs::read_to_string(velos.log_path("velos-controller", "err")).unwrap_or_default();
    assert!(
        controller_log.contains(&format!("restarted web: liveness tcp 127.0.0.1:{port}")),
        "{controller_log}"
    );
}

#[test]
fn exec_and_log_readiness_checks_gate_apply_too() {
    let velos = Velos::new();
    let flags = tempfile::Builder::new().prefix("health-flags-").tempdir_in("/tmp").unwrap();
    let warm = flags.path().join("warm");
    // Ready once a file it writes after a moment exists: an exec check, no shell in the check itself.
    let cache = format!(
        "command = \"/bin/sh\"\nargs = [\"-c\", \"sleep 0.7; touch {}; exec sleep 3600\"]\nmin_uptime = \"0ms\"\nreadiness = {{ exec = [\"test\", \"-f\", \"{}\"], interval = \"100ms\", failure_threshold = 100 }}",
        warm.display(),
        warm.display()
    );
    // Ready once it says so on stdout, right at start: the line must not be missed.
    let worker = "command = \"/bin/sh\"\nargs = [\"-c\", \"echo 'worker ready'; exec sleep 3600\"]\nmin_uptime = \"0ms\"\nreadiness = { log = \"^worker ready$\", interval = \"100ms\", failure_threshold = 100 }".to_string();
    let (_dir, file) = project(&velos, &[("cache", cache), ("worker", worker)]);
    let began = Instant::now();
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "30s"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(warm.exists());
    assert!(
        began.elapsed() >= Duration::from_millis(700),
        "waited for the exec check: {:?}",
        began.elapsed()
    );
    assert!(stdout.contains("Ready: cache, worker (2 apps)."), "{stdout}");
    // The controller's prober, started after the worker wrote its line, still finds it (in the recent
    // output), and keeps finding it ready.
    wait_until(Duration::from_secs(20), "the prober to find both ready", || {
        let listed = velos.list();
        let health = |name: &str| {
            listed.iter().find(|app| app["name"] == name).map(|app| app["health"]["health"].clone())
        };
        health("worker") == Some("healthy".into()) && health("cache") == Some("healthy".into())
    });

    // A log check that never sees its line fails apply, naming the pattern.
    let velos = Velos::new();
    let silent = "command = \"/bin/sleep\"\nargs = [\"3600\"]\nreadiness = { log = \"^listening\", interval = \"100ms\", failure_threshold = 3 }".to_string();
    let (_dir, file) = project(&velos, &[("silent", silent)]);
    let output = velos.run(&["apply", file.to_str().unwrap(), "--timeout", "30s"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("error: silent is not ready: readiness log \"^listening\" every 100ms failed 3 times in a row: no line matching \"^listening\" yet"), "{stderr}");
}
