//! Finding the header of raw lines with no per-application settings: the leading columns whose shape
//! (number, time, id, level, bracket, `component:`) is the same on nearly every line of the stream. The
//! model is learned once from a stream's first lines and then applied to each line in O(columns).
use crate::token::{next_column, shape, Shape, Span};
use serde::{Deserialize, Serialize};

/// Header columns we look for (the longest seen in practice is about 10).
const COLUMNS_MAX: usize = 12;
/// A column is part of the header when this share of the sample lines has the same kind of token there.
const AGREEMENT_MIN: f64 = 0.8;
/// Word columns in a row that a header may hold (HPC's `unix.hw state_change.unavailable`); past it we
/// are reading the message.
const WEAK_RUN_MAX: usize = 2;
/// How many lines `learn` looks at.
pub const SAMPLE_LINES: usize = 256;

/// One learned column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The most common shape in the sample.
    pub shape: Shape,
    /// A weak column (words, or a mix of words and header shapes: `RAS`, a host name, BGL's alert tag
    /// or `-`) is only part of the header when a strong one follows it.
    pub strong: bool,
}

/// The learned header of one stream: empty when lines have none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeaderModel {
    pub columns: Vec<Column>,
}

/// What `HeaderModel::split` found in one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Where the message starts (a byte offset into the line).
    pub content_start: usize,
    /// The span of the header's level column, if it has one and this line fits the header.
    pub level: Option<Span>,
}

impl HeaderModel {
    /// Learns the header from sample lines (the first lines of a stream).
    pub fn learn<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> HeaderModel {
        // One row more than the columns looked at: how many lines go on after the last one.
        let mut counts = [[0u32; SHAPES]; COLUMNS_MAX + 1];
        let mut sampled = 0u32;
        for line in lines.into_iter().take(SAMPLE_LINES) {
            if line.iter().all(|byte| byte.is_ascii_whitespace()) {
                continue;
            }
            sampled += 1;
            let mut from = 0;
            for column in counts.iter_mut() {
                let Some(span) = next_column(line, from) else { break };
                column[shape(&line[span.0 as usize..span.1 as usize]) as usize] += 1;
                from = span.1 as usize;
            }
        }
        if sampled == 0 {
            return HeaderModel::default();
        }
        let needed = (f64::from(sampled) * AGREEMENT_MIN).ceil() as u32;
        let mut columns = Vec::new();
        let mut header_len = 0;
        let mut weak_run = 0;
        for column in &counts[..COLUMNS_MAX] {
            let (best, best_count) = dominant(column);
            let headerish: u32 =
                ALL_SHAPES.iter().filter(|shape| shape.is_headerish()).map(|s| column[*s as usize]).sum();
            let strong = best.is_headerish() && best_count >= needed && headerish >= needed;
            let words = column[Shape::Word as usize];
            let weak = !strong && words + headerish >= needed;
            weak_run = if weak { weak_run + 1 } else { 0 };
            if (!strong && !weak) || weak_run > WEAK_RUN_MAX {
                break;
            }
            let after = columns.last().map(|column: &Column| column.shape);
            // After the level come the thread, the component or a separator; a number, an id or a time
            // there is the message (`ERROR job 39 failed`).
            let after_level = columns.iter().any(|column| column.shape == Shape::Level);
            if strong && after_level && !matches!(best, Shape::Bracket | Shape::Component | Shape::Dash) {
                break;
            }
            columns.push(Column { shape: best, strong });
            if strong {
                header_len = columns.len();
                // `component:` closes a header, and so does a `-` after a thread or program name
                // (`[main] - msg`, `chrome.exe - msg`): what follows is the message.
                let dash_after_name =
                    best == Shape::Dash && matches!(after, Some(Shape::Bracket | Shape::Word));
                if best == Shape::Component || dash_after_name {
                    break;
                }
            }
        }
        // A header leaves a message on most lines: `INFO out line 3` is a level and a message, not four
        // header columns and nothing.
        let goes_on = |len: usize| counts[len].iter().sum::<u32>() * 2 >= sampled;
        while header_len > 0 && !goes_on(header_len) {
            header_len =
                columns[..header_len - 1].iter().rposition(|column| column.strong).map_or(0, |at| at + 1);
        }
        columns.truncate(header_len);
        HeaderModel { columns }
    }

    /// Splits one line into header and message. A line that does not fit the header (a stack trace line,
    /// the rest of a multi-line message) is all message.
    pub fn split(&self, line: &[u8]) -> Split {
        let mut split = Split { content_start: 0, level: None };
        if self.columns.is_empty() {
            return split;
        }
        let strong = self.columns.iter().filter(|column| column.strong).count();
        // A third of the strong columns may disagree (`UNKNOWN_LOCATION` where a node id usually is).
        let misses_allowed = strong / 3;
        let mut misses = 0;
        let mut from = 0;
        let mut level = None;
        for column in &self.columns {
            let Some(span) = next_column(line, from) else { return split };
            from = span.1 as usize;
            // Weak columns are skipped unread: only strong columns vote, and levels sit in strong ones.
            if !column.strong {
                continue;
            }
            let found = shape(&line[span.0 as usize..span.1 as usize]);
            if !found.is_headerish() && found != column.shape {
                misses += 1;
                if misses > misses_allowed {
                    return split;
                }
            }
            if found == Shape::Level || (column.shape == Shape::Level && found == Shape::Bracket) {
                level = level.or(Some(span));
            }
        }
        // The message starts at its first byte, after the separators that ended the header.
        while from < line.len() && crate::token::is_separator(line[from]) {
            from += 1;
        }
        split.content_start = from;
        split.level = level;
        split
    }
}

const SHAPES: usize = 10;
const ALL_SHAPES: [Shape; SHAPES] = [
    Shape::Number,
    Shape::Time,
    Shape::Id,
    Shape::Level,
    Shape::Calendar,
    Shape::Dash,
    Shape::Bracket,
    Shape::Component,
    Shape::Word,
    Shape::Other,
];

fn dominant(counts: &[u32; SHAPES]) -> (Shape, u32) {
    let mut best = (Shape::Other, 0);
    for shape in ALL_SHAPES {
        if counts[shape as usize] > best.1 {
            best = (shape, counts[shape as usize]);
        }
    }
    best
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn content<'a>(model: &HeaderModel, line: &'a str) -> &'a str {
        line[model.split(line.as_bytes()).content_start..].trim_start()
    }

    fn learn(lines: &[&str]) -> HeaderModel {
        HeaderModel::learn(lines.iter().map(|line| line.as_bytes()))
    }

    #[test]
    fn a_syslog_header_ends_at_the_component() {
        let model = learn(&[
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; uid=0",
            "Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown",
            "Jul  1 09:00:55 combo ftpd[24200]: connection from 10.0.0.1",
        ]);
        assert_eq!(model.columns.len(), 5);
        assert_eq!(content(&model, "Jul 2 01:02:03 combo su[1]: session opened"), "session opened");
    }

    #[test]
    fn a_java_header_with_level_and_bracketed_thread() {
        let model = learn(&[
            "2015-10-18 18:01:47,978 INFO [main] org.apache.A: Created MRAppMaster",
            "2015-10-18 18:01:48,963 WARN [RMCommunicator Allocator] org.apache.B: Executing with tokens",
        ]);
        let line = "2015-10-18 18:01:49,000 ERROR [main] org.apache.C: Boom now";
        assert_eq!(content(&model, line), "Boom now");
        let level = model.split(line.as_bytes()).level.unwrap();
        assert_eq!(&line[level.0 as usize..level.1 as usize], "ERROR");
    }

    #[test]
    fn messages_without_a_header_keep_their_words() {
        let model = learn(&["GET /items/1 200 5ms", "GET /items/22 200 17ms", "GET /items/3 404 1ms"]);
        assert!(model.columns.is_empty(), "{model:?}");
        let model = learn(&[
            "ERROR job 9 failed: timeout",
            "ERROR job 19 failed: timeout",
            "ERROR job 29 failed: timeout",
        ]);
        assert_eq!(content(&model, "ERROR job 39 failed: timeout"), "job 39 failed: timeout");
    }

    #[test]
    fn a_header_leaves_a_message() {
        let model = learn(&["INFO out line 1", "INFO out line 2", "WARN out line 3"]);
        assert_eq!(content(&model, "INFO out line 4"), "out line 4");
    }

    #[test]
    fn plain_messages_have_no_header_and_misfits_are_all_message() {
        let model = learn(&["Server listening on port 3000", "GET /index.html 200", "shutting down"]);
        assert!(model.columns.is_empty());
        let model = learn(&["081109 203615 148 INFO dfs.DataNode: PacketResponder 1 terminating"; 4]);
        assert_eq!(content(&model, "\tat org.foo.Bar.baz(Bar.java:12)"), "at org.foo.Bar.baz(Bar.java:12)");
    }
}
