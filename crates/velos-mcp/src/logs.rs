//! Reading an app's log files for agents: the newest lines that match (read backwards from the end, so a
//! log of a million lines costs what its tail costs), and a forward search that resumes at a byte offset.
//! Which files: velos-ops says (`info` gives each instance's `out_log` and `err_log`).
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

/// Bytes read backwards per step.
const CHUNK_BYTES: u64 = 64 << 10;
/// The most a tail reads from one file before it stops looking for older matches.
pub const TAIL_SCAN_BYTES_MAX: u64 = 64 << 20;
/// The most one search call reads; the cursor resumes after it.
pub const SEARCH_SCAN_BYTES_MAX: u64 = 64 << 20;

/// `out` or `err`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Out,
    Err,
}

impl Which {
    pub fn key(self) -> &'static str {
        match self {
            Which::Out => "out",
            Which::Err => "err",
        }
    }
}

/// How serious a line looks, from its words (there is no structure to read: apps write what they like).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn parse(text: &str) -> Result<Level, String> {
        match text.to_ascii_lowercase().as_str() {
            "debug" | "trace" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "error" | "err" | "fatal" => Ok(Level::Error),
            other => Err(format!("unknown level `{other}`: use error, warn, info or debug")),
        }
    }

    /// The level of a line: error words first (a line saying "warning: fatal error" is an error).
    pub fn of(line: &str) -> Level {
        let lower = line.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|word| lower.contains(word));
        if has(&[
            "error",
            "fatal",
            "panic",
            "exception",
            "traceback",
            "critical",
            "crit]",
            "failed",
            "segfault",
        ]) {
            Level::Error
        } else if has(&["warn"]) {
            Level::Warn
        } else if has(&["debug", "trace"]) {
            Level::Debug
        } else {
            Level::Info
        }
    }
}

/// Which lines a reader wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// At least this level.
    pub level: Option<Level>,
    /// Contains this text, ignoring ASCII case.
    pub grep: Option<String>,
    /// Written at or after this time (lines that carry a timestamp: `log.timestamps = true`).
    pub since_unix_ms: Option<u64>,
}

impl Filter {
    pub fn matches(&self, line: &str) -> bool {
        if self.level.is_some_and(|level| Level::of(line) < level) {
            return false;
        }
        if let Some(grep) = &self.grep {
            if !line.to_ascii_lowercase().contains(&grep.to_ascii_lowercase()) {
                return false;
            }
        }
        match self.since_unix_ms {
            Some(since) => timestamp_unix_ms(line).is_some_and(|time| time >= since),
            None => true,
        }
    }
}

/// The newest lines of one file that match.
#[derive(Debug, Default)]
pub struct Tail {
    /// Oldest first, at most the number asked for.
    pub lines: Vec<String>,
    /// The whole file was read (no older match exists beyond `lines`).
    pub reached_start: bool,
    pub bytes_read: u64,
}

/// The newest `count` lines of `path` that `filter` accepts. A missing file is an empty tail.
pub fn tail(path: &Path, count: usize, filter: &Filter) -> std::io::Result<Tail> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Tail { reached_start: true, ..Tail::default() })
        }
        Err(error) => return Err(error),
    };
    let mut position = file.metadata()?.len();
    let mut found: Vec<String> = Vec::new();
    // The bytes of a line cut by the chunk boundary, waiting for the rest of it from the previous chunk.
    let mut partial: Vec<u8> = Vec::new();
    let mut bytes_read = 0;
    while position > 0 && found.len() < count && bytes_read < TAIL_SCAN_BYTES_MAX {
        let step = CHUNK_BYTES.min(position);
        position -= step;
        file.seek(SeekFrom::Start(position))?;
        let mut chunk = vec![0; step as usize];
        file.read_exact(&mut chunk)?;
        bytes_read += step;
        chunk.extend_from_slice(&partial);
        // Everything before the first newline may continue in the previous chunk (unless at the start).
        let split = if position == 0 {
            0
        } else {
            chunk.iter().position(|&byte| byte == b'\n').map_or(chunk.len(), |index| index + 1)
        };
        partial = chunk[..split].to_vec();
        for line in chunk[split..].split(|&byte| byte == b'\n').rev() {
            collect(line, filter, &mut found, count);
        }
    }
    if position == 0 && !partial.is_empty() {
        for line in partial.split(|&byte| byte == b'\n').rev() {
            collect(line, filter, &mut found, count);
        }
    }
    found.reverse();
    Ok(Tail { lines: found, reached_start: position == 0, bytes_read })
}

fn collect(line: &[u8], filter: &Filter, found: &mut Vec<String>, count: usize) {
    if found.len() >= count || line.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches('\r');
    if filter.matches(text) {
        found.push(text.to_string());
    }
}

/// Matches of one search call.
#[derive(Debug, Default)]
pub struct Search {
    /// (1-based line number counted from `start`'s line, byte offset where the line starts, text).
    pub matches: Vec<(u64, u64, String)>,
    /// Where the next call resumes (the start of the line after the last one read), if the file goes on.
    pub resume_at: Option<(u64, u64)>,
    pub bytes_read: u64,
}

/// Lines of `path` from byte `start` (line number `line_start`) that `filter` accepts, at most `count`,
/// reading at most [`SEARCH_SCAN_BYTES_MAX`].
pub fn search(
    path: &Path,
    start: u64,
    line_start: u64,
    count: usize,
    filter: &Filter,
) -> std::io::Result<Search> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Search::default()),
        Err(error) => return Err(error),
    };
    let length = file.metadata()?.len();
    file.seek(SeekFrom::Start(start.min(length)))?;
    let mut reader = std::io::BufReader::with_capacity(CHUNK_BYTES as usize, file);
    let mut result = Search::default();
    let mut position = start.min(length);
    let mut line_number = line_start;
    let mut line = Vec::new();
    loop {
        if result.matches.len() >= count || position - start >= SEARCH_SCAN_BYTES_MAX {
            result.resume_at = (position < length).then_some((position, line_number));
            break;
        }
        line.clear();
        let read = std::io::BufRead::read_until(&mut reader, b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        let line_start = position;
        position += read as u64;
        line_number += 1;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if filter.matches(text) {
            result.matches.push((line_number, line_start, text.to_string()));
        }
    }
    result.bytes_read = position - start.min(length);
    Ok(result)
}

/// The time of a line that starts with an RFC 3339 UTC timestamp (`2026-11-30T08:55:47.123Z `), as the
/// daemon writes with `log.timestamps = true`.
pub fn timestamp_unix_ms(line: &str) -> Option<u64> {
    let stamp = line.get(..24).filter(|stamp| stamp.ends_with('Z'))?;
    let number = |range: std::ops::Range<usize>| stamp.get(range).and_then(|text| text.parse::<u64>().ok());
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second, millis) = (number(11..13)?, number(14..16)?, number(17..19)?, number(20..23)?);
    let days = days_from_civil(year, month, day)?;
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`), from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn file_with(lines: usize) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp");
        for index in 0..lines {
            let kind = if index % 1000 == 999 { "ERROR db timeout" } else { "info request ok" };
            writeln!(file, "line {index} {kind}").expect("write");
        }
        file
    }

    #[test]
    fn tail_reads_the_newest_lines_across_chunks() {
        let file = file_with(20_000);
        let tail = tail(file.path(), 3, &Filter::default()).expect("tail");
        assert_eq!(
            tail.lines,
            ["line 19997 info request ok", "line 19998 info request ok", "line 19999 ERROR db timeout"]
        );
        assert!(!tail.reached_start);
        let errors = Filter { level: Some(Level::Error), ..Filter::default() };
        let tail = super::tail(file.path(), 100, &errors).expect("tail");
        assert_eq!(tail.lines.len(), 20);
        assert_eq!(tail.lines[0], "line 999 ERROR db timeout");
        assert!(tail.reached_start);
        let all = super::tail(file.path(), 30_000, &Filter::default()).expect("tail");
        assert_eq!(all.lines.len(), 20_000);
        assert_eq!(all.lines[0], "line 0 info request ok");
    }

    #[test]
    fn search_resumes_where_it_stopped() {
        let file = file_with(5_000);
        let filter = Filter { grep: Some("error".into()), ..Filter::default() };
        let first = search(file.path(), 0, 0, 2, &filter).expect("search");
        let found: Vec<(u64, &str)> =
            first.matches.iter().map(|(number, _, text)| (*number, text.as_str())).collect();
        assert_eq!(found, [(1000, "line 999 ERROR db timeout"), (2000, "line 1999 ERROR db timeout")]);
        let (offset, line) = first.resume_at.expect("more");
        let rest = search(file.path(), offset, line, 10, &filter).expect("search");
        assert_eq!(rest.matches.iter().map(|(number, _, _)| *number).collect::<Vec<_>>(), [3000, 4000, 5000]);
        // Resuming at a match's own offset finds it again first.
        let (_, at, _) = &rest.matches[1];
        let again = search(file.path(), *at, 3999, 1, &filter).expect("search");
        assert_eq!(again.matches[0].0, 4000);
        assert_eq!(rest.resume_at, None);
    }

    #[test]
    fn levels_timestamps_and_missing_files() {
        assert_eq!(Level::of("Traceback (most recent call last):"), Level::Error);
        assert_eq!(Level::of("WARNING: low disk"), Level::Warn);
        assert_eq!(Level::of("listening on :8080"), Level::Info);
        assert!(Level::parse("loud").is_err());
        assert_eq!(timestamp_unix_ms("1970-01-02T00:00:01.500Z hello"), Some(86_401_500));
        assert_eq!(timestamp_unix_ms("2026-11-30T08:55:47.123Z x"), Some(1_796_028_947_123));
        assert_eq!(timestamp_unix_ms("no stamp here at all, sorry"), None);
        let missing = tail(Path::new("/nonexistent/velos-x-out.log"), 5, &Filter::default()).expect("tail");
        assert!(missing.lines.is_empty() && missing.reached_start);
    }
}
