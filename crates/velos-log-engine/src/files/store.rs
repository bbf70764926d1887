//! A summary that costs the new bytes: the app's model is persisted with, per stream, where reading
//! stopped (the file's inode and offset). The next update finds that file again among the generations,
//! even after a rotation renamed it, reads on from there and then every newer file; a file that shrank
//! (flushed, truncated) is read from its start. A state file that does not parse is reported, so the
//! caller can warn and rebuild from the files.
use super::set::{live_name, stream_files, LogFile};
use crate::app_log::{AppLog, Stream};
use crate::file_line::split_line;
use crate::reader::LineReader;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bumped when the saved form changes; an older file is rebuilt, not misread.
const STATE_VERSION: u32 = 1;

/// Where reading stopped in one stream: a line start in the file with this inode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub inode: u64,
    pub offset: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SavedState {
    pub version: u32,
    pub log: AppLog,
    /// Per live file name (`web-1-out.log`): where reading stopped. An app's instances share one model.
    pub cursors: BTreeMap<String, Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is damaged or from another version")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// What an update read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Update {
    pub bytes: u64,
    pub lines: u64,
}

/// The saved state at `path`: None when there is none yet.
pub fn load_state(path: &Path) -> Result<Option<SavedState>, StoreError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StoreError::Io { path: path.to_path_buf(), source }),
    };
    let state: SavedState = serde_json::from_slice(&text)
        .map_err(|source| StoreError::Corrupt { path: path.to_path_buf(), source })?;
    if state.version != STATE_VERSION {
        let source = serde_json::Error::io(std::io::Error::other(format!("version {}", state.version)));
        return Err(StoreError::Corrupt { path: path.to_path_buf(), source });
    }
    Ok(Some(state))
}

/// Writes `state` to `path` atomically (a temporary file renamed over it).
pub fn save_state(path: &Path, state: &SavedState) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("tmp");
    let mut state = state.clone();
    state.version = STATE_VERSION;
    std::fs::write(&temporary, serde_json::to_vec(&state).map_err(std::io::Error::other)?)?;
    std::fs::rename(&temporary, path)
}

/// Reads what the files of `instances` (process names: `web`, or `web-1`, `web-2`) in `dir` gained since
/// `state` was saved into it. Lines carrying the daemon's timestamp prefix are dated by it (and stripped of
/// it); others by `now_ms`.
pub fn update(
    state: &mut SavedState,
    dir: &Path,
    instances: &[&str],
    now_ms: i64,
) -> std::io::Result<Update> {
    let mut total = Update::default();
    for (instance, stream) in instances.iter().flat_map(|i| [(*i, Stream::Out), (*i, Stream::Err)]) {
        let files = stream_files(dir, instance, stream)?;
        let cursor = state.cursors.entry(live_name(instance, stream)).or_default();
        let (first, offset) = resume_point(&files, *cursor);
        // The start of a line a rotation cut: it goes on in the next file.
        let mut carry = Vec::new();
        for (index, file) in files.iter().enumerate().skip(first) {
            let from = if index == first { offset } else { 0 };
            let live = index + 1 == files.len();
            let read = ingest_file(&mut state.log, file, from, live, stream, now_ms, &mut carry)?;
            total.bytes += read.bytes;
            total.lines += read.lines;
            *cursor = Cursor { inode: file.inode, offset: from + read.bytes };
        }
    }
    Ok(total)
}

/// The file and offset to read on from.
fn resume_point(files: &[LogFile], cursor: Cursor) -> (usize, u64) {
    match files.iter().position(|file| file.inode == cursor.inode) {
        // Shorter than where we stopped: it was flushed or truncated; read it again from its start.
        Some(index) if files[index].len < cursor.offset => (index, 0),
        Some(index) => (index, cursor.offset),
        // Never read, or the file we were in is gone: every file left is newer than it.
        None => (0, 0),
    }
}

/// Ingests the complete lines of `file` from `from` up to the size it had when listed; the last line of
/// the live file is left for next time when no newline ended it yet, that of a rotated file is carried
/// into the next file (the daemon rotates between writes, not between lines).
fn ingest_file(
    log: &mut AppLog,
    file: &LogFile,
    from: u64,
    live: bool,
    stream: Stream,
    now_ms: i64,
    carry: &mut Vec<u8>,
) -> std::io::Result<Update> {
    let mut handle = match std::fs::File::open(&file.path) {
        Ok(handle) => handle,
        // Rotated away or deleted since it was listed: the next update finds it under its new name.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Update::default()),
        Err(error) => return Err(error),
    };
    handle.seek(SeekFrom::Start(from))?;
    let mut reader =
        LineReader::new(BufReader::with_capacity(1 << 16, handle.take(file.len.saturating_sub(from))));
    let mut read = Update::default();
    while let Some(line) = reader.next_line()? {
        if !line.complete {
            if !live {
                let room = crate::reader::LINE_BYTES_MAX.saturating_sub(carry.len());
                carry.extend_from_slice(&line.bytes[..line.bytes.len().min(room)]);
            }
            break;
        }
        let joined;
        let bytes = if carry.is_empty() {
            line.bytes
        } else {
            carry.extend_from_slice(line.bytes);
            joined = std::mem::take(carry);
            &joined[..]
        };
        // Of the joined line: the prefix is at the start of the part the rotated file held.
        let split = split_line(bytes);
        log.ingest(&split.body, stream, split.ts_ms.unwrap_or(now_ms));
        read.lines += 1;
        read.bytes = reader.offset;
    }
    Ok(read)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use std::io::Write;

    fn append(path: &Path, text: &str) {
        std::fs::File::options()
            .create(true)
            .append(true)
            .open(path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    fn total_lines(state: &SavedState) -> u64 {
        let mut log = state.log.clone();
        log.settle();
        log.templates().values().map(|stats| stats.count).sum()
    }

    #[test]
    fn a_dated_line_cut_by_a_rotation_is_joined_with_its_time() {
        let dir = tempfile::tempdir().unwrap();
        append(
            &dir.path().join("web-out.log.1"),
            "2026-11-30T10:00:00.000Z GET /a 200\n2026-11-30T10:00:01.000Z GET /b",
        );
        append(&dir.path().join("web-out.log"), " 200\n");
        let mut state = SavedState::default();
        let read = update(&mut state, dir.path(), &["web"], 5).unwrap();
        assert_eq!(read.lines, 2);
        state.log.settle();
        let templates = state.log.templates();
        let examples: Vec<&str> = templates.values().map(|stats| stats.example.as_str()).collect();
        assert!(examples.iter().all(|example| example.starts_with("GET /")), "{examples:?}");
        assert_eq!(
            state.log.last_ms,
            Some(crate::time::parse_utc_prefix(b"2026-11-30T10:00:01.000Z").unwrap().0)
        );
    }

    #[test]
    fn updates_read_only_new_complete_lines_across_a_rotation_and_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("web-out.log");
        append(&live, "2026-11-30T10:00:00.000Z GET /a 200\nGET /b 200\nGET /c");
        let mut state = SavedState::default();
        let first = update(&mut state, dir.path(), &["web"], 5).unwrap();
        assert_eq!(first.lines, 2, "the unfinished last line waits");
        append(&live, " 200\n");
        assert_eq!(update(&mut state, dir.path(), &["web"], 5).unwrap().lines, 1);
        assert_eq!(
            update(&mut state, dir.path(), &["web"], 5).unwrap(),
            Update::default(),
            "nothing new, nothing read"
        );

        // A rotation: the live file becomes .1 (same inode) with one more line, then a new live file.
        append(&live, "GET /d 200\n");
        std::fs::rename(&live, dir.path().join("web-out.log.1")).unwrap();
        append(&live, "GET /e 200\n");
        assert_eq!(update(&mut state, dir.path(), &["web"], 5).unwrap().lines, 2);
        assert_eq!(total_lines(&state), 5);

        // A flush: the live file is truncated, then written again.
        std::fs::File::create(&live).unwrap();
        append(&live, "x\n");
        assert_eq!(update(&mut state, dir.path(), &["web"], 5).unwrap().lines, 1);

        let path = dir.path().join("state/web.json");
        save_state(&path, &state).unwrap();
        let loaded = load_state(&path).unwrap().unwrap();
        assert_eq!(loaded.cursors, state.cursors);
        assert_eq!(total_lines(&loaded), 6);
    }

    #[test]
    fn a_line_cut_by_a_rotation_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let rotated = dir.path().join("web-out.log.1");
        append(&rotated, "GET /a 200\nGET /b");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options().write(true).open(&rotated).unwrap().set_modified(old).unwrap();
        append(&dir.path().join("web-out.log"), " 200\n");
        let mut state = SavedState::default();
        assert_eq!(update(&mut state, dir.path(), &["web"], 5).unwrap().lines, 2);
        state.log.settle();
        let templates = state.log.templates();
        assert_eq!(templates.len(), 1, "one template: the cut line was joined");
        assert_eq!(templates.values().next().unwrap().count, 2);
    }

    #[test]
    fn a_damaged_state_file_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.json");
        assert!(load_state(&path).unwrap().is_none());
        std::fs::write(&path, b"{\"version\":1,\"log\":{tru").unwrap();
        assert!(matches!(load_state(&path), Err(StoreError::Corrupt { .. })));
    }
}
