//! The last N lines of a stream's files, read backward from the end in blocks, so `--lines 1000` costs
//! the last few hundred KiB of a 1 GB log, not the gigabyte. A line longer than the limit is returned cut
//! (its first bytes) with its full length, never dropped.
use super::set::LogFile;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;

const BLOCK_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailLine {
    /// The line without its newline, at most the limit's bytes.
    pub bytes: Vec<u8>,
    /// The line's full length when it was cut.
    pub cut_from: Option<u64>,
    /// Which of the given files it came from.
    pub file: usize,
}

/// The last `count` lines of `files` (oldest first, as `stream_files` orders them), oldest line first.
pub fn last_lines(files: &[LogFile], count: usize, line_bytes_max: usize) -> std::io::Result<Vec<TailLine>> {
    let mut backward = Backward::new(files, line_bytes_max);
    let mut lines = Vec::new();
    while lines.len() < count {
        match backward.next_line()? {
            Some(line) => lines.push(line),
            None => break,
        }
    }
    lines.reverse();
    Ok(lines)
}

/// The lines of a stream's files, newest first, read lazily block by block: a caller that filters
/// (`--grep`, `--level`, `--since`) reads back only as far as it needs. A file that disappeared since it
/// was listed (rotated away) is skipped.
pub struct Backward<'a> {
    files: &'a [LogFile],
    line_bytes_max: usize,
    /// Files not opened yet are `files[..next_file]`.
    next_file: usize,
    current: Option<Open>,
    block: Vec<u8>,
}

struct Open {
    file: File,
    index: usize,
    /// End (exclusive, without its newline) of the line being looked for.
    line_end: u64,
    /// The bytes `[block_start, block_start + block_len)` are in `block`; `scan` is how far down it was read.
    block_start: u64,
    scan: usize,
    /// False when the file's last line goes on in the next file (a rotation cut it).
    ends_with_newline: bool,
}

impl<'a> Backward<'a> {
    pub fn new(files: &'a [LogFile], line_bytes_max: usize) -> Self {
        Backward { files, line_bytes_max, next_file: files.len(), current: None, block: Vec::new() }
    }

    /// The next line back, or None when every file is read. The daemon rotates between writes, not
    /// between lines, so a line may begin in an older file that does not end with a newline: its pieces
    /// are joined.
    pub fn next_line(&mut self) -> std::io::Result<Option<TailLine>> {
        // The pieces of the line, newest first: (file, start, end).
        let mut pieces: Vec<(usize, u64, u64)> = Vec::new();
        loop {
            if self.current.is_none() {
                if !self.open_previous()? {
                    break;
                }
                let continues = self.current.as_ref().is_some_and(|open| !open.ends_with_newline);
                if !pieces.is_empty() && !continues {
                    break;
                }
            }
            let Some((start, end)) = self.next_span()? else {
                self.current = None;
                continue;
            };
            let index = self.current.as_ref().map_or(0, |open| open.index);
            pieces.push((index, start, end));
            if start != 0 {
                break;
            }
            // The file's first line: it may go on from the older file; look there next.
            self.current = None;
        }
        if pieces.is_empty() {
            return Ok(None);
        }
        if let Some(line) = self.line_in_block(&pieces) {
            return Ok(Some(line));
        }
        self.read_pieces(&pieces).map(Some)
    }

    /// The common case, without a read: a line of one piece that lies in the block just scanned.
    fn line_in_block(&self, pieces: &[(usize, u64, u64)]) -> Option<TailLine> {
        let &[(index, start, end)] = pieces else { return None };
        let open = self.current.as_ref().filter(|open| open.index == index)?;
        let block_end = open.block_start + self.block.len() as u64;
        if start < open.block_start || end > block_end {
            return None;
        }
        let from = (start - open.block_start) as usize;
        let len = (end - start) as usize;
        let keep = len.min(self.line_bytes_max);
        let bytes = self.block[from..from + keep].to_vec();
        Some(TailLine { bytes, cut_from: (len > keep).then_some(len as u64), file: index })
    }

    /// Reads a line from its pieces (newest first), keeping at most the limit's bytes.
    fn read_pieces(&self, pieces: &[(usize, u64, u64)]) -> std::io::Result<TailLine> {
        let total: u64 = pieces.iter().map(|(_, start, end)| end - start).sum();
        let mut bytes = Vec::with_capacity(total.min(self.line_bytes_max as u64) as usize);
        for &(index, start, end) in pieces.iter().rev() {
            let room = self.line_bytes_max - bytes.len();
            if room == 0 {
                break;
            }
            let keep = (end - start).min(room as u64) as usize;
            let file = match File::open(&self.files[index].path) {
                Ok(file) => file,
                Err(error) if error.kind() == ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            let at = bytes.len();
            bytes.resize(at + keep, 0);
            let read = read_full_at(&file, &mut bytes[at..], start)?;
            bytes.truncate(at + read);
        }
        let cut_from = (total > bytes.len() as u64).then_some(total);
        let file = pieces.last().map_or(0, |&(index, _, _)| index);
        Ok(TailLine { bytes, cut_from, file })
    }

    /// Opens the next older file; false when there is none.
    fn open_previous(&mut self) -> std::io::Result<bool> {
        while self.next_file > 0 {
            self.next_file -= 1;
            let file = match File::open(&self.files[self.next_file].path) {
                Ok(file) => file,
                Err(error) if error.kind() == ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            let len = file.metadata()?.len();
            if len == 0 {
                continue;
            }
            // The file's final newline ends its last line; it does not start an empty one.
            let mut last = [0u8; 1];
            read_full_at(&file, &mut last, len - 1)?;
            let ends_with_newline = last[0] == b'\n';
            let line_end = if ends_with_newline { len - 1 } else { len };
            self.block.clear();
            let index = self.next_file;
            self.current =
                Some(Open { file, index, line_end, block_start: line_end, scan: 0, ends_with_newline });
            return Ok(true);
        }
        Ok(false)
    }

    /// The next line's `(start, end)` in the open file, newest first; None when the file is done.
    fn next_span(&mut self) -> std::io::Result<Option<(u64, u64)>> {
        let Some(open) = self.current.as_mut() else { return Ok(None) };
        loop {
            if let Some(offset) = self.block[..open.scan].iter().rposition(|&byte| byte == b'\n') {
                open.scan = offset;
                let at = open.block_start + offset as u64;
                let span = (at + 1, open.line_end);
                open.line_end = at;
                return Ok(Some(span));
            }
            if open.block_start == 0 {
                // The first line of the file; `u64::MAX` marks it as given.
                if open.line_end == u64::MAX {
                    return Ok(None);
                }
                let span = (0, open.line_end);
                open.line_end = u64::MAX;
                return Ok(Some(span));
            }
            let start = open.block_start.saturating_sub(BLOCK_BYTES);
            self.block.resize((open.block_start - start) as usize, 0);
            let read = read_full_at(&open.file, &mut self.block, start)?;
            self.block.truncate(read);
            open.block_start = start;
            open.scan = self.block.len();
        }
    }
}

fn read_full_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read_at(&mut buffer[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::app_log::Stream;
    use crate::files::stream_files;

    fn texts(lines: &[TailLine]) -> Vec<String> {
        lines.iter().map(|line| String::from_utf8_lossy(&line.bytes).into_owned()).collect()
    }

    #[test]
    fn last_lines_span_rotated_files_and_count_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::new();
        for n in 0..100_000 {
            body.push_str(&format!("line {n}\n"));
        }
        std::fs::write(dir.path().join("a-out.log.1"), &body).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("a-out.log.1"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::fs::write(dir.path().join("a-out.log"), "new 0\nnew 1\npartial").unwrap();
        let files = stream_files(dir.path(), "a", Stream::Out).unwrap();
        let lines = last_lines(&files, 5, 1024).unwrap();
        assert_eq!(texts(&lines), ["line 99998", "line 99999", "new 0", "new 1", "partial"]);
        let all = last_lines(&files, 1_000_000, 1024).unwrap();
        assert_eq!(all.len(), 100_003, "fewer lines than asked: all of them");
        assert_eq!(texts(&all[..1]), ["line 0"]);
    }

    #[test]
    fn a_line_cut_by_a_rotation_is_joined_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str, age_s: u64| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let time = std::time::SystemTime::now() - std::time::Duration::from_secs(age_s);
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(time).unwrap();
        };
        write("a-out.log.1", "one\nlong-", 30);
        write("a-out.log.2", "middle-", 20);
        write("a-out.log.3", "end\ntwo\n", 10);
        write("a-out.log", "three", 0);
        let files = stream_files(dir.path(), "a", Stream::Out).unwrap();
        assert_eq!(texts(&last_lines(&files, 10, 1024).unwrap()), ["one", "long-middle-end", "two", "three"]);
        let cut = last_lines(&files, 3, 8).unwrap();
        assert_eq!((texts(&cut)[0].as_str(), cut[0].cut_from), ("long-mid", Some(15)));
    }

    #[test]
    fn a_huge_line_is_cut_not_dropped_and_empty_lines_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = b"first\n\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', 300_000));
        body.extend_from_slice(b"\nlast\n");
        std::fs::write(dir.path().join("a-err.log"), &body).unwrap();
        let files = stream_files(dir.path(), "a", Stream::Err).unwrap();
        let lines = last_lines(&files, 10, 1000).unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(texts(&lines)[..2], ["first", ""]);
        std::fs::write(dir.path().join("b-out.log"), "\n\nz").unwrap();
        let files = stream_files(dir.path(), "b", Stream::Out).unwrap();
        assert_eq!(texts(&last_lines(&files, 10, 1000).unwrap()), ["", "", "z"], "leading empty lines count");
        assert_eq!((lines[2].bytes.len(), lines[2].cut_from), (1000, Some(300_000)));
        assert_eq!(texts(&lines)[3], "last");
    }
}
