//! Test doubles for the faces' tests and this crate's own: a [`FakeConnector`] whose daemon is
//! velos-reconcile's in-memory [`FakeDaemon`], started by a write verb as the real one is.
use crate::backend::{Backend, Connector, LogChunks};
use crate::home::Home;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use velos_client::ClientError;
use velos_core::{AppSpec, PingInfo, ProcessRecord, Stream};
use velos_reconcile::testing::FakeDaemon;
use velos_reconcile::{Daemon, DaemonError};

/// The state of the fake daemon, shared by every connection.
#[derive(Debug, Default)]
pub struct FakeHost {
    pub daemon: FakeDaemon,
    pub running: bool,
    /// What `log_read` answers, per app and stream.
    pub logs: BTreeMap<(String, &'static str), Vec<u8>>,
    /// Connections made, for tests that count them.
    pub connections: usize,
    /// Log streams being read now (a follow's readers that have not ended).
    pub streams_open: usize,
}

/// Connects to one [`FakeHost`]: `connect` fails with "not running" until a write verb has started it.
#[derive(Debug, Clone, Default)]
pub struct FakeConnector {
    pub host: Arc<Mutex<FakeHost>>,
}

impl FakeConnector {
    /// A host whose daemon is not running yet.
    pub fn new() -> FakeConnector {
        FakeConnector {
            host: Arc::new(Mutex::new(FakeHost { daemon: FakeDaemon::new(), ..FakeHost::default() })),
        }
    }

    /// A host whose daemon runs.
    pub fn running() -> FakeConnector {
        let connector = FakeConnector::new();
        connector.lock().running = true;
        connector
    }

    pub fn lock(&self) -> MutexGuard<'_, FakeHost> {
        self.host.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Connector for FakeConnector {
    fn connect(&self, home: &Home) -> Result<Box<dyn Backend>, ClientError> {
        let mut host = self.lock();
        if !host.running {
            return Err(ClientError::DaemonNotRunning { home: home.root().to_path_buf() });
        }
        host.connections += 1;
        Ok(Box::new(FakeBackend { host: Arc::clone(&self.host), home: home.root().to_path_buf() }))
    }

    fn connect_or_start(&self, home: &Home) -> Result<Box<dyn Backend>, ClientError> {
        self.lock().running = true;
        self.connect(home)
    }
}

/// One connection to a [`FakeHost`].
pub struct FakeBackend {
    host: Arc<Mutex<FakeHost>>,
    home: PathBuf,
}

impl FakeBackend {
    fn host(&self) -> MutexGuard<'_, FakeHost> {
        self.host.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Daemon for FakeBackend {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        self.host().daemon.list()
    }
    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.host().daemon.info(name)
    }
    fn start(&mut self, start: &velos_core::StartSpec) -> Result<ProcessRecord, DaemonError> {
        self.host().daemon.start(start)
    }
    fn start_many(&mut self, specs: &[velos_core::StartSpec]) -> Vec<Result<ProcessRecord, DaemonError>> {
        self.host().daemon.start_many(specs)
    }
    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.host().daemon.start_existing(name)
    }
    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.host().daemon.stop(name)
    }
    fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
        self.host().daemon.delete(name)
    }
    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        self.host().daemon.update_in_place(spec)
    }
}

impl Backend for FakeBackend {
    /// A stop, then a start: a new pid, as the real daemon gives.
    fn restart(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        let mut host = self.host();
        host.daemon.stop(name)?;
        host.daemon.start_existing(name)
    }

    fn log_read(&mut self, name: &str, stream: Stream, lines: u32) -> Result<Vec<u8>, DaemonError> {
        let mut host = self.host();
        host.daemon.info(name)?;
        let bytes = host.logs.get(&(name.to_string(), stream.as_str())).cloned().unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let kept: Vec<&str> = text.split_inclusive('\n').collect();
        let skip = kept.len().saturating_sub(lines as usize);
        Ok(kept[skip..].concat().into_bytes())
    }

    fn log_stream(
        mut self: Box<Self>,
        name: &str,
        stream: Stream,
        lines: u32,
    ) -> Result<LogChunks, DaemonError> {
        let first = self.log_read(name, stream, lines)?;
        self.host().streams_open += 1;
        // Like the daemon's, the stream then waits for output that never comes, until it is stopped.
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let stop = Mutex::new(Some(stop));
        let chunks = FakeStream { first: Some(first), stopped, host: Arc::clone(&self.host) };
        Ok(LogChunks {
            chunks: Box::new(chunks),
            stop: Box::new(move || drop(stop.lock().unwrap_or_else(PoisonError::into_inner).take())),
        })
    }

    fn ping(&mut self) -> Result<PingInfo, DaemonError> {
        let apps = u32::try_from(self.host().daemon.records().len()).unwrap_or(u32::MAX);
        Ok(PingInfo { pid: std::process::id(), version: "fake".into(), uptime_ms: 0, apps, tracking: None })
    }

    fn save(&mut self) -> Result<PathBuf, DaemonError> {
        Ok(self.home.join(crate::home::STATE_FILE))
    }

    fn shutdown(&mut self) -> Result<(), DaemonError> {
        self.host().running = false;
        Ok(())
    }
}

/// A fake LOG_STREAM: the backlog, then nothing until stopped; counted in [`FakeHost::streams_open`].
struct FakeStream {
    first: Option<Vec<u8>>,
    stopped: std::sync::mpsc::Receiver<()>,
    host: Arc<Mutex<FakeHost>>,
}

impl Iterator for FakeStream {
    type Item = Result<Vec<u8>, DaemonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(first) = self.first.take() {
            return Some(Ok(first));
        }
        // Only a stop (the sender dropped) ends the wait.
        let _ = self.stopped.recv();
        None
    }
}

impl Drop for FakeStream {
    fn drop(&mut self) {
        let mut host = self.host.lock().unwrap_or_else(PoisonError::into_inner);
        host.streams_open = host.streams_open.saturating_sub(1);
    }
}
