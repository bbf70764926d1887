//! `log_marks`: which lines of an app's output to point out as they stream by (the TUI's log pane): those
//! of a template first seen since the last apply or restart, or never seen at all, and those of a
//! template that is spiking. The app's model is brought up to date once (the new bytes only), then each
//! line costs one template lookup: no mining, no IO.
use super::logs::app_name;
use crate::address::resolve;
use crate::context::Ops;
use crate::error::OpError;
use std::collections::HashSet;
use velos_core::Stream;
use velos_log_engine::app_log::Anomaly;
use velos_log_engine::{AppLog, TemplateId};

/// Why a line is pointed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMark {
    /// Its template was first seen after the last apply or restart (or never before).
    New,
    /// Its template logged far more in a minute since then than it usually does.
    Spike,
}

/// An app's model, asked about lines one at a time.
#[derive(Debug, Clone)]
pub struct LogMarks {
    log: AppLog,
    new: HashSet<TemplateId>,
    spiking: HashSet<TemplateId>,
    /// The app logged before the window: "new" means something (a first run has nothing to compare).
    logged_before: bool,
}

impl LogMarks {
    /// From a model as it stands (made current by the caller).
    pub fn from_log(mut log: AppLog) -> LogMarks {
        log.settle();
        let start = log.epoch_ms.unwrap_or(i64::MIN);
        let new = log
            .templates()
            .into_iter()
            .filter(|(_, stats)| stats.first_seen_ms >= start)
            .map(|(id, _)| id)
            .collect();
        let spiking = log
            .anomalies()
            .into_iter()
            .filter_map(|anomaly| match anomaly {
                Anomaly::RateSpike { template_id, spike } if spike.at_ms >= start => {
                    Some(log.find(template_id))
                }
                _ => None,
            })
            .collect();
        let logged_before = log.epoch_ms.is_some() && log.lines_before_epoch > 0;
        LogMarks { log, new, spiking, logged_before }
    }

    /// The mark of one line as the app wrote it (no time prefix), if any.
    pub fn mark(&self, line: &[u8], stream: Stream) -> Option<LogMark> {
        let stream = super::logs::engine_stream(stream);
        let (_, template, _) = self.log.classify(line, stream);
        match template {
            Some(id) if self.spiking.contains(&id) => Some(LogMark::Spike),
            Some(id) if self.logged_before && self.new.contains(&id) => Some(LogMark::New),
            // Not in the model at all: written after it was brought up to date, and like nothing before.
            None if self.logged_before => Some(LogMark::New),
            _ => None,
        }
    }
}

impl Ops {
    /// The marks of an app's (or an instance's app's) lines, from its model brought up to date.
    pub fn log_marks(&self, name: &str) -> Result<LogMarks, OpError> {
        let listed_ms = self.clock().unix_ms() as i64;
        let live = self.live()?;
        let address = resolve(name, &live)?;
        let instances = address.names();
        let app = instances.first().map_or_else(|| name.to_string(), |instance| app_name(&live, instance));
        let app_instances: Vec<String> =
            instances.into_iter().filter(|instance| app_name(&live, instance) == app).collect();
        let mut warnings = Vec::new();
        let refreshed = self.refreshed(&app, &app_instances, &live, listed_ms, &mut warnings)?;
        Ok(LogMarks::from_log(refreshed.state.log))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_log_engine::{EpochCause, Stream as EngineStream};

    #[test]
    fn lines_of_templates_new_since_the_epoch_are_marked() {
        let mut log = AppLog::default();
        for n in 0..40 {
            log.ingest(format!("GET /items/{n} 200").as_bytes(), EngineStream::Out, n);
        }
        log.settle();
        log.mark_epoch(100, EpochCause::Apply);
        log.ingest(b"cache warmed in 3 ms", EngineStream::Out, 101);
        let marks = LogMarks::from_log(log);
        assert_eq!(marks.mark(b"GET /items/77 200", Stream::Out), None, "seen before the apply");
        assert_eq!(marks.mark(b"cache warmed in 9 ms", Stream::Out), Some(LogMark::New));
        assert_eq!(marks.mark(b"segfault at 0x0", Stream::Out), Some(LogMark::New), "never seen");
        let first_run = LogMarks::from_log(AppLog::default());
        assert_eq!(first_run.mark(b"anything", Stream::Out), None, "nothing to compare with");
    }
}
