//! `logs`: an app's lines from its log FILES (the live file and its rotated generations), both streams
//! merged in time order by default, each line marked with its app, instance and stream, filtered by time,
//! text and level; or a follow of the daemon's rings (log_follow.rs). `--lines N` gives N lines when the files hold them,
//! and says how many it found when they do not. Reading is done by velos-log-engine's files edge.
use crate::address::resolve;
use crate::context::Ops;
use crate::convert::daemon_error;
use crate::error::OpError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use velos_core::{ProcessRecord, Stream};
use velos_log_engine::files::{load_state, read_records, Shown};
use velos_log_engine::view::{collapse_repeats, Filter, Record};
use velos_log_engine::AppLog;
use velos_log_engine::Severity;

/// Lines shown when a request does not say.
pub const LOG_LINES_DEFAULT: u32 = 20;
/// Bytes of a line shown; a longer line is cut, with its length, never dropped.
pub const LOG_LINE_BYTES_MAX: usize = 64 * 1024;
/// Lines a collapsed read goes back through at most to find `lines` distinct rows: a flood of one line
/// costs this much, not the whole file.
pub const LOG_COLLAPSE_LINES_READ_MAX: usize = 100_000;

/// Which streams to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StreamChoice {
    Out,
    Err,
    #[default]
    Both,
}

impl StreamChoice {
    pub fn streams(self) -> &'static [Stream] {
        match self {
            StreamChoice::Out => &[Stream::Out],
            StreamChoice::Err => &[Stream::Err],
            StreamChoice::Both => &[Stream::Out, Stream::Err],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogsRequest {
    /// An app (all its instances), one instance (`api-0`), or `all`.
    pub name: String,
    /// How many lines in all (default 20).
    #[serde(default = "lines_default")]
    pub lines: u32,
    /// `out`, `err` or `both` (default: both, merged in time order).
    #[serde(default)]
    pub stream: StreamChoice,
    /// Only lines at or after this time (ms since the Unix epoch); needs `log.timestamps` (the default).
    #[serde(default)]
    pub since_ms: Option<i64>,
    /// Only lines at or before this time (ms since the Unix epoch).
    #[serde(default)]
    pub until_ms: Option<i64>,
    /// Only lines containing this text.
    #[serde(default)]
    pub grep: Option<String>,
    /// Match `grep` ignoring ASCII case.
    #[serde(default)]
    pub ignore_case: bool,
    /// Only lines at this level or above: trace, debug, info, warn, error, fatal.
    #[serde(default)]
    pub level: Option<String>,
    /// Label each line with its template id, from the app's saved log model (made by `logs_summary` or
    /// `logs_templates`; none yet: no ids).
    #[serde(default)]
    pub template_ids: bool,
    /// Keep following ([`Ops::logs_follow`]); [`Ops::logs`] refuses it.
    #[serde(default)]
    pub follow: bool,
    /// Fold consecutive and near-consecutive repeats of a message into one line with their count
    /// (`repeated`); `lines` then counts the lines shown, reading back past a flood (up to 100,000 lines).
    #[serde(default)]
    pub collapse: bool,
}

fn lines_default() -> u32 {
    LOG_LINES_DEFAULT
}

impl LogsRequest {
    pub fn new(name: impl Into<String>) -> LogsRequest {
        LogsRequest {
            name: name.into(),
            lines: LOG_LINES_DEFAULT,
            stream: StreamChoice::Both,
            since_ms: None,
            until_ms: None,
            grep: None,
            ignore_case: false,
            level: None,
            template_ids: false,
            follow: false,
            collapse: false,
        }
    }
}

/// One line. Field names follow the OpenTelemetry log data model where they overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogLine {
    /// RFC 3339 UTC, when the line carries the daemon's timestamp (`log.timestamps`).
    pub ts: Option<String>,
    pub app: String,
    pub instance: String,
    pub stream: Stream,
    pub severity_text: String,
    pub severity_number: u8,
    /// The line's template (`velos logs APP --templates`), once the app has been summarized.
    pub template_id: Option<String>,
    /// The line without the timestamp prefix (invalid UTF-8 replaced; cut past 64 KiB).
    pub body: String,
    /// The full length in bytes of a line that was cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_from: Option<u64>,
    /// With `collapse`: how many lines this one stands for, when more than one (its repeats follow it
    /// closely; it is the first of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeated: Option<u64>,
}

impl From<Record> for LogLine {
    fn from(record: Record) -> LogLine {
        LogLine {
            ts: record.ts,
            app: record.app,
            instance: record.instance,
            stream: match record.stream {
                velos_log_engine::Stream::Out => Stream::Out,
                velos_log_engine::Stream::Err => Stream::Err,
            },
            severity_text: record.severity_text.to_string(),
            severity_number: record.severity_number,
            template_id: record.template_id,
            body: record.body,
            cut_from: record.cut_from,
            repeated: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogsOutcome {
    /// The instances read, sorted.
    pub instances: Vec<String>,
    /// Oldest first.
    pub lines: Vec<LogLine>,
    /// How many were asked for; `lines` is shorter when the files hold fewer (that match).
    pub wanted: u32,
}

/// Parses a `level` of a request.
pub(crate) fn parse_level(level: Option<&str>) -> Result<Option<Severity>, OpError> {
    let Some(text) = level else { return Ok(None) };
    Severity::parse(text).map(Some).ok_or_else(|| {
        OpError::invalid(format!("unknown level {text:?}"))
            .hint("give one of trace, debug, info, warn, error, fatal")
    })
}

impl Ops {
    /// The newest `lines` lines of the addressed instances' files that pass the filters, oldest first.
    pub fn logs(&self, request: LogsRequest) -> Result<LogsOutcome, OpError> {
        if request.follow {
            return Err(OpError::invalid("a followed log is a stream: call logs_follow"));
        }
        let level_min = parse_level(request.level.as_deref())?;
        let mut backend = self.connect_running()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let names = resolve(&request.name, &live)?.names();
        let apps: Vec<(String, String)> =
            names.iter().map(|name| (app_name(&live, name), name.clone())).collect();
        let mut models: HashMap<&str, Option<AppLog>> = HashMap::new();
        if request.template_ids {
            for (app, _) in &apps {
                if !models.contains_key(app.as_str()) {
                    models.insert(app, self.saved_model(app));
                }
            }
        }
        let mut shown = Vec::new();
        for (app, instance) in &apps {
            let model = models.get(app.as_str()).and_then(Option::as_ref);
            for &stream in request.stream.streams() {
                shown.push(Shown { app, instance, stream: engine_stream(stream), model });
            }
        }
        let filter = Filter {
            since_ms: request.since_ms,
            until_ms: request.until_ms,
            grep: request.grep.clone(),
            ignore_case: request.ignore_case,
            level_min,
        };
        let dir = self.home().root().join(crate::home::LOGS_DIR);
        let read = |count: usize| {
            read_records(&dir, &shown, &filter, count, LOG_LINE_BYTES_MAX)
                .map_err(|error| OpError::io(format!("could not read the logs in {}", dir.display()), &error))
        };
        let wanted = request.lines as usize;
        let lines = if request.collapse {
            collapsed(read, wanted)?
        } else {
            read(wanted)?.into_iter().map(LogLine::from).collect()
        };
        Ok(LogsOutcome { instances: names, lines, wanted: request.lines })
    }

    /// An app's saved log model as it is (not brought up to date: labelling must stay cheap); none when
    /// there is none yet or it does not load.
    pub(crate) fn saved_model(&self, app: &str) -> Option<AppLog> {
        let mut state = load_state(&self.home().log_model_file(app)).ok()??;
        state.log.settle();
        Some(state.log)
    }
}

/// The newest `wanted` lines once repeats are folded: reads `wanted` lines, then four times as many while
/// folding leaves fewer and the files hold more, up to [`LOG_COLLAPSE_LINES_READ_MAX`]. Reading again
/// from the end is cheap (blocks from the files' ends), and a flood is usually found in one or two reads.
fn collapsed(
    read: impl Fn(usize) -> Result<Vec<Record>, OpError>,
    wanted: usize,
) -> Result<Vec<LogLine>, OpError> {
    let mut count = wanted;
    loop {
        let records = read(count)?;
        let exhausted = records.len() < count;
        let mut rows = collapse_repeats(records);
        if rows.len() >= wanted || exhausted || count >= LOG_COLLAPSE_LINES_READ_MAX {
            // The oldest row may have repeats further back: it counts the ones read.
            let first = rows.len().saturating_sub(wanted);
            return Ok(rows
                .drain(first..)
                .map(|row| LogLine {
                    repeated: (row.count > 1).then_some(row.count),
                    ..LogLine::from(row.item)
                })
                .collect());
        }
        count = count.saturating_mul(4).min(LOG_COLLAPSE_LINES_READ_MAX);
    }
}

/// The app an instance belongs to.
pub(crate) fn app_name(live: &[ProcessRecord], instance: &str) -> String {
    live.iter()
        .find(|record| record.name == instance)
        .map_or_else(|| instance.to_string(), |record| crate::address::app_of(record).to_string())
}

pub(crate) fn engine_stream(stream: Stream) -> velos_log_engine::Stream {
    match stream {
        Stream::Out => velos_log_engine::Stream::Out,
        Stream::Err => velos_log_engine::Stream::Err,
    }
}

/// A `--since`/`--until` value, as every face reads it: a duration ago (`10m`, by velos.toml's rules) or a
/// UTC instant (`2026-11-30T10:00:00Z`, milliseconds optional); ms since the Unix epoch.
pub fn parse_log_time(when: &str, now_ms: i64) -> Result<i64, OpError> {
    if let Ok(ago_ms) = velos_config::human::duration_ms(when) {
        return Ok(now_ms.saturating_sub(i64::try_from(ago_ms).unwrap_or(i64::MAX)));
    }
    let with_millis = match when.strip_suffix('Z') {
        Some(seconds) if !seconds.contains('.') => format!("{seconds}.000Z"),
        _ => when.to_string(),
    };
    match velos_log_engine::time::parse_utc_prefix(with_millis.as_bytes()) {
        Some((ms, len)) if len == with_millis.len() => Ok(ms),
        _ => Err(OpError::invalid(format!("{when:?} is neither a duration nor a UTC time"))
            .hint("give a duration ago (10m) or an instant (2026-11-30T10:00:00Z)")),
    }
}

#[cfg(test)]
mod time_tests {
    use super::parse_log_time;

    #[test]
    fn a_duration_is_ago_and_an_instant_is_absolute() {
        assert_eq!(parse_log_time("10m", 1_000_000).ok(), Some(400_000));
        assert_eq!(
            parse_log_time("2026-11-30T10:00:00Z", 0).ok(),
            parse_log_time("2026-11-30T10:00:00.000Z", 0).ok()
        );
        assert!(parse_log_time("2026-11-30T10:00:00.000Z", 0).is_ok_and(|ms| ms > 1_700_000_000_000));
        assert!(parse_log_time("yesterday", 0).is_err());
    }
}
