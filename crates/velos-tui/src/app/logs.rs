//! The log pane's lines: chunks of raw output cut into lines, cleaned of terminal control sequences (an
//! app's escape codes must not drive the operator's terminal), tagged with their stream and level.
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use velos_core::Stream;
use velos_ops::{LogMark, LogMarks};

/// Lines kept for the pane; older ones are dropped (the files keep everything).
pub const LINES_MAX: usize = 2000;
/// A line longer than this without a newline is cut here, so one runaway writer cannot grow memory.
pub const LINE_BYTES_MAX: usize = 4096;

/// How a line reads, from the words it starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    /// No level word near the start.
    Plain,
}

impl Level {
    /// Finds a level word (`ERROR`, `warn:`, `[DEBUG]`, `level=info`, …) in the first 48 bytes.
    pub fn classify(text: &str) -> Level {
        let head: String = text.chars().take(48).collect::<String>().to_ascii_lowercase();
        let words = head.split(|c: char| !c.is_ascii_alphabetic());
        for word in words {
            let level = match word {
                "error" | "err" | "fatal" | "panic" | "critical" | "crit" => Level::Error,
                "warn" | "warning" => Level::Warn,
                "info" | "notice" => Level::Info,
                "debug" | "trace" => Level::Debug,
                _ => continue,
            };
            return level;
        }
        Level::Plain
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub app: String,
    pub stream: Stream,
    pub text: String,
    pub level: Level,
    /// Pointed out: a template new since the last apply or restart, or spiking.
    pub mark: Option<LogMark>,
}

/// The last [`LINES_MAX`] lines of every followed stream, in arrival order.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    /// A line begun in one chunk and not yet ended, per stream.
    partial: HashMap<(String, Stream), Vec<u8>>,
    /// Lines dropped from the front since the buffer was made: lets a cursor keep its line.
    dropped: usize,
    /// Each followed app's log model, asked about each line.
    marks: HashMap<String, Arc<LogMarks>>,
}

impl LogBuffer {
    pub fn clear(&mut self) {
        self.lines.clear();
        self.partial.clear();
        self.marks.clear();
    }

    /// Takes `app`'s marks for its next lines, and marks the lines already here.
    pub fn set_marks(&mut self, app: &str, marks: Arc<LogMarks>) {
        for line in self.lines.iter_mut().filter(|line| line.app == app) {
            line.mark = marks.mark(line.text.as_bytes(), line.stream);
        }
        self.marks.insert(app.to_string(), marks);
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&LogLine> {
        self.lines.get(index)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }

    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Adds a chunk of `app`'s `stream`: every whole line in it, and keeps the unfinished tail.
    pub fn push_chunk(&mut self, app: &str, stream: Stream, chunk: &[u8]) {
        let key = (app.to_string(), stream);
        let mut pending = self.partial.remove(&key).unwrap_or_default();
        for byte in chunk {
            if *byte == b'\n' {
                self.push_line(app, stream, &pending);
                pending.clear();
            } else {
                pending.push(*byte);
                if pending.len() >= LINE_BYTES_MAX {
                    self.push_line(app, stream, &pending);
                    pending.clear();
                }
            }
        }
        if !pending.is_empty() {
            self.partial.insert(key, pending);
        }
    }

    fn push_line(&mut self, app: &str, stream: Stream, bytes: &[u8]) {
        let text = clean(&String::from_utf8_lossy(bytes));
        let level = Level::classify(&text);
        let mark = self.marks.get(app).and_then(|marks| marks.mark(text.as_bytes(), stream));
        self.lines.push_back(LogLine { app: app.to_string(), stream, text, level, mark });
        if self.lines.len() > LINES_MAX {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }

    /// The index of the next (`forward`) or previous line after `from` whose text contains `query`
    /// (case-insensitive), wrapping around.
    pub fn find(&self, query: &str, from: usize, forward: bool) -> Option<usize> {
        if query.is_empty() || self.lines.is_empty() {
            return None;
        }
        let query = query.to_lowercase();
        let count = self.lines.len();
        (1..=count)
            .map(|step| if forward { (from + step) % count } else { (from + count * 2 - step) % count })
            .find(|index| self.lines[*index].text.to_lowercase().contains(&query))
    }
}

/// Drops terminal escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL/ST`, two-byte `ESC x`), turns
/// tabs into spaces and drops every other control character and a trailing `\r`.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\t' => out.push_str("    "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let mut buffer = LogBuffer::default();
        buffer.push_chunk("web", Stream::Out, b"hel");
        buffer.push_chunk("web", Stream::Err, b"oops\n");
        buffer.push_chunk("web", Stream::Out, b"lo\nwor");
        let texts: Vec<&str> = buffer.iter().map(|line| line.text.as_str()).collect();
        assert_eq!(texts, ["oops", "hello"]);
        assert_eq!(buffer.get(0).map(|line| line.stream), Some(Stream::Err));
    }

    #[test]
    fn escape_sequences_and_controls_never_reach_the_screen() {
        assert_eq!(clean("\u{1b}[31mred\u{1b}[0m\tx\r"), "red    x");
        assert_eq!(clean("a\u{1b}]52;c;ZXZpbA==\u{7}b\u{1b}]0;t\u{1b}\\c"), "abc");
    }

    #[test]
    fn the_buffer_is_bounded() {
        let mut buffer = LogBuffer::default();
        let chunk = "x\n".repeat(LINES_MAX + 10);
        buffer.push_chunk("web", Stream::Out, chunk.as_bytes());
        assert_eq!(buffer.len(), LINES_MAX);
        assert_eq!(buffer.dropped(), 10);
        buffer.push_chunk("web", Stream::Out, &vec![b'y'; LINE_BYTES_MAX * 2 + 1]);
        assert_eq!(buffer.iter().last().map(|line| line.text.len()), Some(LINE_BYTES_MAX));
    }

    #[test]
    fn levels_are_read_from_the_start_of_a_line() {
        assert_eq!(Level::classify("2026-11-30T08:00:00Z ERROR db down"), Level::Error);
        assert_eq!(Level::classify("[warn] slow"), Level::Warn);
        assert_eq!(Level::classify("level=debug msg=x"), Level::Debug);
        assert_eq!(Level::classify("GET / 200"), Level::Plain);
    }

    #[test]
    fn find_wraps_in_both_directions() {
        let mut buffer = LogBuffer::default();
        buffer.push_chunk("web", Stream::Out, b"alpha\nbeta\nALPHA two\n");
        assert_eq!(buffer.find("alpha", 0, true), Some(2));
        assert_eq!(buffer.find("alpha", 2, true), Some(0));
        assert_eq!(buffer.find("alpha", 0, false), Some(2));
        assert_eq!(buffer.find("gamma", 0, true), None);
    }

    #[test]
    fn lines_of_templates_new_since_the_apply_are_marked_backlog_included() {
        use velos_log_engine::{AppLog, EpochCause, Stream as EngineStream};
        let mut log = AppLog::default();
        for n in 0..40 {
            log.ingest(format!("GET /items/{n} 200").as_bytes(), EngineStream::Out, n);
        }
        log.settle();
        log.mark_epoch(100, EpochCause::Apply);
        let mut buffer = LogBuffer::default();
        buffer.push_chunk("web", Stream::Out, b"GET /items/5 200\nsegfault at 0x0\n");
        assert!(buffer.iter().all(|line| line.mark.is_none()), "no model yet: no marks");
        buffer.set_marks("web", Arc::new(LogMarks::from_log(log)));
        buffer.push_chunk("web", Stream::Out, b"GET /items/9 200\n");
        let marks: Vec<Option<LogMark>> = buffer.iter().map(|line| line.mark).collect();
        assert_eq!(marks, [None, Some(LogMark::New), None]);
    }
}
