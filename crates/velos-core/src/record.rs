//! What the daemon reports: process records, ping info, and the small argument and data maps of each op.
use crate::spec::AppSpec;
use serde::{Deserialize, Serialize};

/// The state of one app (docs/PROTOCOL.md "Process record"). Deserialized through a string, as
/// [`crate::RestartPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase", from = "String")]
pub enum Status {
    /// Forked, not yet executed.
    Starting,
    /// The main process lives.
    Running,
    /// Told to stop; waiting for the process group to exit (then SIGKILL after `kill_timeout_ms`).
    Stopping,
    Stopped,
    /// Backoff before an automatic restart.
    Waiting,
    /// Gave up: restart budget spent, or the program could not be executed. `last_error` says why.
    Errored,
    /// Finished: exited, and its restart policy keeps it down (`never`, or `on-failure` with exit code 0).
    /// Kept across daemon restarts; not run again until a client starts it.
    Completed,
    /// A status this client does not know (a newer daemon).
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Running => "running",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Waiting => "waiting",
            Status::Errored => "errored",
            Status::Completed => "completed",
            Status::Unknown => "unknown",
        }
    }

    /// No process runs and none will be started without a client asking.
    pub fn is_at_rest(self) -> bool {
        matches!(self, Status::Stopped | Status::Errored | Status::Completed)
    }
}

impl From<String> for Status {
    fn from(text: String) -> Status {
        [
            Status::Starting,
            Status::Running,
            Status::Stopping,
            Status::Stopped,
            Status::Waiting,
            Status::Errored,
            Status::Completed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .unwrap_or(Status::Unknown)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One app as the daemon sees it. Field order is the wire key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProcessRecord {
    pub name: String,
    /// 0 when no process runs.
    #[serde(default)]
    pub pid: u32,
    pub status: Status,
    /// Automatic restarts since the app was last started by a client.
    #[serde(default)]
    pub restarts: u32,
    /// Percent of one core over the last sample interval.
    #[serde(default)]
    pub cpu: f64,
    /// Resident bytes of the main process.
    #[serde(default)]
    pub memory: u64,
    /// Since the current process started; 0 when none runs.
    #[serde(default)]
    pub uptime_ms: u64,
    /// Of the last exit; None if it was killed by a signal or never exited.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The signal that ended the last run.
    #[serde(default)]
    pub exit_signal: Option<u8>,
    /// Why it is errored, or why the last spawn failed.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The spec as stored (`expected_hash` absent, `replace` false).
    pub spec: AppSpec,
    /// CPU time of the app's processes since the daemon started, over all its runs (a counter); absent
    /// from the wire while 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cpu_time_ms: u64,
    /// Lines (newlines) the app wrote to stdout since the daemon registered it, over all its runs (a
    /// counter, reset only with the daemon); absent from the wire while 0, as are the three below.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub log_out_lines: u64,
    /// Bytes the app wrote to stdout (a counter).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub log_out_bytes: u64,
    /// Lines the app wrote to stderr (a counter).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub log_err_lines: u64,
    /// Bytes the app wrote to stderr (a counter).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub log_err_bytes: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl ProcessRecord {
    /// A record as the daemon would report `spec` freshly registered: no restarts, no samples, no exit.
    pub fn fresh(spec: AppSpec, status: Status, pid: u32) -> ProcessRecord {
        ProcessRecord {
            name: spec.name.clone(),
            pid,
            status,
            restarts: 0,
            cpu: 0.0,
            memory: 0,
            uptime_ms: 0,
            exit_code: None,
            exit_signal: None,
            last_error: None,
            spec,
            cpu_time_ms: 0,
            log_out_lines: 0,
            log_out_bytes: 0,
            log_err_lines: 0,
            log_err_bytes: 0,
        }
    }

    /// Lines and bytes written to `stream` (the log counters).
    pub fn log_counts(&self, stream: Stream) -> (u64, u64) {
        match stream {
            Stream::Out => (self.log_out_lines, self.log_out_bytes),
            Stream::Err => (self.log_err_lines, self.log_err_bytes),
        }
    }
}

/// Which output of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Stream {
    Out,
    Err,
}

impl TryFrom<String> for Stream {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "out" => Ok(Stream::Out),
            "err" => Ok(Stream::Err),
            _ => Err(format!("unknown stream {text:?} (expected out or err)")),
        }
    }
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Out => "out",
            Stream::Err => "err",
        }
    }

    /// The file the daemon appends `app`'s output on this stream to, under `$VELOS_HOME/logs/`:
    /// `NAME-out.log` / `NAME-err.log` (docs/PROTOCOL.md "Logs"; rotated files add `.1` … `.N`). The one
    /// definition, for every Rust process that reads logs (velos-ops, the controller's log checks).
    pub fn log_file_name(self, app: &str) -> String {
        format!("{app}-{}.log", self.as_str())
    }
}

/// Data of `PING`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PingInfo {
    pub pid: u32,
    pub version: String,
    pub uptime_ms: u64,
    pub apps: u32,
    /// How the daemon knows each app's processes: `procfs` (the whole tree, from /proc) or `process-group`
    /// (the group only, where /proc is missing); absent from an older daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
}

/// Args `{}` (LIST, PING, SHUTDOWN, SAVE) and data `{}` (SHUTDOWN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// Args `{name}` (START of an existing app, STOP, DELETE, INFO) and data `{name}` (DELETE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameArgs<'a> {
    pub name: &'a str,
}

/// Data of `PROCESS_DELETE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub name: String,
}

/// Args of `PROCESS_RESTART`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartArgs<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_hash: Option<&'a str>,
}

/// Args of `LOG_READ` and `LOG_STREAM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogArgs<'a> {
    pub name: &'a str,
    pub stream: Stream,
    pub lines: u32,
}

/// Data of `LOG_READ` and of each `LOG_STREAM` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogData {
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

/// Data of `SAVE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_record_is_the_spec_as_the_daemon_stores_it() {
        let spec = AppSpec::new("web", "/bin/sleep", "/srv");
        let record = ProcessRecord::fresh(spec.clone(), Status::Stopped, 0);
        assert_eq!((record.name.as_str(), record.status, record.pid), ("web", Status::Stopped, 0));
        assert_eq!(record.spec, spec);
        assert_eq!((record.restarts, record.exit_code), (0, None));
    }

    #[test]
    fn cpu_time_is_on_the_wire_only_once_there_is_some() {
        let mut record = ProcessRecord::fresh(AppSpec::new("web", "/bin/sleep", "/srv"), Status::Running, 7);
        let encoded = rmp_serde::to_vec_named(&record).expect("encodes");
        assert!(!encoded.windows(11).any(|window| window == b"cpu_time_ms"));
        record.cpu_time_ms = 1500;
        let encoded = rmp_serde::to_vec_named(&record).expect("encodes");
        let decoded: ProcessRecord = rmp_serde::from_slice(&encoded).expect("decodes");
        assert_eq!(decoded.cpu_time_ms, 1500);
    }
}
