//! The runner's file watch: every folder under an app's watch paths, each watched on its own (not
//! notify's recursive mode), so that ignored folders (`node_modules`) cost no inotify watch and the total
//! stays under a cap. A folder created later is added when its creation is seen.
//!
//! Never watched: `.git` folders and anything under `$VELOS_HOME` (the apps' own log files live there: a
//! watch on them would restart an app each time it logs).
use super::Signal;
use notify::{EventKind, RecursiveMode, Watcher as _};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use velos_schedule::{IgnoreSet, WatchSpec};

/// The most folders watched at once, over all apps. Linux's default `fs.inotify.max_user_watches` is 8192
/// on older kernels and is shared by every program of the user.
pub const WATCHED_FOLDERS_MAX: usize = 4096;

/// What one app watches, as the event filter needs it.
struct AppWatch {
    roots: Vec<PathBuf>,
    cwd: PathBuf,
    ignore: IgnoreSet,
}

impl AppWatch {
    /// The root `path` lies under, if it counts for this app (not ignored, not in `.git`).
    fn root_of(&self, path: &Path) -> Option<&PathBuf> {
        let root = self.roots.iter().find(|root| path.starts_with(root))?;
        let below = path.strip_prefix(root).unwrap_or(path);
        if below.components().any(|part| part.as_os_str() == ".git") {
            return None;
        }
        (!self.ignore.is_ignored(path, &self.cwd, root)).then_some(root)
    }
}

/// The watch of every app's paths. Events go to the runner as [`Signal`]s.
pub struct FolderWatch {
    watcher: notify::RecommendedWatcher,
    apps: Arc<Mutex<BTreeMap<String, AppWatch>>>,
    /// What [`FolderWatch::set`] was last given.
    wanted: BTreeMap<String, (WatchSpec, String)>,
    /// Each folder watched, with the apps it is watched for (one inotify watch however many).
    folders: BTreeMap<PathBuf, BTreeSet<String>>,
    problems: BTreeMap<String, Vec<String>>,
    excluded: Vec<PathBuf>,
    limit: usize,
}

impl FolderWatch {
    pub fn new(sender: Sender<Signal>, home: &Path, limit: usize) -> notify::Result<FolderWatch> {
        let apps: Arc<Mutex<BTreeMap<String, AppWatch>>> = Arc::default();
        let filter = Arc::clone(&apps);
        let mut excluded = vec![home.to_path_buf()];
        excluded.extend(std::fs::canonicalize(home).ok());
        let outside = excluded.clone();
        let watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
            let Ok(event) = result else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return; // reads, the app's own included, change nothing
            }
            let folder_may_be_new = matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_));
            let apps = filter.lock().unwrap_or_else(PoisonError::into_inner);
            for path in event.paths {
                if outside.iter().any(|home| path.starts_with(home)) {
                    continue;
                }
                let mut seen = false;
                for (app, watch) in apps.iter() {
                    if watch.root_of(&path).is_some() {
                        seen = true;
                        let _ = sender.send(Signal::Changed { app: app.clone(), path: path.clone() });
                    }
                }
                if seen && folder_may_be_new && path.is_dir() {
                    let _ = sender.send(Signal::Folder(path));
                }
            }
        })?;
        Ok(FolderWatch {
            watcher,
            apps,
            wanted: BTreeMap::new(),
            folders: BTreeMap::new(),
            problems: BTreeMap::new(),
            excluded,
            limit,
        })
    }

    /// Watches what `wanted` says (app → its watch and cwd). Rebuilds only when that changed, or when
    /// `retry` and some path could not be watched last time (it may exist now).
    pub fn set(&mut self, wanted: &BTreeMap<String, (WatchSpec, String)>, retry: bool) {
        let failed = self.problems.values().any(|problems| !problems.is_empty());
        if *wanted == self.wanted && !(retry && failed) {
            return;
        }
        for folder in std::mem::take(&mut self.folders).into_keys() {
            let _ = self.watcher.unwatch(&folder);
        }
        self.problems.clear();
        self.wanted = wanted.clone();
        let mut apps = BTreeMap::new();
        for (app, (spec, cwd)) in wanted {
            let watch = AppWatch {
                roots: spec.paths.iter().map(PathBuf::from).collect(),
                cwd: PathBuf::from(cwd),
                ignore: IgnoreSet::new(&spec.ignore),
            };
            for root in &watch.roots {
                self.add_root(app, &watch, root);
            }
            apps.insert(app.clone(), watch);
        }
        *self.apps.lock().unwrap_or_else(PoisonError::into_inner) = apps;
    }

    /// A folder was created (or moved) under a watched root: watch it and what it holds. One that was
    /// watched before and removed since lost its inotify watch with it: it is watched again.
    pub fn add_folder(&mut self, folder: &Path) {
        self.folders.retain(|known, _| !known.starts_with(folder));
        let apps = Arc::clone(&self.apps);
        let apps = apps.lock().unwrap_or_else(PoisonError::into_inner);
        for (app, watch) in apps.iter() {
            if watch.root_of(folder).is_some() {
                self.walk(app, watch, folder);
            }
        }
    }

    /// A change under `app`'s watch: a watched path itself removed (`rm -rf src`) took its watch with it,
    /// and nothing above it is watched to see it come back, so it becomes a problem, tried again later.
    pub fn changed(&mut self, app: &str, path: &Path) {
        let is_root = self
            .wanted
            .get(app)
            .is_some_and(|(spec, _)| spec.paths.iter().any(|root| Path::new(root) == path));
        if is_root && !path.exists() {
            self.problem(app, format!("{}: removed; watched again once it exists", path.display()));
        }
    }

    /// Folders watched for `app`.
    pub fn count(&self, app: &str) -> usize {
        self.folders.values().filter(|apps| apps.contains(app)).count()
    }

    /// Why some of `app`'s paths are not (fully) watched.
    pub fn problems(&self, app: &str) -> &[String] {
        self.problems.get(app).map_or(&[], Vec::as_slice)
    }

    fn problem(&mut self, app: &str, text: String) {
        let problems = self.problems.entry(app.to_string()).or_default();
        if !problems.contains(&text) {
            problems.push(text);
        }
    }

    fn add_root(&mut self, app: &str, watch: &AppWatch, root: &Path) {
        if self.excluded.iter().any(|home| root.starts_with(home)) {
            self.problem(app, format!("{}: inside VELOS_HOME, never watched", root.display()));
            return;
        }
        match std::fs::metadata(root) {
            Err(error) => self.problem(app, format!("{}: {error}", root.display())),
            Ok(metadata) if metadata.is_dir() => self.walk(app, watch, root),
            // A file: its folder is watched (editors replace files by renaming), events filtered to it.
            Ok(_) => {
                if let Some(folder) = root.parent() {
                    self.watch_one(app, folder);
                }
            }
        }
    }

    /// Watches `start` and the folders below it that are not ignored, breadth first, up to the cap.
    fn walk(&mut self, app: &str, watch: &AppWatch, start: &Path) {
        let mut queue = VecDeque::from([start.to_path_buf()]);
        while let Some(folder) = queue.pop_front() {
            if !self.watch_one(app, &folder) {
                return;
            }
            let Ok(entries) = std::fs::read_dir(&folder) else { continue };
            for entry in entries.flatten() {
                // Not followed: a symlinked folder may lead anywhere, cycles included.
                if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                    continue;
                }
                let path = entry.path();
                if watch.root_of(&path).is_some() && !self.excluded.iter().any(|home| path.starts_with(home))
                {
                    queue.push_back(path);
                }
            }
        }
    }

    /// False when the cap is reached (the folder is then not watched, and the app says so).
    fn watch_one(&mut self, app: &str, folder: &Path) -> bool {
        if let Some(apps) = self.folders.get_mut(folder) {
            apps.insert(app.to_string());
            return true;
        }
        if self.folders.len() >= self.limit {
            let text = format!(
                "{} folders watched, the cap: folders past it are not watched (add ignore patterns, or watch fewer paths)",
                self.limit
            );
            self.problem(app, text);
            return false;
        }
        match self.watcher.watch(folder, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.folders.insert(folder.to_path_buf(), BTreeSet::from([app.to_string()]));
            }
            Err(error) => self.problem(app, format!("{}: {error}", folder.display())),
        }
        true
    }
}
