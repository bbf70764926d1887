//! The declarative scenarios: `velos apply` from nothing, unchanged, and with one app changed.
use crate::scenarios::Row;
use crate::{median, Home};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A velos.toml of `count` sleeping apps; `port_of` sets app 0's PORT (the one the change scenario edits).
/// `min_uptime = "0ms"`: apply waits until each app is ready, which is running for its min_uptime; the
/// scenarios time "until running", as PM2 and supervisord are timed, not the apps' own settling time.
fn config(count: usize, port_of_first: u32) -> String {
    let mut text = String::from("[project]\nname = \"bench\"\n\n");
    for index in 0..count {
        let port = if index == 0 { port_of_first } else { 9000 };
        text.push_str(&format!(
            "[apps.app-{index:04}]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nmin_uptime = \"0ms\"\nenv = {{ PORT = \"{port}\" }}\n\n"
        ));
    }
    text
}

/// Wall time of one `velos apply FILE` (it waits until the apps run), asserting success.
fn timed_apply(home: &Home, velos: &Path, file: &Path) -> Duration {
    let began = Instant::now();
    let output = Command::new(velos)
        .arg("apply")
        .arg(file)
        .env("VELOS_HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .expect("velos apply");
    let took = began.elapsed();
    assert!(output.status.success(), "velos apply: {}", String::from_utf8_lossy(&output.stderr));
    took
}

fn pids(home: &Home) -> Vec<u64> {
    home.list().iter().map(|app| app["pid"].as_u64().unwrap_or(0)).collect()
}

pub fn apply_scenarios(velos: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for count in [100usize, 1000] {
        let home = Home::new(velos);
        home.velos(&["daemon"]);
        let file = home.path().join("velos.toml");
        std::fs::write(&file, config(count, 8080)).expect("write config");

        let from_nothing = timed_apply(&home, velos, &file);
        assert!(home.list().iter().all(|app| app["status"] == "running"), "all {count} running");
        if count == 100 {
            rows.push(Row {
                scenario: "apply 100 apps from nothing until all running".into(),
                figure: format!("{:.0} ms", from_nothing.as_secs_f64() * 1000.0),
                target: "<= 250 ms (PM2 802, supervisord 567)",
            });
        }

        let before = pids(&home);
        let noop: Vec<f64> =
            (0..10).map(|_| timed_apply(&home, velos, &file).as_secs_f64() * 1000.0).collect();
        let restarted = before.iter().zip(pids(&home)).filter(|(old, new)| **old != *new).count();
        rows.push(Row {
            scenario: format!("re-apply unchanged, {count} apps (median of 10)"),
            figure: format!("{:.1} ms, {restarted} restarted", median(noop)),
            target: if count == 100 {
                "<= 20 ms, none restarted (PM2 7003 all, supervisord 132)"
            } else {
                "<= 100 ms, none restarted"
            },
        });

        if count == 100 {
            std::fs::write(&file, config(count, 8081)).expect("write changed config");
            let changed = timed_apply(&home, velos, &file);
            let after = pids(&home);
            let touched = before.iter().zip(&after).filter(|(old, new)| *old != *new).count();
            let environ = std::fs::read(format!("/proc/{}/environ", after[0])).unwrap_or_default();
            let has_new_value = environ.split(|byte| *byte == 0).any(|entry| entry == b"PORT=8081");
            rows.push(Row {
                scenario: "change one app's env of 100, until it runs with it".into(),
                figure: format!(
                    "{:.1} ms, {} untouched{}",
                    changed.as_secs_f64() * 1000.0,
                    count - touched,
                    if has_new_value { "" } else { " (NEW VALUE NOT SEEN)" }
                ),
                target: "<= 100 ms + the app's start, 99 untouched (PM2 7.2 s, supervisord 1.14 s)",
            });
        }
    }
    rows
}
