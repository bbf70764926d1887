//! [`Home`]: `VELOS_HOME` and the paths in it, named once.
use crate::error::{OpError, OpErrorKind};
use std::path::{Path, PathBuf};
use velos_core::Stream;

/// The daemon's persisted table (docs/PROTOCOL.md "State file").
pub const STATE_FILE: &str = "state.msgpack";
/// Where the daemon writes each app's output.
pub const LOGS_DIR: &str = "logs";
/// Where `velos logs --summary` keeps each app's log model (templates, counts, where reading stopped).
pub const LOG_MODELS_DIR: &str = "log-models";

/// An absolute `VELOS_HOME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `root`, made absolute (against the current directory).
    pub fn new(root: impl Into<PathBuf>) -> Result<Home, OpError> {
        let root = root.into();
        if root.as_os_str().is_empty() {
            return Err(OpError::invalid("VELOS_HOME is empty").hint("export VELOS_HOME=/path/to/dir"));
        }
        let root = std::path::absolute(&root).map_err(|error| {
            OpError::io(format!("could not make VELOS_HOME {} absolute", root.display()), &error)
        })?;
        Ok(Home { root })
    }

    /// `VELOS_HOME`, else `~/.velos`.
    pub fn from_env() -> Result<Home, OpError> {
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        match (set("VELOS_HOME"), set("HOME")) {
            (Some(home), _) => Home::new(home),
            (None, Some(user_home)) => Home::new(PathBuf::from(user_home).join(".velos")),
            (None, None) => {
                Err(OpError::new(OpErrorKind::InvalidInput, "neither VELOS_HOME nor HOME is set")
                    .hint("export VELOS_HOME=/path/to/dir"))
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `velos.toml` of the default project (`velos start PROGRAM` edits it).
    pub fn default_project_file(&self) -> PathBuf {
        velos_reconcile::ownership::default_project_file(&self.root)
    }

    pub fn state_file(&self) -> PathBuf {
        self.root.join(STATE_FILE)
    }

    /// The logs folder.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join(LOGS_DIR)
    }

    /// An app's saved log model: `log-models/APP.json`.
    pub fn log_model_file(&self, app: &str) -> PathBuf {
        self.root.join(LOG_MODELS_DIR).join(format!("{app}.json"))
    }

    /// The file the daemon appends `app`'s `stream` to: `logs/NAME-out.log`, `logs/NAME-err.log`.
    pub fn log_file(&self, app: &str, stream: Stream) -> PathBuf {
        self.root.join(LOGS_DIR).join(log_file_name(app, stream))
    }
}

/// `NAME-out.log` / `NAME-err.log`: the one definition of a log file's name (the daemon's, docs/PROTOCOL.md
/// "Logs"). Rotated files add `.1` … `.N`.
pub fn log_file_name(app: &str, stream: Stream) -> String {
    stream.log_file_name(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let home = Home::new("/srv/velos").expect("home");
        assert_eq!(home.log_file("web-0", Stream::Err), Path::new("/srv/velos/logs/web-0-err.log"));
        assert_eq!(home.state_file(), Path::new("/srv/velos/state.msgpack"));
        assert_eq!(home.default_project_file(), Path::new("/srv/velos/velos.toml"));
        assert!(Home::new("relative").expect("home").root().is_absolute());
        assert_eq!(Home::new("").expect_err("empty").kind, OpErrorKind::InvalidInput);
    }
}
