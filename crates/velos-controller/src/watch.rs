//! The file watch: each save of a watched velos.toml becomes an [`Event::FileChanged`] ("look again").
//!
//! The folder is watched, not the file: editors save by writing a new file and renaming it over the old
//! one, which a watch on the file itself (its inode) would miss after the first save. Only events naming a
//! watched file pass, and reads (the controller's own) never do. Debouncing is the loop's job.
use crate::{Event, Handle};
use notify::{EventKind, RecursiveMode, Watcher as _};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

pub struct FileWatch {
    watcher: notify::RecommendedWatcher,
    /// The folders watched now.
    folders: BTreeSet<PathBuf>,
    /// The files whose events pass (shared with the watcher's thread).
    files: Arc<Mutex<BTreeSet<PathBuf>>>,
}

impl FileWatch {
    /// A watch that sends to `handle`; watches nothing until [`FileWatch::set`].
    pub fn new(handle: Handle) -> notify::Result<FileWatch> {
        let files: Arc<Mutex<BTreeSet<PathBuf>>> = Arc::default();
        let filter = Arc::clone(&files);
        let watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
            let Ok(event) = result else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            let files = filter.lock().unwrap_or_else(PoisonError::into_inner);
            for path in event.paths.into_iter().filter(|path| files.contains(path)) {
                handle.send(Event::FileChanged(path));
            }
        })?;
        Ok(FileWatch { watcher, folders: BTreeSet::new(), files })
    }

    /// Watches exactly the folders of `files` (absolute paths with their folder's symlinks resolved).
    /// Returns the folders that could not be watched, with why (a folder that does not exist yet).
    pub fn set(&mut self, files: &BTreeSet<PathBuf>) -> Vec<(PathBuf, notify::Error)> {
        *self.files.lock().unwrap_or_else(PoisonError::into_inner) = files.clone();
        let wanted: BTreeSet<PathBuf> =
            files.iter().filter_map(|file| file.parent().map(PathBuf::from)).collect();
        for folder in self.folders.difference(&wanted).cloned().collect::<Vec<_>>() {
            let _ = self.watcher.unwatch(&folder);
            self.folders.remove(&folder);
        }
        let mut failed = Vec::new();
        for folder in wanted.difference(&self.folders).cloned().collect::<Vec<_>>() {
            match self.watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.folders.insert(folder);
                }
                Err(error) => failed.push((folder, error)),
            }
        }
        failed
    }

    /// The folders watched now.
    pub fn folders(&self) -> &BTreeSet<PathBuf> {
        &self.folders
    }
}
