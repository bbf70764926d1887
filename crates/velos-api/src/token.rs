//! `$VELOS_HOME/api.token`: the bearer tokens of the API and the webhook secret.
//!
//! Created on the server's first start (0600, never through a symlink) with one read-write token, one
//! read-only token and one webhook secret, each 256 random bits. The file is the only place they live: the
//! server keeps their SHA-256 digests and compares digests in constant time, so neither the timing of a
//! refusal nor a token's length tells anything about a stored token.
//!
//! ```text
//! # velos serve: send "Authorization: Bearer TOKEN". Keep this file private.
//! read-write velos_rw_…
//! read-only velos_ro_…
//! webhook velos_wh_…
//! ```
use sha2::{Digest, Sha256};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq as _;

pub const TOKEN_FILE: &str = "api.token";
/// The file is small; anything larger is not ours.
const TOKEN_FILE_BYTES_MAX: u64 = 64 * 1024;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// GET routes, streams and `/metrics`.
    Read,
    /// Everything, including edits of desired state.
    Write,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("could not {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is readable by other users (mode {mode:o})", path.display())]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("{}:{line}: {message}", path.display())]
    Malformed { path: PathBuf, line: usize, message: String },
    #[error("could not read random bytes for a new token")]
    Random(#[source] getrandom::Error),
}

type Digest32 = [u8; 32];

/// The tokens as digests, and the webhook secret (HMAC needs the secret itself).
#[derive(Clone)]
pub struct Tokens {
    path: PathBuf,
    read_write: Vec<Digest32>,
    read_only: Vec<Digest32>,
    webhook_secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Tokens").field("path", &self.path).finish_non_exhaustive()
    }
}

fn digest(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
}

/// Whether `presented` equals one of `stored`, looking at every one of them whatever matches.
fn any_equal(stored: &[Digest32], presented: &Digest32) -> bool {
    stored.iter().fold(subtle::Choice::from(0), |found, digest| found | digest.ct_eq(presented)).into()
}

impl Tokens {
    /// Reads `home/api.token`, creating it first when it does not exist. Returns the tokens and, when the
    /// file was just created, its text (so `--print-token` and the first start can show it once).
    pub fn load_or_create(home: &Path) -> Result<(Tokens, bool), TokenError> {
        let path = home.join(TOKEN_FILE);
        match read_private(&path) {
            Ok(text) => Ok((Tokens::parse(&path, &text)?, false)),
            Err(TokenError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let text = new_file_text()?;
                write_new_private(&path, &text)?;
                Ok((Tokens::parse(&path, &text)?, true))
            }
            Err(error) => Err(error),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parse(path: &Path, text: &str) -> Result<Tokens, TokenError> {
        let mut tokens =
            Tokens { path: path.to_path_buf(), read_write: vec![], read_only: vec![], webhook_secret: None };
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let malformed = |message: &str| TokenError::Malformed {
                path: path.to_path_buf(),
                line: index + 1,
                message: message.to_string(),
            };
            let (kind, value) =
                line.split_once(char::is_whitespace).map(|(kind, value)| (kind, value.trim())).ok_or_else(
                    || malformed("expected `read-write TOKEN`, `read-only TOKEN` or `webhook SECRET`"),
                )?;
            if value.len() < 16 || value.chars().any(char::is_whitespace) {
                return Err(malformed("a token is one word of at least 16 characters"));
            }
            match kind {
                "read-write" => tokens.read_write.push(digest(value.as_bytes())),
                "read-only" => tokens.read_only.push(digest(value.as_bytes())),
                "webhook" => tokens.webhook_secret = Some(value.as_bytes().to_vec()),
                _ => {
                    return Err(malformed(&format!(
                        "unknown kind `{kind}` (read-write, read-only or webhook)"
                    )))
                }
            }
        }
        Ok(tokens)
    }

    /// Whether any bearer token is configured (a server off loopback refuses to start without one).
    pub fn any(&self) -> bool {
        !self.read_write.is_empty() || !self.read_only.is_empty()
    }

    /// The scope of a presented bearer token, or `None`. Constant time in the token's content.
    pub fn scope_of(&self, presented: &str) -> Option<Scope> {
        let presented = digest(presented.as_bytes());
        let write = any_equal(&self.read_write, &presented);
        let read = any_equal(&self.read_only, &presented);
        if write {
            Some(Scope::Write)
        } else if read {
            Some(Scope::Read)
        } else {
            None
        }
    }

    pub fn webhook_secret(&self) -> Option<&[u8]> {
        self.webhook_secret.as_deref()
    }
}

/// The `(kind, value)` lines of `home/api.token`, creating it first if needed: what `--print-token` shows.
pub fn token_lines(home: &Path) -> Result<Vec<(String, String)>, TokenError> {
    Tokens::load_or_create(home)?;
    let text = read_private(&home.join(TOKEN_FILE))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(char::is_whitespace))
        .map(|(kind, value)| (kind.to_string(), value.trim().to_string()))
        .collect())
}

fn random_token(prefix: &str) -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(TokenError::Random)?;
    Ok(bytes.iter().fold(prefix.to_string(), |mut text, byte| {
        text.push_str(&format!("{byte:02x}"));
        text
    }))
}

fn new_file_text() -> Result<String, TokenError> {
    Ok(format!(
        "# velos serve: send \"Authorization: Bearer TOKEN\". Keep this file private.\n\
         # read-write tokens may change desired state; read-only tokens may read and stream.\n\
         # webhook: the secret of POST /v1/hooks/git (GitHub/Gitea HMAC, GitLab token).\n\
         read-write {}\nread-only {}\nwebhook {}\n",
        random_token("velos_rw_")?,
        random_token("velos_ro_")?,
        random_token("velos_wh_")?,
    ))
}

/// Reads a file that must be ours alone: not through a symlink, a regular file, no group or other bits.
fn read_private(path: &Path) -> Result<String, TokenError> {
    let io = |action| move |source| TokenError::Io { action, path: path.to_path_buf(), source };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io("open"))?;
    let metadata = file.metadata().map_err(io("inspect"))?;
    if !metadata.is_file() {
        return Err(TokenError::NotAFile { path: path.to_path_buf() });
    }
    if metadata.mode() & 0o077 != 0 {
        return Err(TokenError::TooOpen { path: path.to_path_buf(), mode: metadata.mode() & 0o777 });
    }
    let mut text = String::new();
    (&mut file).take(TOKEN_FILE_BYTES_MAX).read_to_string(&mut text).map_err(io("read"))?;
    Ok(text)
}

/// Creates `path` 0600 (failing if anything, a symlink included, is already there), writes and syncs it.
fn write_new_private(path: &Path, text: &str) -> Result<(), TokenError> {
    let io = |action| move |source| TokenError::Io { action, path: path.to_path_buf(), source };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io("create"))?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io("write"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn token_of(home: &Path, kind: &str) -> String {
        let text = std::fs::read_to_string(home.join(TOKEN_FILE)).expect("token file");
        let line = text.lines().find(|line| line.starts_with(kind)).expect("token line");
        line.split_whitespace().nth(1).expect("token").to_string()
    }

    #[test]
    fn the_first_start_creates_a_private_file_with_distinct_tokens() {
        let home = tempfile::tempdir().expect("tempdir");
        let (tokens, created) = Tokens::load_or_create(home.path()).expect("created");
        assert!(created);
        let mode = std::fs::metadata(home.path().join(TOKEN_FILE)).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let write = token_of(home.path(), "read-write");
        let read = token_of(home.path(), "read-only");
        assert_ne!(write, read);
        assert_eq!(tokens.scope_of(&write), Some(Scope::Write));
        assert_eq!(tokens.scope_of(&read), Some(Scope::Read));
        assert_eq!(tokens.scope_of(&write[..write.len() - 1]), None);
        assert_eq!(tokens.scope_of(""), None);
        assert!(tokens.webhook_secret().is_some());
        let (again, created) = Tokens::load_or_create(home.path()).expect("read back");
        assert!(!created);
        assert_eq!(again.scope_of(&write), Some(Scope::Write));
    }

    #[test]
    fn a_symlinked_token_file_is_refused() {
        let home = tempfile::tempdir().expect("tempdir");
        let target = home.path().join("elsewhere");
        std::fs::write(&target, "read-write 0123456789abcdef0123\n").expect("target");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::symlink(&target, home.path().join(TOKEN_FILE)).expect("symlink");
        let error = Tokens::load_or_create(home.path()).expect_err("refused");
        assert!(matches!(error, TokenError::Io { action: "open", .. }), "{error:?}");
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let home = tempfile::tempdir().expect("tempdir");
        let path = home.path().join(TOKEN_FILE);
        std::fs::write(&path, "read-write 0123456789abcdef0123\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = Tokens::load_or_create(home.path()).expect_err("refused");
        assert!(matches!(error, TokenError::TooOpen { mode: 0o644, .. }), "{error:?}");
    }

    #[test]
    fn a_malformed_line_is_named() {
        let home = tempfile::tempdir().expect("tempdir");
        let path = home.path().join(TOKEN_FILE);
        std::fs::write(&path, "# comment\nadmin 0123456789abcdef0123\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let error = Tokens::load_or_create(home.path()).expect_err("refused");
        assert!(error.to_string().ends_with(":2: unknown kind `admin` (read-write, read-only or webhook)"));
    }
}
