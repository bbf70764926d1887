//! What the daemon's state file (docs/PROTOCOL.md "State file") says while no daemon runs: how many apps
//! it would bring back, for the `daemon_not_running` hint.
use serde::Deserialize;
use std::path::Path;

/// The apps of a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedApps {
    pub apps: usize,
    /// Of them, desired running: what the daemon starts again.
    pub running: usize,
}

#[derive(Deserialize)]
struct Table {
    apps: Vec<SavedApp>,
}

#[derive(Deserialize)]
struct SavedApp {
    desired: String,
}

/// `None` when there is no state file, or it cannot be read as one (the daemon sets such a file aside).
pub fn saved_apps(path: &Path) -> Option<SavedApps> {
    let bytes = std::fs::read(path).ok()?;
    let table: Table = rmp_serde::from_slice(&bytes).ok()?;
    let running = table.apps.iter().filter(|app| app.desired == "running").count();
    Some(SavedApps { apps: table.apps.len(), running })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Written<'a> {
        version: u32,
        apps: Vec<WrittenApp<'a>>,
    }

    #[derive(serde::Serialize)]
    struct WrittenApp<'a> {
        spec: std::collections::BTreeMap<&'a str, &'a str>,
        desired: &'a str,
        pid: u32,
    }

    #[test]
    fn counts_the_apps_and_those_to_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.msgpack");
        assert_eq!(saved_apps(&path), None);
        let app = |desired| WrittenApp { spec: [("name", "web")].into(), desired, pid: 0 };
        let table = Written { version: 1, apps: vec![app("running"), app("stopped"), app("running")] };
        std::fs::write(&path, rmp_serde::to_vec_named(&table).expect("encode")).expect("write");
        assert_eq!(saved_apps(&path), Some(SavedApps { apps: 3, running: 2 }));
        std::fs::write(&path, b"not msgpack").expect("write");
        assert_eq!(saved_apps(&path), None);
    }
}
