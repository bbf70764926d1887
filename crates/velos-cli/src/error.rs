//! What the user sees when a command fails: `error: <message>`, `  caused by: …` lines, `hint: <next step>`.
use std::fmt::Write as _;
use std::path::Path;
use velos_client::ClientError;
use velos_core::ErrorCode;

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
    /// stdout went away (`velos list | head -1`): stop quietly, exit 0.
    pub broken_pipe: bool,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError { message: message.into(), causes: Vec::new(), hint: None, broken_pipe: false }
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
