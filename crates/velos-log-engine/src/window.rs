//! The lines a summary covers. By default the window starts at the model's epoch (the last apply or
//! restart) and its counts are the model's own, kept as lines arrived: free. A window the caller asks for
//! (`--since 10m`, `--until …`) is counted from its lines, read newest first per stream and labelled with
//! the model's templates (the model was brought up to date first, so it knows them): the cost is the
//! window's bytes, not the log's.
use crate::app_log::{AppLog, EpochCause, LastError, Stream, CONTEXT_LINES};
use crate::level::Severity;
use crate::miner::TemplateId;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// Where a window's start comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowFrom {
    /// The last apply of the app's project.
    LastApply,
    /// The app's last restart.
    LastRestart,
    /// `--since`/`--until` as asked.
    Asked,
    /// No apply or restart known: the whole log.
    All,
}

impl WindowFrom {
    /// How the summary's first line names it.
    pub fn text(self) -> &'static str {
        match self {
            WindowFrom::LastApply => "the last apply",
            WindowFrom::LastRestart => "the last restart",
            WindowFrom::Asked => "as asked",
            WindowFrom::All => "the whole log",
        }
    }
}

/// What the lines of a window hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub from: WindowFrom,
    pub lines: u64,
    /// Lines per severity, indexed like [`Severity::ALL`].
    pub levels: [u64; 7],
    /// Lines per template, by the template's current id.
    pub counts: BTreeMap<TemplateId, u64>,
    pub last_error: Option<LastError>,
}

impl Window {
    /// The model's own window: since its epoch, or all of it.
    pub fn of_epoch(log: &AppLog) -> Window {
        let since_epoch = log.epoch_ms.is_some();
        let mut levels = [0; 7];
        for (severity, count) in log.levels(since_epoch) {
            levels[severity as usize] = count;
        }
        let counts = log
            .templates()
            .into_iter()
            .map(|(id, stats)| (id, if since_epoch { stats.count_since_epoch } else { stats.count }))
            .filter(|&(_, count)| count > 0)
            .collect();
        let start = log.epoch_ms.unwrap_or(i64::MIN);
        let last_error = log.last_error().filter(|error| error.at_ms >= start).cloned();
        Window {
            since_ms: log.epoch_ms,
            until_ms: None,
            from: match (log.epoch_ms, log.epoch_cause) {
                (None, _) => WindowFrom::All,
                (Some(_), Some(EpochCause::Apply)) => WindowFrom::LastApply,
                (Some(_), _) => WindowFrom::LastRestart,
            },
            lines: if since_epoch { log.lines - log.lines_before_epoch } else { log.lines },
            levels,
            counts,
            last_error,
        }
    }

    /// Whether `ts_ms` falls inside.
    pub fn contains(&self, ts_ms: i64) -> bool {
        self.since_ms.is_none_or(|since| ts_ms >= since) && self.until_ms.is_none_or(|until| ts_ms <= until)
    }
}

/// Counts an asked window from its lines, fed newest first, each stream on its own.
pub struct WindowCounter<'a> {
    log: &'a AppLog,
    window: Window,
    /// Per stream: the last error found (the newest) and the lines read just before it, which follow it.
    streams: [StreamContext; 2],
}

#[derive(Default)]
struct StreamContext {
    /// The newest lines read so far, newest last: what follows the line being read.
    following: VecDeque<String>,
    error: Option<LastError>,
}

/// What to do with the rest of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    More,
    /// Older than the window: the stream is done.
    Done,
}

impl<'a> WindowCounter<'a> {
    pub fn new(log: &'a AppLog, since_ms: Option<i64>, until_ms: Option<i64>) -> Self {
        let window = Window {
            since_ms,
            until_ms,
            from: WindowFrom::Asked,
            lines: 0,
            levels: [0; 7],
            counts: BTreeMap::new(),
            last_error: None,
        };
        WindowCounter { log, window, streams: Default::default() }
    }

    /// One line of `stream` (its time prefix removed), newer than every line fed before on that stream.
    /// `ts_ms` is None for a line the daemon did not date: it goes with the window.
    pub fn add_newest_first(&mut self, stream: Stream, ts_ms: Option<i64>, line: &[u8]) -> Next {
        if let Some(ts) = ts_ms {
            if self.window.since_ms.is_some_and(|since| ts < since) {
                return Next::Done;
            }
            if !self.window.contains(ts) {
                return Next::More;
            }
        }
        let (severity, template, message_start) = self.log.classify(line, stream);
        self.window.lines += 1;
        self.window.levels[severity as usize] += 1;
        let template = template.map(|id| self.log.find(id));
        if let Some(id) = template {
            *self.window.counts.entry(id).or_default() += 1;
        }
        let context = &mut self.streams[stream as usize];
        let message = crate::app_log::clip_bytes(&line[message_start.min(line.len())..]);
        match &mut context.error {
            None if severity >= Severity::Error => {
                context.error = Some(LastError {
                    at_ms: ts_ms.unwrap_or_default(),
                    template_id: template.unwrap_or_default(),
                    line: message,
                    before: Vec::new(),
                    after: context.following.iter().rev().cloned().collect(),
                });
            }
            None => {
                if context.following.len() == CONTEXT_LINES {
                    context.following.pop_front();
                }
                context.following.push_back(message);
            }
            Some(error) if error.before.len() < CONTEXT_LINES => error.before.insert(0, message),
            Some(_) => {}
        }
        Next::More
    }

    /// The window; the last error is the newest of the streams'.
    pub fn finish(mut self) -> Window {
        let [out, err] = std::mem::take(&mut self.streams);
        self.window.last_error = [out.error, err.error].into_iter().flatten().max_by_key(|error| error.at_ms);
        self.window
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn model(lines: &[(&str, i64)]) -> AppLog {
        let mut log = AppLog::default();
        for (line, ts) in lines {
            log.ingest(line.as_bytes(), Stream::Out, *ts);
        }
        log.settle();
        log
    }

    #[test]
    fn an_asked_window_counts_only_its_lines_and_keeps_the_error_context_in_order() {
        let lines: Vec<(String, i64)> = (0..40)
            .map(|n| match n {
                25 => ("ERROR db connection refused".to_string(), n),
                _ => (format!("INFO request {n} served"), n),
            })
            .collect();
        let refs: Vec<(&str, i64)> = lines.iter().map(|(line, ts)| (line.as_str(), *ts)).collect();
        let log = model(&refs);
        let mut counter = WindowCounter::new(&log, Some(20), Some(30));
        for (line, ts) in refs.iter().rev() {
            if counter.add_newest_first(Stream::Out, Some(*ts), line.as_bytes()) == Next::Done {
                break;
            }
        }
        let window = counter.finish();
        assert_eq!(window.lines, 11, "20..=30");
        assert_eq!(window.levels[Severity::Error as usize], 1);
        assert_eq!(window.levels[Severity::Info as usize], 10);
        assert_eq!(window.counts.values().sum::<u64>(), 11);
        let error = window.last_error.unwrap();
        assert_eq!(
            (error.at_ms, error.line.as_str()),
            (25, "db connection refused"),
            "the message, after the level"
        );
        assert_eq!(error.before, ["request 22 served", "request 23 served", "request 24 served"]);
        assert_eq!(error.after, ["request 26 served", "request 27 served", "request 28 served"]);
    }

    #[test]
    fn the_epoch_window_says_what_started_it() {
        let mut log = model(&[("INFO a", 1), ("INFO b", 2)]);
        assert_eq!(Window::of_epoch(&log).from, WindowFrom::All);
        log.mark_epoch(10, EpochCause::Apply);
        log.ingest(b"INFO c", Stream::Out, 11);
        log.settle();
        let window = Window::of_epoch(&log);
        assert_eq!((window.from, window.since_ms, window.lines), (WindowFrom::LastApply, Some(10), 1));
        log.mark_epoch(20, EpochCause::Restart);
        assert_eq!(Window::of_epoch(&log).from, WindowFrom::LastRestart);
    }
}
