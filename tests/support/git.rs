//! Real git repositories for the GitOps tests: a bare repository and a work clone that pushes to it with
//! the git CLI (so server hooks run), and the one-app project those tests deploy.
use crate::Velos;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A bare repository `deploy.git` and its work clone `work`, on branch `main`, in a temporary folder.
pub struct GitRepo {
    root: tempfile::TempDir,
}

impl GitRepo {
    pub fn new() -> GitRepo {
        let root = tempfile::Builder::new().prefix("velos-git-").tempdir_in("/tmp").expect("temp dir");
        git(root.path(), &["init", "-q", "--bare", "-b", "main", "deploy.git"]);
        git(root.path(), &["clone", "-q", "deploy.git", "work"]);
        let repo = GitRepo { root };
        git(&repo.work(), &["checkout", "-q", "-b", "main"]);
        repo
    }

    /// The folder holding `deploy.git` and `work` (a server can serve it; a test can add files beside).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn bare(&self) -> PathBuf {
        self.root.path().join("deploy.git")
    }

    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// Writes velos.toml in the work tree, commits it with `message` and pushes; returns the commit id.
    pub fn push(&self, text: &str, message: &str) -> String {
        std::fs::write(self.work().join("velos.toml"), text).expect("write velos.toml");
        git(&self.work(), &["add", "velos.toml"]);
        git(&self.work(), &["commit", "-q", "-m", message]);
        git(&self.work(), &["push", "-q", "origin", "main"]);
        git(&self.work(), &["rev-parse", "HEAD"])
    }
}

impl Default for GitRepo {
    fn default() -> GitRepo {
        GitRepo::new()
    }
}

/// `git ARGS` in `dir` with a fixed identity; panics with git's stderr on failure; returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "e2e")
        .env("GIT_AUTHOR_EMAIL", "e2e@example.invalid")
        .env("GIT_COMMITTER_NAME", "e2e")
        .env("GIT_COMMITTER_EMAIL", "e2e@example.invalid")
        .output()
        .expect("run git");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A project `project` of one app `web` (a sleeper) carrying the test's marker and `PORT = port`.
pub fn one_web_app(velos: &Velos, project: &str, port: u32) -> String {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').expect("the marker is KEY=VALUE");
    format!(
        "[project]\nname = \"{project}\"\n\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = {{ {key} = \"{value}\", PORT = \"{port}\" }}\n"
    )
}
