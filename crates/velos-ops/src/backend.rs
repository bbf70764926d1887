//! How [`crate::Ops`] reaches a daemon: a [`Connector`] gives a [`Backend`], the reconciler's [`Daemon`]
//! plus what the other verbs ask of it. The real one is the socket client ([`SocketConnector`]); tests use
//! [`crate::testing::FakeConnector`] over the reconciler's fake daemon.
use crate::home::Home;
use std::path::PathBuf;
use velos_client::{Client, ClientError};
use velos_core::{PingInfo, ProcessRecord, Stream};
use velos_reconcile::{Daemon, DaemonError};

/// The chunks of a followed log, in order, until the app is deleted or the daemon stops.
pub type ChunkIter = Box<dyn Iterator<Item = Result<Vec<u8>, DaemonError>> + Send>;

/// One followed stream: its chunks, and how to end it from another thread (a blocked read returns).
pub struct LogChunks {
    pub chunks: ChunkIter,
    pub stop: Box<dyn Fn() + Send + Sync>,
}

/// One connection to a daemon.
pub trait Backend: Daemon + Send {
    /// RESTART by name (an action, not an edit).
    fn restart(&mut self, name: &str) -> Result<ProcessRecord, DaemonError>;
    /// The last `lines` lines of one stream's ring, raw bytes.
    fn log_read(&mut self, name: &str, stream: Stream, lines: u32) -> Result<Vec<u8>, DaemonError>;
    /// Takes over the connection: the last `lines` lines, then each new chunk.
    fn log_stream(self: Box<Self>, name: &str, stream: Stream, lines: u32) -> Result<LogChunks, DaemonError>;
    fn ping(&mut self) -> Result<PingInfo, DaemonError>;
    /// SAVE: the state file, written and fsynced; its path.
    fn save(&mut self) -> Result<PathBuf, DaemonError>;
    /// SHUTDOWN: the daemon answers, then stops every app and exits.
    fn shutdown(&mut self) -> Result<(), DaemonError>;
}

/// Makes connections.
pub trait Connector: Send + Sync + std::fmt::Debug {
    /// To a running daemon only ([`ClientError::DaemonNotRunning`] otherwise): the read verbs.
    fn connect(&self, home: &Home) -> Result<Box<dyn Backend>, ClientError>;
    /// Starting the daemon first when none runs (it brings back its saved apps): the write verbs.
    fn connect_or_start(&self, home: &Home) -> Result<Box<dyn Backend>, ClientError>;
}

/// The daemon of `VELOS_HOME/velos.sock`, started (when a write needs it) by running `velos_exe daemon`.
#[derive(Debug, Clone, Default)]
pub struct SocketConnector {
    /// The velos executable; `None`: this process's own.
    pub velos_exe: Option<PathBuf>,
}

impl SocketConnector {
    pub fn velos_exe(&self) -> Result<PathBuf, ClientError> {
        match &self.velos_exe {
            Some(exe) => Ok(exe.clone()),
            None => std::env::current_exe().map_err(|source| ClientError::Io {
                context: "could not find the velos executable".into(),
                source,
            }),
        }
    }
}

impl Connector for SocketConnector {
    fn connect(&self, home: &Home) -> Result<Box<dyn Backend>, ClientError> {
        Ok(Box::new(Client::connect(home.root())?))
    }

    fn connect_or_start(&self, home: &Home) -> Result<Box<dyn Backend>, ClientError> {
        Ok(Box::new(velos_client::connect_or_start(home.root(), &self.velos_exe()?)?))
    }
}

impl Backend for Client {
    fn restart(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        Ok(Client::restart(self, name, None)?)
    }

    fn log_read(&mut self, name: &str, stream: Stream, lines: u32) -> Result<Vec<u8>, DaemonError> {
        Ok(Client::log_read(self, name, stream, lines)?)
    }

    fn log_stream(self: Box<Self>, name: &str, stream: Stream, lines: u32) -> Result<LogChunks, DaemonError> {
        let chunks = Client::log_stream(*self, name, stream, lines)?;
        let stopper = chunks.stopper()?;
        Ok(LogChunks {
            chunks: Box::new(chunks.map(|chunk| chunk.map_err(DaemonError::from))),
            stop: Box::new(move || stopper.stop()),
        })
    }

    fn ping(&mut self) -> Result<PingInfo, DaemonError> {
        Ok(Client::ping(self)?)
    }

    fn save(&mut self) -> Result<PathBuf, DaemonError> {
        Ok(Client::save(self)?)
    }

    fn shutdown(&mut self) -> Result<(), DaemonError> {
        Ok(Client::shutdown(self)?)
    }
}
