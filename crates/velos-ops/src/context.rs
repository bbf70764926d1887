//! [`Ops`]: what every verb needs — the home, how to reach the daemon, the clock, the edit lock.
use crate::backend::{Backend, Connector, SocketConnector};
use crate::convert::client_error;
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::home::Home;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use velos_client::ClientError;
use velos_reconcile::clock::{Clock, SystemClock, TestClock};
use velos_reconcile::history::{lock_edits_or_wait, EDIT_LOCK_FILE};

/// Something a verb tells its caller while it runs (the CLI prints it on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Another velos command (or the controller) holds the edit lock: this verb waits for it.
    WaitingForEditLock,
}

type NoticeSink = Arc<dyn Fn(Notice) + Send + Sync>;

/// The operations layer: one method per verb (see the crate documentation). Cheap to clone; every method
/// takes `&self`, so one `Ops` serves many requests (each verb opens its own connection).
#[derive(Clone)]
pub struct Ops {
    home: Home,
    /// `None`: the socket, started with `velos_exe`.
    connector: Option<Arc<dyn Connector>>,
    velos_exe: Option<PathBuf>,
    clock: Option<TestClock>,
    notices: Option<NoticeSink>,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Ops")
            .field("home", &self.home)
            .field("connector", &self.connector)
            .field("velos_exe", &self.velos_exe)
            .field("test_clock", &self.clock.is_some())
            .finish()
    }
}

impl Ops {
    /// Reaches the daemon of `home` over its socket; a write verb starts it with this executable.
    pub fn new(home: Home) -> Ops {
        Ops { home, connector: None, velos_exe: None, clock: None, notices: None }
    }

    /// [`Ops::new`] of `VELOS_HOME` (else `~/.velos`).
    pub fn from_env() -> Result<Ops, OpError> {
        Ok(Ops::new(Home::from_env()?))
    }

    /// The velos executable an auto-started daemon and the controller app run (default: this process's).
    pub fn with_velos_exe(mut self, velos_exe: PathBuf) -> Ops {
        self.velos_exe = Some(velos_exe);
        self
    }

    /// Another way to reach a daemon (tests: [`crate::testing::FakeConnector`]).
    pub fn with_connector(mut self, connector: Arc<dyn Connector>) -> Ops {
        self.connector = Some(connector);
        self
    }

    /// Time from `clock` instead of the system's: waits take no real time, recorded times are fixed.
    pub fn with_test_clock(mut self, clock: TestClock) -> Ops {
        self.clock = Some(clock);
        self
    }

    /// Where [`Notice`]s go (by default nowhere).
    pub fn with_notices(mut self, sink: impl Fn(Notice) + Send + Sync + 'static) -> Ops {
        self.notices = Some(Arc::new(sink));
        self
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    pub(crate) fn connector(&self) -> Arc<dyn Connector> {
        match &self.connector {
            Some(connector) => Arc::clone(connector),
            None => Arc::new(SocketConnector { velos_exe: self.velos_exe.clone() }),
        }
    }

    pub(crate) fn clock(&self) -> Box<dyn Clock> {
        match &self.clock {
            Some(clock) => Box::new(clock.clone()),
            None => Box::new(SystemClock),
        }
    }

    pub(crate) fn notify(&self, notice: Notice) {
        if let Some(sink) = &self.notices {
            sink(notice);
        }
    }

    /// The velos executable (what the controller app and the git hook run).
    pub fn velos_exe(&self) -> Result<PathBuf, OpError> {
        SocketConnector { velos_exe: self.velos_exe.clone() }
            .velos_exe()
            .map_err(|error| client_error(error, None))
    }

    /// A connection for a read verb: never starts the daemon. No daemon: `daemon_not_running`, saying how
    /// many apps its state file holds and how to bring them back.
    pub(crate) fn connect_running(&self) -> Result<Box<dyn Backend>, OpError> {
        match self.connector().connect(&self.home) {
            Ok(backend) => Ok(backend),
            Err(ClientError::DaemonNotRunning { .. }) => Err(self.not_running()),
            Err(error) => Err(client_error(error, None)),
        }
    }

    /// A connection to a running daemon, or none.
    pub(crate) fn connect_if_running(&self) -> Result<Option<Box<dyn Backend>>, OpError> {
        match self.connector().connect(&self.home) {
            Ok(backend) => Ok(Some(backend)),
            Err(ClientError::DaemonNotRunning { .. }) => Ok(None),
            Err(error) => Err(client_error(error, None)),
        }
    }

    /// A connection for a write verb: starts the daemon if none runs.
    pub(crate) fn connect_or_start(&self) -> Result<Box<dyn Backend>, OpError> {
        self.connector().connect_or_start(&self.home).map_err(|error| client_error(error, None))
    }

    fn not_running(&self) -> OpError {
        let saved = crate::state_file::saved_apps(&self.home.state_file());
        let (apps, running) = saved.map_or((0, 0), |saved| (saved.apps, saved.running));
        let message = format!("the velos daemon is not running (VELOS_HOME={})", self.home.root().display());
        let hint = match apps {
            0 => "velos daemon starts it; velos apply FILE or velos start PROGRAM starts it with apps".to_string(),
            _ => format!(
                "its state file holds {apps} app{} ({running} to run): velos resurrect brings them back (velos daemon starts the daemon, which does the same)",
                if apps == 1 { "" } else { "s" }
            ),
        };
        OpError::new(OpErrorKind::DaemonNotRunning, message).hint(hint).detail(
            ErrorDetail::DaemonNotRunning { home: self.home.root().to_path_buf(), saved_apps: apps, running },
        )
    }

    /// Takes the edit lock (waiting for another holder, with a [`Notice`]), creating VELOS_HOME if needed.
    /// Held until the file is dropped.
    pub(crate) fn lock_edits(&self) -> Result<File, OpError> {
        // VELOS_HOME itself is checked first (created 0700 if missing; a symlink or another user's directory
        // refused), so the lock below is never created through a planted link.
        velos_client::Home::prepare(self.home.root())
            .map_err(|error| crate::convert::client_error(error, None))?;
        lock_edits_or_wait(self.home.root(), &mut || self.notify(Notice::WaitingForEditLock)).map_err(
            |error| {
                let path = self.home.root().join(EDIT_LOCK_FILE);
                let refused = error.raw_os_error() == Some(libc::ELOOP);
                let message = if refused {
                    format!("{} is a symbolic link: refusing to follow it", path.display())
                } else {
                    format!("could not lock {}", path.display())
                };
                OpError::io(message, &error)
                    .hint("VELOS_HOME must be a directory you own (mode 0700); remove a stray edit.lock link")
            },
        )
    }
}
