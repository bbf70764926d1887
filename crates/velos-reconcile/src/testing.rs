//! Test doubles: an in-memory daemon that follows docs/PROTOCOL.md's rules for START (`expected_hash`,
//! `replace`, idempotence), and a clock that only moves when slept on.
//!
//! Public so the CLI's tests can use them too. Status changes happen when the app is next observed (a
//! LIST or INFO): `starting` → `running` (or `errored` for an app told to crash), `stopping` → `stopped`
//! (unless told to hang), a deleted app disappears. So waits loop at least once, as with a real daemon.
use crate::apply::{Daemon, DaemonError};
use std::collections::{BTreeMap, BTreeSet};
use velos_core::{AppSpec, ErrorCode, ProcessRecord, StartSpec, Status};

/// One mutating request the fake daemon received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeRequest {
    Start { name: String, expected_hash: Option<String>, replace: bool },
    StartExisting { name: String },
    Stop { name: String },
    Delete { name: String },
    UpdateInPlace { name: String },
}

impl FakeRequest {
    pub fn name(&self) -> &str {
        match self {
            FakeRequest::Start { name, .. }
            | FakeRequest::StartExisting { name }
            | FakeRequest::Stop { name }
            | FakeRequest::Delete { name }
            | FakeRequest::UpdateInPlace { name } => name,
        }
    }
}

/// An in-memory daemon.
#[derive(Debug, Default)]
pub struct FakeDaemon {
    records: BTreeMap<String, ProcessRecord>,
    deleting: BTreeSet<String>,
    next_pid: u32,
    /// Every mutating request, in order.
    pub requests: Vec<FakeRequest>,
    /// Names for which a START with `expected_hash: ""` arrived while the app existed (refused with
    /// `conflict`, as the real daemon does): a planner bug if it happens without a concurrent writer.
    pub creates_of_existing: Vec<String>,
    failures: BTreeMap<String, (ErrorCode, String)>,
    spawn_failures: BTreeSet<String>,
    crashing: BTreeSet<String>,
    hanging: BTreeSet<String>,
}

impl FakeDaemon {
    pub fn new() -> FakeDaemon {
        FakeDaemon { next_pid: 1000, ..FakeDaemon::default() }
    }

    /// A daemon that already runs `records` (as given: status, pid, spec).
    pub fn with_records(records: impl IntoIterator<Item = ProcessRecord>) -> FakeDaemon {
        let mut daemon = FakeDaemon::new();
        for record in records {
            daemon.insert(record);
        }
        daemon
    }

    /// Adds or overwrites a record, as another client would.
    pub fn insert(&mut self, record: ProcessRecord) {
        self.records.insert(record.name.clone(), record);
    }

    /// Every record, sorted by name, without letting time pass.
    pub fn records(&self) -> Vec<ProcessRecord> {
        self.records.values().cloned().collect()
    }

    pub fn record(&self, name: &str) -> Option<&ProcessRecord> {
        self.records.get(name)
    }

    /// Every mutating request naming `name` fails with `code`.
    pub fn fail(&mut self, name: &str, code: ErrorCode, message: &str) {
        self.failures.insert(name.to_string(), (code, message.to_string()));
    }

    /// Spawning `name` fails: START answers `spawn_failed`, the record is kept `errored`.
    pub fn fail_spawn(&mut self, name: &str) {
        self.spawn_failures.insert(name.to_string());
    }

    /// `name` starts, then crashes for good: `errored` when next observed.
    pub fn crash(&mut self, name: &str) {
        self.crashing.insert(name.to_string());
    }

    /// Stopping `name` never ends.
    pub fn hang_on_stop(&mut self, name: &str) {
        self.hanging.insert(name.to_string());
    }

    /// The mutating requests, each as `op name`: `start web`, `start-existing jobs`, `stop cron`, ...
    pub fn request_log(&self) -> Vec<String> {
        self.requests
            .iter()
            .map(|request| {
                let op = match request {
                    FakeRequest::Start { replace: true, .. } => "replace",
                    FakeRequest::Start { expected_hash: Some(hash), .. } if hash.is_empty() => "create",
                    FakeRequest::Start { .. } => "start",
                    FakeRequest::StartExisting { .. } => "start-existing",
                    FakeRequest::Stop { .. } => "stop",
                    FakeRequest::Delete { .. } => "delete",
                    FakeRequest::UpdateInPlace { .. } => "update",
                };
                format!("{op} {}", request.name())
            })
            .collect()
    }

    /// Lets time pass for every app: the transitions described in the module documentation.
    fn settle(&mut self) {
        for name in std::mem::take(&mut self.deleting) {
            self.records.remove(&name);
        }
        for record in self.records.values_mut() {
            match record.status {
                Status::Starting if self.crashing.contains(&record.name) => {
                    record.status = Status::Errored;
                    record.pid = 0;
                    record.exit_code = Some(1);
                    record.last_error = Some("too many restarts (exit code 1)".into());
                }
                Status::Starting => record.status = Status::Running,
                Status::Stopping if !self.hanging.contains(&record.name) => {
                    record.status = Status::Stopped;
                    record.pid = 0;
                }
                _ => {}
            }
            // The fake has no clock: an app it runs has been up for its `min_uptime` once observed, so
            // apply's readiness wait never waits on it (tests of that wait script their own records).
            if record.status == Status::Running {
                record.uptime_ms = record.uptime_ms.max(record.spec.min_uptime_ms);
            }
        }
    }

    fn scripted_failure(&self, name: &str) -> Result<(), DaemonError> {
        match self.failures.get(name) {
            Some((code, message)) => Err(DaemonError::remote(code.clone(), message.clone())),
            None => Ok(()),
        }
    }

    fn not_found(name: &str) -> DaemonError {
        DaemonError::remote(ErrorCode::NotFound, format!("no app named {name}"))
    }

    fn launch(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.next_pid += 1;
        let pid = self.next_pid;
        let spawn_fails = self.spawn_failures.contains(name);
        let record = self.records.get_mut(name).ok_or_else(|| FakeDaemon::not_found(name))?;
        record.restarts = 0;
        record.exit_code = None;
        record.exit_signal = None;
        if spawn_fails {
            record.status = Status::Errored;
            record.pid = 0;
            let message = format!("cannot execute {}: ENOENT", record.spec.command);
            record.last_error = Some(message.clone());
            return Err(DaemonError::remote(ErrorCode::SpawnFailed, message));
        }
        record.status = Status::Starting;
        record.pid = pid;
        record.last_error = None;
        Ok(record.clone())
    }

    fn live(&self, name: &str) -> Option<&ProcessRecord> {
        self.records.get(name).filter(|_| !self.deleting.contains(name))
    }
}

/// A fresh record for `spec`, as the daemon stores it.
pub fn record_for(spec: &AppSpec, status: Status, pid: u32) -> ProcessRecord {
    ProcessRecord::fresh(spec.clone(), status, pid)
}

impl Daemon for FakeDaemon {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        self.settle();
        Ok(self.records())
    }

    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.settle();
        self.records.get(name).cloned().ok_or_else(|| FakeDaemon::not_found(name))
    }

    fn start(&mut self, start: &StartSpec) -> Result<ProcessRecord, DaemonError> {
        let spec = &start.spec;
        let name = spec.name.as_str();
        self.requests.push(FakeRequest::Start {
            name: name.into(),
            expected_hash: start.expected_hash.clone(),
            replace: start.replace,
        });
        self.scripted_failure(name)?;
        let existing = self.live(name);
        match (&start.expected_hash, existing) {
            (Some(expected), None) if expected.is_empty() => {}
            (Some(expected), Some(_)) if expected.is_empty() => {
                self.creates_of_existing.push(name.into());
                return Err(DaemonError::remote(ErrorCode::Conflict, format!("{name} already exists")));
            }
            (Some(expected), Some(record)) if &record.spec.spec_hash == expected => {}
            (Some(_), _) => {
                return Err(DaemonError::remote(
                    ErrorCode::Conflict,
                    format!("{name} has another spec hash"),
                ));
            }
            (None, _) => {}
        }
        let stored = record_for(spec, Status::Stopped, 0);
        match self.live(name) {
            Some(record) if record.spec == stored.spec => {
                if record.status.is_at_rest() && start.autostart {
                    return self.launch(name);
                }
                Ok(record.clone())
            }
            Some(_) if !start.replace => {
                Err(DaemonError::remote(ErrorCode::Exists, format!("{name} exists with another spec")))
            }
            Some(record) if !start.autostart => {
                // Replace without starting keeps the run state (docs/PROTOCOL.md); a stopped app stays so.
                let running = !record.status.is_at_rest();
                self.records.insert(name.into(), stored);
                if running {
                    return self.launch(name);
                }
                self.live(name).cloned().ok_or_else(|| FakeDaemon::not_found(name))
            }
            _ => {
                self.deleting.remove(name);
                self.records.insert(name.into(), stored);
                if !start.autostart {
                    return self.live(name).cloned().ok_or_else(|| FakeDaemon::not_found(name));
                }
                self.launch(name)
            }
        }
    }

    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.requests.push(FakeRequest::StartExisting { name: name.into() });
        self.scripted_failure(name)?;
        let record = self.live(name).ok_or_else(|| FakeDaemon::not_found(name))?;
        if record.status.is_at_rest() || record.status == Status::Stopping {
            return self.launch(name);
        }
        Ok(record.clone())
    }

    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.requests.push(FakeRequest::Stop { name: name.into() });
        self.scripted_failure(name)?;
        if self.live(name).is_none() {
            return Err(FakeDaemon::not_found(name));
        }
        let record = self.records.get_mut(name).ok_or_else(|| FakeDaemon::not_found(name))?;
        if !record.status.is_at_rest() {
            record.status = Status::Stopping;
        }
        Ok(record.clone())
    }

    fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
        self.requests.push(FakeRequest::Delete { name: name.into() });
        self.scripted_failure(name)?;
        if self.live(name).is_none() {
            return Err(FakeDaemon::not_found(name));
        }
        if let Some(record) = self.records.get_mut(name) {
            if !record.status.is_at_rest() {
                record.status = Status::Stopping;
            }
        }
        self.deleting.insert(name.into());
        Ok(())
    }

    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        let name = spec.name.as_str();
        self.requests.push(FakeRequest::UpdateInPlace { name: name.into() });
        self.scripted_failure(name)?;
        let Some(record) = self.live(name) else { return Err(FakeDaemon::not_found(name)) };
        // The app must still have the spec's hash (the client sends it as `expected_hash`).
        if spec.spec_hash != record.spec.spec_hash {
            return Err(DaemonError::remote(ErrorCode::Conflict, format!("{name} has another spec hash")));
        }
        let record = self.records.get_mut(name).ok_or_else(|| FakeDaemon::not_found(name))?;
        record.spec.labels = spec.labels.clone();
        record.spec.max_memory_bytes = spec.max_memory_bytes;
        record.spec.log_max_size_bytes = spec.log_max_size_bytes;
        record.spec.log_max_files = spec.log_max_files;
        record.spec.log_timestamps = spec.log_timestamps;
        record.spec.log_format = spec.log_format;
        Ok(record.clone())
    }
}

/// The test clock under the name apply's tests know it by.
pub use crate::clock::TestClock as ManualClock;
