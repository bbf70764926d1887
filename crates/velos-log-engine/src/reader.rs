//! Lines from any `BufRead`, in bounded memory: a line longer than the limit (a 10 MB line without a
//! newline, a binary blob) is kept cut to the limit and marked, the rest skipped up to the next newline.
//! Bytes are passed through untouched (invalid UTF-8 included); a trailing `\r` is dropped.
use std::io::BufRead;

/// Bytes of a line kept by default (the miner looks at far fewer; this bounds memory).
pub const LINE_BYTES_MAX: usize = 64 * 1024;

pub struct LineReader<R> {
    inner: R,
    line: Vec<u8>,
    limit: usize,
    /// Bytes consumed so far (the offset of the next line).
    pub offset: u64,
}

/// One line: its bytes (cut to the limit), whether it was cut, and where it started.
pub struct Line<'a> {
    pub bytes: &'a [u8],
    pub cut: bool,
    pub offset: u64,
    /// Whether a newline ended it (false for the last line of a file still being written).
    pub complete: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, LINE_BYTES_MAX)
    }

    pub fn with_limit(inner: R, limit: usize) -> Self {
        LineReader { inner, line: Vec::with_capacity(256), limit: limit.max(1), offset: 0 }
    }

    /// The next line, or None at the end of the input.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.line.clear();
        let start = self.offset;
        let mut cut = false;
        let mut complete = false;
        loop {
            let buffer = match self.inner.fill_buf() {
                Ok(buffer) => buffer,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if buffer.is_empty() {
                break;
            }
            let (chunk, used, ends) = match buffer.iter().position(|&byte| byte == b'\n') {
                Some(newline) => (&buffer[..newline], newline + 1, true),
                None => (buffer, buffer.len(), false),
            };
            let room = self.limit - self.line.len();
            if chunk.len() > room {
                cut = true;
            }
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.inner.consume(used);
            self.offset += used as u64;
            if ends {
                complete = true;
                break;
            }
        }
        if !complete && self.offset == start {
            return Ok(None);
        }
        if self.line.last() == Some(&b'\r') && !cut {
            self.line.pop();
        }
        Ok(Some(Line { bytes: &self.line, cut, offset: start, complete }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn read_all(input: &[u8], limit: usize) -> Vec<(Vec<u8>, bool, u64, bool)> {
        let mut reader = LineReader::with_limit(std::io::BufReader::with_capacity(4, input), limit);
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            lines.push((line.bytes.to_vec(), line.cut, line.offset, line.complete));
        }
        lines
    }

    #[test]
    fn lines_offsets_and_the_last_line_without_newline() {
        let lines = read_all(b"ab\r\n\ncd", 100);
        assert_eq!(
            lines,
            [
                (b"ab".to_vec(), false, 0, true),
                (b"".to_vec(), false, 4, true),
                (b"cd".to_vec(), false, 5, false)
            ]
        );
        assert!(read_all(b"", 100).is_empty());
    }

    #[test]
    fn a_long_line_is_cut_and_the_next_line_is_intact() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\nnext\n");
        let lines = read_all(&input, 16);
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].0.len(), lines[0].1), (16, true));
        assert_eq!((lines[1].0.as_slice(), lines[1].2), (&b"next"[..], 10_001));
    }
}
