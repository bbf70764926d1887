//! The daemon's life: auto-start, ping, one daemon per home, 100 apps, kill, and a crash of the daemon
//! itself with its table restored and no duplicate process.
#![allow(clippy::unwrap_used)]
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use velos_e2e::{process_alive, signal, wait_until, Velos};

#[test]
fn reads_never_start_the_daemon_and_velos_daemon_does_with_a_private_socket() {
    let velos = Velos::new();
    let stderr = velos.fails(&["list"]);
    assert!(stderr.contains("the velos daemon is not running"), "{stderr}");
    assert!(stderr.contains("hint: velos daemon starts it"), "{stderr}");
    assert!(velos.daemon_pid().is_none(), "list must not start a daemon");
    velos.ok(&["daemon"]);
    assert!(velos.list().is_empty());
    let pid = velos.daemon_pid().expect("velos.pid written");
    assert!(process_alive(pid));

    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(velos.home()), 0o700, "VELOS_HOME must be private");
    assert_eq!(mode(&velos.home().join("velos.sock")), 0o600, "the socket must be private");

    let ping = velos.ok(&["ping"]);
    assert!(ping.contains(&pid.to_string()), "ping names the daemon pid: {ping}");
}

#[test]
fn ping_without_a_daemon_fails_with_a_hint() {
    let velos = Velos::new();
    let stderr = velos.fails(&["ping"]);
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(stderr.contains("hint:") && stderr.contains("velos daemon"), "{stderr}");
    assert!(velos.daemon_pid().is_none(), "ping must not start a daemon");
}

#[test]
fn a_second_daemon_on_the_same_home_is_refused_naming_the_holder() {
    let velos = Velos::new();
    velos.ok(&["daemon"]);
    let pid = velos.daemon_pid().unwrap();
    let stderr = velos.fails(&["daemon", "--foreground"]);
    assert!(stderr.contains("already running") && stderr.contains(&pid.to_string()), "{stderr}");
    assert!(process_alive(pid), "the first daemon must be unharmed");
    velos.ok(&["ping"]);
}

#[test]
fn the_auto_start_command_line_is_refused_the_same_way() {
    // `daemon --foreground --detached` is what the client runs; it skips clap, so it gets its own test.
    let velos = Velos::new();
    velos.ok(&["daemon"]);
    let pid = velos.daemon_pid().unwrap();
    let stderr = velos.fails(&["daemon", "--foreground", "--detached"]);
    assert!(stderr.contains("already running") && stderr.contains(&pid.to_string()), "{stderr}");
    assert!(process_alive(pid));
}

#[test]
fn hundred_apps_are_started_and_listed() {
    let velos = Velos::new();
    for index in 0..100 {
        velos.start(&format!("app-{index:03}"), &["/bin/sleep", "3600"], &[]);
    }
    let apps = velos.list();
    assert_eq!(apps.len(), 100);
    let mut pids = std::collections::HashSet::new();
    for (index, app) in apps.iter().enumerate() {
        assert_eq!(app["name"], format!("app-{index:03}"), "sorted by name");
        assert_eq!(app["status"], "running");
        let pid = app["pid"].as_u64().unwrap();
        assert!(pid > 0 && process_alive(pid as i32));
        assert!(pids.insert(pid));
        for key in ["restarts", "cpu", "memory", "uptime_ms"] {
            assert!(app[key].is_number(), "{key} is a number in {app}");
        }
    }
    assert_eq!(velos.app_processes().len(), 100);

    let ai: serde_json::Value = serde_json::from_str(&velos.ok(&["list", "--ai"])).unwrap();
    let first = &ai[0];
    assert_eq!(first["n"], "app-000");
    assert_eq!(first["s"], "running");
    for key in ["c", "m", "r", "u"] {
        assert!(first[key].is_number(), "--ai key {key} in {first}");
    }
}

#[test]
fn kill_stops_every_app_and_the_daemon() {
    let velos = Velos::new();
    for name in ["one", "two", "three"] {
        velos.start(name, &["/bin/sleep", "3600"], &[]);
    }
    let daemon = velos.daemon_pid().unwrap();
    velos.ok(&["kill"]);
    assert!(!process_alive(daemon), "the daemon is gone when kill returns");
    assert!(!velos.home().join("velos.sock").exists());
    velos.assert_no_app_processes(Duration::ZERO);
}

#[test]
fn a_daemon_killed_with_sigkill_restores_its_table_without_duplicates() {
    let velos = Velos::new();
    for name in ["alpha", "beta", "gamma"] {
        velos.start(name, &["/bin/sleep", "3600"], &[]);
    }
    velos.start("stopped-one", &["/bin/sleep", "3600"], &[]);
    velos.ok(&["stop", "stopped-one"]);
    let old_pids: Vec<u32> = ["alpha", "beta", "gamma"].iter().map(|name| velos.pid(name)).collect();
    let daemon = velos.daemon_pid().unwrap();

    signal(daemon, "KILL");
    wait_until(Duration::from_secs(5), "the daemon to die", || !process_alive(daemon));

    // A read does not start a new daemon: it says what the state file holds and how to bring it back.
    let stderr = velos.fails(&["list"]);
    assert!(stderr.contains("its state file holds 4 apps (3 to run): velos resurrect"), "{stderr}");
    // `velos resurrect` starts a new daemon, which must kill the old children and start the apps again.
    let said = velos.ok(&["resurrect"]);
    assert!(said.contains("with 4 apps"), "{said}");
    let apps = velos.list();
    assert_eq!(apps.len(), 4, "{apps:?}");
    for name in ["alpha", "beta", "gamma"] {
        let app = velos.wait_status(name, "running", Duration::from_secs(5));
        let pid = app["pid"].as_u64().unwrap() as u32;
        assert!(!old_pids.contains(&pid), "{name} runs as a new process");
    }
    assert_eq!(velos.status("stopped-one"), "stopped", "a stopped app stays stopped");
    for pid in old_pids {
        assert!(!process_alive(pid as i32), "old child {pid} must be gone");
    }
    assert_eq!(velos.app_processes().len(), 3, "exactly one process per running app");
}
