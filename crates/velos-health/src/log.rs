//! The `log` probe: does a line the app wrote since probing began match the pattern? A cursor per log
//! file (stdout and stderr) remembers how far it read; each probe reads what was appended since, bounded,
//! and a file that got shorter (rotated) is read again from its start.
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// The most one probe reads of one file: a chatty app cannot make a probe slow.
pub(crate) const READ_BYTES_MAX: u64 = 1 << 20;

#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    path: PathBuf,
    offset: u64,
    /// The first read starts inside a line: drop it up to its end.
    skip_partial: bool,
    /// The end of a line cut by the last read, kept to be matched whole.
    partial: String,
}

impl Cursor {
    /// A cursor at the current end of `path` (0 when it does not exist yet): only lines written from now on
    /// count.
    pub(crate) fn at_end(path: PathBuf) -> Cursor {
        let offset = std::fs::metadata(&path).map_or(0, |metadata| metadata.len());
        Cursor { path, offset, skip_partial: false, partial: String::new() }
    }

    /// A cursor at `offset` of `path`: lines from there on count.
    pub(crate) fn at(path: PathBuf, offset: u64) -> Cursor {
        Cursor { path, offset, skip_partial: false, partial: String::new() }
    }

    /// A cursor `bytes` before the end of `path`: the whole lines there, and every line after, count (the
    /// line cut by the start is not read).
    pub(crate) fn tail(path: PathBuf, bytes: u64) -> Cursor {
        let length = std::fs::metadata(&path).map_or(0, |metadata| metadata.len());
        let offset = length.saturating_sub(bytes);
        Cursor { path, offset, skip_partial: offset > 0, partial: String::new() }
    }

    /// Whether a line appended since the last look matches `pattern`.
    pub(crate) fn matches(&mut self, pattern: &regex::Regex) -> Result<bool, String> {
        let Ok(mut file) = std::fs::File::open(&self.path) else { return Ok(false) };
        let length = file.metadata().map_err(|error| error.to_string())?.len();
        if length < self.offset {
            self.offset = 0; // rotated or truncated: everything in it is new
            self.partial.clear();
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(|error| error.to_string())?;
        let mut bytes = Vec::new();
        file.take(READ_BYTES_MAX).read_to_end(&mut bytes).map_err(|error| error.to_string())?;
        self.offset += bytes.len() as u64;
        let mut text = std::mem::take(&mut self.partial) + &String::from_utf8_lossy(&bytes);
        if self.skip_partial {
            match text.find('\n') {
                Some(end) => {
                    text.drain(..=end);
                    self.skip_partial = false;
                }
                None => text.clear(), // still inside the cut line
            }
        }
        let (complete, rest) = match text.rfind('\n') {
            Some(end) => text.split_at(end + 1),
            None => ("", text.as_str()),
        };
        // The pattern sees the line as the app wrote it: without the daemon's `log.timestamps` prefix, so
        // `^worker ready$` matches whether timestamps are on (the default) or off.
        let found = complete.lines().any(|line| pattern.is_match(&without_time_prefix(line)));
        self.partial = rest.chars().take(64 * 1024).collect();
        Ok(found)
    }
}

/// What the app wrote on `line`: without the daemon's time prefix (`2026-11-23T22:20:55.123Z `), or the
/// body of a `log.format = "json"` line.
fn without_time_prefix(line: &str) -> std::borrow::Cow<'_, str> {
    let split = velos_log_engine::file_line::split_line(line.as_bytes());
    match split.body {
        std::borrow::Cow::Borrowed(_) => {
            std::borrow::Cow::Borrowed(line.get(split.overhead..).unwrap_or(line))
        }
        std::borrow::Cow::Owned(body) => std::borrow::Cow::Owned(String::from_utf8_lossy(&body).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_time_prefix_is_not_part_of_the_line() {
        assert_eq!(without_time_prefix("2026-11-23T22:20:55.123Z worker ready"), "worker ready");
        assert_eq!(without_time_prefix("worker ready"), "worker ready");
        assert_eq!(without_time_prefix("2026-11-23 worker"), "2026-11-23 worker");
        let json = r#"{"ts":"2026-11-23T22:20:55.123Z","stream":"out","body":"worker \"a\" ready"}"#;
        assert_eq!(without_time_prefix(json), "worker \"a\" ready");
    }
    use std::io::Write;

    #[test]
    fn only_new_whole_lines_count_and_rotation_starts_over() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("web-out.log");
        std::fs::write(&path, "listening on 8000\n").expect("write");
        let pattern = crate::check::compile("^listening on").expect("regex");
        let mut cursor = Cursor::at_end(path.clone());
        assert_eq!(cursor.matches(&pattern), Ok(false), "written before probing began");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"starting\nlisten").expect("append");
        assert_eq!(cursor.matches(&pattern), Ok(false), "half a line");
        file.write_all(b"ing on 8001\n").expect("append");
        assert_eq!(cursor.matches(&pattern), Ok(true));
        assert_eq!(cursor.matches(&pattern), Ok(false), "each line counts once");
        std::fs::write(&path, "listening on 8002\n").expect("rotate");
        assert_eq!(cursor.matches(&pattern), Ok(true), "a shorter file is read from its start");
        let mut missing = Cursor::at_end(dir.path().join("none.log"));
        assert_eq!(missing.matches(&pattern), Ok(false));
        // A tail that starts inside a line never matches that line's end.
        std::fs::write(&path, "xx listening on 1\nlistening on 2\n").expect("write");
        let mut tail = Cursor::tail(path.clone(), 30);
        assert_eq!(tail.matches(&crate::check::compile("^listening on 1").expect("regex")), Ok(false));
        let mut tail = Cursor::tail(path.clone(), 30);
        assert_eq!(tail.matches(&crate::check::compile("^listening on 2").expect("regex")), Ok(true));
    }
}
