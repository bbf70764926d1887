//! Harness for the end-to-end tests: each `Velos` owns a fresh temporary `VELOS_HOME`, runs the real `velos`
//! binary against the real daemon it auto-starts there, and on drop stops that daemon and kills anything it
//! left behind (then the test that left it fails, because `assert_no_app_processes` would have caught it).
//!
//! Every app started through `Velos::start` carries `VELOS_E2E_MARK=<home>` in its environment; children and
//! grandchildren inherit it, so `app_processes()` finds every process a test created by scanning
//! `/proc/*/environ` — the ground truth for "no orphan left behind".
#![allow(clippy::unwrap_used)] // test harness: a failed unwrap is a failed test
pub mod api;
pub mod git;
pub mod otlp;
pub mod python;

pub use python::{python_script as python, repository_root as repository};

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `velos` binary under test: `VELOS_BIN`, else `target/{release,debug}/velos` next to this test.
pub fn velos_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("VELOS_BIN") {
        return PathBuf::from(path);
    }
    // target/<profile>/deps/<test-binary> → target/<profile>/velos
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let candidate = profile_dir.join("velos");
    assert!(candidate.exists(), "{} is missing: run `make build` or set VELOS_BIN", candidate.display());
    candidate
}

pub struct Velos {
    home: tempfile::TempDir,
    bin: PathBuf,
}

impl Default for Velos {
    fn default() -> Self {
        Self::new()
    }
}

impl Velos {
    pub fn new() -> Self {
        // Short path: the socket path must fit in sun_path (108 bytes).
        let home = tempfile::Builder::new().prefix("velos-e2e-").tempdir_in("/tmp").unwrap();
        Velos { home, bin: velos_bin() }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The marker every app of this test carries in its environment.
    pub fn mark(&self) -> String {
        format!("VELOS_E2E_MARK={}", self.home().display())
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        command.env("VELOS_HOME", self.home()).env_remove("NO_COLOR").stdin(Stdio::null());
        command
    }

    /// Runs `velos ARGS` and returns its output, whatever the exit code.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs `velos ARGS`, asserts it succeeded, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "velos {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `velos ARGS`, asserts it failed with exit code 1, returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "velos {args:?} should fail with exit 1:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stderr).unwrap()
    }

    /// `velos start` with the test marker in the app's environment.
    pub fn start(&self, name: &str, program_and_args: &[&str], extra: &[&str]) -> String {
        let mark = self.mark();
        let mut args = vec!["start", "--name", name, "--env", &mark];
        args.extend_from_slice(extra);
        args.extend_from_slice(program_and_args);
        self.ok(&args)
    }

    pub fn list(&self) -> Vec<Value> {
        let text = self.ok(&["list", "--json"]);
        match serde_json::from_str(&text).unwrap() {
            Value::Array(items) => items,
            other => panic!("list --json is not an array: {other}"),
        }
    }

    /// The `list --json` entry of one app, or None.
    pub fn app(&self, name: &str) -> Option<Value> {
        self.list().into_iter().find(|app| app["name"] == name)
    }

    pub fn status(&self, name: &str) -> String {
        self.app(name).map(|app| app["status"].as_str().unwrap().to_string()).unwrap_or_default()
    }

    pub fn pid(&self, name: &str) -> u32 {
        self.app(name).map(|app| app["pid"].as_u64().unwrap() as u32).unwrap_or(0)
    }

    /// The value of `key` in the environment `name`'s process runs with (None when it does not run).
    pub fn env_of(&self, name: &str, key: &str) -> Option<String> {
        let pid = self.pid(name);
        let prefix = format!("{key}=");
        (pid > 0).then(|| {
            environ_of(pid).into_iter().find_map(|entry| entry.strip_prefix(&prefix).map(String::from))
        })?
    }

    /// `project`'s entry of `velos status --json`, whatever the exit code (1 while a project is not synced
    /// and ready, which the GitOps tests wait through).
    pub fn project_status(&self, project: &str) -> Value {
        let output = self.run(&["status", "--json"]);
        assert!(matches!(output.status.code(), Some(0 | 1)), "{output:?}");
        let all: Value = serde_json::from_slice(&output.stdout).unwrap();
        all.as_array().unwrap().iter().find(|entry| entry["project"] == project).cloned().unwrap_or_default()
    }

    /// Waits until `name` has `status`, or panics with the last record seen.
    pub fn wait_status(&self, name: &str, status: &str, within: Duration) -> Value {
        let mut last = None;
        wait_until(within, &format!("{name} to be {status}"), || {
            last = self.app(name);
            last.as_ref().is_some_and(|app| app["status"] == status)
        });
        last.unwrap()
    }

    /// The pid of the daemon, from its pid file.
    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.home().join("velos.pid")).ok()?.trim().parse().ok()
    }

    /// Every live process (not zombie) carrying this test's marker.
    pub fn app_processes(&self) -> Vec<i32> {
        processes_with_env(&self.mark())
    }

    /// Asserts that no process of this test's apps is alive, allowing `within` for them to go.
    pub fn assert_no_app_processes(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let left = self.app_processes();
            if left.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "processes left behind: {:?}", describe(&left));
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn log_path(&self, name: &str, stream: &str) -> PathBuf {
        self.home().join("logs").join(format!("{name}-{stream}.log"))
    }
}

impl Drop for Velos {
    fn drop(&mut self) {
        if let Some(pid) = self.daemon_pid() {
            let _ = self.command().arg("kill").stdout(Stdio::null()).stderr(Stdio::null()).status();
            if process_alive(pid) {
                signal(pid, "KILL");
            }
        }
        for pid in self.app_processes() {
            signal(pid, "KILL");
        }
    }
}

/// Polls `condition` every 5 ms until it holds; panics with `what` after `within`.
pub fn wait_until(within: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends a signal with the system `kill` (the harness stays free of unsafe code).
pub fn signal(pid: i32, name: &str) {
    let _ = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).stderr(Stdio::null()).status();
}

/// True while `pid` exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// Live processes whose environment contains the entry `needle` (`KEY=VALUE`).
pub fn processes_with_env(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return found };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        if environ.split(|byte| *byte == 0).any(|item| item == needle.as_bytes()) && process_alive(pid) {
            found.push(pid);
        }
    }
    found
}

/// The environment of a live process, as `KEY=VALUE` strings.
pub fn environ_of(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    raw.split(|byte| *byte == 0)
        .filter(|item| !item.is_empty())
        .map(|item| String::from_utf8_lossy(item).into_owned())
        .collect()
}

fn describe(pids: &[i32]) -> Vec<String> {
    pids.iter()
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " "))
        })
        .collect()
}
