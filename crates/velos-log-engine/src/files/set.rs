//! Which files hold one stream of one app, oldest first: the `NAME-out.log.G` generations by number (a
//! rotation renames the live file to one more than the newest number: a higher number is always newer,
//! docs/CONFIG.md "Log files"), then the live `NAME-out.log`.
use crate::app_log::Stream;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    /// Identity across renames (a rotation renames the live file; its inode stays).
    pub inode: u64,
    pub len: u64,
    pub modified_ns: i128,
    /// The `.K` suffix of a rotated generation; None for the live file.
    pub generation: Option<u64>,
}

/// The live file's name: `web-out.log`.
pub fn live_name(app: &str, stream: Stream) -> String {
    let suffix = match stream {
        Stream::Out => "out",
        Stream::Err => "err",
    };
    format!("{app}-{suffix}.log")
}

/// The files of `app`'s `stream` in `dir`, oldest first. A missing directory or file is no error: an app
/// that never wrote has no files.
pub fn stream_files(dir: &Path, app: &str, stream: Stream) -> std::io::Result<Vec<LogFile>> {
    let live = live_name(app, stream);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut rotated = Vec::new();
    let mut current = None;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let generation = if name == live {
            None
        } else {
            match name.strip_prefix(live.as_str()).and_then(|rest| rest.strip_prefix('.')) {
                Some(number) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                    number.parse().ok()
                }
                _ => continue,
            }
        };
        // A file deleted between the listing and this call (a rotation) is skipped, not an error.
        let meta = match entry.metadata() {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        let file = LogFile {
            path: entry.path(),
            inode: meta.ino(),
            len: meta.len(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            generation,
        };
        match generation {
            None => current = Some(file),
            Some(_) => rotated.push(file),
        }
    }
    rotated.sort_by_key(|file| file.generation);
    rotated.extend(current);
    Ok(rotated)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn generations_then_the_live_file_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str, age_s: u64| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let time = std::time::SystemTime::now() - std::time::Duration::from_secs(age_s);
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(time).unwrap();
        };
        write("web-out.log", "live\n", 0);
        write("web-out.log.10", "newer\n", 10);
        write("web-out.log.9", "older\n", 20);
        write("web-err.log", "err\n", 0);
        write("web-out.log.x", "not ours\n", 5);
        write("webby-out.log", "another app\n", 5);
        let files = stream_files(dir.path(), "web", Stream::Out).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.path.file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(names, ["web-out.log.9", "web-out.log.10", "web-out.log"], "by number, not by name");
        assert!(stream_files(&dir.path().join("missing"), "web", Stream::Out).unwrap().is_empty());
    }
}
