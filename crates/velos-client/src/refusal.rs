//! A connection the daemon refused (`clients_max`, idle, too many unfinished frames): it sends one `limit`
//! error with id 0, then closes. A client that was writing at that moment sees EPIPE or ECONNRESET, not the
//! reason; the reason is still in its receive buffer, and this reads it.
use crate::ClientError;
use std::io::{ErrorKind, Read};
use std::os::unix::net::UnixStream;
use std::time::Duration;
use velos_core::{ErrorCode, FrameDecoder, Reply, ReplyBody};

/// How long to wait for the daemon's reason once writing failed (it was sent before the close).
const REASON_WAIT: Duration = Duration::from_millis(200);

/// The daemon's reason for closing `stream`, if it sent one.
pub(crate) fn read_reason(stream: &mut UnixStream, decoder: &mut FrameDecoder) -> Option<ClientError> {
    stream.set_read_timeout(Some(REASON_WAIT)).ok()?;
    let mut buffer = [0u8; 4096];
    loop {
        if let Ok(Some(payload)) = decoder.next_frame() {
            let reply = Reply::decode(&payload).ok()?;
            return as_refusal(&reply);
        }
        match stream.read(&mut buffer) {
            Ok(0) => return None,
            Ok(count) => decoder.push(&buffer[..count]),
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// A `limit` error with id 0 is about the connection, not a request: [`ClientError::Refused`].
pub(crate) fn as_refusal(reply: &Reply) -> Option<ClientError> {
    match &reply.body {
        ReplyBody::Error { code: ErrorCode::Limit, message } if reply.id == 0 => {
            Some(ClientError::Refused { message: message.clone() })
        }
        _ => None,
    }
}
