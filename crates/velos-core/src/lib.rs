//! Shared types and the IPC protocol (docs/PROTOCOL.md). No IO: everything here works on values and byte
//! slices, so it can be tested byte for byte against the golden frames in `schemas/ipc/`.
mod frame;
pub mod limits;
mod msgpack;
mod protocol;
mod record;
mod spec;

pub use frame::{
    decode_header, encode_frame, FrameDecoder, FrameError, FRAME_BYTES_MAX, HEADER_LEN, MAGIC,
    PROTOCOL_VERSION,
};
pub use msgpack::MsgpackError;
pub use protocol::{data_as, encode_request, ErrorCode, Op, ProtocolError, Reply, ReplyBody};
pub use record::{
    Deleted, Empty, LogArgs, LogData, NameArgs, PingInfo, ProcessRecord, RestartArgs, Saved, Status, Stream,
};
pub use spec::{
    validate_name, AppSpec, LogFormat, NameError, RestartPolicy, StartSpec, BACKOFF_INITIAL_MS_DEFAULT,
    BACKOFF_MAX_MS_DEFAULT, KILL_SIGNAL_DEFAULT, KILL_TIMEOUT_MS_DEFAULT, LOG_MAX_FILES_DEFAULT,
    LOG_MAX_SIZE_BYTES_DEFAULT, MAX_RESTARTS_DEFAULT, MIN_UPTIME_MS_DEFAULT, NAME_LENGTH_MAX,
    RESTART_WINDOW_MS_DEFAULT,
};
