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

/// The last `count` lines of `files` (oldest first, as `stream_files` orders them), oldest line first. A
/// file that disappeared since it was listed (rotated away) is skipped.
pub fn last_lines(files: &[LogFile], count: usize, line_bytes_max: usize) -> std::io::Result<Vec<TailLine>> {
    let mut spans: Vec<(usize, u64, u64)> = Vec::new();
    for (index, log) in files.iter().enumerate().rev() {
        if spans.len() >= count {
            break;
        }
        let file = match File::open(&log.path) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        let len = file.metadata()?.len();
        let mut found = Vec::new();
        line_spans_backward(&file, len, count - spans.len(), &mut found)?;
        spans.extend(found.into_iter().map(|(start, end)| (index, start, end)));
    }
    spans.reverse();
    let mut lines = Vec::with_capacity(spans.len());
    for (index, start, end) in spans {
        let file = File::open(&files[index].path)?;
        let keep = (end - start).min(line_bytes_max as u64);
        let mut bytes = vec![0; keep as usize];
        let read = read_full_at(&file, &mut bytes, start)?;
        bytes.truncate(read);
        let cut_from = (end - start > keep).then_some(end - start);
        lines.push(TailLine { bytes, cut_from, file: index });
    }
    Ok(lines)
}

/// Up to `wanted` line spans `(start, end)` (end excludes the newline), newest first, of `file[..len]`.
fn line_spans_backward(
    file: &File,
    len: u64,
    wanted: usize,
    spans: &mut Vec<(u64, u64)>,
) -> std::io::Result<()> {
    let mut block = vec![0u8; BLOCK_BYTES as usize];
    // The end of the line being assembled; a final line without a newline counts (it is being written).
    let mut line_end = len;
    let mut position = len;
    let mut first_byte = true;
    while position > 0 && spans.len() < wanted {
        let start = position.saturating_sub(BLOCK_BYTES);
        let chunk = &mut block[..(position - start) as usize];
        let read = read_full_at(file, chunk, start)?;
        let chunk = &chunk[..read];
        for (offset, &byte) in chunk.iter().enumerate().rev() {
            let at = start + offset as u64;
            if byte != b'\n' {
                first_byte = false;
                continue;
            }
            if first_byte && at + 1 == len {
                // The file's final newline ends the last line; it does not start an empty one.
                line_end = at;
                first_byte = false;
                continue;
            }
            spans.push((at + 1, line_end));
            line_end = at;
            if spans.len() == wanted {
                return Ok(());
            }
        }
        position = start;
    }
    if position == 0 && spans.len() < wanted && line_end > 0 {
        spans.push((0, line_end));
    }
    Ok(())
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
        assert_eq!((lines[2].bytes.len(), lines[2].cut_from), (1000, Some(300_000)));
        assert_eq!(texts(&lines)[3], "last");
    }
}
