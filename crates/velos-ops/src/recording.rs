//! [`Recording`]: a [`Daemon`] that keeps the last record the daemon returned for each app during an apply,
//! so outcomes can name the pids the daemon reported. Every call is forwarded, `start_many` included, so
//! a scale to 100 stays one pipelined batch.
use std::collections::BTreeMap;
use velos_core::{AppSpec, ProcessRecord};
use velos_reconcile::{Daemon, DaemonError};

pub struct Recording<'d> {
    daemon: &'d mut dyn Daemon,
    seen: BTreeMap<String, ProcessRecord>,
}

impl<'d> Recording<'d> {
    pub fn new(daemon: &'d mut dyn Daemon) -> Recording<'d> {
        Recording { daemon, seen: BTreeMap::new() }
    }

    pub fn into_seen(self) -> BTreeMap<String, ProcessRecord> {
        self.seen
    }

    fn keep(&mut self, record: ProcessRecord) -> ProcessRecord {
        self.seen.insert(record.name.clone(), record.clone());
        record
    }
}

impl Daemon for Recording<'_> {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
        let records = self.daemon.list()?;
        for record in &records {
            self.seen.insert(record.name.clone(), record.clone());
        }
        Ok(records)
    }

    fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.daemon.info(name).map(|record| self.keep(record))
    }

    fn start(&mut self, start: &velos_core::StartSpec) -> Result<ProcessRecord, DaemonError> {
        self.daemon.start(start).map(|record| self.keep(record))
    }

    fn start_many(&mut self, specs: &[velos_core::StartSpec]) -> Vec<Result<ProcessRecord, DaemonError>> {
        let results = self.daemon.start_many(specs);
        for record in results.iter().flatten() {
            self.seen.insert(record.name.clone(), record.clone());
        }
        results
    }

    fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.daemon.start_existing(name).map(|record| self.keep(record))
    }

    fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
        self.daemon.stop(name).map(|record| self.keep(record))
    }

    fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
        self.daemon.delete(name)
    }

    fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
        self.daemon.update_in_place(spec).map(|record| self.keep(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_reconcile::testing::FakeDaemon;

    /// Counts the calls that reach the daemon, to see that a batch stays one batch.
    struct Counting {
        inner: FakeDaemon,
        batches: usize,
    }

    impl Daemon for Counting {
        fn list(&mut self) -> Result<Vec<ProcessRecord>, DaemonError> {
            self.inner.list()
        }
        fn info(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
            self.inner.info(name)
        }
        fn start(&mut self, start: &velos_core::StartSpec) -> Result<ProcessRecord, DaemonError> {
            self.inner.start(start)
        }
        fn start_many(&mut self, specs: &[velos_core::StartSpec]) -> Vec<Result<ProcessRecord, DaemonError>> {
            self.batches += 1;
            specs.iter().map(|start| self.inner.start(start)).collect()
        }
        fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
            self.inner.start_existing(name)
        }
        fn stop(&mut self, name: &str) -> Result<ProcessRecord, DaemonError> {
            self.inner.stop(name)
        }
        fn delete(&mut self, name: &str) -> Result<(), DaemonError> {
            self.inner.delete(name)
        }
        fn update_in_place(&mut self, spec: &AppSpec) -> Result<ProcessRecord, DaemonError> {
            self.inner.update_in_place(spec)
        }
    }

    #[test]
    fn start_many_is_forwarded_as_one_batch_and_its_records_kept() {
        let mut daemon = Counting { inner: FakeDaemon::new(), batches: 0 };
        let specs: Vec<velos_core::StartSpec> = (0..3)
            .map(|index| {
                velos_core::StartSpec::plain(AppSpec::new(format!("web-{index}"), "/bin/sleep", "/"))
            })
            .collect();
        let mut recording = Recording::new(&mut daemon);
        let results = recording.start_many(&specs);
        assert!(results.iter().all(Result::is_ok));
        let seen = recording.into_seen();
        assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), ["web-0", "web-1", "web-2"]);
        assert_eq!(daemon.batches, 1);
    }
}
