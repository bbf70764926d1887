//! `velos monit` with 100 apps at the default refresh: its own CPU and memory, and what it costs the
//! daemon. Run in a real terminal (tmux); CPU from /proc/PID/stat (utime + stime) over a window.
use crate::scenarios::Row;
use crate::{wait_for, Home};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const APPS: usize = 100;
/// Each measured window; long against the 1 s refresh so the tick's cost is averaged.
const WINDOW: Duration = Duration::from_secs(30);

pub fn monit_scenarios(velos: &Path) -> Vec<Row> {
    if Command::new("tmux").arg("-V").stdout(Stdio::null()).status().is_err() {
        return vec![skipped("tmux is missing (make test-deps)")];
    }
    let home = Home::new(velos);
    let mut file = String::new();
    for index in 0..APPS {
        file.push_str(&format!("[apps.idle-{index:03}]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n"));
    }
    let config = home.path().join("velos.toml");
    std::fs::write(&config, file).expect("velos.toml");
    home.velos(&["apply", &config.to_string_lossy()]);
    let daemon = home.daemon_pid();
    std::thread::sleep(Duration::from_secs(2)); // the first samples after the starts
    let daemon_alone = cpu_percent(daemon, WINDOW);

    let socket = home.path().join("tmux.sock");
    let tmux = |args: &[&str]| {
        Command::new("tmux").arg("-S").arg(&socket).args(args).env_remove("TMUX").output().expect("tmux")
    };
    let command = format!("exec env VELOS_HOME={} {} monit", home.path().display(), velos.display());
    assert!(tmux(&["new-session", "-d", "-x", "160", "-y", "50", &command]).status.success());
    let pane = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p"]).stdout).into_owned();
    let shown = wait_for(Duration::from_secs(10), || pane().contains("100 apps"));
    let monit: u32 = String::from_utf8_lossy(&tmux(&["display-message", "-p", "#{pane_pid}"]).stdout)
        .trim()
        .parse()
        .expect("the pane's pid");
    let rows = if shown.is_none() {
        vec![skipped("monit never showed the 100 apps")]
    } else {
        std::thread::sleep(Duration::from_secs(2));
        let began = Instant::now();
        let (monit_cpu, daemon_cpu) = cpu_percent_pair(monit, daemon, WINDOW);
        let measured = began.elapsed().as_secs();
        let rss = status_kib(monit, "VmHWM:") as f64 / 1024.0;
        vec![
            Row {
                scenario: format!("velos monit, {APPS} apps, 1 s refresh: its CPU, peak RSS"),
                figure: format!("{monit_cpu:.2} % of a core, {rss:.1} MiB ({measured} s)"),
                target: "<= 2 % of a core, <= 20 MiB",
            },
            Row {
                scenario: "daemon CPU per monit client".into(),
                figure: format!(
                    "{:.3} % of a core ({daemon_cpu:.3} with, {daemon_alone:.3} without)",
                    daemon_cpu - daemon_alone
                ),
                target: "<= 0.2 % of a core",
            },
        ]
    };
    let _ = tmux(&["kill-server"]);
    rows
}

fn skipped(why: &str) -> Row {
    Row { scenario: "velos monit".into(), figure: format!("skipped: {why}"), target: "" }
}

fn clock_ticks_per_second() -> f64 {
    let output = Command::new("getconf").arg("CLK_TCK").output();
    output
        .ok()
        .and_then(|output| String::from_utf8_lossy(&output.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    let field =
        |number: usize| fields.get(number - 3).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    field(14) + field(15)
}

fn cpu_percent(pid: u32, window: Duration) -> f64 {
    cpu_percent_pair(pid, pid, window).0
}

pub(crate) fn cpu_percent_pair(first: u32, second: u32, window: Duration) -> (f64, f64) {
    let (first_before, second_before) = (cpu_ticks(first), cpu_ticks(second));
    let began = Instant::now();
    std::thread::sleep(window);
    let seconds = began.elapsed().as_secs_f64();
    let percent = |ticks: u64| ticks as f64 / clock_ticks_per_second() / seconds * 100.0;
    (percent(cpu_ticks(first) - first_before), percent(cpu_ticks(second) - second_before))
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}
