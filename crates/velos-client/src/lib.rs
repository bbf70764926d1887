//! IPC client for the Velos daemon: blocking, std only (a `velos list` is one connect, one write, one read).
//!
//! [`Client::connect`] talks to a running daemon; [`connect_or_start`] starts one first when needed.
//! Requests are answered in order (docs/PROTOCOL.md), so [`Client::start_many`] pipelines them.
mod error;
mod home;
mod refusal;
mod spawn;
mod sys;

pub use error::ClientError;
pub use home::{Home, HomeProblem};
pub use spawn::{connect_or_start, DAEMON_LOG_FILE, START_DEADLINE};

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use velos_core::{
    data_as, encode_request, Deleted, Empty, ErrorCode, FrameDecoder, LogArgs, LogData, NameArgs, Op,
    PingInfo, ProcessRecord, Reply, ReplyBody, RestartArgs, Saved, StartSpec, Stream,
};

/// The socket's file name inside `VELOS_HOME`.
pub const SOCKET_FILE: &str = "velos.sock";
/// Read and write timeout of a request unless [`Client::set_timeout`] says otherwise.
pub const TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// How often [`Client::wait_for`] asks for the record.
pub const WAIT_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Most requests [`Client::start_many`] keeps in flight: enough to hide the round trips, few enough that the
/// unread replies (~1 KiB each) always fit in the socket buffer, so neither side blocks on a full buffer.
pub const PIPELINE_DEPTH_MAX: usize = 64;
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// One connection to the daemon.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    decoder: FrameDecoder,
    read_buffer: Vec<u8>,
    id_last: u32,
    home: PathBuf,
    timeout: Duration,
}

impl Client {
    /// Connects to the daemon of `home` (`home/velos.sock`). Does not start one.
    pub fn connect(home: &Path) -> Result<Client, ClientError> {
        let socket = home.join(SOCKET_FILE);
        let stream = match UnixStream::connect(&socket) {
            Ok(stream) => stream,
            Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
                return Err(ClientError::DaemonNotRunning { home: home.to_path_buf() });
            }
            Err(error) => {
                return Err(ClientError::io(format!("could not connect to {}", socket.display()), error));
            }
        };
        let mut client = Client {
            stream,
            decoder: FrameDecoder::new(),
            read_buffer: vec![0; READ_BUFFER_BYTES],
            id_last: 0,
            home: home.to_path_buf(),
            timeout: TIMEOUT_DEFAULT,
        };
        client.set_timeout(TIMEOUT_DEFAULT)?;
        Ok(client)
    }

    /// The `VELOS_HOME` this client talks to.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Sets how long one read or write may block before [`ClientError::Timeout`].
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<(), ClientError> {
        let timeout = timeout.max(Duration::from_millis(1)); // zero means "forever" to the socket
        self.stream
            .set_read_timeout(Some(timeout))
            .and_then(|()| self.stream.set_write_timeout(Some(timeout)))
            .map_err(|error| ClientError::io("could not set the socket timeout", error))?;
        self.timeout = timeout;
        Ok(())
    }

    // ---- typed requests -------------------------------------------------------------------------------

    /// `PROCESS_START` with a full spec: creates the app, or starts it again if the stored spec is identical
    /// (`start`'s flags say otherwise: `expected_hash`, `replace`, `autostart`).
    pub fn start(&mut self, start: &StartSpec) -> Result<ProcessRecord, ClientError> {
        self.request(Op::ProcessStart, start)
    }

    /// `PROCESS_START {name}`: starts an app the daemon already knows.
    pub fn start_existing(&mut self, name: &str) -> Result<ProcessRecord, ClientError> {
        self.request(Op::ProcessStart, &NameArgs { name })
    }

    /// Starts every spec with pipelined requests (at most [`PIPELINE_DEPTH_MAX`] in flight), so 100 starts
    /// cost about two round trips. One result per spec, in order; the outer error is a broken connection.
    pub fn start_many(
        &mut self,
        specs: &[StartSpec],
    ) -> Result<Vec<Result<ProcessRecord, ClientError>>, ClientError> {
        let mut results = Vec::with_capacity(specs.len());
        let mut in_flight = VecDeque::with_capacity(PIPELINE_DEPTH_MAX);
        let mut next = 0;
        while results.len() < specs.len() {
            // Fill the window with one write.
            let mut batch = Vec::new();
            while next < specs.len() && in_flight.len() < PIPELINE_DEPTH_MAX {
                let id = self.next_id();
                batch.extend(encode_request(id, Op::ProcessStart, &specs[next])?);
                in_flight.push_back(id);
                next += 1;
            }
            if !batch.is_empty() {
                self.write_all(&batch)?;
            }
            let id = in_flight.pop_front().ok_or_else(|| ClientError::protocol("pipeline out of step"))?;
            let reply = self.read_reply(id)?;
            results.push(data_or_remote(reply));
        }
        Ok(results)
    }

    /// `PROCESS_STOP`: answers at once (usually `stopping`); see [`Client::wait_for`].
    pub fn stop(&mut self, name: &str) -> Result<ProcessRecord, ClientError> {
        self.request(Op::ProcessStop, &NameArgs { name })
    }

    /// `PROCESS_RESTART`, refused with `conflict` if `expected_hash` is given and differs from the record's.
    pub fn restart(&mut self, name: &str, expected_hash: Option<&str>) -> Result<ProcessRecord, ClientError> {
        self.request(Op::ProcessRestart, &RestartArgs { name, expected_hash })
    }

    /// `PROCESS_DELETE`: stops the app and forgets it; answers at once. See [`Client::wait_gone`].
    pub fn delete(&mut self, name: &str) -> Result<(), ClientError> {
        let _: Deleted = self.request(Op::ProcessDelete, &NameArgs { name })?;
        Ok(())
    }

    /// `PROCESS_LIST`: every app, sorted by name.
    pub fn list(&mut self) -> Result<Vec<ProcessRecord>, ClientError> {
        self.request(Op::ProcessList, &Empty {})
    }

    /// `PROCESS_INFO`.
    pub fn info(&mut self, name: &str) -> Result<ProcessRecord, ClientError> {
        self.request(Op::ProcessInfo, &NameArgs { name })
    }

    /// `LOG_READ`: the last `lines` lines of one stream's ring, raw bytes.
    pub fn log_read(&mut self, name: &str, stream: Stream, lines: u32) -> Result<Vec<u8>, ClientError> {
        let data: LogData = self.request(Op::LogRead, &LogArgs { name, stream, lines })?;
        Ok(data.data)
    }

    /// `LOG_STREAM`: the last `lines` lines, then each new chunk until the app is deleted or the daemon
    /// stops. The stream takes over the connection, so it consumes the client; reads wait without a timeout.
    pub fn log_stream(mut self, name: &str, stream: Stream, lines: u32) -> Result<LogStream, ClientError> {
        let id = self.send(Op::LogStream, &LogArgs { name, stream, lines })?;
        self.stream
            .set_read_timeout(None)
            .map_err(|error| ClientError::io("could not clear the socket timeout", error))?;
        Ok(LogStream { client: self, id, ended: false })
    }

    /// `PING`.
    pub fn ping(&mut self) -> Result<PingInfo, ClientError> {
        self.request(Op::Ping, &Empty {})
    }

    /// `SHUTDOWN`: the daemon answers, then stops every app and exits.
    pub fn shutdown(&mut self) -> Result<(), ClientError> {
        let _: serde::de::IgnoredAny = self.request(Op::Shutdown, &Empty {})?;
        Ok(())
    }

    /// `SAVE`: the state file, written and fsynced; returns its path.
    pub fn save(&mut self) -> Result<PathBuf, ClientError> {
        let saved: Saved = self.request(Op::Save, &Empty {})?;
        Ok(PathBuf::from(saved.path))
    }

    /// Polls `PROCESS_INFO` every [`WAIT_POLL_INTERVAL`] until `done` holds for the record; returns it.
    /// Past `deadline`: [`ClientError::Timeout`] naming the last status seen.
    pub fn wait_for(
        &mut self,
        name: &str,
        mut done: impl FnMut(&ProcessRecord) -> bool,
        deadline: Instant,
    ) -> Result<ProcessRecord, ClientError> {
        let began = Instant::now();
        loop {
            let record = self.info(name)?;
            if done(&record) {
                return Ok(record);
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout {
                    what: format!("waiting for {name} (still {})", record.status),
                    after: began.elapsed(),
                });
            }
            std::thread::sleep(WAIT_POLL_INTERVAL);
        }
    }

    /// Polls `PROCESS_INFO` until the daemon no longer knows `name` (after a delete).
    pub fn wait_gone(&mut self, name: &str, deadline: Instant) -> Result<(), ClientError> {
        let began = Instant::now();
        loop {
            let record = match self.info(name) {
                Err(ClientError::Remote { code: ErrorCode::NotFound, .. }) => return Ok(()),
                other => other?,
            };
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout {
                    what: format!("waiting for {name} to be deleted (still {})", record.status),
                    after: began.elapsed(),
                });
            }
            std::thread::sleep(WAIT_POLL_INTERVAL);
        }
    }

    // ---- the wire ---------------------------------------------------------------------------------------

    /// One request, one reply, data deserialized into `T`.
    pub fn request<A, T>(&mut self, op: Op, args: &A) -> Result<T, ClientError>
    where
        A: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let id = self.send(op, args)?;
        let reply = self.read_reply(id)?;
        data_or_remote(reply)
    }

    fn next_id(&mut self) -> u32 {
        // 0 is reserved for replies to undecodable frames.
        self.id_last = self.id_last.checked_add(1).unwrap_or(1);
        self.id_last
    }

    fn send<A: Serialize + ?Sized>(&mut self, op: Op, args: &A) -> Result<u32, ClientError> {
        let id = self.next_id();
        let frame = encode_request(id, op, args)?;
        self.write_all(&frame)?;
        Ok(id)
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.stream.write_all(bytes).map_err(|error| {
            if is_timeout(&error) {
                ClientError::Timeout { what: "sending a request to the daemon".into(), after: self.timeout }
            } else {
                // A daemon that refused this connection said why before closing it.
                refusal::read_reason(&mut self.stream, &mut self.decoder)
                    .unwrap_or_else(|| ClientError::io("could not send a request to the daemon", error))
            }
        })
    }

    /// The next reply, which must answer request `id` (replies come in request order). A `bad_frame` error
    /// with id 0 is passed on as the daemon's error.
    fn read_reply(&mut self, id: u32) -> Result<Reply, ClientError> {
        let reply = self.read_any_reply()?;
        if let Some(refused) = refusal::as_refusal(&reply) {
            return Err(refused);
        }
        if reply.id == id || (reply.id == 0 && matches!(reply.body, ReplyBody::Error { .. })) {
            Ok(reply)
        } else {
            Err(ClientError::protocol(format!("expected the reply to request {id}, got one to {}", reply.id)))
        }
    }

    fn read_any_reply(&mut self) -> Result<Reply, ClientError> {
        loop {
            if let Some(payload) = self.decoder.next_frame().map_err(velos_core::ProtocolError::from)? {
                return Ok(Reply::decode(&payload)?);
            }
            let count = match self.stream.read(&mut self.read_buffer) {
                Ok(0) => {
                    return Err(ClientError::io(
                        "reading the daemon's reply",
                        std::io::Error::new(ErrorKind::UnexpectedEof, "the daemon closed the connection"),
                    ))
                }
                Ok(count) => count,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) if is_timeout(&error) => {
                    return Err(ClientError::Timeout {
                        what: "waiting for the daemon's reply".into(),
                        after: self.timeout,
                    })
                }
                Err(error) => return Err(ClientError::io("reading the daemon's reply", error)),
            };
            self.decoder.push(&self.read_buffer[..count]);
        }
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn data_or_remote<T: DeserializeOwned>(reply: Reply) -> Result<T, ClientError> {
    match reply.body {
        ReplyBody::Data(bytes) => Ok(data_as(&bytes)?),
        ReplyBody::Error { code, message } => Err(ClientError::Remote { code, message }),
        ReplyBody::End => Err(ClientError::protocol("an end-of-stream reply where data was expected")),
    }
}

/// The chunks of a `LOG_STREAM`, in order, until the stream ends.
#[derive(Debug)]
pub struct LogStream {
    client: Client,
    id: u32,
    ended: bool,
}

impl LogStream {
    /// A handle that ends this stream from another thread: a blocked read returns, and the iterator ends.
    pub fn stopper(&self) -> Result<StreamStopper, ClientError> {
        let stream = self
            .client
            .stream
            .try_clone()
            .map_err(|error| ClientError::io("could not share the log stream's socket", error))?;
        Ok(StreamStopper { stream })
    }
}

/// Ends a [`LogStream`] (see [`LogStream::stopper`]), closing its connection to the daemon.
#[derive(Debug)]
pub struct StreamStopper {
    stream: UnixStream,
}

impl StreamStopper {
    pub fn stop(&self) {
        // Already closed is as good as closed.
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

impl Iterator for LogStream {
    type Item = Result<Vec<u8>, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let reply = match self.client.read_reply(self.id) {
            Ok(reply) => reply,
            Err(error) => {
                self.ended = true;
                return Some(Err(error));
            }
        };
        match reply.body {
            ReplyBody::End => {
                self.ended = true;
                None
            }
            ReplyBody::Data(value) => {
                Some(data_as::<LogData>(&value).map(|data| data.data).map_err(Into::into))
            }
            ReplyBody::Error { code, message } => {
                self.ended = true;
                Some(Err(ClientError::Remote { code, message }))
            }
        }
    }
}
