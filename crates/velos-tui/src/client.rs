//! The [`Daemon`] the dashboard uses for real: the daemon's client for reads (it never starts a daemon:
//! a dashboard that is only looking must not bring apps back), the operations layer for actions.
use crate::daemon::{Action, Daemon, DaemonError, LogFollow, Outcome, ProjectSync};
use std::path::PathBuf;
use std::sync::Mutex;
use velos_client::{Client, ClientError, LogStream, StreamStopper};
use velos_core::{ProcessRecord, Stream};

pub struct ClientDaemon {
    home: PathBuf,
    /// The refresh's connection, kept between refreshes; dropped on any error and made again next time.
    list_connection: Mutex<Option<Client>>,
}

impl ClientDaemon {
    pub fn new(home: PathBuf) -> ClientDaemon {
        ClientDaemon { home, list_connection: Mutex::new(None) }
    }

    fn connect(&self) -> Result<Client, DaemonError> {
        Client::connect(&self.home).map_err(down)
    }
}

fn down(error: ClientError) -> DaemonError {
    DaemonError::Down { message: error.to_string() }
}

fn failed(error: ClientError) -> DaemonError {
    match error {
        ClientError::DaemonNotRunning { .. } => down(error),
        other => DaemonError::Failed { message: other.to_string(), hint: None },
    }
}

impl Daemon for ClientDaemon {
    fn list(&self) -> Result<Vec<ProcessRecord>, DaemonError> {
        let mut slot = self
            .list_connection
            .lock()
            .map_err(|_| DaemonError::Down { message: "the refresh connection was lost".into() })?;
        let mut client = match slot.take() {
            Some(client) => client,
            None => self.connect()?,
        };
        let records = client.list().map_err(down)?;
        *slot = Some(client);
        Ok(records)
    }

    fn projects(&self, live: &[ProcessRecord]) -> Result<Vec<ProjectSync>, DaemonError> {
        let statuses = velos_reconcile::status(&self.home, live)
            .map_err(|error| DaemonError::Failed { message: error.to_string(), hint: None })?;
        Ok(statuses
            .into_iter()
            .map(|status| ProjectSync {
                project: status.project,
                state: sync_state_name(status.state).to_string(),
                message: status.message,
            })
            .collect())
    }

    fn follow(&self, name: &str, stream: Stream, lines: u32) -> Result<Box<dyn LogFollow>, DaemonError> {
        let stream = self.connect()?.log_stream(name, stream, lines).map_err(failed)?;
        let stopper = stream.stopper().map_err(failed)?;
        Ok(Box::new(ClientFollow { stream, stopper: std::sync::Arc::new(stopper) }))
    }

    fn run(&self, action: &Action) -> Result<Outcome, DaemonError> {
        let mut client = self.connect()?;
        match action {
            Action::Restart { name } => {
                let record = client.restart(name, None).map_err(failed)?;
                let summary = format!("restarted {name} ({})", record.status);
                Ok(Outcome { lines: vec![summary.clone()], summary })
            }
            other => Err(DaemonError::Failed {
                message: format!("{} is not available from the dashboard yet", other.verb()),
                hint: Some(other.command_line()),
            }),
        }
    }
}

fn sync_state_name(state: velos_reconcile::SyncState) -> &'static str {
    use velos_reconcile::SyncState;
    match state {
        SyncState::Synced => "synced",
        SyncState::Progressing => "progressing",
        SyncState::OutOfSync => "out_of_sync",
        SyncState::Error => "error",
    }
}

struct ClientFollow {
    stream: LogStream,
    stopper: std::sync::Arc<StreamStopper>,
}

impl LogFollow for ClientFollow {
    fn next_chunk(&mut self) -> Option<Result<Vec<u8>, DaemonError>> {
        self.stream.next().map(|chunk| chunk.map_err(failed))
    }

    fn stopper(&self) -> Box<dyn Fn() + Send + Sync> {
        let stopper = std::sync::Arc::clone(&self.stopper);
        Box::new(move || stopper.stop())
    }
}
