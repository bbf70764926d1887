//! VELOS_HOME as the client sees it, before it writes anything there (daemon.log for the daemon it starts;
//! the CLI's edit lock): a real directory of ours, mode 0700. The daemon checks the same again (zig/src/home.zig).
use crate::sys;
use crate::ClientError;
use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// An open handle on a checked VELOS_HOME: files in it are opened relative to it, never through a symlink.
#[derive(Debug)]
pub struct Home {
    path: PathBuf,
    directory: File,
}

/// Why VELOS_HOME cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeProblem {
    /// A symlink: refused rather than followed (its target could be anywhere, and would be chmod-ed).
    Symlink,
    NotDirectory,
    /// Owned by another user (uid).
    OtherOwner(u32),
}

impl std::fmt::Display for HomeProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HomeProblem::Symlink => formatter.write_str("it is a symlink, which velos does not follow"),
            HomeProblem::NotDirectory => formatter.write_str("it is not a directory"),
            HomeProblem::OtherOwner(uid) => {
                write!(formatter, "it belongs to uid {uid}, not to this user (uid {})", sys::effective_uid())
            }
        }
    }
}

impl Home {
    /// Creates `path` (mode 0700; its parents as `mkdir -p` would) if missing, then checks it: not a symlink,
    /// a directory, ours. Group and other access is removed through the handle, never by path.
    pub fn prepare(path: &Path) -> Result<Home, ClientError> {
        let path = std::path::absolute(path).map_err(|error| {
            ClientError::io(format!("could not make VELOS_HOME {} absolute", path.display()), error)
        })?;
        DirBuilder::new().recursive(true).mode(0o700).create(&path).map_err(|error| {
            ClientError::io(format!("could not create VELOS_HOME {}", path.display()), error)
        })?;
        let unusable = |problem: HomeProblem| ClientError::HomeUnusable { home: path.clone(), problem };
        let link = std::fs::symlink_metadata(&path).map_err(|error| {
            ClientError::io(format!("could not read VELOS_HOME {}", path.display()), error)
        })?;
        if link.file_type().is_symlink() {
            return Err(unusable(HomeProblem::Symlink));
        }
        if !link.is_dir() {
            return Err(unusable(HomeProblem::NotDirectory));
        }
        let directory = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(|error| match error.raw_os_error() {
                // Swapped for a symlink since the check.
                Some(libc::ELOOP) | Some(libc::ENOTDIR) => unusable(HomeProblem::Symlink),
                _ => ClientError::io(format!("could not open VELOS_HOME {}", path.display()), error),
            })?;
        let metadata = directory.metadata().map_err(|error| {
            ClientError::io(format!("could not read VELOS_HOME {}", path.display()), error)
        })?;
        if metadata.uid() != sys::effective_uid() {
            return Err(unusable(HomeProblem::OtherOwner(metadata.uid())));
        }
        if metadata.mode() & 0o077 != 0 {
            directory.set_permissions(Permissions::from_mode(0o700)).map_err(|error| {
                ClientError::io(
                    format!("could not make VELOS_HOME {} private (chmod 0700)", path.display()),
                    error,
                )
            })?;
        }
        Ok(Home { path, directory })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens (creating it 0600) the regular file `name` in VELOS_HOME for appending, never through a symlink
    /// (ELOOP) and never into a FIFO; a file of another user is refused.
    pub fn open_append(&self, name: &str) -> Result<File, ClientError> {
        self.open(name, libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND)
    }

    /// The same for reading and writing without truncating (a lock file).
    pub fn open_read_write(&self, name: &str) -> Result<File, ClientError> {
        self.open(name, libc::O_RDWR | libc::O_CREAT)
    }

    fn open(&self, name: &str, flags: libc::c_int) -> Result<File, ClientError> {
        let display = self.path.join(name);
        let file =
            sys::open_in(&self.directory, Path::new(name), flags, 0o600).map_err(|error| {
                match error.raw_os_error() {
                    Some(libc::ELOOP) => ClientError::io(
                        format!("refusing to write {}: it is a symlink", display.display()),
                        error,
                    ),
                    _ => ClientError::io(format!("could not open {}", display.display()), error),
                }
            })?;
        let metadata = file
            .metadata()
            .map_err(|error| ClientError::io(format!("could not read {}", display.display()), error))?;
        if !metadata.is_file() || metadata.uid() != sys::effective_uid() {
            return Err(ClientError::io(
                format!("refusing to write {}: not a regular file of this user", display.display()),
                std::io::Error::from_raw_os_error(libc::EPERM),
            ));
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_home_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("elsewhere");
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::set_permissions(&target, Permissions::from_mode(0o755)).expect("chmod");
        let link = dir.path().join("home");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let error = Home::prepare(&link).expect_err("refused");
        assert!(
            matches!(error, ClientError::HomeUnusable { problem: HomeProblem::Symlink, .. }),
            "{error:?}"
        );
        let mode = std::fs::metadata(&target).expect("target").permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "the symlink's target was chmod-ed");
    }

    #[test]
    fn an_open_home_is_made_private_and_files_are_never_written_through_symlinks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("home");
        std::fs::create_dir(&path).expect("mkdir");
        std::fs::set_permissions(&path, Permissions::from_mode(0o755)).expect("chmod");
        let home = Home::prepare(&path).expect("usable");
        assert_eq!(std::fs::metadata(&path).expect("home").permissions().mode() & 0o777, 0o700);

        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").expect("write");
        std::os::unix::fs::symlink(&victim, path.join("daemon.log")).expect("symlink");
        let error = home.open_append("daemon.log").expect_err("refused");
        assert!(error.to_string().contains("symlink"), "{error}");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "untouched");

        std::fs::remove_file(path.join("daemon.log")).expect("rm");
        use std::io::Write;
        home.open_append("daemon.log").expect("regular file").write_all(b"ok\n").expect("write");
        assert_eq!(std::fs::read_to_string(path.join("daemon.log")).expect("log"), "ok\n");
    }
}
