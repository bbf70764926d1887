//! Real git repositories for the controller's tests, made with the `git` program: a bare "server"
//! repository and a work clone that commits and pushes to it, as a user would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `git ARGS` in `dir` with a fixed identity and no user or system configuration; panics on failure.
/// Returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Velos Test",
            "-c",
            "user.email=test@velos.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(["-c", "protocol.file.allow=always", "-c", "advice.detachedHead=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run git {args:?}: {error}"));
    assert!(
        output.status.success(),
        "git {args:?} in {} failed:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A bare repository (`server/deploy.git`) and a clone of it (`work`) in a temporary folder.
pub struct Repos {
    pub root: tempfile::TempDir,
    pub bare: PathBuf,
    pub work: PathBuf,
}

impl Repos {
    pub fn new() -> Repos {
        let root = tempfile::tempdir().expect("tempdir");
        let bare = root.path().join("server").join("deploy.git");
        std::fs::create_dir_all(&bare).expect("mkdir");
        git(&bare, &["init", "--bare", "--initial-branch=main"]);
        let work = root.path().join("work");
        git(root.path(), &["clone", "--quiet", bare.to_str().expect("utf-8"), "work"]);
        git(&work, &["checkout", "--quiet", "-B", "main"]);
        Repos { root, bare, work }
    }

    /// `file:///…/deploy.git`.
    pub fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// Writes `path` (relative to the work tree) in the work clone.
    pub fn write(&self, path: &str, text: &str) {
        let file = self.work.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }

    /// Commits everything in the work clone and pushes it (`git push --force` when `force`). Returns the
    /// commit id.
    pub fn commit_and_push(&self, message: &str, force: bool) -> String {
        git(&self.work, &["add", "--all"]);
        git(&self.work, &["commit", "--quiet", "--allow-empty", "-m", message]);
        let mut push = vec!["push", "--quiet", "origin", "main"];
        if force {
            push.insert(1, "--force");
        }
        git(&self.work, &push);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// Writes `velos.toml` at `path`, commits and pushes. Returns the commit id.
    pub fn push_file(&self, path: &str, text: &str) -> String {
        self.write(path, text);
        self.commit_and_push(&format!("velos: {path}"), false)
    }
}

/// `[apps.NAME] command = "/bin/sleep" args = ["ARG"]` for each (name, arg).
pub fn velos_toml(apps: &[(&str, &str)]) -> String {
    let mut text = String::from("[project]\nname = \"shop\"\n");
    for (name, arg) in apps {
        text.push_str(&format!("\n[apps.{name}]\ncommand = \"/bin/sleep\"\nargs = [\"{arg}\"]\n"));
    }
    text
}
