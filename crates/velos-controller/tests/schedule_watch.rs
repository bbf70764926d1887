//! The schedule runner's file watch on a real folder tree (inotify through notify): which folders are
//! watched, which changes reach the runner, and folders that come and go.
#![allow(clippy::unwrap_used)]
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};
use velos_controller::schedule::{FolderWatch, Signal};
use velos_schedule::WatchSpec;

/// The next signal, waiting at most 5 s.
fn next(receiver: &Receiver<Signal>) -> Signal {
    receiver.recv_timeout(Duration::from_secs(5)).unwrap_or_else(|error| panic!("no signal: {error}"))
}

/// The next `Changed` path of `app`, skipping other signals (a write is often several events).
fn next_change(receiver: &Receiver<Signal>, watch: &mut FolderWatch) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match next(receiver) {
            Signal::Changed { path, .. } => return path,
            Signal::Folder(folder) => watch.add_folder(&folder),
            Signal::Stop => {}
        }
    }
    panic!("no change seen");
}

/// Reads signals until none comes for a moment, handing new folders to the watch.
fn drain(receiver: &Receiver<Signal>, watch: &mut FolderWatch) -> Vec<PathBuf> {
    let mut changed = Vec::new();
    while let Ok(signal) = receiver.recv_timeout(Duration::from_millis(300)) {
        match signal {
            Signal::Changed { path, .. } => changed.push(path),
            Signal::Folder(folder) => watch.add_folder(&folder),
            Signal::Stop => {}
        }
    }
    changed
}

fn wanted(cwd: &Path, paths: &[&str], ignore: &[&str]) -> BTreeMap<String, (WatchSpec, String)> {
    let spec = WatchSpec {
        paths: paths.iter().map(|path| cwd.join(path).display().to_string()).collect(),
        ignore: ignore.iter().map(|pattern| pattern.to_string()).collect(),
        debounce_ms: 100,
    };
    BTreeMap::from([("web".to_string(), (spec, cwd.display().to_string()))])
}

#[test]
fn ignored_folders_are_not_watched_and_ignored_files_send_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    for folder in ["src/a", "src/node_modules/deep", "src/.git/objects"] {
        std::fs::create_dir_all(cwd.path().join(folder)).unwrap();
    }
    let (sender, receiver) = channel();
    let mut watch = FolderWatch::new(sender, home.path(), 100).unwrap();
    watch.set(&wanted(cwd.path(), &["src"], &["*.log", "node_modules"]), false);
    assert_eq!(watch.count("web"), 2, "src and src/a; not node_modules, not .git");
    assert!(watch.problems("web").is_empty());

    // Ignored first, then one that counts: the first change the runner hears of is the one that counts.
    std::fs::write(cwd.path().join("src/a/debug.log"), "x").unwrap();
    std::fs::write(cwd.path().join("src/.git/HEAD"), "x").unwrap();
    std::fs::write(cwd.path().join("src/a/main.js"), "x").unwrap();
    assert_eq!(next_change(&receiver, &mut watch), cwd.path().join("src/a/main.js"));
    drain(&receiver, &mut watch);

    // A folder created later is watched, and a change in it is seen.
    std::fs::create_dir_all(cwd.path().join("src/b/c")).unwrap();
    drain(&receiver, &mut watch);
    std::fs::write(cwd.path().join("src/b/c/new.js"), "x").unwrap();
    let changed = drain(&receiver, &mut watch);
    assert!(changed.contains(&cwd.path().join("src/b/c/new.js")), "{changed:?}");
    assert_eq!(watch.count("web"), 4);

    // A folder removed and made again (a build step, a checkout) lost its watch: it is watched anew.
    std::fs::remove_dir_all(cwd.path().join("src/b")).unwrap();
    drain(&receiver, &mut watch);
    std::fs::create_dir_all(cwd.path().join("src/b")).unwrap();
    drain(&receiver, &mut watch);
    std::fs::write(cwd.path().join("src/b/again.js"), "x").unwrap();
    let changed = drain(&receiver, &mut watch);
    assert!(changed.contains(&cwd.path().join("src/b/again.js")), "{changed:?}");
}

#[test]
fn the_cap_and_missing_paths_are_reported() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    for index in 0..5 {
        std::fs::create_dir_all(cwd.path().join(format!("src/{index}"))).unwrap();
    }
    let (sender, _receiver) = channel();
    let mut watch = FolderWatch::new(sender, home.path(), 3).unwrap();
    watch.set(&wanted(cwd.path(), &["src", "missing"], &[]), false);
    assert_eq!(watch.count("web"), 3);
    let problems = watch.problems("web").join("\n");
    assert!(problems.contains("3 folders watched, the cap"), "{problems}");
    assert!(problems.contains("missing: No such file or directory"), "{problems}");
    // Two apps on the same folder: one watch, counted for each.
    let mut both = wanted(cwd.path(), &["src/1"], &[]);
    let (spec, cwd_text) = both["web"].clone();
    both.insert("api".into(), (spec, cwd_text));
    watch.set(&both, false);
    assert_eq!((watch.count("web"), watch.count("api")), (1, 1));
    // A path inside VELOS_HOME (the apps' logs) is never watched.
    watch.set(&wanted(home.path(), &["logs"], &[]), false);
    assert!(watch.problems("web").join("\n").contains("inside VELOS_HOME"));
}

#[test]
fn a_watched_file_is_followed_across_an_editor_save() {
    let cwd = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("config.yml"), "a: 1").unwrap();
    std::fs::write(cwd.path().join("other.txt"), "x").unwrap();
    let (sender, receiver) = channel();
    let mut watch = FolderWatch::new(sender, home.path(), 100).unwrap();
    watch.set(&wanted(cwd.path(), &["config.yml"], &[]), false);
    // A sibling changes nothing; an editor's save (write a new file, rename it over) is seen, twice.
    std::fs::write(cwd.path().join("other.txt"), "y").unwrap();
    for round in 0..2 {
        std::fs::write(cwd.path().join(".config.yml.swp"), format!("a: {round}")).unwrap();
        std::fs::rename(cwd.path().join(".config.yml.swp"), cwd.path().join("config.yml")).unwrap();
        assert_eq!(next_change(&receiver, &mut watch), cwd.path().join("config.yml"));
        drain(&receiver, &mut watch);
    }
}
