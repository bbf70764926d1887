//! [`Daemon`] for the real client: one request per call, errors mapped one to one.
use crate::apply::{Daemon, DaemonError};
use velos_client::Client;
use velos_core::{AppSpec, ProcessRecord};

impl Daemon for Client {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        Ok(Client::list(self)?)
    }

    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        Ok(Client::info(self, name)?)
    }

    fn start(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        Ok(Client::start(self, spec)?)
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
    /// `expected_hash`.
    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        let mut spec = spec.clone();
        spec.replace = false;
        spec.autostart = false; // an in-place update never changes whether the app runs
        Ok(Client::start(self, &spec)?)
    }
}
