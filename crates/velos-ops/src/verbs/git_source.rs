//! A git source named in a request (`velos apply --git REPO --ref REF --path PATH`), checked as `[velos.git]`
//! in a file is, and the errors of fetching one.
use crate::error::{OpError, OpErrorKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_config::GitSource;
use velos_controller::{git_from_args, SourceError};

/// A repository to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitRequest {
    /// A local path (relative to the current directory), a `file://`, `git://` or `https://` URL, or an ssh
    /// address. Credentials come only from `[velos.git]` in a file.
    pub repo: String,
    /// A branch, tag or commit (default `main`).
    #[serde(default)]
    pub ref_name: Option<String>,
    /// The velos.toml from the repository's root (default `velos.toml`).
    #[serde(default)]
    pub path: Option<String>,
}

/// Where the git settings of a failed fetch came from, for the hint.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    Request,
    File,
}

/// The request checked as `[velos.git]` would be; each problem is a cause, their help the hint.
pub fn git_request(request: &GitRequest) -> Result<GitSource, OpError> {
    let cwd = std::env::current_dir()
        .map_err(|error| OpError::io("could not read the current directory", &error))?;
    git_from_args(&request.repo, request.ref_name.as_deref(), request.path.as_deref(), &cwd).map_err(|problems| {
        let problems = problems
            .replace("`velos.git.repo`", "--git")
            .replace("`velos.git.ref`", "--ref")
            .replace("`velos.git.path`", "--path");
        let (helps, messages): (Vec<&str>, Vec<&str>) =
            problems.lines().partition(|line| line.trim_start().starts_with("= help: "));
        let mut messages = messages.into_iter();
        let mut error = OpError::invalid(format!(
            "invalid --git source: {}",
            messages.next().unwrap_or("no repository given")
        ));
        for message in messages {
            error = error.cause(message.to_string());
        }
        let helps: Vec<&str> = helps.iter().map(|line| line.trim_start().trim_start_matches("= help: ")).collect();
        if helps.is_empty() {
            error.hint("--git takes a path, a file://, git:// or https:// URL, or an ssh address; --ref a branch, tag or commit; --path the file in the repository")
        } else {
            error.hint(helps.join("; "))
        }
    })
}

/// A git source that could not be fetched or parsed: nothing was applied.
pub fn source_error(error: &SourceError, origin: Origin) -> OpError {
    let (repo, ref_name, path) = match origin {
        Origin::Request => ("--git", "--ref", "--path"),
        Origin::File => ("[velos.git] repo", "[velos.git] ref", "[velos.git] path"),
    };
    match error {
        SourceError::Invalid { error: config, .. } => crate::convert::config_error(config)
            .hint("nothing was applied: fix the file in the repository, commit and push, then apply again"),
        SourceError::Unreachable { .. } | SourceError::Remote { .. } => OpError::new(OpErrorKind::NotFound, error.to_string()).hint(format!(
            "nothing was applied; {repo} takes a local path, a file://, git:// or https:// URL, or an ssh address (git@host:owner/repo.git)"
        )),
        SourceError::Refused { .. }
        | SourceError::TokenFile { .. }
        | SourceError::NoToken { .. }
        | SourceError::SshKey { .. }
        | SourceError::HostKeyUnknown { .. }
        | SourceError::HostKeyChanged { .. }
        | SourceError::NoGitProgram { .. } => OpError::new(OpErrorKind::Refused, error.to_string())
            .hint(format!("nothing was applied; {}", error.hint().unwrap_or_default())),
        SourceError::MissingRef { .. } => OpError::new(OpErrorKind::NotFound, error.to_string())
            .hint(format!("nothing was applied; {ref_name} names a branch, a tag or a commit id")),
        SourceError::MissingPath { .. } | SourceError::NotAFile { .. } => OpError::new(OpErrorKind::NotFound, error.to_string())
            .hint(format!("nothing was applied; {path} names the velos.toml from the repository's root")),
        _ => OpError::new(OpErrorKind::Io, error.to_string()).causes_of(error).hint("nothing was applied"),
    }
}
