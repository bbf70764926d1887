//! Fetching from `https://` and ssh remotes with the system `git` program (docs/ARCHITECTURE.md, "Git
//! remotes", says why not libgit2's own https and ssh).
//!
//! libgit2 still does everything else — the checkout, resolving the ref, reading the file — on the same
//! repository; `git fetch` only brings the objects and refs in. Credentials reach `git` through its child
//! environment, never its arguments or any file: the token through a credential helper that answers only
//! for the repository's host, the deploy key and known_hosts through `GIT_SSH_COMMAND`. Nothing prompts
//! (`GIT_TERMINAL_PROMPT=0`, ssh in batch mode), and a fetch that hangs is killed after [`FETCH_TIMEOUT`].
use crate::source::SourceError;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use velos_config::{GitAuth, TokenSource, Transport};

/// The longest a fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(120);
/// What of git's stderr is kept for a message.
const STDERR_BYTES_MAX: u64 = 64 * 1024;
/// The longest token accepted from a file or a variable.
const TOKEN_BYTES_MAX: u64 = 16 * 1024;
/// Polling period of a running fetch (a child cannot be waited on with a deadline in std).
const WAIT_STEP: Duration = Duration::from_millis(10);

/// A credential helper (run by git's shell) that prints the user and token of the child environment,
/// only when git asks for the repository's own host, so a redirect to another host gets nothing.
const CREDENTIAL_HELPER: &str = "!f() { test \"$1\" = get || exit 0; host=; \
     while IFS='=' read -r key value; do test \"$key\" = host && host=$value; done; \
     test \"$host\" = \"$VELOS_GIT_HOST\" || exit 0; \
     printf 'username=%s\\npassword=%s\\n' \"$VELOS_GIT_USERNAME\" \"$VELOS_GIT_PASSWORD\"; }; f";

/// Runs `git fetch REPO REFSPECS` in `checkout_dir` (an existing repository) for an https or ssh `repo`.
pub fn fetch(checkout_dir: &Path, repo: &str, auth: &GitAuth, refspecs: &[&str]) -> Result<(), SourceError> {
    let mut command = Command::new("git");
    command
        .current_dir(checkout_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // English messages: they are matched below.
        .env("LC_ALL", "C")
        .env("LANGUAGE", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env_remove("VELOS_GIT_PASSWORD")
        // A controller started from a git hook must not fetch into the hook's repository.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        // No helper of the user's (a desktop keyring, a store file) is asked or fed.
        .args(["-c", "credential.helper=", "-c", "core.askPass="]);
    match velos_config::transport(repo) {
        Transport::Http => http_credentials(&mut command, repo, auth)?,
        Transport::Ssh => {
            command.env("GIT_SSH_COMMAND", ssh_command(auth)?);
        }
        Transport::Local => {}
    }
    command.args(["fetch", "--prune", "--no-tags", "--no-write-fetch-head", "--quiet", "--", repo]);
    command.args(refspecs);
    run(command, repo, auth)
}

fn http_credentials(command: &mut Command, repo: &str, auth: &GitAuth) -> Result<(), SourceError> {
    let Some(source) = &auth.token else { return Ok(()) };
    let token = read_token(repo, source)?;
    let authority = repo
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .map(|authority| authority.rsplit('@').next().unwrap_or(authority))
        .unwrap_or_default();
    command
        .args(["-c", &format!("credential.helper={CREDENTIAL_HELPER}"), "-c", "credential.interactive=never"])
        .env("VELOS_GIT_HOST", authority)
        .env("VELOS_GIT_USERNAME", auth.username())
        .env("VELOS_GIT_PASSWORD", token);
    Ok(())
}

/// The token, trimmed; read at each fetch so a rotated token is used without a new revision.
fn read_token(repo: &str, source: &TokenSource) -> Result<String, SourceError> {
    let token = match source {
        TokenSource::File(path) => {
            let mut bytes = Vec::new();
            std::fs::File::open(path)
                .and_then(|file| file.take(TOKEN_BYTES_MAX).read_to_end(&mut bytes))
                .map_err(|source| SourceError::TokenFile { path: path.clone(), source })?;
            String::from_utf8_lossy(&bytes).trim().to_string()
        }
        TokenSource::Env(name) => std::env::var(name).unwrap_or_default().trim().to_string(),
    };
    if token.is_empty() || token.len() as u64 >= TOKEN_BYTES_MAX || token.contains(['\n', '\r', '\0']) {
        return Err(SourceError::NoToken { repo: repo.to_string(), token: source.clone() });
    }
    Ok(token)
}

/// `ssh` with the deploy key, the known_hosts file and the host key policy, each path shell-quoted (git
/// runs `GIT_SSH_COMMAND` through the shell). Options given here win over the user's `~/.ssh/config`.
fn ssh_command(auth: &GitAuth) -> Result<String, SourceError> {
    let policy = if auth.accept_new_host_keys { "accept-new" } else { "yes" };
    let mut words = vec![
        "ssh".to_string(),
        "-o".into(),
        "BatchMode=yes".into(),
        "-o".into(),
        format!("StrictHostKeyChecking={policy}"),
        "-o".into(),
        "ConnectTimeout=20".into(),
        "-o".into(),
        "UpdateHostKeys=no".into(),
    ];
    if let Some(key) = &auth.ssh_key {
        // A key ssh cannot read is named here rather than as a vague "Permission denied".
        std::fs::File::open(key).map_err(|source| SourceError::SshKey { path: key.clone(), source })?;
        words.extend(["-i".into(), quote(key), "-o".into(), "IdentitiesOnly=yes".into()]);
    }
    if let Some(known_hosts) = &auth.known_hosts {
        words.extend([
            "-o".into(),
            format!("UserKnownHostsFile={}", quote(known_hosts)),
            "-o".into(),
            "GlobalKnownHostsFile=/dev/null".into(),
        ]);
    }
    Ok(words.join(" "))
}

/// `'path'`, with `'` written as `'\''`.
fn quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', "'\\''"))
}

fn run(mut command: Command, repo: &str, auth: &GitAuth) -> Result<(), SourceError> {
    let mut child = command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => SourceError::NoGitProgram { repo: repo.to_string() },
        _ => SourceError::Remote { repo: repo.to_string(), detail: format!("cannot run git: {source}") },
    })?;
    // git writes little to stderr; read it on a thread so a full pipe can never stall the child.
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr {
            let _ = stderr.take(STDERR_BYTES_MAX).read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + FETCH_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(WAIT_STEP),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stderr = reader.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => Ok(()),
        Some(_) => Err(classify(repo, auth, &stderr)),
        None => Err(SourceError::Remote {
            repo: repo.to_string(),
            detail: format!("no answer within {} s", FETCH_TIMEOUT.as_secs()),
        }),
    }
}

/// Sorts a failed fetch by what git and ssh said.
fn classify(repo: &str, auth: &GitAuth, stderr: &str) -> SourceError {
    let repo = repo.to_string();
    let known_hosts = || auth.known_hosts.clone().unwrap_or_else(default_known_hosts);
    let host = ssh_host_name(&repo);
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        return SourceError::HostKeyChanged { repo, host, known_hosts: known_hosts() };
    }
    if stderr.contains("Host key verification failed") {
        return SourceError::HostKeyUnknown { repo, host, known_hosts: known_hosts() };
    }
    let refused = [
        "Authentication failed",
        "could not read Username",
        "could not read Password",
        "Permission denied (publickey",
        "The requested URL returned error: 401",
        "The requested URL returned error: 403",
    ];
    if refused.iter().any(|needle| stderr.contains(needle)) {
        return SourceError::Refused { repo, detail: last_line(stderr) };
    }
    SourceError::Remote { repo, detail: last_line(stderr) }
}

/// The host as ssh and known_hosts name it: `host`, or `[host]:port` on another port than 22.
fn ssh_host_name(repo: &str) -> String {
    let host = velos_config::repo_host(repo).unwrap_or_default();
    let port = repo
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .map(|authority| authority.rsplit('@').next().unwrap_or(authority))
        .and_then(|host_port| host_port.rsplit_once(':'))
        .filter(|(before, _)| !before.is_empty() && (!before.contains(':') || before.ends_with(']')))
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .filter(|port| *port != 22);
    match port {
        Some(port) => format!("[{host}]:{port}"),
        None => host.to_string(),
    }
}

/// git's last word (`fatal: …`), the one that says why.
fn last_line(stderr: &str) -> String {
    let line = stderr.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or("git fetch failed");
    let line = line.strip_prefix("fatal: ").unwrap_or(line);
    line.chars().take(300).collect()
}

/// `~/.ssh/known_hosts` of the user running Velos, as messages name it (ssh finds the home folder itself;
/// the supervised controller runs without `HOME`).
pub fn default_known_hosts() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".ssh/known_hosts"),
        None => PathBuf::from("~/.ssh/known_hosts"),
    }
}

impl SourceError {
    /// The next step for the user, when there is a clear one (shown as `hint:` by `velos status`).
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            SourceError::Refused { .. } => "the server refused the credentials in [velos.git]: check the token \
                 (token_file / token_env, read at each fetch) or the deploy key (ssh_key) and that it may \
                 read the repository, then run `velos sync`; the apps keep running meanwhile"
                .to_string(),
            SourceError::TokenFile { path, .. } => format!(
                "write the token into {} (readable by the user running Velos), then run `velos sync`",
                path.display()
            ),
            SourceError::NoToken { token: TokenSource::Env(name), .. } => format!(
                "set {name} in the environment of the controller; the supervised controller (`velos list \
                 --all`) gets only VELOS_HOME and PATH, so there use token_file instead; then run `velos sync`"
            ),
            SourceError::NoToken { token: TokenSource::File(path), .. } => {
                format!("write the token into {}, then run `velos sync`", path.display())
            }
            SourceError::SshKey { path, .. } => {
                format!("put the deploy key at {} or fix [velos.git] ssh_key, then run `velos sync`", path.display())
            }
            SourceError::HostKeyUnknown { host, known_hosts, .. } => {
                let scan = match host.strip_prefix('[').and_then(|rest| rest.split_once("]:")) {
                    Some((name, port)) => format!("ssh-keyscan -p {port} {name}"),
                    None => format!("ssh-keyscan {host}"),
                };
                format!(
                    "check the server's key fingerprint, then add it: `{scan} >> {}`, or trust it on first \
                     use with `accept_new_host_keys = true` in [velos.git]; then run `velos sync`",
                    known_hosts.display()
                )
            }
            SourceError::HostKeyChanged { host, known_hosts, .. } => format!(
                "if the server's key really changed, remove the old one (`ssh-keygen -R {host} -f {}`) and \
                 add the new one; until then nothing is fetched",
                known_hosts.display()
            ),
            SourceError::NoGitProgram { .. } => {
                "install git (`apt-get install git`): Velos fetches https and ssh repositories with it".to_string()
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_what_git_said() {
        let auth = GitAuth { known_hosts: Some("/k".into()), ..GitAuth::default() };
        let repo = "ssh://git@example.com:2222/d.git";
        let unknown = classify(repo, &auth, "No ED25519 host key is known for [example.com]:2222 and you have requested strict checking.\nHost key verification failed.\nfatal: Could not read from remote repository.\n");
        assert!(
            matches!(&unknown, SourceError::HostKeyUnknown { host, .. } if host == "[example.com]:2222"),
            "{unknown:?}"
        );
        assert!(unknown.hint().is_some_and(|hint| hint.contains("ssh-keyscan -p 2222 example.com >> /k")));
        assert_eq!(ssh_host_name("git@example.com:team/d.git"), "example.com");
        assert_eq!(ssh_host_name("ssh://git@example.com:22/d.git"), "example.com");
        assert_eq!(ssh_host_name("ssh://git@[::1]:2200/d.git"), "[::1]:2200");
        let refused = classify(
            "https://h/d.git",
            &auth,
            "remote: nope\nfatal: Authentication failed for 'https://h/d.git/'\n",
        );
        assert_eq!(
            refused.to_string(),
            "https://h/d.git refused the credentials: Authentication failed for 'https://h/d.git/'"
        );
        let other = classify(
            "https://h/d.git",
            &auth,
            "fatal: unable to access 'https://h/d.git/': Could not resolve host: h\n",
        );
        assert!(matches!(other, SourceError::Remote { .. }));
        assert_eq!(other.class(), crate::ErrorClass::Transient);
    }

    #[test]
    fn tokens_are_read_trimmed_and_never_empty() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let file = dir.path().join("token");
        std::fs::write(&file, "  t0ken\n").unwrap_or_else(|error| panic!("{error}"));
        let read = read_token("r", &TokenSource::File(file.clone()));
        assert_eq!(read.ok().as_deref(), Some("t0ken"));
        std::fs::write(&file, "\n").unwrap_or_else(|error| panic!("{error}"));
        let empty = read_token("r", &TokenSource::File(file));
        assert!(matches!(empty, Err(SourceError::NoToken { .. })), "{empty:?}");
        let missing = read_token("r", &TokenSource::File(dir.path().join("none")));
        assert!(matches!(missing, Err(SourceError::TokenFile { .. })), "{missing:?}");
        let unset = read_token("r", &TokenSource::Env("VELOS_TEST_NO_SUCH_VARIABLE".into()));
        let error = unset.expect_err("unset");
        assert_eq!(
            error.to_string(),
            "no token for r: the environment variable VELOS_TEST_NO_SUCH_VARIABLE is not set or empty"
        );
        assert!(error.hint().is_some_and(|hint| hint.contains("token_file")));
    }

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(quote(Path::new("/a b/it's")), "'/a b/it'\\''s'");
        let auth =
            GitAuth { known_hosts: Some("/k h".into()), accept_new_host_keys: true, ..GitAuth::default() };
        let command = ssh_command(&auth).unwrap_or_default();
        assert!(
            command.contains("StrictHostKeyChecking=accept-new")
                && command.contains("UserKnownHostsFile='/k h'")
        );
    }
}
