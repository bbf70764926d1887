//! An asked summary window (`--since`, `--until`) counted from the files: each instance's streams read
//! backward from their ends until a line older than the window, so a window of the last ten minutes costs
//! ten minutes of log, whatever the files hold.
use super::set::stream_files;
use super::tail::Backward;
use crate::app_log::{AppLog, Stream};
use crate::file_line::{split_line, FRAMING_BYTES};
use crate::window::{Next, Window, WindowCounter};
use std::path::Path;

/// Bytes of a line looked at (its template and level are in its first bytes).
const LINE_BYTES_MAX: usize = 64 * 1024;

/// The window `[since_ms, until_ms]` of the files of `instances`, labelled by `log` (brought up to date
/// with those files first, so it knows their templates).
pub fn count_window(
    dir: &Path,
    instances: &[&str],
    log: &AppLog,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
) -> std::io::Result<Window> {
    let mut counter = WindowCounter::new(log, since_ms, until_ms);
    for instance in instances {
        for stream in [Stream::Out, Stream::Err] {
            let files = stream_files(dir, instance, stream)?;
            let mut backward = Backward::new(&files, LINE_BYTES_MAX + FRAMING_BYTES);
            while let Some(line) = backward.next_line()? {
                let split = split_line(&line.bytes);
                if counter.add_newest_first(stream, split.ts_ms, &split.body) == Next::Done {
                    break;
                }
            }
        }
    }
    Ok(counter.finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::files::refresh;
    use crate::level::Severity;

    #[test]
    fn the_window_counts_both_streams_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let line = |second: u32, text: &str| format!("2026-11-30T10:00:{second:02}.000Z {text}\n");
        let old: String = (0..20).map(|s| line(s, &format!("GET /a/{s} 200"))).collect();
        let new: String = (20..40).map(|s| line(s, &format!("GET /b/{s} 200"))).collect();
        std::fs::write(logs.join("web-out.log.1"), old).unwrap();
        std::fs::write(logs.join("web-out.log"), new).unwrap();
        std::fs::write(logs.join("web-err.log"), line(35, "ERROR payment declined")).unwrap();
        let state = dir.path().join("web.json");
        let refreshed = refresh(&logs, &state, &["web"], None, 0).unwrap();
        let at = |second: i64| crate::time::parse_utc_prefix(line(second as u32, "").as_bytes()).unwrap().0;
        let window = count_window(&logs, &["web"], &refreshed.state.log, Some(at(15)), Some(at(36))).unwrap();
        assert_eq!(window.lines, 23, "15..=36 of out, and the error");
        assert_eq!(window.levels[Severity::Error as usize], 1);
        assert_eq!(window.last_error.unwrap().at_ms, at(35));
        assert_eq!(window.counts.values().sum::<u64>(), 23, "every line has a template of the model");
    }
}
