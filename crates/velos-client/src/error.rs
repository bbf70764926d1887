use std::path::PathBuf;
use std::time::Duration;
use velos_core::{ErrorCode, ProtocolError};

/// Why a request did not get the answer it asked for.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon listens on `home/velos.sock` (the socket is missing or refuses connections).
    #[error("the velos daemon is not running (VELOS_HOME={})", home.display())]
    DaemonNotRunning { home: PathBuf },

    /// `connect_or_start` launched a daemon that exited or did not answer in time.
    #[error("the velos daemon did not start: {reason}")]
    DaemonStartFailed {
        home: PathBuf,
        reason: String,
        /// The last lines the daemon wrote to `home/daemon.log` in this attempt.
        log_tail: Vec<String>,
    },

    /// VELOS_HOME is not a directory of this user that velos can use safely.
    #[error("VELOS_HOME {} cannot be used: {problem}", home.display())]
    HomeUnusable { home: PathBuf, problem: crate::HomeProblem },

    /// The daemon closed the connection and said why (a `limit` error with id 0: too many clients, idle
    /// too long, too many unfinished frames).
    #[error("the daemon refused the connection: {message}")]
    Refused { message: String },

    /// The daemon answered with an error.
    #[error("{message}")]
    Remote { code: ErrorCode, message: String },

    /// The daemon's answer does not follow docs/PROTOCOL.md.
    #[error("protocol error: {message}")]
    Protocol {
        message: String,
        #[source]
        source: Option<ProtocolError>,
    },

    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("timed out after {} {what}", format_duration(*after))]
    Timeout { what: String, after: Duration },
}

impl ClientError {
    /// The daemon's error code, if the daemon answered with an error.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            ClientError::Remote { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn protocol(message: impl Into<String>) -> ClientError {
        ClientError::Protocol { message: message.into(), source: None }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> ClientError {
        ClientError::Io { context: context.into(), source }
    }
}

impl From<ProtocolError> for ClientError {
    fn from(error: ProtocolError) -> ClientError {
        let message = match error {
            ProtocolError::Encode(_) => "could not encode the request",
            _ => "the daemon sent a reply this client cannot read",
        };
        ClientError::Protocol { message: message.into(), source: Some(error) }
    }
}

fn format_duration(duration: Duration) -> String {
    if duration.as_millis().is_multiple_of(1000) {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}
