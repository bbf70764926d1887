//! What the controller follows: a file or a git repository, and where the list comes from.
use super::*;

/// One thing the controller follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub source: TargetSource,
    /// For a git target, its settings. For a file, the file's own `[velos]` wins at every look (it is
    /// desired state too), except that `watch = true` here forces the watch on (`velos apply --watch`).
    pub settings: ControllerSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetSource {
    /// A velos.toml on this host; if it has `[velos.git]`, the project comes from that repository.
    File { path: PathBuf },
    /// A repository given on the command line (`velos apply --git`).
    Git { git: velos_config::GitSource },
}

impl Target {
    /// `velos apply --watch FILE`: the file, watched whatever its `[velos]` says.
    pub fn watched_file(path: &Path) -> Target {
        let mut target = file_target(path);
        target.settings.watch = true;
        target
    }

    /// `velos apply --git REPO`.
    pub fn git(git: velos_config::GitSource, settings: ControllerSettings) -> Target {
        Target { source: TargetSource::Git { git }, settings }
    }

    /// `file:/srv/shop/velos.toml` or `git:REPO@REF:PATH`: identifies the target in the registry.
    pub fn key(&self) -> String {
        match &self.source {
            TargetSource::File { path } => format!("file:{}", path.display()),
            TargetSource::Git { git } => format!("git:{}", git.describe()),
        }
    }

    /// The project name status uses before the source could ever be parsed: what velos-config would
    /// default to (the file's folder, or the repository's name / the folder of `path` in it).
    pub fn fallback_project(&self) -> String {
        match &self.source {
            TargetSource::File { path } => {
                let folder = path.parent().and_then(Path::file_name).map(|name| name.to_string_lossy());
                repository_name(&folder.unwrap_or_default())
            }
            TargetSource::Git { git } => match git.path.rsplit_once('/') {
                Some((folder, _)) => repository_name(folder),
                None => repository_name(&git.repo),
            },
        }
    }
}

/// The targets of a controller.
#[derive(Debug, Clone)]
pub enum Targets {
    /// These, for the controller's life (`velos apply --watch`, tests).
    Fixed(Vec<Target>),
    /// Those registered under `$VELOS_HOME/controller/targets/`, re-read at each pass (`velos controller`,
    /// the system app): `velos apply` registers a target, then sends `sync`.
    Registered,
}
