//! Typed messages of docs/PROTOCOL.md, one concern per file, all re-exported here so the daemon names them
//! `protocol.X`. Pure: byte slices and growing buffers only.
//!   spec.zig          domain types: op codes, words, limits (the range of every number), Spec, Record, Ping
//!   request.zig       requests in: parseRequest and the validated Args
//!   reply.zig         replies out: the frame writers and the encoders of records, specs and PING
//!   state_codec.zig   the state file: encodeState, decodeState
const spec_module = @import("spec.zig");
const request_module = @import("request.zig");
const reply_module = @import("reply.zig");
const state_module = @import("state_codec.zig");

pub const Op = spec_module.Op;
pub const RestartPolicy = spec_module.RestartPolicy;
pub const LogFormat = spec_module.LogFormat;
pub const Status = spec_module.Status;
pub const Stream = spec_module.Stream;
pub const Label = spec_module.Label;
pub const name_bytes_max = spec_module.name_bytes_max;
pub const string_bytes_max = spec_module.string_bytes_max;
pub const args_count_max = spec_module.args_count_max;
pub const env_count_max = spec_module.env_count_max;
pub const labels_count_max = spec_module.labels_count_max;
pub const lines_max = spec_module.lines_max;
pub const Limit = spec_module.Limit;
pub const limits = spec_module.limits;
pub const max_restarts_max = spec_module.max_restarts_max;
pub const log_max_files_default = spec_module.log_max_files_default;
pub const log_max_size_bytes_default = spec_module.log_max_size_bytes_default;
pub const log_max_files_max = spec_module.log_max_files_max;
pub const kill_signal_max = spec_module.kill_signal_max;
pub const error_codes = spec_module.error_codes;
pub const Spec = spec_module.Spec;
pub const isValidName = spec_module.isValidName;
pub const Record = spec_module.Record;
pub const Ping = spec_module.Ping;
pub const StartArgs = request_module.StartArgs;
pub const RestartArgs = request_module.RestartArgs;
pub const LogArgs = request_module.LogArgs;
pub const Args = request_module.Args;
pub const Request = request_module.Request;
pub const BadRequest = request_module.BadRequest;
pub const Parsed = request_module.Parsed;
pub const parseRequest = request_module.parseRequest;
pub const Reply = reply_module.Reply;
pub const beginOk = reply_module.beginOk;
pub const writeOk = reply_module.writeOk;
pub const writeError = reply_module.writeError;
pub const isErrorCode = reply_module.isErrorCode;
pub const writeEnd = reply_module.writeEnd;
pub const writeRecord = reply_module.writeRecord;
pub const writeRecords = reply_module.writeRecords;
pub const encodeRecords = reply_module.encodeRecords;
pub const writePing = reply_module.writePing;
pub const writeLogData = reply_module.writeLogData;
pub const writeName = reply_module.writeName;
pub const writePath = reply_module.writePath;
pub const writeEmpty = reply_module.writeEmpty;
pub const encodeRecord = reply_module.encodeRecord;
pub const encodeSpec = reply_module.encodeSpec;
pub const encodePing = reply_module.encodePing;
pub const encodePingData = reply_module.encodePingData;
pub const state_version = state_module.state_version;
pub const SavedApp = state_module.SavedApp;
pub const Outcome = state_module.Outcome;
pub const StateError = state_module.StateError;
pub const StateDiagnostic = state_module.StateDiagnostic;
pub const encodeState = state_module.encodeState;
pub const decodeState = state_module.decodeState;
pub const decodeStateDiagnosed = state_module.decodeStateDiagnosed;

test {
    _ = spec_module;
    _ = request_module;
    _ = reply_module;
    _ = state_module;
}
