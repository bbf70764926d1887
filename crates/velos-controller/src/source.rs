//! Where desired state comes from: a file on this host ([`FileSource`]) or a file in a git repository
//! ([`super::GitSource`]). A source only fetches text and names its revision; parsing is the same for
//! both ([`load`]), so a file and a commit with the same bytes give the same specs.
use std::io::Read as _;
use std::path::{Path, PathBuf};
use velos_config::{ConfigError, Project, FILE_BYTES_MAX};

pub use velos_reconcile::followed::ErrorClass;

/// One fetch: the text of the velos.toml and the revision it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub text: String,
    /// `file:<16 hex>` (a hash of the bytes) or `git:<40 hex>` (the commit).
    pub revision: String,
    /// What was read, for messages: the file's path, or `REPO@REF:PATH`.
    pub origin: String,
}

/// Why desired state could not be had. Each variant is one bad input the controller reports in status;
/// the running apps are left as they are.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} is larger than {} MiB", FILE_BYTES_MAX >> 20)]
    TooLarge { origin: String },
    #[error("{origin} is not UTF-8 text")]
    NotUtf8 { origin: String },
    #[error("cannot reach the repository {repo}: {}", source.message())]
    Unreachable {
        repo: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot fetch {repo}: {detail}")]
    Remote { repo: String, detail: String },
    #[error("{repo} refused the credentials: {detail}")]
    Refused { repo: String, detail: String },
    #[error("cannot read the token file {}: {source}", path.display())]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no token for {repo}: {}", no_token(token))]
    NoToken { repo: String, token: velos_config::TokenSource },
    #[error("cannot read the ssh key {}: {source}", path.display())]
    SshKey {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the ssh host key of {host} is not in {} (refused: unknown host)", known_hosts.display())]
    HostKeyUnknown { repo: String, host: String, known_hosts: PathBuf },
    #[error("the ssh host key of {host} does not match the one in {} (refused)", known_hosts.display())]
    HostKeyChanged { repo: String, host: String, known_hosts: PathBuf },
    #[error("cannot fetch {repo}: the `git` program is not installed")]
    NoGitProgram { repo: String },
    #[error("{repo} has no branch, tag or commit `{ref_name}`{}", known_refs(known))]
    MissingRef { repo: String, ref_name: String, known: Vec<String> },
    #[error("commit {} has no file {path}", short(commit))]
    MissingPath { repo: String, commit: String, path: String },
    #[error("{path} in commit {} is a folder, not a file", short(commit))]
    NotAFile { commit: String, path: String },
    #[error("{}", invalid_summary(error))]
    Invalid {
        origin: String,
        #[source]
        error: ConfigError,
    },
    #[error("cannot use the checkout {}: {}", dir.display(), source.message())]
    Checkout {
        dir: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("cannot create {}: {source}", dir.display())]
    CheckoutDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn no_token(source: &velos_config::TokenSource) -> String {
    match source {
        velos_config::TokenSource::File(path) => format!("{} is empty", path.display()),
        velos_config::TokenSource::Env(name) => {
            format!("the environment variable {name} is not set or empty")
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn known_refs(known: &[String]) -> String {
    match known {
        [] => " (it has no branch or tag)".into(),
        known if known.len() <= 8 => format!(" (it has: {})", known.join(", ")),
        known => format!(" (it has: {}, and {} more)", known[..8].join(", "), known.len() - 8),
    }
}

fn invalid_summary(error: &ConfigError) -> String {
    match error {
        ConfigError::Invalid { diagnostics, .. } => {
            let mut lines: Vec<String> = diagnostics.iter().take(3).map(|d| d.short()).collect();
            if diagnostics.len() > 3 {
                lines.push(format!("and {} more", diagnostics.len() - 3));
            }
            lines.join("; ")
        }
        other => other.to_string(),
    }
}

impl SourceError {
    /// Transient: network, the local checkout. Terminal: everything that only a new revision fixes.
    pub fn class(&self) -> ErrorClass {
        match self {
            SourceError::Unreachable { .. }
            | SourceError::Remote { .. }
            | SourceError::Checkout { .. }
            | SourceError::CheckoutDir { .. } => ErrorClass::Transient,
            SourceError::Unreadable { .. }
            | SourceError::TooLarge { .. }
            | SourceError::NotUtf8 { .. }
            | SourceError::MissingRef { .. }
            | SourceError::MissingPath { .. }
            | SourceError::NotAFile { .. }
            | SourceError::Invalid { .. }
            // Fixed by the operator (a token, a key, known_hosts), not by retrying sooner than the poll.
            | SourceError::Refused { .. }
            | SourceError::TokenFile { .. }
            | SourceError::NoToken { .. }
            | SourceError::SshKey { .. }
            | SourceError::HostKeyUnknown { .. }
            | SourceError::HostKeyChanged { .. }
            | SourceError::NoGitProgram { .. } => ErrorClass::Terminal,
        }
    }
}

/// A place desired state is fetched from.
pub trait Source: Send {
    /// Reads the velos.toml as it is now (for git: fetches, then reads the file at the ref's commit).
    fn fetch(&mut self) -> Result<Fetched, SourceError>;

    /// The path the text is parsed as: its folder is the base of relative `cwd`s, so it must be the same
    /// at every fetch for the spec hashes to be stable.
    fn parse_path(&self) -> PathBuf;

    /// Puts the files of `fetched` where [`Source::parse_path`] points, before its apps start (their `cwd`
    /// must exist). A file source is on disk already.
    fn materialize(&mut self, fetched: &Fetched) -> Result<(), SourceError> {
        let _ = fetched;
        Ok(())
    }

    /// How `velos status` names the source: the file's path, or `git REPO@REF:PATH`.
    fn describe(&self) -> String;
}

/// Fetches `source` and parses the text. A git revision replaces the file hash as the project's revision
/// (and each app's `source_rev` label); the diagnostics name the file as `PATH@COMMIT`.
pub fn load(source: &mut dyn Source) -> Result<(Fetched, Project), SourceError> {
    let fetched = source.fetch()?;
    let project = parse(&fetched, &source.parse_path())?;
    Ok((fetched, project))
}

/// Parses fetched text as the file at `path` (see [`load`]).
pub fn parse(fetched: &Fetched, path: &Path) -> Result<Project, SourceError> {
    let invalid = |error| SourceError::Invalid { origin: fetched.origin.clone(), error };
    let mut project = match velos_config::parse(&fetched.text, path) {
        Ok(project) => project,
        Err(ConfigError::Invalid { diagnostics, .. }) if fetched.revision.starts_with("git:") => {
            // `/home/u/.velos/sources/…/velos.toml:3:1` says less than `deploy/velos.toml@1a2b3c4d5e6f:3:1`.
            let shown = PathBuf::from(&fetched.origin);
            let diagnostics = diagnostics
                .into_iter()
                .map(|mut diagnostic| {
                    diagnostic.file = shown.clone();
                    diagnostic
                })
                .collect();
            return Err(invalid(ConfigError::Invalid { file: shown, diagnostics }));
        }
        Err(error) => return Err(invalid(error)),
    };
    if project.revision != fetched.revision {
        set_revision(&mut project, &fetched.revision);
    }
    Ok(project)
}

pub use velos_reconcile::followed::set_revision;

/// A velos.toml on this host.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        FileSource { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Source for FileSource {
    fn fetch(&mut self) -> Result<Fetched, SourceError> {
        let unreadable = |source| SourceError::Unreadable { path: self.path.clone(), source };
        let mut bytes = Vec::new();
        std::fs::File::open(&self.path)
            .and_then(|file| file.take(FILE_BYTES_MAX + 1).read_to_end(&mut bytes))
            .map_err(unreadable)?;
        let origin = self.path.display().to_string();
        if bytes.len() as u64 > FILE_BYTES_MAX {
            return Err(SourceError::TooLarge { origin });
        }
        let revision = velos_config::revision(&bytes);
        let text = String::from_utf8(bytes).map_err(|_| SourceError::NotUtf8 { origin: origin.clone() })?;
        Ok(Fetched { text, revision, origin })
    }

    /// The file's canonical path, as `velos apply FILE` uses (so both compute the same specs).
    fn parse_path(&self) -> PathBuf {
        velos_config::canonical_file_path(&self.path).unwrap_or_else(|_| self.path.clone())
    }

    fn describe(&self) -> String {
        self.parse_path().display().to_string()
    }
}
