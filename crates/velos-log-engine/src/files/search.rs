//! A forward search of one log file that resumes where the last call stopped (a byte offset and a line
//! number), for readers that page through a log of any size (MCP's `logs_search`). Lines are read in
//! bounded memory (a 10 MB line costs its first 64 KiB); the daemon's time prefix is given apart.
use crate::file_line::split_line;
use crate::reader::LineReader;
use std::io::{BufReader, Seek as _, SeekFrom};
use std::path::Path;

/// The most one search call reads; the next call resumes after it.
pub const SEARCH_SCAN_BYTES_MAX: u64 = 64 << 20;

/// One line that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// 1-based, counted from the line the search started at (`line_start` + 1).
    pub line_number: u64,
    /// Where the line starts in the file.
    pub offset: u64,
    /// The daemon's time (prefix or JSON `ts`), when the line has one (ms since the Unix epoch).
    pub ts_ms: Option<i64>,
    /// What the app wrote: without the time prefix or JSON framing (invalid UTF-8 replaced; cut past 64 KiB).
    pub body: String,
}

/// Matches of one call.
#[derive(Debug, Default)]
pub struct Search {
    pub matches: Vec<Found>,
    /// Where the next call resumes (the start of the line after the last one read, and its line number
    /// less one), if the file goes on.
    pub resume_at: Option<(u64, u64)>,
    pub bytes_read: u64,
}

/// Lines of `path` from byte `start` (whose line is number `line_start` + 1) that `matches` accepts (it
/// sees the line without its time prefix), at most `count`, reading at most [`SEARCH_SCAN_BYTES_MAX`]. A
/// missing file has no matches.
pub fn search(
    path: &Path,
    start: u64,
    line_start: u64,
    count: usize,
    matches: impl Fn(&[u8]) -> bool,
) -> std::io::Result<Search> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Search::default()),
        Err(error) => return Err(error),
    };
    let length = file.metadata()?.len();
    let start = start.min(length);
    file.seek(SeekFrom::Start(start))?;
    let mut reader = LineReader::new(BufReader::with_capacity(64 << 10, file));
    let mut result = Search::default();
    let mut line_number = line_start;
    loop {
        let position = start + reader.offset;
        if result.matches.len() >= count || reader.offset >= SEARCH_SCAN_BYTES_MAX {
            result.resume_at = (position < length).then_some((position, line_number));
            break;
        }
        let Some(line) = reader.next_line()? else { break };
        line_number += 1;
        let split = split_line(line.bytes);
        if matches(&split.body) {
            let body = String::from_utf8_lossy(&split.body).into_owned();
            result.matches.push(Found { line_number, offset: start + line.offset, ts_ms: split.ts_ms, body });
        }
    }
    result.bytes_read = reader.offset;
    Ok(result)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use std::io::Write as _;

    fn file_with(lines: usize) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for index in 0..lines {
            let kind = if index % 1000 == 999 { "ERROR db timeout" } else { "info request ok" };
            writeln!(file, "2026-11-30T10:00:00.000Z line {index} {kind}").unwrap();
        }
        file
    }

    fn has_error(line: &[u8]) -> bool {
        line.windows(5).any(|window| window == b"ERROR")
    }

    #[test]
    fn search_resumes_where_it_stopped() {
        let file = file_with(5_000);
        let first = search(file.path(), 0, 0, 2, has_error).unwrap();
        let found: Vec<(u64, &str)> =
            first.matches.iter().map(|found| (found.line_number, found.body.as_str())).collect();
        assert_eq!(found, [(1000, "line 999 ERROR db timeout"), (2000, "line 1999 ERROR db timeout")]);
        assert!(first.matches[0].ts_ms.is_some());
        let (offset, line) = first.resume_at.unwrap();
        let rest = search(file.path(), offset, line, 10, has_error).unwrap();
        let numbers: Vec<u64> = rest.matches.iter().map(|found| found.line_number).collect();
        assert_eq!(numbers, [3000, 4000, 5000]);
        // Resuming at a match's own offset finds it again first.
        let again = search(file.path(), rest.matches[1].offset, 3999, 1, has_error).unwrap();
        assert_eq!(again.matches[0].line_number, 4000);
        assert_eq!(rest.resume_at, None);
        assert!(search(Path::new("/nonexistent/x-out.log"), 0, 0, 5, has_error).unwrap().matches.is_empty());
    }

    #[test]
    fn a_huge_line_costs_bounded_memory_and_the_search_goes_on() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&vec![b'x'; 3 << 20]).unwrap();
        file.write_all(b"\nERROR after the blob\n").unwrap();
        let found = search(file.path(), 0, 0, 5, has_error).unwrap();
        assert_eq!(found.matches.len(), 1);
        assert_eq!(
            (found.matches[0].line_number, found.matches[0].body.as_str()),
            (2, "ERROR after the blob")
        );
    }
}
