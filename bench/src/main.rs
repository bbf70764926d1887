//! `make bench`: runs the daemon-level scenarios of DESIGN §8 against the real `velos` binary, each in a
//! fresh temporary VELOS_HOME, and prints a table next to the targets.
//!
//! The binary is also its own workload, so no interpreter's start-up time pollutes a figure:
//! `velos-bench crasher FILE` appends "start NS" and "exit NS" (CLOCK_REALTIME) to FILE and exits 1;
//! `velos-bench writer N` writes N numbered lines of 100 bytes to stdout.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod api;
mod declarative;
mod gitops;
mod health;
mod logfiles;
mod logmine;
mod mcp;
mod monit;
mod rolling;
mod scale;
mod scenarios;

const LINE_BYTES: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("crasher") => crasher(Path::new(&args[2])),
        Some("writer") => writer(args[2].parse().expect("writer N")),
        _ => {
            let velos = match (args.get(1).map(String::as_str), args.get(2)) {
                (Some("--velos"), Some(path)) => PathBuf::from(path),
                _ => PathBuf::from("target/release/velos"),
            };
            let only = args.get(3).cloned();
            scenarios::run_all(&velos, only.as_deref());
        }
    }
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_nanos()).unwrap_or(0)
}

/// Lives 30 ms (past the bench's min_uptime, so every restart is a "first" restart, never backed off),
/// recording when it started and when it exits.
fn crasher(file: &Path) {
    let started = now_ns();
    std::thread::sleep(Duration::from_millis(30));
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(file).expect("crasher file");
    let exiting = now_ns();
    let _ = writeln!(out, "start {started}\nexit {exiting}");
    drop(out);
    std::process::exit(1);
}

/// N lines of exactly 100 bytes: a 10-digit sequence number, padding, newline.
fn writer(lines: u64) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let padding = "x".repeat(LINE_BYTES - 12);
    for number in 0..lines {
        let _ = writeln!(out, "{number:010} {padding}");
    }
    let _ = out.flush();
}

/// A temporary VELOS_HOME with its daemon; stopped on drop.
pub struct Home {
    dir: tempfile::TempDir,
    velos: PathBuf,
}

impl Home {
    pub fn new(velos: &Path) -> Home {
        let dir = tempfile::Builder::new().prefix("velos-bench-").tempdir_in("/tmp").expect("temp home");
        Home { dir, velos: velos.to_path_buf() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn velos(&self, args: &[&str]) -> String {
        let output = Command::new(&self.velos)
            .args(args)
            .env("VELOS_HOME", self.path())
            .stdin(Stdio::null())
            .output()
            .expect("run velos");
        assert!(output.status.success(), "velos {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn list(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.velos(&["list", "--json"])).expect("list --json")
    }

    /// `list --all --json`: Velos's own apps too (the controller).
    pub fn list_all(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.velos(&["list", "--all", "--json"])).expect("list --all --json")
    }

    pub fn daemon_pid(&self) -> u32 {
        std::fs::read_to_string(self.path().join("velos.pid")).expect("pid file").trim().parse().expect("pid")
    }

    /// Resident memory of the daemon, from /proc.
    pub fn daemon_rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.daemon_pid())).expect("status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse().ok())
            .expect("VmRSS");
        kib * 1024
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = Command::new(&self.velos)
            .arg("kill")
            .env("VELOS_HOME", self.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Polls until `condition` holds; None after `within`.
pub fn wait_for(within: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let began = Instant::now();
    while began.elapsed() < within {
        if condition() {
            return Some(began.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
