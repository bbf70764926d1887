//! What `velos logs` shows: records (a line with its app, stream, time, level and template), the filters
//! (`--since`, `--until`, `--grep`, `--level`) and the merge of several streams into one order, newest
//! first, by time. Pure: the caller reads the files and hands lines in.
use crate::app_log::Stream;
use crate::level::Severity;
use crate::miner::TemplateId;
use crate::repeats::{without_leading_time, Collapser, Row};
use crate::time::format_utc_ms;
use serde::Serialize;

/// One line as `velos logs` shows it. The JSON field names follow the OpenTelemetry log data model where
/// they overlap (`severity_text`, `severity_number`, `body`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// RFC 3339 UTC, when the line carries the daemon's timestamp.
    pub ts: Option<String>,
    pub app: String,
    pub instance: String,
    pub stream: Stream,
    pub severity_text: &'static str,
    pub severity_number: u8,
    pub template_id: Option<String>,
    /// The line (invalid UTF-8 replaced), without the timestamp prefix.
    pub body: String,
    /// The line's full length in bytes when `body` was cut to the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_from: Option<u64>,
    #[serde(skip)]
    pub ts_ms: Option<i64>,
    #[serde(skip)]
    pub severity: Severity,
}

impl Record {
    #[allow(clippy::too_many_arguments)] // the fields of a record, as named
    pub fn new(
        app: &str,
        instance: &str,
        stream: Stream,
        ts_ms: Option<i64>,
        severity: Severity,
        template_id: Option<TemplateId>,
        body: &[u8],
        cut_from: Option<u64>,
    ) -> Record {
        Record {
            ts: ts_ms.map(format_utc_ms),
            app: app.to_string(),
            instance: instance.to_string(),
            stream,
            severity_text: severity.text(),
            severity_number: severity.number(),
            template_id: template_id.map(|id| format!("t{id}")),
            body: String::from_utf8_lossy(body).into_owned(),
            cut_from,
            ts_ms,
            severity,
        }
    }

    /// `web out | GET / 200`, or with the time: `2026-11-30T10:41:02.123Z web-1 err | boom`; a cut line
    /// ends with how long it was.
    pub fn render(&self) -> String {
        let stream = match self.stream {
            Stream::Out => "out",
            Stream::Err => "err",
        };
        let body: String =
            self.body.chars().map(|c| if c.is_control() && c != '\t' { '?' } else { c }).collect();
        let cut = self.cut_from.map(|len| format!(" [… cut, {len} bytes]")).unwrap_or_default();
        match &self.ts {
            Some(ts) => format!("{ts} {} {stream} | {body}{cut}", self.instance),
            None => format!("{} {stream} | {body}{cut}", self.instance),
        }
    }
}

/// Which lines to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// A fixed string the body must contain.
    pub grep: Option<String>,
    /// Match `grep` ignoring ASCII case.
    pub ignore_case: bool,
    /// The least severity kept (`--level warn` keeps WARN, ERROR, FATAL).
    pub level_min: Option<Severity>,
}

/// Whether to keep a record, and whether older ones can still match (`--since` ends the walk back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Skip,
    /// Older than `--since`: this and every older line of the stream are out.
    Stop,
}

impl Filter {
    pub fn judge(&self, record: &Record) -> Verdict {
        if let (Some(since), Some(ts)) = (self.since_ms, record.ts_ms) {
            if ts < since {
                return Verdict::Stop;
            }
        }
        let too_new = matches!((self.until_ms, record.ts_ms), (Some(until), Some(ts)) if ts > until);
        let too_quiet = self.level_min.is_some_and(|min| record.severity < min);
        let unmatched = self.grep.as_ref().is_some_and(|needle| {
            if self.ignore_case {
                !record.body.to_ascii_lowercase().contains(&needle.to_ascii_lowercase())
            } else {
                !record.body.contains(needle.as_str())
            }
        });
        if too_new || too_quiet || unmatched {
            Verdict::Skip
        } else {
            Verdict::Keep
        }
    }

    /// Whether a time filter was asked for (lines without timestamps cannot satisfy one).
    pub fn needs_time(&self) -> bool {
        self.since_ms.is_some() || self.until_ms.is_some()
    }
}

/// Records (oldest first) with consecutive and near-consecutive repeats of a message folded into the
/// first of them, with their count (the rule of [`crate::repeats`]). The stream counts: a repeat on
/// stderr of a line on stdout is a line of its own.
pub fn collapse_repeats(records: Vec<Record>) -> Vec<Row<Record>> {
    let mut collapser = Collapser::default();
    let mut key = Vec::new();
    for record in records {
        key.clear();
        key.push(record.stream as u8);
        key.extend_from_slice(record.instance.as_bytes());
        key.push(0);
        key.extend_from_slice(without_leading_time(record.body.as_bytes()));
        collapser.push(&key, record);
    }
    collapser.into_rows()
}

/// A stream read newest first.
pub type Source<'a, E> = Box<dyn FnMut() -> Result<Option<Record>, E> + 'a>;

/// Lines a continuation (a line without a timestamp in a timed stream) may look back for its time.
const CARRY_LOOKBACK_MAX: usize = 1000;

/// Merges streams read newest first into the newest `count` records that pass `filter`, returned oldest
/// first. Timed streams are merged by time; a line without a timestamp in a timed stream (the rest of a
/// multi-line message) goes with the timed line before it. Streams without timestamps cannot be put in
/// order with each other: each gives a fair share of the `count`, and they are shown one after the other,
/// before the timed lines. Stops reading a stream at `--since`.
pub fn merge_newest<E>(sources: Vec<Source<'_, E>>, count: usize, filter: &Filter) -> Result<Vec<Record>, E> {
    let mut streams: Vec<Reading<'_, E>> = sources
        .into_iter()
        .map(|read| Reading { read, pending: Default::default(), taken: 0, done: false })
        .collect();
    let mut picked: Vec<(usize, Option<i64>, Record)> = Vec::new();
    while picked.len() < count {
        let mut best: Option<(usize, Option<i64>)> = None;
        for index in 0..streams.len() {
            let Some(key) = streams[index].head_key(filter)? else { continue };
            let better = match best {
                None => true,
                // A timestamp beats none; among timed heads the newest (on a tie, the later stream: read
                // in the same millisecond, stdout is shown first); among untimed the least taken.
                Some((best_index, best_key)) => match (key, best_key) {
                    (Some(key), Some(best_key)) => key >= best_key,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => streams[index].taken < streams[best_index].taken,
                },
            };
            if better {
                best = Some((index, key));
            }
        }
        let Some((index, key)) = best else { break };
        if let Some((_, record)) = streams[index].pending.pop_front() {
            streams[index].taken += 1;
            picked.push((index, key, record));
        }
    }
    // Oldest first: untimed streams one after the other in file order, then the timed lines by time.
    picked.reverse();
    picked.sort_by_key(|(index, key, _)| match key {
        None => (0, *index),
        Some(_) => (1, 0),
    });
    Ok(picked.into_iter().map(|(_, _, record)| record).collect())
}

struct Reading<'a, E> {
    read: Source<'a, E>,
    /// Records read and kept, newest first, each with the time it sorts by.
    pending: std::collections::VecDeque<(Option<i64>, Record)>,
    taken: usize,
    done: bool,
}

impl<E> Reading<'_, E> {
    /// The sort key of the newest record not yet taken, reading on if needed; None when none is left.
    fn head_key(&mut self, filter: &Filter) -> Result<Option<Option<i64>>, E> {
        if self.pending.is_empty() {
            self.fill(filter)?;
        }
        Ok(self.pending.front().map(|(key, _)| *key))
    }

    /// Reads the next kept record; untimed ones are held until the timed line before them (in the file)
    /// gives them its time, or until the lookback gives up.
    fn fill(&mut self, filter: &Filter) -> Result<(), E> {
        let mut untimed: Vec<Record> = Vec::new();
        while !self.done {
            let Some(record) = (self.read)()? else {
                self.done = true;
                break;
            };
            let verdict = filter.judge(&record);
            if verdict == Verdict::Stop {
                self.done = true;
                break;
            }
            let Some(ts) = record.ts_ms else {
                if verdict == Verdict::Keep {
                    untimed.push(record);
                }
                if untimed.len() >= CARRY_LOOKBACK_MAX {
                    break;
                }
                continue;
            };
            self.pending.extend(untimed.drain(..).map(|record| (Some(ts), record)));
            if verdict == Verdict::Keep {
                self.pending.push_back((Some(ts), record));
            }
            if !self.pending.is_empty() {
                return Ok(());
            }
        }
        self.pending.extend(untimed.into_iter().map(|record| (None, record)));
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn record(stream: Stream, ts: Option<i64>, severity: Severity, body: &str) -> Record {
        Record::new("web", "web", stream, ts, severity, None, body.as_bytes(), None)
    }

    /// A source over `records` given oldest first, yielding newest first.
    fn source(mut records: Vec<Record>) -> Source<'static, ()> {
        Box::new(move || Ok(records.pop()))
    }

    fn bodies(records: &[Record]) -> Vec<&str> {
        records.iter().map(|r| r.body.as_str()).collect()
    }

    #[test]
    fn streams_interleave_by_time_and_the_newest_n_are_kept() {
        let out = vec![
            record(Stream::Out, Some(1), Severity::Info, "o1"),
            record(Stream::Out, Some(3), Severity::Info, "o3"),
            record(Stream::Out, Some(5), Severity::Info, "o5"),
        ];
        let err = vec![
            record(Stream::Err, Some(2), Severity::Error, "e2"),
            record(Stream::Err, Some(4), Severity::Warn, "e4"),
        ];
        let merged =
            merge_newest(vec![source(out.clone()), source(err.clone())], 4, &Filter::default()).unwrap();
        assert_eq!(bodies(&merged), ["e2", "o3", "e4", "o5"]);
        let warn = Filter { level_min: Some(Severity::Warn), ..Filter::default() };
        let merged = merge_newest(vec![source(out.clone()), source(err.clone())], 10, &warn).unwrap();
        assert_eq!(bodies(&merged), ["e2", "e4"]);
        let window =
            Filter { since_ms: Some(2), until_ms: Some(4), grep: Some("3".into()), ..Filter::default() };
        assert_eq!(bodies(&merge_newest(vec![source(out), source(err)], 10, &window).unwrap()), ["o3"]);
    }

    #[test]
    fn lines_of_the_same_millisecond_show_stdout_first() {
        let out = vec![record(Stream::Out, Some(7), Severity::Info, "o")];
        let err = vec![record(Stream::Err, Some(7), Severity::Info, "e")];
        let merged = merge_newest(vec![source(out), source(err)], 10, &Filter::default()).unwrap();
        assert_eq!(bodies(&merged), ["o", "e"]);
    }

    #[test]
    fn repeats_fold_into_their_first_line_by_message_per_stream() {
        let mut records: Vec<Record> = [
            "10:00:00 GET / 200",
            "10:00:01 GET / 200",
            "10:00:02 boom",
            "10:00:03 GET / 200",
            "step 1 done",
        ]
        .iter()
        .map(|body| record(Stream::Out, None, Severity::Info, body))
        .collect();
        records.push(record(Stream::Out, None, Severity::Info, "step 2 done"));
        records.push(record(Stream::Err, None, Severity::Info, "10:00:04 GET / 200"));
        let rows = collapse_repeats(records);
        let got: Vec<(&str, u64)> = rows.iter().map(|row| (row.item.body.as_str(), row.count)).collect();
        assert_eq!(
            got,
            [
                ("10:00:00 GET / 200", 3),
                ("10:00:02 boom", 1),
                ("step 1 done", 1),
                ("step 2 done", 1),
                ("10:00:04 GET / 200", 1)
            ]
        );
    }

    #[test]
    fn untimed_lines_follow_their_stream() {
        let out = vec![
            record(Stream::Out, Some(10), Severity::Info, "a"),
            record(Stream::Out, None, Severity::Info, "a-cont"),
            record(Stream::Out, Some(20), Severity::Info, "c"),
        ];
        let err = vec![record(Stream::Err, Some(15), Severity::Info, "b")];
        let merged = merge_newest(vec![source(out), source(err)], 10, &Filter::default()).unwrap();
        assert_eq!(bodies(&merged), ["a", "a-cont", "b", "c"]);
    }

    #[test]
    fn streams_without_times_share_the_count_and_show_one_after_the_other() {
        let out: Vec<Record> =
            (0..10).map(|n| record(Stream::Out, None, Severity::Info, &format!("o{n}"))).collect();
        let err: Vec<Record> =
            (0..3).map(|n| record(Stream::Err, None, Severity::Info, &format!("e{n}"))).collect();
        let merged = merge_newest(vec![source(out), source(err)], 6, &Filter::default()).unwrap();
        assert_eq!(bodies(&merged), ["o7", "o8", "o9", "e0", "e1", "e2"]);
    }

    #[test]
    fn json_fields_follow_the_otel_names() {
        let record = Record::new(
            "web",
            "web-1",
            Stream::Err,
            Some(1_796_035_262_345),
            Severity::Error,
            Some(7),
            b"boom",
            None,
        );
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["ts"], "2026-11-30T10:41:02.345Z");
        assert_eq!(
            (json["severity_text"].as_str(), json["severity_number"].as_u64()),
            (Some("ERROR"), Some(17))
        );
        assert_eq!((json["stream"].as_str(), json["template_id"].as_str()), (Some("err"), Some("t7")));
        assert_eq!(record.render(), "2026-11-30T10:41:02.345Z web-1 err | boom");
    }
}
