//! [`GitSource`]: the velos.toml at `path` in the commit that `ref` points to now, in a repository reached
//! by path, `file://` or `git://` (git2, no `git` program), or over `https://` or ssh (fetched by the `git`
//! program, [`crate::remote`]; read by git2 like the others).
//!
//! The checkout under `$VELOS_HOME/sources/` is a cache: an ordinary repository whose work tree is the
//! commit last applied. Each fetch takes every branch (into `refs/remotes/origin/`) and tag, forced and
//! pruned, so a force-push that rewrites history is simply followed and a deleted branch is a missing ref,
//! never a stale commit applied forever. The file is read from the commit's tree, not from the work tree;
//! the work tree is only written ([`Source::materialize`]) once the file has parsed, so the folder the
//! apps run in (the default `cwd`) holds the files of the revision they were started from.
use crate::source::{Fetched, Source, SourceError};
use git2::{AutotagOption, FetchOptions, FetchPrune, ObjectType, Oid, Repository};
use std::path::{Path, PathBuf};
use velos_config::FILE_BYTES_MAX;

/// `$VELOS_HOME/sources`.
pub const SOURCES_DIR: &str = "sources";
const REFSPECS: [&str; 2] = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"];
const REMOTE_PREFIX: &str = "refs/remotes/origin/";
const TAG_PREFIX: &str = "refs/tags/";

/// A velos.toml in a git repository.
pub struct GitSource {
    repo: String,
    ref_name: String,
    path: String,
    auth: velos_config::GitAuth,
    checkout_dir: PathBuf,
    repository: Option<Repository>,
}

impl std::fmt::Debug for GitSource {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GitSource")
            .field("repo", &self.repo)
            .field("ref_name", &self.ref_name)
            .field("path", &self.path)
            .field("checkout_dir", &self.checkout_dir)
            .finish()
    }
}

/// `$VELOS_HOME/sources/<16 hex>/<name>`: one checkout per repository and ref (two refs of one repository
/// on one host each get their own work tree). `<name>` is the repository's name (`deploy` for
/// `file:///srv/deploy.git`), so a file at the root of the repository without `[project] name` gets the
/// project name `deploy`, as a clone in `/srv/deploy` would.
pub fn checkout_dir(home: &Path, repo: &str, ref_name: &str) -> PathBuf {
    let hash = velos_config::revision(format!("{repo}\0{ref_name}").as_bytes());
    let hash = hash.trim_start_matches("file:");
    home.join(SOURCES_DIR).join(hash).join(repository_name(repo))
}

/// `deploy` for `/srv/deploy.git`, `git://host/team/deploy.git` or `file:///srv/deploy/`.
pub fn repository_name(repo: &str) -> String {
    let trimmed = repo.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or_default();
    let stem = last.strip_suffix(".git").unwrap_or(last);
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .take(velos_core::NAME_LENGTH_MAX)
        .collect();
    if name.is_empty() || name.starts_with('.') {
        "repo".into()
    } else {
        name
    }
}

impl GitSource {
    /// The source of `[velos.git]` (or `velos apply --git`), checked out under `home`.
    pub fn new(home: &Path, settings: &velos_config::GitSource) -> GitSource {
        let dir = checkout_dir(home, &settings.repo, &settings.ref_name);
        let mut source =
            GitSource::with_checkout_dir(&settings.repo, &settings.ref_name, &settings.path, dir);
        source.auth = settings.auth.clone();
        source
    }

    pub fn with_checkout_dir(repo: &str, ref_name: &str, path: &str, checkout_dir: PathBuf) -> GitSource {
        GitSource {
            repo: repo.to_string(),
            ref_name: ref_name.to_string(),
            path: path.to_string(),
            auth: velos_config::GitAuth::default(),
            checkout_dir: absolute_dir(&checkout_dir),
            repository: None,
        }
    }

    pub fn checkout_dir(&self) -> &Path {
        &self.checkout_dir
    }

    /// The checkout, opened (or created) once and kept.
    fn repository(&mut self) -> Result<&Repository, SourceError> {
        if self.repository.is_none() {
            let dir = &self.checkout_dir.clone();
            std::fs::create_dir_all(dir)
                .map_err(|source| SourceError::CheckoutDir { dir: dir.clone(), source })?;
            let checkout = |source| SourceError::Checkout { dir: dir.clone(), source };
            let repository = match Repository::open(dir) {
                Ok(repository) => repository,
                // Not a repository yet. (A damaged one is re-created: it is only a cache.)
                Err(_) => {
                    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
                        std::fs::remove_dir_all(dir)
                            .and_then(|()| std::fs::create_dir_all(dir))
                            .map_err(|source| SourceError::CheckoutDir { dir: dir.clone(), source })?;
                    }
                    Repository::init(dir).map_err(checkout)?
                }
            };
            self.checkout_dir = absolute_dir(dir);
            self.repository = Some(repository);
        }
        self.repository.as_ref().ok_or_else(|| SourceError::Checkout {
            dir: self.checkout_dir.clone(),
            source: git2::Error::from_str("the checkout could not be opened"),
        })
    }

    fn fetch_refs(&mut self) -> Result<(), SourceError> {
        let repo = self.repo.clone();
        let auth = self.auth.clone();
        let repository = self.repository()?;
        if velos_config::transport(&repo) != velos_config::Transport::Local {
            let dir = repository.path().to_path_buf();
            return crate::remote::fetch(&dir, &repo, &auth, &REFSPECS);
        }
        let unreachable = |source| SourceError::Unreachable { repo: repo.clone(), source };
        let mut remote = repository.remote_anonymous(&repo).map_err(unreachable)?;
        let mut options = FetchOptions::new();
        options.prune(FetchPrune::On).download_tags(AutotagOption::None);
        remote.fetch(&REFSPECS, Some(&mut options), None).map_err(unreachable)?;
        Ok(())
    }

    /// The commit `ref_name` names now: a branch, a tag, or a commit id (full, or a prefix of 7 or more).
    fn resolve(&self, repository: &Repository) -> Result<Oid, SourceError> {
        let name = self.ref_name.as_str();
        let candidates = if let Some(branch) = name.strip_prefix("refs/heads/") {
            vec![format!("{REMOTE_PREFIX}{branch}")]
        } else if name.starts_with(TAG_PREFIX) {
            vec![name.to_string()]
        } else {
            vec![format!("{REMOTE_PREFIX}{name}"), format!("{TAG_PREFIX}{name}")]
        };
        for candidate in candidates {
            if let Ok(commit) = repository.find_reference(&candidate).and_then(|r| r.peel_to_commit()) {
                return Ok(commit.id());
            }
        }
        if name.len() >= 7 && name.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            if let Ok(commit) = repository.revparse_single(name).and_then(|object| object.peel_to_commit()) {
                return Ok(commit.id());
            }
        }
        Err(SourceError::MissingRef {
            repo: self.repo.clone(),
            ref_name: self.ref_name.clone(),
            known: known_refs(repository),
        })
    }

    fn read(&self, repository: &Repository, commit: Oid) -> Result<String, SourceError> {
        let checkout = |source| SourceError::Checkout { dir: self.checkout_dir.clone(), source };
        let commit_text = commit.to_string();
        let origin = self.origin(&commit_text);
        let tree = repository.find_commit(commit).and_then(|commit| commit.tree()).map_err(checkout)?;
        let entry = match tree.get_path(Path::new(&self.path)) {
            Ok(entry) => entry,
            Err(error) if error.code() == git2::ErrorCode::NotFound => {
                return Err(SourceError::MissingPath {
                    repo: self.repo.clone(),
                    commit: commit_text,
                    path: self.path.clone(),
                });
            }
            Err(error) => return Err(checkout(error)),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Err(SourceError::NotAFile { commit: commit_text, path: self.path.clone() });
        }
        let blob = repository.find_blob(entry.id()).map_err(checkout)?;
        if blob.size() as u64 > FILE_BYTES_MAX {
            return Err(SourceError::TooLarge { origin });
        }
        String::from_utf8(blob.content().to_vec()).map_err(|_| SourceError::NotUtf8 { origin })
    }

    /// `deploy/velos.toml@1a2b3c4d5e6f`: the file at a commit, as messages name it.
    fn origin(&self, commit: &str) -> String {
        format!("{}@{}", self.path, commit.get(..12).unwrap_or(commit))
    }
}

/// Branches (as `name`) and tags (as `tags/name`) the checkout knows, sorted.
fn known_refs(repository: &Repository) -> Vec<String> {
    let mut known = Vec::new();
    if let Ok(references) = repository.references() {
        for reference in references.flatten() {
            let Some(name) = reference.name() else { continue };
            if let Some(branch) = name.strip_prefix(REMOTE_PREFIX) {
                known.push(branch.to_string());
            } else if let Some(tag) = name.strip_prefix(TAG_PREFIX) {
                known.push(format!("tags/{tag}"));
            }
        }
    }
    known.sort();
    known
}

fn absolute_dir(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

/// The commit id in a `git:<40 hex>` revision.
fn commit_of(revision: &str) -> Option<Oid> {
    revision.strip_prefix("git:").and_then(|hex| Oid::from_str(hex).ok())
}

impl Source for GitSource {
    fn fetch(&mut self) -> Result<Fetched, SourceError> {
        let result = self.fetch_refs().and_then(|()| {
            let repository = self.repository.as_ref().ok_or_else(|| SourceError::Checkout {
                dir: self.checkout_dir.clone(),
                source: git2::Error::from_str("the checkout is not open"),
            })?;
            let commit = self.resolve(repository)?;
            let text = self.read(repository, commit)?;
            Ok(Fetched { text, revision: format!("git:{commit}"), origin: self.origin(&commit.to_string()) })
        });
        if matches!(result, Err(SourceError::Checkout { .. } | SourceError::CheckoutDir { .. })) {
            self.repository = None; // reopen next time
        }
        result
    }

    fn parse_path(&self) -> PathBuf {
        self.checkout_dir.join(&self.path)
    }

    /// Checks the commit out into the work tree (forced: the checkout is Velos's own), HEAD detached at it.
    fn materialize(&mut self, fetched: &Fetched) -> Result<(), SourceError> {
        let dir = self.checkout_dir.clone();
        let checkout = |source| SourceError::Checkout { dir: dir.clone(), source };
        let commit = commit_of(&fetched.revision)
            .ok_or_else(|| checkout(git2::Error::from_str("not a git revision")))?;
        let repository = self.repository()?;
        if repository.head().ok().and_then(|head| head.target()) == Some(commit) {
            return Ok(());
        }
        let object = repository.find_object(commit, Some(ObjectType::Commit)).map_err(checkout)?;
        let mut builder = git2::build::CheckoutBuilder::new();
        builder.force();
        repository.checkout_tree(&object, Some(&mut builder)).map_err(checkout)?;
        repository.set_head_detached(commit).map_err(checkout)?;
        Ok(())
    }

    fn describe(&self) -> String {
        format!("git {}@{}:{}", self.repo, self.ref_name, self.path)
    }
}
