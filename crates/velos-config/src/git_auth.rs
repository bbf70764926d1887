//! `[velos.git]` on a real remote: which transport a `repo` names, and the credentials to use with it
//! (docs/CONFIG.md, "Remote repositories").
//!
//! Only *where* a secret is (a file, an environment variable's name, a key file) is ever in velos.toml or in
//! a resolved [`GitAuth`]; the secret itself is read by the controller at each fetch, so it reaches neither
//! the file, nor `velos status`, nor history, nor logs, and rotating a token needs no new revision.
use crate::controller::Resolver;
use crate::raw::RawGit;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// `username` when the file sets none: forges that take a token as the password ignore the user name, and
/// git needs one to send basic auth.
pub const GIT_USERNAME_DEFAULT: &str = "git";

/// How a repository is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A path, `file://` or `git://`: read by libgit2 in-process.
    Local,
    /// `https://` (or `http://`).
    Http,
    /// `ssh://`, `git+ssh://` or scp-like `git@host:owner/repo.git`.
    Ssh,
}

/// The transport of `repo` (as written in `[velos.git] repo`, or resolved).
pub fn transport(repo: &str) -> Transport {
    let lowered = repo.to_ascii_lowercase();
    if lowered.starts_with("https://") || lowered.starts_with("http://") {
        Transport::Http
    } else if ["ssh://", "git+ssh://", "ssh+git://"].iter().any(|scheme| lowered.starts_with(scheme))
        || scp_like(repo)
    {
        Transport::Ssh
    } else {
        Transport::Local
    }
}

/// `git@host:owner/repo.git`: a colon before the first slash, and no scheme (git's own rule).
fn scp_like(repo: &str) -> bool {
    !repo.contains("://")
        && repo.find(':').is_some_and(|colon| repo.find('/').is_none_or(|slash| colon < slash))
}

/// The host of an `http(s)://` or `ssh://` URL or of an scp-like address, without user or port.
pub fn host(repo: &str) -> Option<&str> {
    let rest = match repo.find("://") {
        Some(index) => &repo[index + 3..],
        None if scp_like(repo) => repo.split(':').next()?,
        None => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// Whether `host` is this machine: plain `http://` may carry a token only there.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Where the https token is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// A file (absolute), read at each fetch.
    File(PathBuf),
    /// The name of an environment variable of the controller.
    Env(String),
}

/// The credentials of `[velos.git]`, resolved: where they are, never what they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitAuth {
    /// https: the user name sent with the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// https: the token (or password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenSource>,
    /// ssh: the private key file (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<PathBuf>,
    /// ssh: the known_hosts file (absolute); `None`: `~/.ssh/known_hosts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_hosts: Option<PathBuf>,
    /// ssh: trust (and record) a host key seen for the first time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accept_new_host_keys: bool,
}

impl GitAuth {
    /// The user name to send with the token.
    pub fn username(&self) -> &str {
        self.username.as_deref().unwrap_or(GIT_USERNAME_DEFAULT)
    }
}

const HTTP_KEYS: [&str; 3] = ["username", "token_file", "token_env"];
const SSH_KEYS: [&str; 3] = ["ssh_key", "known_hosts", "accept_new_host_keys"];

impl Resolver<'_, '_> {
    /// Checks the URL of a remote `repo`: no secret in it.
    pub(crate) fn remote_repo(&mut self, repo: &str) -> Option<String> {
        let path = ["velos", "git", "repo"];
        let userinfo = repo
            .split_once("://")
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|authority| authority.rsplit_once('@'))
            .map(|(userinfo, _)| userinfo);
        let problem = match (transport(repo), userinfo) {
            (Transport::Http, Some(_)) => {
                Some("a user name or token in an https URL would be written in velos.toml")
            }
            (Transport::Ssh, Some(userinfo)) if userinfo.contains(':') => {
                Some("a password in an ssh URL would be written in velos.toml")
            }
            _ if host(repo).is_none() => Some("`velos.git.repo` names no host"),
            _ => None,
        };
        if let Some(problem) = problem {
            let span = self.span(&path);
            let help = match transport(repo) {
                Transport::Http => "write the URL without credentials and add `token_file = \"/etc/velos/git-token\"` (or `token_env = \"GIT_TOKEN\"`) and `username`",
                _ => "write `ssh://git@host/owner/repo.git` or `git@host:owner/repo.git`, and give the key with `ssh_key`",
            };
            self.error(span, problem.into(), Some(help.into()));
            return None;
        }
        Some(repo.to_string())
    }

    /// The credentials of `[velos.git]` for a repository reached by `kind`, with a diagnostic on each key
    /// that does not belong to it.
    pub(crate) fn auth(&mut self, raw: &RawGit, repo: &str) -> Option<GitAuth> {
        let kind = transport(repo);
        let given = |key: &str| match key {
            "username" => raw.username.is_some(),
            "token_file" => raw.token_file.is_some(),
            "token_env" => raw.token_env.is_some(),
            "ssh_key" => raw.ssh_key.is_some(),
            "known_hosts" => raw.known_hosts.is_some(),
            _ => raw.accept_new_host_keys.is_some(),
        };
        let mut ok = true;
        for (keys, wanted, scheme) in
            [(HTTP_KEYS, Transport::Http, "https://"), (SSH_KEYS, Transport::Ssh, "ssh")]
        {
            for key in keys.into_iter().filter(|key| given(key) && kind != wanted) {
                let span = self.context.spans.key(&["velos", "git", key]);
                self.error(
                    span,
                    format!("`{key}` is only used with an {scheme} repository, and `repo` is not one"),
                    Some(format!("remove `{key}`, or point `repo` at the {scheme} URL of the repository")),
                );
                ok = false;
            }
        }
        let token = match (&raw.token_file, &raw.token_env) {
            (Some(_), Some(_)) => {
                let span = self.context.spans.key(&["velos", "git", "token_env"]);
                self.error(
                    span,
                    "`token_file` and `token_env` both name the token".into(),
                    Some("keep one of them".into()),
                );
                ok = false;
                None
            }
            (Some(file), None) => self.file("token_file", file).map(TokenSource::File),
            (None, Some(name)) => self.env_name(name).map(TokenSource::Env),
            (None, None) => None,
        };
        if raw.username.is_some() && token.is_none() && raw.token_file.is_none() && raw.token_env.is_none() {
            let span = self.context.spans.key(&["velos", "git", "username"]);
            self.error(
                span,
                "`username` is sent only with a token, and no `token_file` or `token_env` is set".into(),
                Some("add `token_file = \"/etc/velos/git-token\"` or `token_env = \"GIT_TOKEN\"`".into()),
            );
            ok = false;
        }
        if let Some(username) = &raw.username {
            if username.is_empty() || username.contains(':') || username.chars().any(char::is_control) {
                let span = self.span(&["velos", "git", "username"]);
                self.error(
                    span,
                    "`username` must be non-empty, without `:` or control characters".into(),
                    None,
                );
                ok = false;
            }
        }
        let insecure = token.is_some()
            && repo.to_ascii_lowercase().starts_with("http://")
            && !host(repo).is_some_and(is_loopback);
        if insecure {
            let span = self.span(&["velos", "git", "repo"]);
            self.error(
                span,
                "a token would be sent in clear text over http:// to another host".into(),
                Some("use the https:// URL of the repository".into()),
            );
            ok = false;
        }
        let ssh_key = raw.ssh_key.as_deref().and_then(|key| self.file("ssh_key", key));
        let known_hosts = raw.known_hosts.as_deref().and_then(|file| self.file("known_hosts", file));
        let resolved_all = (raw.token_file.is_none() && raw.token_env.is_none() || token.is_some())
            && (raw.ssh_key.is_none() || ssh_key.is_some())
            && (raw.known_hosts.is_none() || known_hosts.is_some());
        (ok && resolved_all).then(|| GitAuth {
            username: raw.username.clone(),
            token,
            ssh_key,
            known_hosts,
            accept_new_host_keys: raw.accept_new_host_keys.unwrap_or(false),
        })
    }

    /// A file path, relative to the folder of velos.toml, made absolute.
    fn file(&mut self, key: &str, text: &str) -> Option<PathBuf> {
        let problem = if text.is_empty() {
            Some(format!("`{key}` is empty"))
        } else if text.starts_with('~') {
            Some(format!("`~` is not expanded in `{key}`"))
        } else if text.contains('\0') || text.chars().any(char::is_control) {
            Some(format!("`{key}` contains a control character"))
        } else {
            None
        };
        if let Some(problem) = problem {
            let span = self.span(&["velos", "git", key]);
            self.error(
                span,
                problem,
                Some("write an absolute path, or one relative to the folder of velos.toml".into()),
            );
            return None;
        }
        let base = self.context.file.parent().unwrap_or(Path::new("/"));
        Some(base.join(text).components().filter(|component| *component != Component::CurDir).collect())
    }

    fn env_name(&mut self, name: &str) -> Option<String> {
        let valid = name.chars().next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            return Some(name.to_string());
        }
        let span = self.span(&["velos", "git", "token_env"]);
        self.error(
            span,
            format!(
                "`token_env` is the name of an environment variable, and {} characters are not a name",
                name.chars().count()
            ),
            Some("write the variable's name, not its value: `token_env = \"GIT_TOKEN\"`".into()),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_and_hosts() {
        assert_eq!(transport("/srv/deploy.git"), Transport::Local);
        assert_eq!(transport("file:///srv/deploy.git"), Transport::Local);
        assert_eq!(transport("git://127.0.0.1/deploy.git"), Transport::Local);
        assert_eq!(transport("HTTPS://example.com/a.git"), Transport::Http);
        assert_eq!(transport("ssh://git@example.com:2222/a.git"), Transport::Ssh);
        assert_eq!(transport("git@example.com:team/a.git"), Transport::Ssh);
        assert_eq!(host("https://example.com:8443/a.git"), Some("example.com"));
        assert_eq!(host("ssh://git@[::1]:2222/a.git"), Some("::1"));
        assert_eq!(host("git@example.com:team/a.git"), Some("example.com"));
        assert_eq!(host("https:///a.git"), None);
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("example.com"));
    }
}
