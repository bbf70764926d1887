//! The library errors as [`OpError`]s: one place decides each one's kind and hint.
use crate::error::{OpError, OpErrorKind};
use std::path::Path;
use velos_client::ClientError;
use velos_config::ConfigError;
use velos_core::ErrorCode;
use velos_reconcile::{DaemonError, HistoryError, PlanError};

/// A client error, with the app's name when the verb acted on one.
pub fn client_error(error: ClientError, app: Option<&str>) -> OpError {
    let name = app.unwrap_or("NAME");
    match &error {
        ClientError::DaemonNotRunning { home } => OpError::new(
            OpErrorKind::DaemonNotRunning,
            format!("the velos daemon is not running (VELOS_HOME={})", home.display()),
        )
        .hint("velos daemon starts it"),
        ClientError::DaemonStartFailed { home, reason, log_tail } => {
            let mut op_error = OpError::new(
                OpErrorKind::DaemonUnreachable,
                format!("the velos daemon did not start: {reason}"),
            );
            for line in log_tail {
                op_error = op_error.cause(format!("daemon.log: {line}"));
            }
            op_error.hint(format!(
                "velos daemon --foreground runs it here, showing why it stops; full log: {}",
                home.join(velos_client::DAEMON_LOG_FILE).display()
            ))
        }
        ClientError::Remote { code, message } => remote_error(code, message, app, name),
        ClientError::Protocol { .. } => OpError::new(OpErrorKind::DaemonUnreachable, error.to_string())
            .causes_of(&error)
            .hint("the daemon may be another velos version: velos kill, then run the command again"),
        ClientError::Io { .. } => OpError::new(OpErrorKind::DaemonUnreachable, error.to_string())
            .causes_of(&error)
            .hint(daemon_log_hint()),
        ClientError::Timeout { .. } => {
            OpError::new(OpErrorKind::DaemonUnreachable, error.to_string()).hint(daemon_log_hint())
        }
        ClientError::HomeUnusable { home, .. } => {
            OpError::new(OpErrorKind::Refused, error.to_string()).hint(format!(
                "point VELOS_HOME at a directory of your own (not a symlink), or remove {}",
                home.display()
            ))
        }
        ClientError::Refused { .. } => OpError::new(OpErrorKind::DaemonUnreachable, error.to_string()).hint(
            "other clients hold the daemon's connections: retry in a moment; velos ping checks the daemon",
        ),
    }
}

fn remote_error(code: &ErrorCode, message: &str, app: Option<&str>, name: &str) -> OpError {
    let (kind, hint) = match code {
        ErrorCode::NotFound if app.is_some() => {
            return OpError::new(OpErrorKind::NotFound, format!("no app named {name:?}")).hint("velos list");
        }
        ErrorCode::NotFound => (OpErrorKind::NotFound, "velos list".to_string()),
        ErrorCode::BadRequest => {
            // The daemon validates what the caller cannot know (its limits); the message names the field.
            return OpError::invalid(format!("the daemon refused the request: {message}"));
        }
        ErrorCode::Exists => (
            OpErrorKind::Conflict,
            format!(
                "velos restart {name} restarts the app as it is; to change it, velos delete {name} first"
            ),
        ),
        ErrorCode::SpawnFailed => {
            (OpErrorKind::InvalidInput, format!("check the path, then velos delete {name}"))
        }
        ErrorCode::Conflict => (OpErrorKind::Stale, format!("velos info {name} shows its current spec hash")),
        ErrorCode::ShuttingDown => (
            OpErrorKind::DaemonUnreachable,
            "the daemon is stopping; run the command again once it is down".to_string(),
        ),
        ErrorCode::Limit => (OpErrorKind::Refused, "velos list (delete apps you no longer need)".to_string()),
        ErrorCode::BadFrame => (
            OpErrorKind::DaemonUnreachable,
            "the daemon and this velos disagree on the protocol: velos kill, then run the command again"
                .to_string(),
        ),
        ErrorCode::Internal | ErrorCode::Other(_) => (OpErrorKind::Internal, daemon_log_hint()),
    };
    let op_error = OpError::new(kind, message);
    let op_error = match code {
        ErrorCode::Internal | ErrorCode::Other(_) | ErrorCode::BadFrame => {
            op_error.cause(format!("daemon error code: {code}"))
        }
        _ => op_error,
    };
    op_error.hint(hint)
}

pub fn daemon_log_hint() -> String {
    "velos ping checks the daemon; its log is VELOS_HOME/daemon.log".to_string()
}

/// A reconcile-side daemon error (an answer, or the transport's).
pub fn daemon_error(error: DaemonError, app: Option<&str>) -> OpError {
    match error {
        DaemonError::Remote { code, message } => client_error(ClientError::Remote { code, message }, app),
        DaemonError::Transport(error) => client_error(error, app),
    }
}

/// A velos.toml problem: `invalid_input` with its diagnostics; a missing file is `not_found`.
pub fn config_error(error: &ConfigError) -> OpError {
    let kind = match error {
        ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            OpErrorKind::NotFound
        }
        ConfigError::Read { .. } => OpErrorKind::Io,
        ConfigError::UnknownApp { .. } => OpErrorKind::NotFound,
        ConfigError::AppExists { .. } => OpErrorKind::Conflict,
        ConfigError::Invalid { .. } | ConfigError::BadEdit { .. } | ConfigError::BadPatch { .. } => {
            OpErrorKind::InvalidInput
        }
    };
    let mut op_error = OpError::new(kind, error.to_string());
    op_error.diagnostics = error.diagnostics().to_vec();
    if let ConfigError::UnknownApp { suggestion: Some(suggestion), .. } = error {
        op_error = op_error.hint(format!("did you mean `{suggestion}`?"));
    }
    op_error
}

/// A plan that cannot be made: nothing was applied.
pub fn plan_error(error: &PlanError, file: &Path) -> OpError {
    let message = format!("{error}; nothing was applied");
    match error {
        PlanError::NameOwnedElsewhere { name, owner: Some(owner) } => OpError::new(OpErrorKind::Conflict, message)
            .hint(format!(
                "app names are unique on a host: rename `{name}` in {}, or remove it from project `{owner}` first",
                file.display()
            )),
        PlanError::NameOwnedElsewhere { name, owner: None } => OpError::new(OpErrorKind::Conflict, message)
            .hint(format!(
                "app names are unique on a host: rename `{name}` in {}, or velos delete {name} first",
                file.display()
            )),
        _ => OpError::invalid(message).hint(format!("velos validate {}", file.display())),
    }
}

pub fn history_error(error: &HistoryError) -> OpError {
    let (kind, hint) = match error {
        HistoryError::NotThatFarBack { .. }
        | HistoryError::NoSuchEntry(_)
        | HistoryError::OtherProject { .. } => {
            (OpErrorKind::NotFound, "velos history lists the applies recorded on this host")
        }
        _ => (
            OpErrorKind::Io,
            "the history and project registry live in VELOS_HOME/history and VELOS_HOME/projects",
        ),
    };
    OpError::new(kind, error.to_string()).causes_of(error).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(code: ErrorCode, app: Option<&str>) -> OpErrorKind {
        client_error(ClientError::Remote { code, message: "m".into() }, app).kind
    }

    #[test]
    fn each_daemon_answer_has_one_kind() {
        assert_eq!(kind_of(ErrorCode::NotFound, Some("web")), OpErrorKind::NotFound);
        assert_eq!(kind_of(ErrorCode::Conflict, Some("web")), OpErrorKind::Stale);
        assert_eq!(kind_of(ErrorCode::Exists, Some("web")), OpErrorKind::Conflict);
        assert_eq!(kind_of(ErrorCode::BadRequest, None), OpErrorKind::InvalidInput);
        assert_eq!(kind_of(ErrorCode::SpawnFailed, Some("web")), OpErrorKind::InvalidInput);
        assert_eq!(kind_of(ErrorCode::Limit, None), OpErrorKind::Refused);
        assert_eq!(kind_of(ErrorCode::ShuttingDown, None), OpErrorKind::DaemonUnreachable);
        assert_eq!(kind_of(ErrorCode::Internal, None), OpErrorKind::Internal);
        let timeout =
            ClientError::Timeout { what: "waiting".into(), after: std::time::Duration::from_secs(1) };
        assert_eq!(client_error(timeout, None).kind, OpErrorKind::DaemonUnreachable);
        let not_running = ClientError::DaemonNotRunning { home: "/h".into() };
        assert_eq!(client_error(not_running, None).kind, OpErrorKind::DaemonNotRunning);
        let error = client_error(
            ClientError::Remote { code: ErrorCode::NotFound, message: "m".into() },
            Some("ghost"),
        );
        assert_eq!(error.message, "no app named \"ghost\"");
    }

    #[test]
    fn config_and_plan_errors() {
        let missing = ConfigError::Read { path: "/x".into(), source: std::io::ErrorKind::NotFound.into() };
        assert_eq!(config_error(&missing).kind, OpErrorKind::NotFound);
        let owned = PlanError::NameOwnedElsewhere { name: "web".into(), owner: Some("shop".into()) };
        let error = plan_error(&owned, Path::new("/srv/velos.toml"));
        assert_eq!(error.kind, OpErrorKind::Conflict);
        assert!(error.message.ends_with("; nothing was applied"));
    }
}
