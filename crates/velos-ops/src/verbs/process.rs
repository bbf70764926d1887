//! `restart` (an action, not an edit: DESIGN §4), `kill` (the daemon and its apps), `save`.
use crate::address::resolve;
use crate::context::Ops;
use crate::convert::daemon_error;
use crate::error::{OpError, OpErrorKind};
use crate::wait::{rest_timeout, until};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use velos_core::{ErrorCode, Status};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestartRequest {
    /// An app (each instance, one at a time), one instance (`api-0`), or `all`.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RestartOutcome {
    /// In the order restarted.
    pub restarted: Vec<Restarted>,
}

/// One instance restarted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Restarted {
    pub name: String,
    pub pid_before: u32,
    /// 0 when the new run already ended.
    pub pid: u32,
    /// `running`, or `stopped` when the new run already ended (`exit` says how).
    pub status: Status,
    /// `exit code 3`, `killed by SIGKILL`: how the new run ended, when it did.
    pub exit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KillRequest {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KillOutcome {
    /// The daemon's pid; `None` when no daemon ran.
    pub pid: Option<u32>,
    /// How many apps were running and were stopped with it.
    pub apps_stopped: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SaveRequest {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SaveOutcome {
    /// The state file written.
    pub path: PathBuf,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResurrectRequest {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResurrectOutcome {
    /// The daemon's pid.
    pub pid: u32,
    /// The apps it runs now (brought back from its state file when it started), and how many run.
    pub apps: usize,
    pub running: usize,
}

/// Extra time `kill` allows beyond the longest kill timeout of any app.
const KILL_GRACE: Duration = Duration::from_secs(5);
const KILL_POLL_INTERVAL: Duration = Duration::from_millis(5);

impl Ops {
    /// Restarts each addressed instance, one at a time, waiting for each new process before the next (a
    /// rolling restart). An instance that does not come back stops the restart: `incomplete`.
    pub fn restart(&self, request: RestartRequest) -> Result<RestartOutcome, OpError> {
        let mut backend = self.connect_or_start()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let names = resolve(&request.name, &live)?.names();
        let mut clock = self.clock();
        let mut restarted = Vec::new();
        for name in names {
            let before = backend.info(&name).map_err(|error| daemon_error(error, Some(&name)))?;
            let reply = backend.restart(&name).map_err(|error| daemon_error(error, Some(&name)))?;
            // Done when a new process runs, or the app is at rest again: errored (it gave up), or stopped
            // (the new run already ended: the daemon goes from stopping straight to starting).
            let after = until(backend.as_mut(), clock.as_mut(), &name, rest_timeout(&reply), |record| {
                (record.status == Status::Running && record.pid != 0 && record.pid != before.pid)
                    || record.status.is_at_rest()
            })?;
            if after.status == Status::Errored {
                let reason = after.last_error.as_deref().unwrap_or("no reason given");
                let done: Vec<&str> = restarted.iter().map(|done: &Restarted| done.name.as_str()).collect();
                let mut error =
                    OpError::new(OpErrorKind::Incomplete, format!("{name} did not restart: {reason}"))
                        .hint(format!("velos logs {name} --stderr shows its last output"));
                if !done.is_empty() {
                    error = error.cause(format!("restarted before it: {}", done.join(", ")));
                }
                return Err(error);
            }
            let exit =
                matches!(after.status, Status::Stopped | Status::Completed).then(|| describe_exit(&after));
            restarted.push(Restarted {
                name,
                pid_before: before.pid,
                pid: after.pid,
                status: after.status,
                exit,
            });
        }
        Ok(RestartOutcome { restarted })
    }

    /// Stops every app, then the daemon, and waits until it is gone. No daemon: nothing to do.
    pub fn kill(&self, _request: KillRequest) -> Result<KillOutcome, OpError> {
        let Some(mut backend) = self.connect_if_running()? else {
            return Ok(KillOutcome { pid: None, apps_stopped: 0 });
        };
        let ping = backend.ping().map_err(|error| daemon_error(error, None))?;
        let apps = backend.list().map_err(|error| daemon_error(error, None))?;
        let kill_timeout_longest = apps.iter().map(|app| app.spec.kill_timeout_ms).max().unwrap_or(0);
        match backend.shutdown() {
            // Someone else asked first; wait for it all the same.
            Ok(()) => {}
            Err(error) if error.code() == Some(&ErrorCode::ShuttingDown) => {}
            Err(error) => return Err(daemon_error(error, None)),
        }
        drop(backend);
        let began = Instant::now();
        let deadline = began + Duration::from_millis(kill_timeout_longest) + KILL_GRACE;
        let socket = self.home().root().join(velos_client::SOCKET_FILE);
        while process_alive(ping.pid) || socket.exists() {
            if Instant::now() >= deadline {
                let what =
                    if process_alive(ping.pid) { "is still running" } else { "left its socket behind" };
                return Err(OpError::internal(format!(
                    "the daemon (pid {}) {what} {} after SHUTDOWN",
                    ping.pid,
                    velos_config::human::format_duration_ms(began.elapsed().as_millis() as u64)
                ))
                .hint(format!(
                    "kill -9 {} stops it; its apps are in process groups of their own",
                    ping.pid
                )));
            }
            std::thread::sleep(KILL_POLL_INTERVAL);
        }
        Ok(KillOutcome { pid: Some(ping.pid), apps_stopped: apps.iter().filter(|app| app.pid != 0).count() })
    }

    /// Starts the daemon if none runs (it brings back the apps of its state file), and says what it runs.
    pub fn resurrect(&self, _request: ResurrectRequest) -> Result<ResurrectOutcome, OpError> {
        let mut backend = self.connect_or_start()?;
        let ping = backend.ping().map_err(|error| daemon_error(error, None))?;
        let apps = backend.list().map_err(|error| daemon_error(error, None))?;
        let apps: Vec<_> = apps.into_iter().filter(|app| !crate::address::is_system(app)).collect();
        let running = apps.iter().filter(|app| app.pid != 0).count();
        Ok(ResurrectOutcome { pid: ping.pid, apps: apps.len(), running })
    }

    /// Writes the daemon's process table to disk now.
    pub fn save(&self, _request: SaveRequest) -> Result<SaveOutcome, OpError> {
        let mut backend = self.connect_or_start()?;
        let path = backend.save().map_err(|error| daemon_error(error, None))?;
        Ok(SaveOutcome { path })
    }
}

/// `exit code 3`, `killed by SIGKILL`.
pub fn describe_exit(record: &velos_core::ProcessRecord) -> String {
    match (record.exit_code, record.exit_signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by {}", velos_config::human::signal_name(signal)),
        (None, None) => "no exit status".into(),
    }
}

/// True while `pid` exists and is not a zombie.
#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the last ')' (the command name may contain one).
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// True while `pid` exists (the system `kill -0`, to stay free of unsafe code).
#[cfg(not(target_os = "linux"))]
fn process_alive(pid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(process_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        assert!(!process_alive(pid));
    }
}
