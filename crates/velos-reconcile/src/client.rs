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

    /// **Interim, restarts the app.** The protocol has no in-place update op yet (and the daemon does not
    /// enforce `max_memory` or log rotation), so the new labels are stored with a replacing START guarded
    /// by `expected_hash`: the daemon sees a different spec (the labels) and restarts the process. An app
    /// that was at rest is stopped again, so its status is what it was. Replace this body with the op when
    /// the daemon has it; nothing else changes.
    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        let before = Client::info(self, &spec.name)?;
        let mut spec = spec.clone();
        spec.replace = true;
        let record = Client::start(self, &spec)?;
        if before.status.is_at_rest() {
            return Ok(Client::stop(self, &spec.name)?);
        }
        Ok(record)
    }
}
