//! Reading a velos.toml as it was at a git revision (`velos diff velos.toml --against origin/main`), with
//! git2: no `git` program, no network, nothing written to the repository.
use std::path::{Path, PathBuf};

/// Why the file at a revision could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{} is not in a git repository", path.display())]
    NoRepository {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("the git repository of {} has no work tree (it is bare)", path.display())]
    Bare { path: PathBuf },
    #[error("{} is not inside the work tree of its repository, {}", path.display(), workdir.display())]
    OutsideWorkTree { path: PathBuf, workdir: PathBuf },
    #[error("unknown git revision `{revision}`")]
    UnknownRevision {
        revision: String,
        #[source]
        source: git2::Error,
    },
    #[error("{shown} is not a file")]
    NotAFile { shown: String },
    #[error("{shown} is not UTF-8 text")]
    NotUtf8 { shown: String },
    #[error("cannot read {shown} from git")]
    Git {
        shown: String,
        #[source]
        source: git2::Error,
    },
}

impl GitError {
    /// What libgit2 said, without its class and code numbers (for a `caused by:` line).
    pub fn detail(&self) -> Option<&str> {
        match self {
            GitError::NoRepository { source, .. }
            | GitError::UnknownRevision { source, .. }
            | GitError::Git { source, .. } => Some(source.message()),
            GitError::Bare { .. }
            | GitError::OutsideWorkTree { .. }
            | GitError::NotAFile { .. }
            | GitError::NotUtf8 { .. } => None,
        }
    }
}

/// The file at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAtRevision {
    /// `REV:path/in/repo`, as messages name it.
    pub shown: String,
    /// The commit the revision resolved to (40 hex digits).
    pub commit: String,
    /// The file's text; `None` when the commit has no file at that path (nothing was declared there yet).
    pub text: Option<String>,
}

/// Reads `file` (a path in a git work tree; it need not exist now) as it is in `revision` (anything `git
/// rev-parse` takes: `HEAD`, `HEAD~2`, `origin/main`, a tag, a commit id). The repository is discovered from
/// the file's folder.
pub fn file_at_revision(file: &Path, revision: &str) -> Result<FileAtRevision, GitError> {
    let canonical = velos_config::canonical_file_path(file).unwrap_or_else(|_| file.to_path_buf());
    let folder = canonical.parent().unwrap_or(Path::new("/"));
    let repository = git2::Repository::discover(folder)
        .map_err(|source| GitError::NoRepository { path: file.to_path_buf(), source })?;
    let workdir = repository.workdir().ok_or_else(|| GitError::Bare { path: file.to_path_buf() })?;
    let workdir = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    let relative = canonical
        .strip_prefix(&workdir)
        .map_err(|_| GitError::OutsideWorkTree { path: file.to_path_buf(), workdir: workdir.clone() })?;
    // git paths use `/` whatever the platform.
    let relative_text: Vec<String> =
        relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
    let shown = format!("{revision}:{}", relative_text.join("/"));
    let commit = repository
        .revparse_single(revision)
        .and_then(|object| object.peel_to_commit())
        .map_err(|source| GitError::UnknownRevision { revision: revision.to_string(), source })?;
    let git_error = |source| GitError::Git { shown: shown.clone(), source };
    let tree = commit.tree().map_err(git_error)?;
    let entry = match tree.get_path(relative) {
        Ok(entry) => entry,
        Err(error) if error.code() == git2::ErrorCode::NotFound => {
            return Ok(FileAtRevision { shown, commit: commit.id().to_string(), text: None });
        }
        Err(error) => return Err(git_error(error)),
    };
    let object = entry.to_object(&repository).map_err(git_error)?;
    let blob = object.as_blob().ok_or_else(|| GitError::NotAFile { shown: shown.clone() })?;
    let text = std::str::from_utf8(blob.content())
        .map_err(|_| GitError::NotUtf8 { shown: shown.clone() })?
        .to_string();
    Ok(FileAtRevision { shown, commit: commit.id().to_string(), text: Some(text) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit_file(repository: &git2::Repository, path: &str, text: &str, message: &str) -> git2::Oid {
        let workdir = repository.workdir().unwrap_or_else(|| panic!("bare"));
        let full = workdir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|error| panic!("{error}"));
        }
        std::fs::write(&full, text).unwrap_or_else(|error| panic!("{error}"));
        let mut index = repository.index().unwrap_or_else(|error| panic!("{error}"));
        index.add_path(Path::new(path)).unwrap_or_else(|error| panic!("{error}"));
        index.write().unwrap_or_else(|error| panic!("{error}"));
        let tree_id = index.write_tree().unwrap_or_else(|error| panic!("{error}"));
        let tree = repository.find_tree(tree_id).unwrap_or_else(|error| panic!("{error}"));
        let signature =
            git2::Signature::now("t", "t@example.invalid").unwrap_or_else(|error| panic!("{error}"));
        let parent = repository.head().ok().and_then(|head| head.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repository
            .commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn reads_the_file_at_each_revision() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let repository = git2::Repository::init(dir.path()).unwrap_or_else(|error| panic!("{error}"));
        let first = commit_file(&repository, "deploy/velos.toml", "one\n", "first");
        commit_file(&repository, "deploy/velos.toml", "two\n", "second");
        let file = dir.path().join("deploy/velos.toml");

        let head = file_at_revision(&file, "HEAD").unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(head.text.as_deref(), Some("two\n"));
        assert_eq!(head.shown, "HEAD:deploy/velos.toml");
        let previous = file_at_revision(&file, "HEAD~1").unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(previous.text.as_deref(), Some("one\n"));
        assert_eq!(previous.commit, first.to_string());

        // A path the commit does not have: nothing declared there then.
        let other = dir.path().join("velos.toml");
        let missing = file_at_revision(&other, "HEAD").unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(missing.text, None);

        match file_at_revision(&file, "no-such-rev") {
            Err(error @ GitError::UnknownRevision { .. }) => {
                assert_eq!(error.to_string(), "unknown git revision `no-such-rev`")
            }
            other => panic!("{other:?}"),
        }
        match file_at_revision(&dir.path().join("deploy"), "HEAD") {
            Err(GitError::NotAFile { shown }) => assert_eq!(shown, "HEAD:deploy"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn outside_a_repository_is_an_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        // A temporary folder may sit inside a repository (a CI checkout); only check when it does not.
        if git2::Repository::discover(dir.path()).is_err() {
            let error = file_at_revision(&dir.path().join("velos.toml"), "HEAD").expect_err("no repository");
            assert!(matches!(error, GitError::NoRepository { .. }), "{error:?}");
        }
    }
}
