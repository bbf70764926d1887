//! The scenarios. Each prints one or more rows: scenario, Velos figure, target (DESIGN §8).
use crate::{median, wait_for, Home, LINE_BYTES};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Row {
    pub scenario: String,
    pub figure: String,
    pub target: &'static str,
}

pub fn run_all(velos: &Path, only: Option<&str>) {
    assert!(velos.exists(), "{} is missing: run `make build`", velos.display());
    let me = std::env::current_exe().expect("bench exe");
    let mut rows = Vec::new();
    let wanted = |name: &str| only.is_none_or(|only| only == name);
    if wanted("rss") {
        rows.extend(daemon_rss(velos));
    }
    if wanted("list") {
        rows.push(list_wall_time(velos));
    }
    if wanted("restart") {
        rows.push(exit_to_restart(velos, &me));
    }
    if wanted("logs") {
        rows.extend(million_lines(velos, &me));
    }
    if wanted("apply") {
        rows.extend(crate::declarative::apply_scenarios(velos));
    }
    if wanted("rolling") {
        rows.extend(crate::rolling::rolling_scenarios(velos));
    }
    if wanted("scale") {
        rows.extend(crate::scale::scale_scenarios(velos));
    }
    if wanted("controller") {
        rows.extend(crate::gitops::controller_scenarios(velos));
    }
    if wanted("mine") {
        rows.extend(crate::logmine::mining_scenarios(velos));
    }
    if wanted("logfiles") {
        rows.extend(crate::logfiles::log_file_scenarios(velos));
    }
    if wanted("monit") {
        rows.extend(crate::monit::monit_scenarios(velos));
    }
    if wanted("api") {
        rows.extend(crate::api::api_scenarios(velos));
    }
    if wanted("mcp") {
        rows.extend(crate::mcp::mcp_scenarios(velos));
    }
    if wanted("health") {
        rows.extend(crate::health::health_scenarios(velos));
    }
    print_table(&rows);
}

fn print_table(rows: &[Row]) {
    let width = rows.iter().map(|row| row.scenario.len()).max().unwrap_or(8).max(8);
    let figure_width = rows.iter().map(|row| row.figure.len()).max().unwrap_or(5).max(5);
    println!("\n{:width$}  {:figure_width$}  target", "scenario", "velos");
    println!("{}", "-".repeat(width + figure_width + 24));
    for row in rows {
        println!("{:width$}  {:figure_width$}  {}", row.scenario, row.figure, row.target);
    }
}

fn start_idle_apps(home: &Home, count: usize) {
    for index in 0..count {
        home.velos(&["start", "--name", &format!("idle-{index:03}"), "/bin/sleep", "3600"]);
    }
}

fn daemon_rss(velos: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let home = Home::new(velos);
    home.velos(&["daemon"]);
    let mut started = 0;
    for count in [0usize, 10, 100] {
        for index in started..count {
            home.velos(&["start", "--name", &format!("idle-{index:03}"), "/bin/sleep", "3600"]);
        }
        started = count;
        // Let a sampling tick or two pass so the figure includes the steady state, not just start-up.
        std::thread::sleep(Duration::from_millis(2100));
        let rss = home.daemon_rss_bytes() as f64 / (1024.0 * 1024.0);
        rows.push(Row {
            scenario: format!("daemon RSS, {count} idle apps"),
            figure: format!("{rss:.1} MiB"),
            target: if count == 100 { "<= 5 MiB (PM2 71.5, supervisord 21.1)" } else { "" },
        });
    }
    rows
}

fn list_wall_time(velos: &Path) -> Row {
    let home = Home::new(velos);
    start_idle_apps(&home, 100);
    let mut times = Vec::new();
    for _ in 0..30 {
        let began = Instant::now();
        let status = Command::new(velos)
            .arg("list")
            .env("VELOS_HOME", home.path())
            .stdout(Stdio::null())
            .status()
            .expect("velos list");
        times.push(began.elapsed().as_secs_f64() * 1000.0);
        assert!(status.success());
    }
    Row {
        scenario: "`velos list`, 100 apps (median of 30)".into(),
        figure: format!("{:.2} ms", median(times)),
        target: "<= 5 ms (PM2 241, supervisord 130)",
    }
}

fn exit_to_restart(velos: &Path, me: &Path) -> Row {
    let home = Home::new(velos);
    let record = home.path().join("crasher.times");
    let record_arg = record.display().to_string();
    let me_arg = me.display().to_string();
    home.velos(&[
        "start",
        "--name",
        "crasher",
        "--restart",
        "always",
        "--min-uptime",
        "10ms",
        "--max-restarts",
        "1000",
        "--restart-window",
        "1s",
        &me_arg,
        "crasher",
        &record_arg,
    ]);
    let samples = 40;
    let enough = wait_for(Duration::from_secs(20), || {
        std::fs::read_to_string(&record).map(|text| text.lines().count() > samples * 2 + 2).unwrap_or(false)
    });
    home.velos(&["stop", "crasher"]);
    assert!(enough.is_some(), "the crasher did not restart {samples} times");
    let text = std::fs::read_to_string(&record).expect("times");
    let events: Vec<(String, u128)> = text
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter_map(|(kind, ns)| Some((kind.to_string(), ns.parse().ok()?)))
        .collect();
    let gaps: Vec<f64> = events
        .windows(2)
        .filter(|pair| pair[0].0 == "exit" && pair[1].0 == "start")
        .map(|pair| (pair[1].1.saturating_sub(pair[0].1)) as f64 / 1e6)
        .collect();
    let max = gaps.iter().copied().fold(0.0, f64::max);
    Row {
        scenario: format!("crash: exit -> restarted (median, max of {})", gaps.len()),
        figure: format!("{:.2} ms, {max:.2} ms", median(gaps)),
        target: "<= 5 ms every time (PM2 9-24, supervisord 14-1000)",
    }
}

fn million_lines(velos: &Path, me: &Path) -> Vec<Row> {
    let lines: u64 = 1_000_000;
    let total_bytes = lines * LINE_BYTES as u64;
    let me_arg = me.display().to_string();

    // Baseline: the writer alone into a file.
    let scratch = tempfile::tempdir().expect("scratch");
    let file = std::fs::File::create(scratch.path().join("direct.log")).expect("direct file");
    let began = Instant::now();
    let status = Command::new(me).args(["writer", &lines.to_string()]).stdout(file).status().expect("writer");
    let alone = began.elapsed();
    assert!(status.success());

    let home = Home::new(velos);
    home.velos(&["daemon"]);
    let log = home.path().join("logs/chatty-out.log");
    // 100 MB in one file: above the default rotation (10 MiB x 5), so the file says so.
    let project = scratch.path().join("velos.toml");
    std::fs::write(
        &project,
        format!(
            "[apps.chatty]\ncommand = {me_arg:?}\nargs = [\"writer\", \"{lines}\"]\nrestart = \"never\"\nlog = {{ max_size = \"1G\" }}\n"
        ),
    )
    .expect("velos.toml");
    let project_arg = project.display().to_string();
    let began = Instant::now();
    home.velos(&["apply", &project_arg, "--no-wait"]);
    let done = wait_for(Duration::from_secs(60), || {
        std::fs::metadata(&log).map(|meta| meta.len() >= total_bytes).unwrap_or(false)
    });
    let through_velos = began.elapsed();
    let (lost, duplicated) = count_lost_and_duplicated(&log, lines);
    vec![
        Row {
            scenario: "1M lines x 100 B: all in the log file".into(),
            figure: match done {
                Some(_) => format!("{:.3} s", through_velos.as_secs_f64()),
                None => "timed out".into(),
            },
            target: "<= 0.45 s (PM2 1.03, supervisord 0.50)",
        },
        Row {
            scenario: "1M lines: lost, duplicated".into(),
            figure: format!("{lost}, {duplicated}"),
            target: "0, 0 ever",
        },
        Row {
            scenario: "1M lines: the writer alone into a file".into(),
            figure: format!("{:.3} s", alone.as_secs_f64()),
            target: "(baseline)",
        },
    ]
}

fn count_lost_and_duplicated(log: &Path, lines: u64) -> (u64, u64) {
    let mut seen = vec![0u8; lines as usize];
    let mut duplicated = 0;
    if let Ok(file) = std::fs::File::open(log) {
        for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
            let Some(number) = line.get(..10).and_then(|digits| digits.parse::<usize>().ok()) else {
                continue;
            };
            if number < seen.len() {
                if seen[number] > 0 {
                    duplicated += 1;
                }
                seen[number] = 1;
            }
        }
    }
    let lost = seen.iter().filter(|flag| **flag == 0).count() as u64;
    (lost, duplicated)
}
