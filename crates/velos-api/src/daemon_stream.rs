//! The daemon's streams (LOG_STREAM), read asynchronously with velos-core's pure codec.
//!
//! A follow lives as long as a WebSocket client; the blocking client would park one thread per follower
//! in a read without a timeout, and a client that leaves would leave that thread until the app next
//! writes. On tokio the follow is a future: dropping it closes the daemon connection at once.
use std::path::Path;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use velos_core::{data_as, encode_request, FrameDecoder, LogArgs, LogData, Op, ReplyBody, Stream};

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the velos daemon is not running")]
    NotRunning,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Protocol(#[from] velos_core::ProtocolError),
    #[error("{message}")]
    Remote { code: velos_core::ErrorCode, message: String },
}

impl From<velos_core::FrameError> for StreamError {
    fn from(error: velos_core::FrameError) -> StreamError {
        StreamError::Protocol(error.into())
    }
}

/// One `LOG_STREAM` of one app's stream.
pub struct LogFollow {
    socket: tokio::net::UnixStream,
    decoder: FrameDecoder,
    buffer: Vec<u8>,
    ended: bool,
}

const REQUEST_ID: u32 = 1;

impl LogFollow {
    /// Asks the daemon of `home` for the last `lines` lines of `name`'s `stream`, then each new chunk.
    pub async fn open(home: &Path, name: &str, stream: Stream, lines: u32) -> Result<LogFollow, StreamError> {
        let path = home.join(velos_client::SOCKET_FILE);
        let mut socket = match tokio::net::UnixStream::connect(&path).await {
            Ok(socket) => socket,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Err(StreamError::NotRunning)
            }
            Err(error) => return Err(error.into()),
        };
        let request = encode_request(REQUEST_ID, Op::LogStream, &LogArgs { name, stream, lines })?;
        socket.write_all(&request).await?;
        Ok(LogFollow { socket, decoder: FrameDecoder::new(), buffer: vec![0; 64 * 1024], ended: false })
    }

    /// The next chunk; `None` when the stream ended (the app was deleted, the daemon stopped).
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, StreamError>> {
        if self.ended {
            return None;
        }
        let result = self.read_chunk().await;
        if !matches!(result, Some(Ok(_))) {
            self.ended = true;
        }
        result
    }

    async fn read_chunk(&mut self) -> Option<Result<Vec<u8>, StreamError>> {
        loop {
            match self.decoder.next_frame() {
                Err(error) => return Some(Err(error.into())),
                Ok(Some(payload)) => {
                    let reply = match velos_core::Reply::decode(&payload) {
                        Ok(reply) => reply,
                        Err(error) => return Some(Err(error.into())),
                    };
                    return match reply.body {
                        ReplyBody::End => None,
                        ReplyBody::Data(bytes) => {
                            Some(data_as::<LogData>(&bytes).map(|data| data.data).map_err(Into::into))
                        }
                        ReplyBody::Error { code, message } => {
                            Some(Err(StreamError::Remote { code, message }))
                        }
                    };
                }
                Ok(None) => {}
            }
            match self.socket.read(&mut self.buffer).await {
                Ok(0) => return None,
                Ok(count) => self.decoder.push(&self.buffer[..count]),
                Err(error) => return Some(Err(error.into())),
            }
        }
    }
}

/// One `LIST`, asynchronously (the events stream polls it).
pub async fn list(home: &Path) -> Result<Vec<velos_core::ProcessRecord>, StreamError> {
    let path = home.join(velos_client::SOCKET_FILE);
    let mut socket = match tokio::net::UnixStream::connect(&path).await {
        Ok(socket) => socket,
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(StreamError::NotRunning)
        }
        Err(error) => return Err(error.into()),
    };
    socket.write_all(&encode_request(REQUEST_ID, Op::ProcessList, &velos_core::Empty {})?).await?;
    let mut decoder = FrameDecoder::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        if let Some(payload) = decoder.next_frame()? {
            return match velos_core::Reply::decode(&payload)?.body {
                ReplyBody::Data(bytes) => Ok(data_as(&bytes)?),
                ReplyBody::Error { code, message } => Err(StreamError::Remote { code, message }),
                ReplyBody::End => Ok(vec![]),
            };
        }
        let count = socket.read(&mut buffer).await?;
        if count == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        decoder.push(&buffer[..count]);
    }
}
