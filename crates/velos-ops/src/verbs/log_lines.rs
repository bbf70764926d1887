//! Followed chunks cut into lines, each labelled as `logs` labels a line read from a file: its level (from
//! the app's saved log model when there is one, else from the words of the message) and the id of the
//! template it fits in that model. What an exporter ships (OTLP logs) is made here, so every face labels a
//! line the same way.
use crate::context::Ops;
use crate::verbs::log_follow::LogChunk;
use crate::verbs::logs::{engine_stream, LogLine, LOG_LINE_BYTES_MAX};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use velos_core::{ProcessRecord, Stream};
use velos_log_engine::level::classify_message;
use velos_log_engine::view::Record;
use velos_log_engine::AppLog;

/// A saved model is read again after this long (`velos logs --summary` may have updated it meanwhile).
pub const MODEL_REFRESH: Duration = Duration::from_secs(30);
/// An app without a saved model is looked at again after this long: the first summary makes one.
pub const MODEL_MISSING_REFRESH: Duration = Duration::from_secs(2);

/// Cuts chunks into lines per instance and stream, keeping each unfinished line for the next chunk.
pub struct LineAssembler {
    ops: Ops,
    partial: HashMap<(String, Stream), Vec<u8>>,
    /// The app of each instance, from the last LIST given to [`LineAssembler::know`].
    apps: HashMap<String, String>,
    models: HashMap<String, (Instant, Option<AppLog>)>,
}

impl LineAssembler {
    pub fn new(ops: Ops) -> LineAssembler {
        LineAssembler { ops, partial: HashMap::new(), apps: HashMap::new(), models: HashMap::new() }
    }

    /// Learns which app each instance belongs to; forgets the unfinished lines of instances gone.
    pub fn know(&mut self, live: &[ProcessRecord]) {
        self.apps = live
            .iter()
            .map(|record| (record.name.clone(), crate::address::app_of(record).to_string()))
            .collect();
        self.partial.retain(|(instance, _), _| self.apps.contains_key(instance));
    }

    /// The lines `chunk` finishes, oldest first. A line longer than 64 KiB is cut there, with its length
    /// so far in `cut_from`.
    pub fn push(&mut self, chunk: LogChunk) -> Vec<LogLine> {
        let key = (chunk.name.clone(), chunk.stream);
        let mut buffer = self.partial.remove(&key).unwrap_or_default();
        buffer.extend_from_slice(&chunk.bytes);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(newline) = buffer[start..].iter().position(|&byte| byte == b'\n') {
            let end = start + newline;
            lines.push(self.line(&chunk.name, chunk.stream, &buffer[start..end], None));
            start = end + 1;
        }
        let rest = &buffer[start..];
        if rest.len() > LOG_LINE_BYTES_MAX {
            lines.push(self.line(&chunk.name, chunk.stream, &rest[..LOG_LINE_BYTES_MAX], Some(rest.len())));
        } else if !rest.is_empty() {
            self.partial.insert(key, rest.to_vec());
        }
        lines
    }

    fn line(&mut self, instance: &str, stream: Stream, bytes: &[u8], cut_from: Option<usize>) -> LogLine {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let app = self.apps.get(instance).cloned().unwrap_or_else(|| instance.to_string());
        // The body keeps the line whole (header included), as `logs` shows it.
        let (severity, template_id) = match self.model(&app) {
            Some(model) => {
                let (severity, template_id, _) = model.classify(bytes, engine_stream(stream));
                (severity, template_id)
            }
            None => (classify_message(bytes), None),
        };
        let cut_from = cut_from.map(|len| u64::try_from(len).unwrap_or(u64::MAX));
        let record =
            Record::new(&app, instance, engine_stream(stream), None, severity, template_id, bytes, cut_from);
        LogLine::from(record)
    }

    fn model(&mut self, app: &str) -> Option<&AppLog> {
        let stale = self.models.get(app).is_none_or(|(read_at, model)| {
            read_at.elapsed() >= if model.is_some() { MODEL_REFRESH } else { MODEL_MISSING_REFRESH }
        });
        if stale {
            let model = self.ops.saved_model(app);
            self.models.insert(app.to_string(), (Instant::now(), model));
        }
        self.models.get(app).and_then(|(_, model)| model.as_ref())
    }
}
