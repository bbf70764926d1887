//! Requests and replies (docs/PROTOCOL.md "Request", "Reply", "Op codes").
use crate::frame::{encode_frame, FrameError};
use crate::msgpack::{Cursor, MsgpackError};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Op codes. Never reused; new ones are appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Op {
    ProcessStart = 0x01,
    ProcessStop = 0x02,
    ProcessRestart = 0x03,
    ProcessDelete = 0x04,
    ProcessList = 0x05,
    ProcessInfo = 0x06,
    LogRead = 0x10,
    LogStream = 0x11,
    /// Reserved.
    MetricsGet = 0x20,
    /// Reserved.
    Events = 0x21,
    Ping = 0x30,
    Shutdown = 0x31,
    Save = 0x40,
}

impl Op {
    pub const ALL: [Op; 13] = [
        Op::ProcessStart,
        Op::ProcessStop,
        Op::ProcessRestart,
        Op::ProcessDelete,
        Op::ProcessList,
        Op::ProcessInfo,
        Op::LogRead,
        Op::LogStream,
        Op::MetricsGet,
        Op::Events,
        Op::Ping,
        Op::Shutdown,
        Op::Save,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.code() == code)
    }

    /// The name used in PROTOCOL.md (`PROCESS_START`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Op::ProcessStart => "PROCESS_START",
            Op::ProcessStop => "PROCESS_STOP",
            Op::ProcessRestart => "PROCESS_RESTART",
            Op::ProcessDelete => "PROCESS_DELETE",
            Op::ProcessList => "PROCESS_LIST",
            Op::ProcessInfo => "PROCESS_INFO",
            Op::LogRead => "LOG_READ",
            Op::LogStream => "LOG_STREAM",
            Op::MetricsGet => "METRICS_GET",
            Op::Events => "EVENTS",
            Op::Ping => "PING",
            Op::Shutdown => "SHUTDOWN",
            Op::Save => "SAVE",
        }
    }
}

/// The `code` of an error reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The frame or its payload could not be decoded; the connection is closed.
    BadFrame,
    /// Unknown op, a missing or mistyped argument.
    BadRequest,
    /// No app with that name.
    NotFound,
    /// START with a different spec for an existing name, without `replace`.
    Exists,
    /// `expected_hash` does not match the record's `spec_hash`.
    Conflict,
    /// The program could not be executed; the record is kept, `errored`.
    SpawnFailed,
    /// A limit was reached (apps, clients, frame size).
    Limit,
    /// The daemon is stopping and takes no new work.
    ShuttingDown,
    /// A bug or an unexpected system error.
    Internal,
    /// A code this client does not know (a newer daemon).
    Other(String),
}

impl ErrorCode {
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Exists => "exists",
            ErrorCode::Conflict => "conflict",
            ErrorCode::SpawnFailed => "spawn_failed",
            ErrorCode::Limit => "limit",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::Internal => "internal",
            ErrorCode::Other(code) => code,
        }
    }

    pub fn parse(code: &str) -> ErrorCode {
        match code {
            "bad_frame" => ErrorCode::BadFrame,
            "bad_request" => ErrorCode::BadRequest,
            "not_found" => ErrorCode::NotFound,
            "exists" => ErrorCode::Exists,
            "conflict" => ErrorCode::Conflict,
            "spawn_failed" => ErrorCode::SpawnFailed,
            "limit" => ErrorCode::Limit,
            "shutting_down" => ErrorCode::ShuttingDown,
            "internal" => ErrorCode::Internal,
            other => ErrorCode::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A message could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("could not encode the request: {0}")]
    Encode(#[source] rmp_serde::encode::Error),
    #[error("the reply is not valid MessagePack: {0}")]
    Decode(#[from] MsgpackError),
    #[error("{0} trailing bytes after the reply's MessagePack value")]
    TrailingBytes(usize),
    #[error("malformed reply: {0}")]
    Malformed(String),
    #[error("unexpected reply data: {0}")]
    Data(#[source] rmp_serde::decode::Error),
}

#[derive(Serialize)]
struct Request<'a, A: ?Sized> {
    id: u32,
    op: u8,
    args: &'a A,
}

/// A whole request frame: header + `{id, op, args}` with map keys by name, in that order.
pub fn encode_request<A: Serialize + ?Sized>(id: u32, op: Op, args: &A) -> Result<Vec<u8>, ProtocolError> {
    let payload =
        rmp_serde::to_vec_named(&Request { id, op: op.code(), args }).map_err(ProtocolError::Encode)?;
    Ok(encode_frame(&payload)?)
}

/// MessagePack `nil`: the data of a success reply without a `data` key.
const NIL: u8 = 0xc0;

/// What a reply says.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    /// `ok: true`: the MessagePack bytes of `data` (`nil` when absent), for [`data_as`] to deserialize
    /// straight into the type the caller expects.
    Data(Vec<u8>),
    /// `ok: false`.
    Error { code: ErrorCode, message: String },
    /// `ok: true, end: true`: the stream with this id is over.
    End,
}

/// One decoded reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The request's id; 0 for a reply to a frame that could not be decoded.
    pub id: u32,
    pub body: ReplyBody,
}

impl Reply {
    /// Decodes a reply payload `{id, ok, data?, error?: {code, message}, end?}`. Unknown keys are skipped,
    /// keys may come in any order, integers in any width.
    pub fn decode(payload: &[u8]) -> Result<Reply, ProtocolError> {
        let mut cursor = Cursor::new(payload);
        let entries = cursor.map_len()?;
        let mut id = None;
        let mut ok = None;
        let mut data: Option<&[u8]> = None;
        let mut error = None;
        let mut end = false;
        for _ in 0..entries {
            match cursor.str()? {
                "id" => {
                    let value = cursor.uint()?;
                    id = Some(
                        u32::try_from(value).map_err(|_| malformed(format!("id {value} is not a u32")))?,
                    );
                }
                "ok" => ok = Some(cursor.bool()?),
                "data" => data = Some(cursor.raw_value()?),
                "error" => error = Some(decode_error(&mut cursor)?),
                "end" => end = cursor.bool()?,
                _ => cursor.skip()?,
            }
        }
        if cursor.remaining() > 0 {
            return Err(ProtocolError::TrailingBytes(cursor.remaining()));
        }
        let id = id.ok_or_else(|| malformed("missing key \"id\""))?;
        let ok = ok.ok_or_else(|| malformed("missing key \"ok\""))?;
        let body = match (ok, end) {
            (true, true) => ReplyBody::End,
            (true, false) => ReplyBody::Data(data.unwrap_or(&[NIL]).to_vec()),
            (false, _) => {
                let (code, message) = error.ok_or_else(|| malformed("ok is false but there is no error"))?;
                ReplyBody::Error { code, message }
            }
        };
        Ok(Reply { id, body })
    }

    /// The data of a successful reply as `T`; an error reply becomes `Ok(Err((code, message)))`.
    pub fn into_data<T: DeserializeOwned>(self) -> Result<Result<T, (ErrorCode, String)>, ProtocolError> {
        match self.body {
            ReplyBody::Data(bytes) => Ok(Ok(data_as(&bytes)?)),
            ReplyBody::Error { code, message } => Ok(Err((code, message))),
            ReplyBody::End => Err(malformed("end of stream where data was expected")),
        }
    }
}

/// Deserializes reply data (any integer width, float32 or float64, unknown keys ignored) into `T`.
pub fn data_as<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    rmp_serde::from_slice(bytes).map_err(ProtocolError::Data)
}

fn malformed(message: impl Into<String>) -> ProtocolError {
    ProtocolError::Malformed(message.into())
}

/// `{code, message}`; unknown keys skipped, a missing message is empty.
fn decode_error(cursor: &mut Cursor<'_>) -> Result<(ErrorCode, String), ProtocolError> {
    let entries = cursor.map_len()?;
    let mut code = None;
    let mut message = String::new();
    for _ in 0..entries {
        match cursor.str()? {
            "code" => code = Some(ErrorCode::parse(cursor.str()?)),
            "message" => message = cursor.str()?.to_string(),
            _ => cursor.skip()?,
        }
    }
    Ok((code.ok_or_else(|| malformed("error without a code"))?, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Empty, NameArgs, ProcessRecord, Status};

    #[test]
    fn op_codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for op in Op::ALL {
            assert_eq!(Op::from_code(op.code()), Some(op));
            assert!(seen.insert(op.code()), "{} reuses a code", op.name());
        }
        assert_eq!(Op::from_code(0x07), None);
        assert_eq!(Op::Save.code(), 0x40);
    }

    #[test]
    fn error_codes_round_trip() {
        for code in ["bad_frame", "bad_request", "not_found", "exists", "conflict", "spawn_failed", "limit"] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
        }
        assert_eq!(ErrorCode::parse("shutting_down"), ErrorCode::ShuttingDown);
        assert_eq!(ErrorCode::parse("internal"), ErrorCode::Internal);
        assert_eq!(ErrorCode::parse("teapot"), ErrorCode::Other("teapot".into()));
    }

    #[test]
    fn ping_request_bytes() {
        let frame = encode_request(7, Op::Ping, &Empty {}).expect("encodes");
        let expected_payload = b"\x83\xa2id\x07\xa2op\x30\xa4args\x80";
        assert_eq!(&frame[..3], b"VE\x01");
        assert_eq!(
            u32::from_le_bytes([frame[3], frame[4], frame[5], frame[6]]) as usize,
            expected_payload.len()
        );
        assert_eq!(&frame[7..], expected_payload);
    }

    #[test]
    fn name_args_bytes() {
        let frame = encode_request(1, Op::ProcessInfo, &NameArgs { name: "web" }).expect("encodes");
        assert_eq!(&frame[7..], b"\x83\xa2id\x01\xa2op\x06\xa4args\x81\xa4name\xa3web");
    }

    fn encode_value(value: &rmpv::Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, value).expect("writes to a Vec");
        bytes
    }

    fn map(entries: Vec<(&str, rmpv::Value)>) -> rmpv::Value {
        rmpv::Value::Map(entries.into_iter().map(|(key, value)| (key.into(), value)).collect())
    }

    #[test]
    fn error_reply() {
        let payload = encode_value(&map(vec![
            ("id", 3.into()),
            ("ok", false.into()),
            ("error", map(vec![("code", "not_found".into()), ("message", "no app named \"x\"".into())])),
        ]));
        let reply = Reply::decode(&payload).expect("decodes");
        assert_eq!(reply.id, 3);
        assert_eq!(
            reply.body,
            ReplyBody::Error { code: ErrorCode::NotFound, message: "no app named \"x\"".into() }
        );
    }

    #[test]
    fn end_reply_and_unknown_keys() {
        let payload = encode_value(&map(vec![
            ("id", 9.into()),
            ("ok", true.into()),
            ("future", 1.into()),
            ("end", true.into()),
        ]));
        assert_eq!(Reply::decode(&payload).expect("decodes"), Reply { id: 9, body: ReplyBody::End });
    }

    #[test]
    fn record_with_narrow_integers_float32_and_nils() {
        let spec = map(vec![("name", "web".into()), ("command", "/bin/sleep".into()), ("cwd", "/".into())]);
        let record = map(vec![
            ("name", "web".into()),
            ("pid", rmpv::Value::from(1234u16)),
            ("status", "running".into()),
            ("restarts", 0.into()),
            ("cpu", rmpv::Value::F32(1.5)),
            ("memory", rmpv::Value::from(4096u64)),
            ("uptime_ms", 10.into()),
            ("exit_code", rmpv::Value::Nil),
            ("exit_signal", 9.into()),
            ("last_error", rmpv::Value::Nil),
            ("spec", spec),
            ("added_later", "ignored".into()),
        ]);
        let payload = encode_value(&map(vec![("id", 1.into()), ("ok", true.into()), ("data", record)]));
        let record: ProcessRecord =
            Reply::decode(&payload).expect("decodes").into_data().expect("data").expect("ok reply");
        assert_eq!(record.pid, 1234);
        assert_eq!(record.status, Status::Running);
        assert_eq!(record.cpu, 1.5);
        assert_eq!(record.exit_code, None);
        assert_eq!(record.exit_signal, Some(9));
        assert_eq!(record.spec.max_restarts, 10, "missing keys take their defaults");
        assert_eq!(record.spec.kill_signal, 15);
    }

    #[test]
    fn malformed_replies() {
        assert!(matches!(Reply::decode(b"\x90"), Err(ProtocolError::Decode(_))));
        assert!(matches!(Reply::decode(b"\x81\xa2ok\xc3"), Err(ProtocolError::Malformed(_))));
        assert!(matches!(Reply::decode(b"\x80\x80"), Err(ProtocolError::TrailingBytes(1))));
        assert!(matches!(Reply::decode(b"\x81\xa2id\xa5ab"), Err(ProtocolError::Decode(_))));
        assert!(matches!(
            Reply::decode(b"\x82\xa2id\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xa2ok\xc3"),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(Reply::decode(b""), Err(ProtocolError::Decode(_))));
    }
}
