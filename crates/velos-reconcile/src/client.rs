//! [`Daemon`] for the real client: one request per call, errors mapped one to one.
use crate::apply::{Daemon, DaemonError};
use velos_client::Client;
use velos_core::{AppSpec, ProcessRecord, StartSpec};

impl Daemon for Client {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        Ok(Client::list(self)?)
    }

    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        Ok(Client::info(self, name)?)
    }

    fn start(&mut self, start: &StartSpec) -> Result<ProcessRecord, DaemonError> {
        Ok(Client::start(self, start)?)
    }

    fn start_many(&mut self, starts: &[StartSpec]) -> Vec<Result<ProcessRecord, DaemonError>> {
        match Client::start_many(self, starts) {
            Ok(results) => results.into_iter().map(|result| result.map_err(DaemonError::from)).collect(),
            // The connection failed part-way: which requests the daemon acted on is unknown, so each is
            // reported failed; the next apply re-plans from what actually runs.
            Err(error) => {
                let message = error.to_string();
                starts
                    .iter()
                    .map(|_| {
                        Err(DaemonError::Transport(velos_client::ClientError::Protocol {
                            message: message.clone(),
                            source: None,
                        }))
                    })
                    .collect()
            }
        }
    }

    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        Ok(Client::start_existing(self, name)?)
    }

    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        Ok(Client::stop(self, name)?)
    }

    fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
        Ok(Client::delete(self, name)?)
    }

    /// A START whose spec differs from the stored one only in its in-place part (labels, `max_memory_bytes`,
    /// `log_*`): the daemon updates the record without a restart (docs/PROTOCOL.md), guarded by
    /// `expected_hash` (the app must still have this spec's hash).
    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        let start = StartSpec {
            spec: spec.clone(),
            expected_hash: Some(spec.spec_hash.clone()),
            replace: false,
            autostart: false, // an in-place update never changes whether the app runs
        };
        Ok(Client::start(self, &start)?)
    }
}
