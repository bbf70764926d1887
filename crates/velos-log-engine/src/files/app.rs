//! An app's saved model brought up to date (the new bytes only), its summary and template list, and
//! `flush`: what the `logs` verb does with files, so the verb itself only picks apps and renders.
use super::set::stream_files;
use super::store::{load_state, save_state, update, SavedState, StoreError, Update};
use crate::app_log::{EpochCause, Stream};
use crate::summary::{Format, Request, Summary, SummaryError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("could not read the logs in {dir}")]
    Read {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StoreError),
    #[error("could not save {path}")]
    Save {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not flush {path}")]
    Flush {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Summary(#[from] SummaryError),
}

/// How much later an epoch must be than the one marked to be a new restart.
const EPOCH_MOVE_MS: i64 = 1000;

/// An app's model, up to date.
#[derive(Debug)]
pub struct Refreshed {
    pub state: SavedState,
    pub read: Update,
    /// Said to the user, not fatal: a damaged state file that was rebuilt.
    pub warnings: Vec<String>,
}

/// Loads the model at `state_path` (rebuilding it from the files when it is damaged), marks `epoch` (the
/// last apply or restart, and which) when it moved, reads what the files of `instances` gained, and
/// saves it.
pub fn refresh(
    dir: &Path,
    state_path: &Path,
    instances: &[&str],
    epoch: Option<(i64, EpochCause)>,
    now_ms: i64,
) -> Result<Refreshed, FilesError> {
    let mut warnings = Vec::new();
    let mut state = match load_state(state_path) {
        Ok(state) => state.unwrap_or_default(),
        Err(StoreError::Corrupt { path, source }) => {
            warnings.push(format!("{} was damaged ({source}); rebuilt from the log files", path.display()));
            SavedState::default()
        }
        Err(error) => return Err(error.into()),
    };
    // The caller derives the epoch from an uptime, so it wobbles by a few ms from call to call: only a
    // later restart moves it.
    if let Some((epoch, cause)) =
        epoch.filter(|&(epoch, _)| state.log.epoch_ms.is_none_or(|seen| epoch > seen + EPOCH_MOVE_MS))
    {
        state.log.mark_epoch(epoch, cause);
    }
    let read = update(&mut state, dir, instances, now_ms)
        .map_err(|source| FilesError::Read { dir: dir.to_path_buf(), source })?;
    // Templates are asked for next: mine the lines held for header learning.
    state.log.settle();
    save_state(state_path, &state)
        .map_err(|source| FilesError::Save { path: state_path.to_path_buf(), source })?;
    Ok(Refreshed { state, read, warnings })
}

/// The summary of an app, from its refreshed model: over the model's window (since the last apply or
/// restart), or over `[since_ms, until_ms]` when either is given, counted from the files of `instances`.
pub fn summarize(
    dir: &Path,
    instances: &[&str],
    refreshed: &Refreshed,
    asked: (Option<i64>, Option<i64>),
    request: &Request,
    format: Format,
) -> Result<(Summary, String), FilesError> {
    let log = &refreshed.state.log;
    let window = match asked {
        (None, None) => None,
        (since_ms, until_ms) => Some(
            super::window::count_window(dir, instances, log, since_ms, until_ms)
                .map_err(|source| FilesError::Read { dir: dir.to_path_buf(), source })?,
        ),
    };
    Ok(Summary::build_for(log, window, request, format)?)
}

/// What `velos flush` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    pub files: usize,
    pub bytes: u64,
}

/// Empties the live log files of `instances` (the daemon appends to them: truncating keeps them valid),
/// deletes their rotated generations and the app's saved model.
pub fn flush(dir: &Path, state_path: &Path, instances: &[&str]) -> Result<Flushed, FilesError> {
    let mut flushed = Flushed::default();
    for (instance, stream) in instances.iter().flat_map(|i| [(*i, Stream::Out), (*i, Stream::Err)]) {
        let files = stream_files(dir, instance, stream)
            .map_err(|source| FilesError::Read { dir: dir.to_path_buf(), source })?;
        for file in files {
            let failed = |source| FilesError::Flush { path: file.path.clone(), source };
            let result = if file.generation.is_some() {
                std::fs::remove_file(&file.path)
            } else {
                std::fs::OpenOptions::new().write(true).open(&file.path).and_then(|handle| handle.set_len(0))
            };
            match result {
                Ok(()) => {
                    flushed.files += 1;
                    flushed.bytes += file.len;
                }
                // Rotated away meanwhile: nothing left to flush there.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(failed(error)),
            }
        }
    }
    match std::fs::remove_file(state_path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(FilesError::Flush { path: state_path.to_path_buf(), source }),
    }
    Ok(flushed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_damaged_state_is_rebuilt_with_a_warning_and_flush_empties_everything() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join("web-out.log"), "GET /a 200\nGET /b 200\n").unwrap();
        std::fs::write(logs.join("web-out.log.1"), "GET /0 200\n").unwrap();
        let state = dir.path().join("state/web.json");
        let first = refresh(&logs, &state, &["web"], None, 0).unwrap();
        assert_eq!((first.read.lines, first.warnings.len()), (3, 0));
        assert_eq!(
            refresh(&logs, &state, &["web"], None, 0).unwrap().read.lines,
            0,
            "only new bytes are read"
        );

        std::fs::write(&state, b"\x00garbage").unwrap();
        let rebuilt = refresh(&logs, &state, &["web"], None, 0).unwrap();
        assert_eq!(rebuilt.read.lines, 3);
        assert!(rebuilt.warnings[0].contains("rebuilt"), "{:?}", rebuilt.warnings);

        let flushed = flush(&logs, &state, &["web"]).unwrap();
        assert_eq!(flushed, Flushed { files: 2, bytes: 33 });
        assert_eq!(std::fs::read(logs.join("web-out.log")).unwrap(), b"");
        assert!(!logs.join("web-out.log.1").exists() && !state.exists());
    }
}
