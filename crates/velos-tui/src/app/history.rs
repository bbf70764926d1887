//! CPU and memory of each app over the last minutes, for the details pane's sparklines.
use std::collections::{HashMap, VecDeque};
use velos_core::ProcessRecord;

/// Samples kept per app: five minutes at the default one-second refresh.
pub const SAMPLES_MAX: usize = 300;

#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// Tenths of a percent of one core (sparklines take integers).
    pub cpu_tenths: VecDeque<u64>,
    pub memory_bytes: VecDeque<u64>,
}

#[derive(Debug, Default)]
pub struct History {
    by_name: HashMap<String, Samples>,
}

impl History {
    /// Appends one sample per listed app and forgets apps that are gone.
    pub fn record(&mut self, records: &[ProcessRecord]) {
        let listed: std::collections::HashSet<&str> =
            records.iter().map(|record| record.name.as_str()).collect();
        self.by_name.retain(|name, _| listed.contains(name.as_str()));
        for record in records {
            let samples = self.by_name.entry(record.name.clone()).or_default();
            push_bounded(&mut samples.cpu_tenths, (record.cpu * 10.0).round().max(0.0) as u64);
            push_bounded(&mut samples.memory_bytes, record.memory);
        }
    }

    pub fn get(&self, name: &str) -> Option<&Samples> {
        self.by_name.get(name)
    }
}

fn push_bounded(queue: &mut VecDeque<u64>, value: u64) {
    if queue.len() == SAMPLES_MAX {
        queue.pop_front();
    }
    queue.push_back(value);
}
