//! What the user sees when a command fails: `error: <message>`, `  caused by: …` lines, `hint: <next step>`.
use std::fmt::Write as _;
use std::path::Path;
use velos_client::ClientError;
use velos_config::ConfigError;
use velos_core::ErrorCode;
use velos_reconcile::git::GitError;
use velos_reconcile::{HistoryError, PlanError};

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
    /// stdout went away (`velos list | head -1`): stop quietly, exit 0.
    pub broken_pipe: bool,
    /// Text rendered elsewhere (a velos.toml's diagnostics), printed as is instead of `error: message`.
    pub preformatted: Option<String>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            broken_pipe: false,
            preformatted: None,
        }
    }

    /// A velos.toml problem, printed as velos-config renders it (file:line:column, the line, a caret, help).
    pub fn config(error: &ConfigError) -> CliError {
        let mut cli_error = CliError::new(error.to_string());
        cli_error.preformatted = Some(error.render());
        cli_error
    }

    /// The problems were printed already (`velos validate`): exit 1 without another line.
    pub fn reported(message: impl Into<String>) -> CliError {
        let mut cli_error = CliError::new(message);
        cli_error.preformatted = Some(String::new());
        cli_error
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    pub fn cause(mut self, cause: impl Into<String>) -> CliError {
        self.causes.push(cause.into());
        self
    }

    /// Every `source()` of `error` as a cause line.
    pub fn causes_of(mut self, error: &(dyn std::error::Error + 'static)) -> CliError {
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !self.causes.contains(&text) && !self.message.contains(&text) {
                self.causes.push(text);
            }
            source = cause.source();
        }
        self
    }

    /// `no app named "x"` with the hint to list the apps.
    pub fn no_such_app(name: &str) -> CliError {
        CliError::new(format!("no app named {name:?}")).hint("velos list")
    }

    /// The stderr text.
    pub fn render(&self) -> String {
        if let Some(text) = &self.preformatted {
            let mut text = text.clone();
            if let Some(hint) = &self.hint {
                let _ = writeln!(text, "hint: {hint}");
            }
            return text;
        }
        let mut text = format!("error: {}\n", self.message);
        for cause in &self.causes {
            let _ = writeln!(text, "  caused by: {cause}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(text, "hint: {hint}");
        }
        text
    }
}

impl From<std::io::Error> for CliError {
    /// Only used for writes to stdout.
    fn from(error: std::io::Error) -> CliError {
        let mut cli_error = CliError::new("could not write the output").cause(error.to_string());
        cli_error.broken_pipe = error.kind() == std::io::ErrorKind::BrokenPipe;
        cli_error
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> CliError {
        client_error(error, None)
    }
}

impl From<HistoryError> for CliError {
    fn from(error: HistoryError) -> CliError {
        let hint = match &error {
            HistoryError::NotThatFarBack { .. }
            | HistoryError::NoSuchEntry(_)
            | HistoryError::OtherProject { .. } => "velos history lists the applies recorded on this host",
            _ => "the history and project registry live in VELOS_HOME/history and VELOS_HOME/projects",
        };
        CliError::new(error.to_string()).causes_of(&error).hint(hint)
    }
}

impl From<GitError> for CliError {
    fn from(error: GitError) -> CliError {
        let hint = match &error {
            GitError::UnknownRevision { .. } => {
                "name a branch, tag or commit of the file's repository (git log shows them), or a file"
            }
            GitError::NoRepository { .. } | GitError::Bare { .. } | GitError::OutsideWorkTree { .. } => {
                "--against takes `live`, a file, or a git revision of FILE's repository"
            }
            _ => "git show REV:PATH shows what the repository holds there",
        };
        let cli_error = CliError::new(error.to_string());
        let cli_error = match error.detail() {
            Some(detail) => cli_error.cause(detail),
            None => cli_error,
        };
        cli_error.hint(hint)
    }
}

/// A plan that cannot be made: nothing was applied.
pub fn plan_error(error: &PlanError, file: &Path) -> CliError {
    let cli_error = CliError::new(format!("{error}; nothing was applied"));
    match error {
        PlanError::NameOwnedElsewhere { name, owner: Some(owner) } => cli_error.hint(format!(
            "app names are unique on a host: rename `{name}` in {}, or remove it from project `{owner}` first",
            file.display()
        )),
        PlanError::NameOwnedElsewhere { name, owner: None } => cli_error.hint(format!(
            "app names are unique on a host: rename `{name}` in {}, or velos delete {name} first",
            file.display()
        )),
        _ => cli_error.hint(format!("velos validate {}", file.display())),
    }
}

/// A client error, with the app's name when the command acted on one (for `not_found` and the hints).
pub fn client_error(error: ClientError, app: Option<&str>) -> CliError {
    let name = app.unwrap_or("NAME");
    match &error {
        ClientError::DaemonNotRunning { home } => {
            CliError::new(format!("the velos daemon is not running (VELOS_HOME={})", home.display()))
                .hint("velos daemon")
        }
        ClientError::DaemonStartFailed { home, reason, log_tail } => {
            let mut cli_error = CliError::new(format!("the velos daemon did not start: {reason}"));
            for line in log_tail {
                cli_error = cli_error.cause(format!("daemon.log: {line}"));
            }
            cli_error.hint(format!(
                "velos daemon --foreground (runs it here, showing why it stops); full log: {}",
                home.join(velos_client::DAEMON_LOG_FILE).display()
            ))
        }
        ClientError::Remote { code: ErrorCode::NotFound, .. } if app.is_some() => CliError::no_such_app(name),
        ClientError::Remote { code: ErrorCode::BadRequest, message } => {
            // The daemon validates what the CLI cannot know (its limits); the message names the field.
            CliError::new(format!("the daemon refused the request: {message}"))
        }
        ClientError::Remote { code, message } => {
            let cli_error = CliError::new(message.clone());
            let hint = match code {
                ErrorCode::NotFound => Some("velos list".to_string()),
                ErrorCode::Exists => Some(format!(
                    "velos restart {name} restarts the app as it is; to change it, velos delete {name} first"
                )),
                ErrorCode::SpawnFailed => Some(format!("check the path, then velos delete {name}")),
                ErrorCode::Conflict => Some(format!("velos info {name} shows its current spec hash")),
                ErrorCode::ShuttingDown => {
                    Some("the daemon is stopping; run the command again once it is down".to_string())
                }
                ErrorCode::Limit => Some("velos list (delete apps you no longer need)".to_string()),
                ErrorCode::BadFrame | ErrorCode::BadRequest => Some(
                    "the daemon and this velos disagree on the protocol: velos kill, then run the command again"
                        .to_string(),
                ),
                ErrorCode::Internal | ErrorCode::Other(_) => Some(daemon_log_hint()),
            };
            let cli_error = match code {
                ErrorCode::Internal | ErrorCode::Other(_) | ErrorCode::BadFrame | ErrorCode::BadRequest => {
                    cli_error.cause(format!("daemon error code: {code}"))
                }
                _ => cli_error,
            };
            match hint {
                Some(hint) => cli_error.hint(hint),
                None => cli_error,
            }
        }
        ClientError::Protocol { .. } => CliError::new(error.to_string())
            .causes_of(&error)
            .hint("the daemon may be another velos version: velos kill, then run the command again"),
        ClientError::Io { .. } => CliError::new(error.to_string()).causes_of(&error).hint(daemon_log_hint()),
        ClientError::Timeout { .. } => CliError::new(error.to_string()).hint(daemon_log_hint()),
        ClientError::HomeUnusable { home, .. } => CliError::new(error.to_string()).hint(format!(
            "point VELOS_HOME at a directory of your own (not a symlink), or remove {}",
            home.display()
        )),
        ClientError::Refused { .. } => CliError::new(error.to_string()).hint(
            "other clients hold the daemon's connections: retry in a moment; velos ping checks the daemon",
        ),
    }
}

fn daemon_log_hint() -> String {
    "velos ping checks the daemon; its log is VELOS_HOME/daemon.log".to_string()
}

/// The hint for a home that holds a daemon already.
pub fn already_running(home: &Path, pid: i32) -> CliError {
    CliError::new(format!("a daemon is already running on {} (pid {pid})", home.display()))
        .hint("velos ping shows it; velos kill stops it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering() {
        let error = CliError::new("the velos daemon did not start: it exited at once (exit code 1)")
            .cause("daemon.log: error: VELOS_HOME is unusable")
            .hint("velos daemon --foreground");
        assert_eq!(
            error.render(),
            "error: the velos daemon did not start: it exited at once (exit code 1)\n  caused by: daemon.log: \
             error: VELOS_HOME is unusable\nhint: velos daemon --foreground\n"
        );
    }

    #[test]
    fn unknown_app() {
        let error = client_error(
            ClientError::Remote { code: ErrorCode::NotFound, message: "not found: ghost".into() },
            Some("ghost"),
        );
        assert_eq!(error.render(), "error: no app named \"ghost\"\nhint: velos list\n");
    }

    #[test]
    fn spawn_failure_names_the_app() {
        let error = client_error(
            ClientError::Remote {
                code: ErrorCode::SpawnFailed,
                message: "cannot execute /no/such/program: ENOENT".into(),
            },
            Some("nothing"),
        );
        let text = error.render();
        assert!(text.starts_with("error: cannot execute /no/such/program: ENOENT\n"), "{text}");
        assert!(text.ends_with("hint: check the path, then velos delete nothing\n"), "{text}");
    }
}
