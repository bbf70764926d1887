//! `logs`: the last lines of an app's output (every instance of it, or one), or a follow of them.
use crate::address::resolve;
use crate::context::Ops;
use crate::convert::daemon_error;
use crate::error::OpError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::mpsc;
use velos_core::Stream;

/// Lines shown when a request does not say.
pub const LOG_LINES_DEFAULT: u32 = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogsRequest {
    /// An app (all its instances), one instance (`api-0`), or `all`.
    pub name: String,
    /// How many lines of each instance's ring (default 20).
    #[serde(default = "lines_default")]
    pub lines: u32,
    /// `out` (default) or `err`.
    #[serde(default = "stream_default")]
    pub stream: Stream,
    /// Keep following ([`Ops::logs_follow`]); [`Ops::logs`] refuses it.
    #[serde(default)]
    pub follow: bool,
}

fn lines_default() -> u32 {
    LOG_LINES_DEFAULT
}

fn stream_default() -> Stream {
    Stream::Out
}

impl LogsRequest {
    pub fn new(name: impl Into<String>) -> LogsRequest {
        LogsRequest { name: name.into(), lines: LOG_LINES_DEFAULT, stream: Stream::Out, follow: false }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogsOutcome {
    /// One per instance, sorted by name.
    pub logs: Vec<InstanceLog>,
}

/// The last lines of one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InstanceLog {
    pub name: String,
    pub stream: Stream,
    /// The bytes as text (invalid UTF-8 replaced).
    pub text: String,
    /// The raw bytes (the CLI writes them unchanged); not in JSON.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// A chunk of a followed log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    /// The instance it came from.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The chunks of every followed instance, in the order they arrive, until every stream ends. Dropping it
/// leaves the readers blocked until their stream ends or the process exits.
pub struct LogFollow {
    /// The instances followed.
    pub names: Vec<String>,
    chunks: mpsc::Receiver<Result<LogChunk, OpError>>,
}

impl Iterator for LogFollow {
    type Item = Result<LogChunk, OpError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.chunks.recv().ok()
    }
}

impl Ops {
    /// The last `lines` lines of each addressed instance's `stream`.
    pub fn logs(&self, request: LogsRequest) -> Result<LogsOutcome, OpError> {
        if request.follow {
            return Err(OpError::invalid("a followed log is a stream: call logs_follow"));
        }
        let mut backend = self.connect_running()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let mut logs = Vec::new();
        for name in resolve(&request.name, &live)?.names() {
            let bytes = backend
                .log_read(&name, request.stream, request.lines)
                .map_err(|error| daemon_error(error, Some(&name)))?;
            logs.push(InstanceLog {
                text: String::from_utf8_lossy(&bytes).into_owned(),
                name,
                stream: request.stream,
                bytes,
            });
        }
        Ok(LogsOutcome { logs })
    }

    /// The last `lines` lines of each addressed instance, then each new chunk, until the apps are deleted
    /// or the daemon stops. One connection (and reader thread) per instance.
    pub fn logs_follow(&self, request: LogsRequest) -> Result<LogFollow, OpError> {
        let mut backend = self.connect_running()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let names = resolve(&request.name, &live)?.names();
        let (sender, chunks) = mpsc::channel();
        for name in &names {
            let stream = self
                .connect_running()?
                .log_stream(name, request.stream, request.lines)
                .map_err(|error| daemon_error(error, Some(name)))?;
            let sender = sender.clone();
            let name = name.clone();
            std::thread::spawn(move || {
                for chunk in stream {
                    let chunk = chunk
                        .map(|bytes| LogChunk { name: name.clone(), bytes })
                        .map_err(|error| daemon_error(error, Some(&name)));
                    if sender.send(chunk).is_err() {
                        return;
                    }
                }
            });
        }
        Ok(LogFollow { names, chunks })
    }
}
