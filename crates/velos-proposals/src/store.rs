//! `$VELOS_HOME/proposals/`: one `ID.json` per proposal and `actions.log`, a JSON line per agent action.
//!
//! Files are replaced atomically (temporary file, fsync, rename), and read and appended with `O_NOFOLLOW`:
//! a symlink planted in the folder is refused, never followed. Ids are checked before they name a file.
use crate::{Proposal, ProposalError, State};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The folder under `$VELOS_HOME`.
pub const PROPOSALS_DIR: &str = "proposals";
/// Pending proposals a host holds at most: an agent in a loop cannot fill the disk.
pub const PENDING_MAX: usize = 200;
/// Decided proposals kept (the oldest beyond this are removed when a new one is stored).
const DECIDED_KEEP: usize = 500;
/// The action log is rotated to `actions.log.1` past this size.
const ACTIONS_LOG_BYTES_MAX: u64 = 4 << 20;
/// A proposal file larger than this is refused when read (a whole velos.toml is at most 16 MiB; a diff
/// and a patch of it fit in a few times that).
const PROPOSAL_BYTES_MAX: u64 = 64 << 20;

/// The proposals of one `VELOS_HOME`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// One line of `actions.log`: something an agent did, or that was done to what it proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentAction {
    pub time_unix_ms: u64,
    /// The MCP client (or `cli`).
    pub by: String,
    /// `propose`, `approve`, `reject`, `apply_proposal`, `restart_app`, `refused`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// `ok`, or what went wrong.
    pub result: String,
}

fn io<'a>(context: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ProposalError + 'a {
    move |source| ProposalError::Io { context, path: path.to_path_buf(), source }
}

/// Whether `id` can be a proposal id (`p-` and hex digits): anything else never reaches the file system.
pub fn valid_id(id: &str) -> bool {
    id.strip_prefix("p-")
        .is_some_and(|hex| (1..=16).contains(&hex.len()) && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

impl Store {
    /// Opens (creating, mode 0700) `home/proposals`.
    pub fn open(home: &Path) -> Result<Store, ProposalError> {
        let dir = home.join(PROPOSALS_DIR);
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(io("cannot create", &dir))?;
        Ok(Store { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Stores a new proposal, giving it a fresh id (the one in `proposal` is replaced). Refused when
    /// [`PENDING_MAX`] proposals are pending; removes the oldest decided ones beyond what is kept.
    pub fn create(&self, proposal: &mut Proposal) -> Result<(), ProposalError> {
        let all = self.list()?;
        if all.iter().filter(|old| old.state == State::Pending).count() >= PENDING_MAX {
            return Err(ProposalError::TooManyPending);
        }
        let decided: Vec<&Proposal> = all.iter().filter(|old| old.state != State::Pending).collect();
        for old in decided.iter().take(decided.len().saturating_sub(DECIDED_KEEP - 1)) {
            let path = self.path(&old.id);
            fs::remove_file(&path).map_err(io("cannot remove", &path))?;
        }
        for attempt in 0u32..16 {
            proposal.id = new_id(proposal.created_unix_ms, attempt);
            let path = self.path(&proposal.id);
            // `create_new` claims the id (O_EXCL); the content then replaces it atomically.
            match fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
                Ok(_) => return self.save(proposal),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(io("cannot create", &path)(error)),
            }
        }
        Err(ProposalError::Io {
            context: "cannot find a free proposal id in",
            path: self.dir.clone(),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        })
    }

    /// Replaces the stored proposal `proposal.id` (a reader sees the old or the new file, never a mix).
    pub fn save(&self, proposal: &Proposal) -> Result<(), ProposalError> {
        if !valid_id(&proposal.id) {
            return Err(ProposalError::NotFound { id: proposal.id.clone() });
        }
        let path = self.path(&proposal.id);
        let mut text = serde_json::to_string_pretty(proposal)
            .map_err(|source| ProposalError::Corrupt { path: path.clone(), source })?;
        text.push('\n');
        let mut temporary = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)
            .map_err(io("cannot create a temporary file in", &self.dir))?;
        temporary.write_all(text.as_bytes()).map_err(io("cannot write", &path))?;
        temporary.as_file().sync_all().map_err(io("cannot sync", &path))?;
        // rename(2) replaces a symlink at `path` itself; it never writes through one.
        temporary.persist(&path).map_err(|error| io("cannot write", &path)(error.error))?;
        fs::File::open(&self.dir).and_then(|dir| dir.sync_all()).map_err(io("cannot sync", &self.dir))
    }

    /// The proposal `id`.
    pub fn get(&self, id: &str) -> Result<Proposal, ProposalError> {
        if !valid_id(id) {
            return Err(ProposalError::NotFound { id: id.to_string() });
        }
        let path = self.path(id);
        let text = match read_no_follow(&path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProposalError::NotFound { id: id.to_string() })
            }
            other => other.map_err(io("cannot read", &path))?,
        };
        serde_json::from_str(&text).map_err(|source| ProposalError::Corrupt { path, source })
    }

    /// Every proposal, oldest first (ties by id).
    pub fn list(&self) -> Result<Vec<Proposal>, ProposalError> {
        let mut proposals = Vec::new();
        for item in fs::read_dir(&self.dir).map_err(io("cannot read", &self.dir))? {
            let item = item.map_err(io("cannot read", &self.dir))?;
            let name = item.file_name();
            let Some(id) = name.to_str().and_then(|name| name.strip_suffix(".json")) else { continue };
            if !valid_id(id) {
                continue;
            }
            match self.get(id) {
                Ok(proposal) => proposals.push(proposal),
                // Claimed by `create` and not yet written: not a proposal yet.
                Err(ProposalError::Corrupt { .. }) if item.metadata().is_ok_and(|meta| meta.len() == 0) => {}
                Err(error) => return Err(error),
            }
        }
        proposals.sort_by(|a, b| (a.created_unix_ms, &a.id).cmp(&(b.created_unix_ms, &b.id)));
        Ok(proposals)
    }

    /// Appends one line to `actions.log` (rotated past 4 MiB).
    pub fn record(&self, action: &AgentAction) -> Result<(), ProposalError> {
        let path = self.dir.join("actions.log");
        if fs::symlink_metadata(&path).is_ok_and(|meta| meta.len() > ACTIONS_LOG_BYTES_MAX) {
            let rotated = self.dir.join("actions.log.1");
            fs::rename(&path, &rotated).map_err(io("cannot rotate", &path))?;
        }
        let mut line = serde_json::to_string(action)
            .map_err(|source| ProposalError::Corrupt { path: path.clone(), source })?;
        line.push('\n');
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io("cannot open", &path))?;
        file.write_all(line.as_bytes()).map_err(io("cannot write", &path))
    }

    /// The lines of `actions.log`, oldest first.
    pub fn actions(&self) -> Result<Vec<AgentAction>, ProposalError> {
        let path = self.dir.join("actions.log");
        let text = match read_no_follow(&path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other.map_err(io("cannot read", &path))?,
        };
        let lines = text.lines().filter(|line| !line.trim().is_empty());
        lines
            .map(|line| {
                serde_json::from_str(line)
                    .map_err(|source| ProposalError::Corrupt { path: path.clone(), source })
            })
            .collect()
    }
}

fn read_no_follow(path: &Path) -> std::io::Result<String> {
    let file = fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path)?;
    let mut text = String::new();
    file.take(PROPOSAL_BYTES_MAX).read_to_string(&mut text)?;
    Ok(text)
}

/// `p-` and 8 hex digits mixed from the time, the process and the attempt; uniqueness is enforced by
/// `create_new`, so this only has to make collisions rare.
fn new_id(time_unix_ms: u64, attempt: u32) -> String {
    use std::hash::BuildHasher as _;
    let mixed =
        std::collections::hash_map::RandomState::new().hash_one((time_unix_ms, std::process::id(), attempt));
    format!("p-{:08x}", mixed as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_before_naming_a_file() {
        assert!(valid_id("p-0a1b2c3d"));
        for bad in ["", "p-", "../x", "p-../../etc/passwd", "p-zz", "P-00", "p-00000000000000000"] {
            assert!(!valid_id(bad), "{bad}");
        }
        assert!(valid_id(&new_id(1, 0)));
    }
}
