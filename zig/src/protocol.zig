//! Typed messages of docs/PROTOCOL.md: requests in, replies out, and the state file. Pure: byte slices and
//! growing buffers only.
//!
//! Requests
//!   `parseRequest(arena, payload) !Parsed` takes one frame's payload (after the 7-byte header):
//!     error.BadFrame       not msgpack, not a map, or no u32 `id`: reply `bad_frame` with id 0, close.
//!     .bad_request         the id is known but something else is wrong; `message` names the field
//!                          (e.g. `cwd: must be an absolute path`): reply `bad_request` with that id.
//!     .request             validated `Args`. Slices borrow from `payload` and `arena`: `Spec.clone` what
//!                          must outlive them.
//!
//! Replies: each `write*` appends one whole frame (header included) to `out`, or on error.OutOfMemory leaves
//! `out` as it was. Key order is PROTOCOL.md's.
//!   writeOk(out, a, id, writeData, context)   {id, ok: true, data: writeData(context, encoder)}
//!   beginOk(out, a, id) -> Reply              the same, step by step:
//!       const reply = try beginOk(&out, a, id);
//!       try encodeRecord(reply.encoder(), record);   // exactly one value: the data
//!       try reply.end();                             // or reply.cancel() to take the frame back
//!   writeRecord / writeRecords / writePing / writeLogData / writeName / writePath / writeEmpty
//!                                             the data of each op, ready-made
//!   writeError(out, a, id, code, message)     {id, ok: false, error: {code, message}}
//!   writeEnd(out, a, id)                      {id, ok: true, end: true}
//!   encodeRecord(enc, record), encodeSpec(enc, spec), encodePing(enc, pid, version, uptime_ms, apps)
//!                                             values only, to nest inside a reply
//! A reply whose payload would exceed `frame.frame_bytes_max` (a LIST of many huge specs) is replaced by a
//! `limit` error reply, since the client would refuse the frame anyway.
//!
//! State file ($VELOS_HOME/state.msgpack, plain msgpack without a frame header)
//!   encodeState(out, a, apps), decodeState(arena, bytes) / decodeStateDiagnosed(arena, bytes, &diagnostic).
//!   Specs in it are validated exactly like PROCESS_START's.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const msgpack = @import("msgpack.zig");
const frame = @import("frame.zig");
const Value = msgpack.Value;
const Encoder = msgpack.Encoder;

pub const Op = enum(u8) {
    process_start = 0x01,
    process_stop = 0x02,
    process_restart = 0x03,
    process_delete = 0x04,
    process_list = 0x05,
    process_info = 0x06,
    log_read = 0x10,
    log_stream = 0x11,
    metrics_get = 0x20,
    events = 0x21,
    ping = 0x30,
    shutdown = 0x31,
    save = 0x40,
    _,
};

pub const RestartPolicy = enum {
    always,
    on_failure,
    never,

    pub fn wireName(self: RestartPolicy) []const u8 {
        return switch (self) {
            .always => "always",
            .on_failure => "on-failure",
            .never => "never",
        };
    }

    pub fn fromWire(text: []const u8) ?RestartPolicy {
        inline for (comptime std.enums.values(RestartPolicy)) |policy| {
            if (std.mem.eql(u8, text, policy.wireName())) return policy;
        }
        return null;
    }
};

/// On the wire: the tag names themselves.
pub const Status = enum {
    starting,
    running,
    stopping,
    stopped,
    waiting,
    errored,
    /// The main process exited and the restart policy says it stays down (`never`, or `on-failure` with
    /// exit code 0): a job that ran. Kept across daemon restarts.
    completed,

    pub fn wireName(self: Status) []const u8 {
        return @tagName(self);
    }
};

/// On the wire: "out" and "err".
pub const Stream = enum {
    out,
    err,

    pub fn wireName(self: Stream) []const u8 {
        return @tagName(self);
    }
};

pub const Label = struct { key: []const u8, value: []const u8 };

// Limits on what a client may send. PROTOCOL.md fixes the name rule; the counts and sizes are ours, chosen
// so one request costs at most a few MiB to hold while no real app spec comes near them.
pub const name_bytes_max = 64;
pub const string_bytes_max = 4096;
pub const args_count_max = 256;
pub const env_count_max = 1024;
pub const labels_count_max = 64;
pub const lines_max: u32 = 100_000;
pub const max_restarts_max: u32 = 1000;
pub const log_max_files_default: u32 = 5;
/// Rotated log files kept per stream: every rotation renames each of them once.
pub const log_max_files_max: u32 = 1000;
pub const kill_signal_max: u8 = 64;

/// The error codes of PROTOCOL.md, the only ones `writeError` accepts.
pub const error_codes = [_][]const u8{
    "bad_frame",    "bad_request", "not_found",     "exists",   "conflict",
    "spawn_failed", "limit",       "shutting_down", "internal",
};

pub const Spec = struct {
    name: []const u8,
    command: []const u8,
    args: []const []const u8 = &.{},
    cwd: []const u8,
    env: []const []const u8 = &.{},
    restart: RestartPolicy = .on_failure,
    max_restarts: u32 = 10,
    restart_window_ms: u64 = 60_000,
    backoff_initial_ms: u64 = 100,
    backoff_max_ms: u64 = 5_000,
    min_uptime_ms: u64 = 1_000,
    kill_signal: u8 = 15,
    kill_timeout_ms: u64 = 5_000,
    spec_hash: []const u8 = "",
    /// Sorted by key, keys unique (parsing sorts them).
    labels: []const Label = &.{},
    // In-place keys: changing them alone updates the record without a restart (see `eqlRestartRelevant`).
    // Encoders omit each one while it has its default.
    /// Resident bytes of the main process above which the daemon restarts it; 0 = no limit.
    max_memory_bytes: u64 = 0,
    /// A log file that grows past this is rotated; 0 = never rotate.
    log_max_size_bytes: u64 = 0,
    /// Rotated files kept: NAME-out.log.1 (newest) … NAME-out.log.N.
    log_max_files: u32 = log_max_files_default,
    /// Each line written to the log file starts with an RFC 3339 UTC timestamp and a space.
    log_timestamps: bool = false,

    /// A deep copy: every slice is owned by `allocator`; free it with `deinit`.
    pub fn clone(self: Spec, allocator: Allocator) error{OutOfMemory}!Spec {
        var copy = self;
        // Empty slices until each copy is made, so `deinit` frees exactly what was allocated.
        copy.name = "";
        copy.command = "";
        copy.args = &.{};
        copy.cwd = "";
        copy.env = &.{};
        copy.spec_hash = "";
        copy.labels = &.{};
        errdefer copy.deinit(allocator);
        copy.name = try allocator.dupe(u8, self.name);
        copy.command = try allocator.dupe(u8, self.command);
        copy.cwd = try allocator.dupe(u8, self.cwd);
        copy.spec_hash = try allocator.dupe(u8, self.spec_hash);
        {
            const args = try allocator.alloc([]const u8, self.args.len);
            @memset(args, "");
            copy.args = args;
            for (args, self.args) |*arg, source| arg.* = try allocator.dupe(u8, source);
        }
        {
            const env = try allocator.alloc([]const u8, self.env.len);
            @memset(env, "");
            copy.env = env;
            for (env, self.env) |*entry, source| entry.* = try allocator.dupe(u8, source);
        }
        {
            const labels = try allocator.alloc(Label, self.labels.len);
            @memset(labels, .{ .key = "", .value = "" });
            copy.labels = labels;
            for (labels, self.labels) |*label, source| {
                label.key = try allocator.dupe(u8, source.key);
                label.value = try allocator.dupe(u8, source.value);
            }
        }
        return copy;
    }

    /// Frees what `clone` allocated. Only for a Spec made by `clone`.
    pub fn deinit(self: *Spec, allocator: Allocator) void {
        allocator.free(self.name);
        allocator.free(self.command);
        allocator.free(self.cwd);
        allocator.free(self.spec_hash);
        for (self.args) |arg| allocator.free(arg);
        allocator.free(self.args);
        for (self.env) |entry| allocator.free(entry);
        allocator.free(self.env);
        for (self.labels) |label| {
            allocator.free(label.key);
            allocator.free(label.value);
        }
        allocator.free(self.labels);
        self.* = undefined;
    }

    /// Every field equal: the test that makes PROCESS_START idempotent.
    pub fn eql(a: Spec, b: Spec) bool {
        if (!a.eqlRestartRelevant(b)) return false;
        if (a.labels.len != b.labels.len) return false;
        for (a.labels, b.labels) |x, y| {
            if (!std.mem.eql(u8, x.key, y.key) or !std.mem.eql(u8, x.value, y.value)) return false;
        }
        if (a.max_memory_bytes != b.max_memory_bytes) return false;
        if (a.log_max_size_bytes != b.log_max_size_bytes) return false;
        if (a.log_max_files != b.log_max_files) return false;
        if (a.log_timestamps != b.log_timestamps) return false;
        return true;
    }

    /// Equal in every field a running process depends on: all but `labels` and the in-place keys
    /// (`max_memory_bytes`, `log_max_size_bytes`, `log_max_files`, `log_timestamps`). Two specs equal here
    /// but not in `eql` differ only in what PROCESS_START updates in place, without a restart.
    pub fn eqlRestartRelevant(a: Spec, b: Spec) bool {
        const eqlStr = std.mem.eql;
        if (!eqlStr(u8, a.name, b.name)) return false;
        if (!eqlStr(u8, a.command, b.command)) return false;
        if (!eqlStrings(a.args, b.args)) return false;
        if (!eqlStr(u8, a.cwd, b.cwd)) return false;
        if (!eqlStrings(a.env, b.env)) return false;
        if (a.restart != b.restart) return false;
        if (a.max_restarts != b.max_restarts) return false;
        if (a.restart_window_ms != b.restart_window_ms) return false;
        if (a.backoff_initial_ms != b.backoff_initial_ms) return false;
        if (a.backoff_max_ms != b.backoff_max_ms) return false;
        if (a.min_uptime_ms != b.min_uptime_ms) return false;
        if (a.kill_signal != b.kill_signal) return false;
        if (a.kill_timeout_ms != b.kill_timeout_ms) return false;
        if (!eqlStr(u8, a.spec_hash, b.spec_hash)) return false;
        return true;
    }

    fn eqlStrings(a: []const []const u8, b: []const []const u8) bool {
        if (a.len != b.len) return false;
        for (a, b) |x, y| if (!std.mem.eql(u8, x, y)) return false;
        return true;
    }
};

/// PROCESS_START. `spec` is null for `{name}` alone (start an existing app): that is the case when the args
/// hold no spec key besides `name`, `expected_hash`, `replace` and `autostart`. `autostart = false`
/// registers or updates the record without starting a process.
pub const StartArgs = struct {
    name: []const u8,
    spec: ?Spec,
    expected_hash: ?[]const u8,
    replace: bool,
    autostart: bool = true,
};
pub const RestartArgs = struct { name: []const u8, expected_hash: ?[]const u8 };
pub const LogArgs = struct { name: []const u8, stream: Stream, lines: u32 };

pub const Args = union(enum) {
    start: StartArgs,
    stop: []const u8,
    restart: RestartArgs,
    delete: []const u8,
    list,
    info: []const u8,
    log_read: LogArgs,
    log_stream: LogArgs,
    ping,
    shutdown,
    save,
};

pub const Request = struct { id: u32, args: Args };
pub const BadRequest = struct { id: u32, message: []const u8 };
pub const Parsed = union(enum) { request: Request, bad_request: BadRequest };

/// `[A-Za-z0-9._-]{1,64}`, not starting with `.` (names become log file names: no `/`, no `..`, no hidden
/// files).
pub fn isValidName(name: []const u8) bool {
    if (name.len == 0 or name.len > name_bytes_max) return false;
    if (name[0] == '.') return false;
    for (name) |c| switch (c) {
        'A'...'Z', 'a'...'z', '0'...'9', '.', '_', '-' => {},
        else => return false,
    };
    return true;
}

/// See the file comment. `arena` holds the decoded tree and the messages; free it after the reply.
pub fn parseRequest(arena: Allocator, payload: []const u8) error{ BadFrame, OutOfMemory }!Parsed {
    const root = msgpack.decode(arena, payload) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        error.Truncated, error.InvalidType, error.TooDeep, error.TrailingBytes => return error.BadFrame,
    };
    if (root != .map) return error.BadFrame;
    const id_value = root.mapGet("id") orelse return error.BadFrame;
    const id = std.math.cast(u32, id_value.asU64() orelse return error.BadFrame) orelse return error.BadFrame;

    var diagnostic: Diagnostic = .{};
    const fields: Fields = .{ .arena = arena, .map = root, .diagnostic = &diagnostic };
    const args = parseArgs(fields) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        error.Invalid => return .{ .bad_request = .{ .id = id, .message = diagnostic.message } },
    };
    return .{ .request = .{ .id = id, .args = args } };
}

const Invalid = error{ Invalid, OutOfMemory };

const Diagnostic = struct {
    message: []const u8 = "",
};

/// Typed, validated access to the keys of one map, reporting the first problem into `diagnostic` as
/// `<prefix><key>: <what is wrong>`. A nil value counts as absent (an encoder may write None as nil).
const Fields = struct {
    arena: Allocator,
    map: Value,
    diagnostic: *Diagnostic,
    /// Where this map sits, for messages: "" for a request's top level, "apps[2].spec." in the state file.
    prefix: []const u8 = "",

    fn fail(self: Fields, key: []const u8, comptime format: []const u8, args: anytype) Invalid {
        self.diagnostic.message = std.fmt.allocPrint(self.arena, "{s}{s}: " ++ format, .{ self.prefix, key } ++ args) catch
            return error.OutOfMemory;
        return error.Invalid;
    }

    fn get(self: Fields, key: []const u8) ?Value {
        const value = self.map.mapGet(key) orelse return null;
        return if (value == .nil) null else value;
    }

    fn has(self: Fields, key: []const u8) bool {
        return self.get(key) != null;
    }

    fn required(self: Fields, key: []const u8) Invalid!Value {
        return self.get(key) orelse self.fail(key, "required", .{});
    }

    fn nested(self: Fields, key: []const u8) Invalid!Fields {
        const value = try self.required(key);
        if (value != .map) return self.fail(key, "expected a map", .{});
        return .{
            .arena = self.arena,
            .map = value,
            .diagnostic = self.diagnostic,
            .prefix = try std.fmt.allocPrint(self.arena, "{s}{s}.", .{ self.prefix, key }),
        };
    }

    /// A string of at most `string_bytes_max` bytes, without NUL (strings become C strings for exec).
    fn checkString(self: Fields, key: []const u8, value: Value) Invalid![]const u8 {
        const text = value.asStr() orelse return self.fail(key, "expected a string", .{});
        if (text.len > string_bytes_max) return self.fail(key, "longer than {d} bytes", .{string_bytes_max});
        if (std.mem.indexOfScalar(u8, text, 0) != null) return self.fail(key, "contains a NUL byte", .{});
        return text;
    }

    fn string(self: Fields, key: []const u8) Invalid!?[]const u8 {
        const value = self.get(key) orelse return null;
        return try self.checkString(key, value);
    }

    fn requiredString(self: Fields, key: []const u8) Invalid![]const u8 {
        return self.checkString(key, try self.required(key));
    }

    fn name(self: Fields) Invalid![]const u8 {
        const text = try self.requiredString("name");
        if (!isValidName(text)) {
            return self.fail("name", "\"{s}\" is not 1-64 of A-Z a-z 0-9 . _ - not starting with '.'", .{
                text[0..@min(text.len, name_bytes_max + 1)],
            });
        }
        return text;
    }

    fn unsigned(self: Fields, comptime T: type, key: []const u8, max: T) Invalid!?T {
        const value = self.get(key) orelse return null;
        const number = value.asU64() orelse return self.fail(key, "expected an unsigned integer", .{});
        if (number > max) return self.fail(key, "must be at most {d}", .{max});
        return @intCast(number);
    }

    fn boolean(self: Fields, key: []const u8) Invalid!?bool {
        const value = self.get(key) orelse return null;
        return value.asBool() orelse self.fail(key, "expected true or false", .{});
    }

    fn stringArray(self: Fields, key: []const u8, count_max: usize) Invalid!?[]const []const u8 {
        const value = self.get(key) orelse return null;
        const items = value.asArray() orelse return self.fail(key, "expected an array of strings", .{});
        if (items.len > count_max) return self.fail(key, "more than {d} entries", .{count_max});
        const strings = try self.arena.alloc([]const u8, items.len);
        for (strings, items, 0..) |*text, item, index| {
            const item_key = try std.fmt.allocPrint(self.arena, "{s}[{d}]", .{ key, index });
            text.* = try self.checkString(item_key, item);
        }
        return strings;
    }
};

fn parseArgs(request: Fields) Invalid!Args {
    const op_value = try request.required("op");
    const op_number = op_value.asU64() orelse return request.fail("op", "expected an unsigned integer", .{});
    const op_byte = std.math.cast(u8, op_number) orelse return request.fail("op", "unknown op {d}", .{op_number});
    const op: Op = @enumFromInt(op_byte);
    switch (op) {
        .metrics_get, .events => return request.fail("op", "0x{x:0>2} ({s}) is reserved", .{ op_byte, @tagName(op) }),
        _ => return request.fail("op", "unknown op 0x{x:0>2}", .{op_byte}),
        .process_start, .process_stop, .process_restart, .process_delete, .process_list, .process_info => {},
        .log_read, .log_stream, .ping, .shutdown, .save => {},
    }
    const args = try request.nested("args");
    // Messages name the key inside args ("name: required"): the client wrote it under args.
    const fields: Fields = .{ .arena = args.arena, .map = args.map, .diagnostic = args.diagnostic };
    return switch (op) {
        .process_start => .{ .start = try parseStart(fields) },
        .process_stop => .{ .stop = try fields.name() },
        .process_restart => .{ .restart = .{
            .name = try fields.name(),
            .expected_hash = try fields.string("expected_hash"),
        } },
        .process_delete => .{ .delete = try fields.name() },
        .process_list => .list,
        .process_info => .{ .info = try fields.name() },
        .log_read => .{ .log_read = try parseLogArgs(fields) },
        .log_stream => .{ .log_stream = try parseLogArgs(fields) },
        .ping => .ping,
        .shutdown => .shutdown,
        .save => .save,
        .metrics_get, .events, _ => unreachable, // refused above
    };
}

/// The keys that make PROCESS_START's args a spec rather than `{name}` alone.
const spec_only_keys = [_][]const u8{
    "command",        "args",           "cwd",               "env",
    "restart",        "max_restarts",   "restart_window_ms", "backoff_initial_ms",
    "backoff_max_ms", "min_uptime_ms",  "kill_signal",       "kill_timeout_ms",
    "spec_hash",      "labels",         "max_memory_bytes",  "log_max_size_bytes",
    "log_max_files",  "log_timestamps",
};

fn parseStart(fields: Fields) Invalid!StartArgs {
    const has_spec = for (spec_only_keys) |key| {
        if (fields.has(key)) break true;
    } else false;
    const spec: ?Spec = if (has_spec) try parseSpec(fields) else null;
    return .{
        .name = if (spec) |s| s.name else try fields.name(),
        .spec = spec,
        .expected_hash = try fields.string("expected_hash"),
        .replace = try fields.boolean("replace") orelse false,
        .autostart = try fields.boolean("autostart") orelse true,
    };
}

fn parseLogArgs(fields: Fields) Invalid!LogArgs {
    const name = try fields.name();
    const stream_text = try fields.requiredString("stream");
    const stream = std.meta.stringToEnum(Stream, stream_text) orelse
        return fields.fail("stream", "expected \"out\" or \"err\"", .{});
    const lines = try fields.unsigned(u32, "lines", lines_max) orelse return fields.fail("lines", "required", .{});
    return .{ .name = name, .stream = stream, .lines = lines };
}

/// The app spec of PROCESS_START and of the state file. Slices borrow from the decoded tree and `arena`.
fn parseSpec(fields: Fields) Invalid!Spec {
    var spec: Spec = .{
        .name = try fields.name(),
        .command = try fields.requiredString("command"),
        .cwd = undefined,
    };
    if (spec.command.len == 0) return fields.fail("command", "must not be empty", .{});
    spec.args = try fields.stringArray("args", args_count_max) orelse &.{};
    spec.cwd = try fields.requiredString("cwd");
    if (spec.cwd.len == 0 or spec.cwd[0] != '/') return fields.fail("cwd", "must be an absolute path", .{});
    spec.env = try fields.stringArray("env", env_count_max) orelse &.{};
    for (spec.env, 0..) |entry, index| {
        const equals = std.mem.indexOfScalar(u8, entry, '=') orelse 0;
        if (equals == 0) return fields.fail("env", "[{d}] is not KEY=VALUE", .{index});
    }
    if (try fields.string("restart")) |text| {
        spec.restart = RestartPolicy.fromWire(text) orelse
            return fields.fail("restart", "expected \"always\", \"on-failure\" or \"never\"", .{});
    }
    if (try fields.unsigned(u32, "max_restarts", max_restarts_max)) |v| spec.max_restarts = v;
    if (try fields.unsigned(u64, "restart_window_ms", std.math.maxInt(u64))) |v| spec.restart_window_ms = v;
    if (try fields.unsigned(u64, "backoff_initial_ms", std.math.maxInt(u64))) |v| spec.backoff_initial_ms = v;
    if (try fields.unsigned(u64, "backoff_max_ms", std.math.maxInt(u64))) |v| spec.backoff_max_ms = v;
    if (try fields.unsigned(u64, "min_uptime_ms", std.math.maxInt(u64))) |v| spec.min_uptime_ms = v;
    if (try fields.unsigned(u8, "kill_signal", kill_signal_max)) |v| {
        if (v == 0) return fields.fail("kill_signal", "must be 1-{d}", .{kill_signal_max});
        spec.kill_signal = v;
    }
    if (try fields.unsigned(u64, "kill_timeout_ms", std.math.maxInt(u64))) |v| spec.kill_timeout_ms = v;
    if (try fields.string("spec_hash")) |v| spec.spec_hash = v;
    spec.labels = try parseLabels(fields);
    if (try fields.unsigned(u64, "max_memory_bytes", std.math.maxInt(u64))) |v| spec.max_memory_bytes = v;
    if (try fields.unsigned(u64, "log_max_size_bytes", std.math.maxInt(u64))) |v| spec.log_max_size_bytes = v;
    if (try fields.unsigned(u32, "log_max_files", log_max_files_max)) |v| {
        if (v == 0) return fields.fail("log_max_files", "must be 1-{d}", .{log_max_files_max});
        spec.log_max_files = v;
    }
    if (try fields.boolean("log_timestamps")) |v| spec.log_timestamps = v;
    return spec;
}

fn parseLabels(fields: Fields) Invalid![]const Label {
    const value = fields.get("labels") orelse return &.{};
    const entries = value.asMap() orelse return fields.fail("labels", "expected a map of strings", .{});
    if (entries.len > labels_count_max) return fields.fail("labels", "more than {d} entries", .{labels_count_max});
    const labels = try fields.arena.alloc(Label, entries.len);
    for (labels, entries) |*label, entry| {
        const key = entry.key.asStr() orelse return fields.fail("labels", "keys must be strings", .{});
        const label_key = try std.fmt.allocPrint(fields.arena, "labels.{s}", .{key[0..@min(key.len, 64)]});
        label.* = .{ .key = try fields.checkString(label_key, entry.key), .value = try fields.checkString(label_key, entry.value) };
    }
    // Stored sorted, so two specs with the same labels in another order are equal and encode the same.
    std.mem.sort(Label, labels, {}, labelLessThan);
    for (labels[0..labels.len -| 1], labels[@min(1, labels.len)..]) |a, b| {
        if (std.mem.eql(u8, a.key, b.key)) return fields.fail("labels", "key \"{s}\" appears twice", .{a.key[0..@min(a.key.len, 64)]});
    }
    return labels;
}

fn labelLessThan(_: void, a: Label, b: Label) bool {
    return std.mem.lessThan(u8, a.key, b.key);
}

// ------------------------------------------------------------------------------------------------ replies

pub const Record = struct {
    name: []const u8,
    pid: u32,
    status: Status,
    restarts: u32,
    cpu: f64,
    memory: u64,
    uptime_ms: u64,
    exit_code: ?i32,
    exit_signal: ?u8,
    last_error: ?[]const u8,
    spec: *const Spec,
};

/// PING's data.
pub const Ping = struct {
    pid: u32,
    version: []const u8,
    uptime_ms: u64,
    apps: u32,
    /// How the daemon knows an app's processes ("procfs"; "process-group" without /proc); omitted when null.
    tracking: ?[]const u8 = null,
};

/// A reply frame being written: `{id, ok: true, data: ` is in `out`, the caller encodes the data value and
/// calls `end` (or `cancel`).
pub const Reply = struct {
    out: *std.ArrayList(u8),
    allocator: Allocator,
    frame_start: usize,
    id: u32,

    pub fn encoder(self: Reply) Encoder {
        return .init(self.out, self.allocator);
    }

    /// Finishes the frame. A payload over `frame.frame_bytes_max` is replaced by a `limit` error reply.
    pub fn end(self: Reply) error{OutOfMemory}!void {
        const payload_len = frame.payloadLen(self.out, self.frame_start);
        if (payload_len > frame.frame_bytes_max) {
            self.cancel();
            var buffer: [128]u8 = undefined;
            const message = std.fmt.bufPrint(&buffer, "the reply ({d} bytes) is over the {d}-byte frame limit", .{
                payload_len, frame.frame_bytes_max,
            }) catch unreachable;
            return writeError(self.out, self.allocator, self.id, "limit", message);
        }
        frame.endFrame(self.out, self.frame_start);
    }

    /// Takes back everything written since `beginOk`.
    pub fn cancel(self: Reply) void {
        self.out.shrinkRetainingCapacity(self.frame_start);
    }
};

/// Starts `{id, ok: true, data: …}`; see `Reply`.
pub fn beginOk(out: *std.ArrayList(u8), allocator: Allocator, id: u32) error{OutOfMemory}!Reply {
    const frame_start = try frame.beginFrame(out, allocator);
    const reply: Reply = .{ .out = out, .allocator = allocator, .frame_start = frame_start, .id = id };
    errdefer reply.cancel();
    const enc = reply.encoder();
    try enc.mapHeader(3);
    try enc.str("id");
    try enc.uint(id);
    try enc.str("ok");
    try enc.boolean(true);
    try enc.str("data");
    return reply;
}

/// `{id, ok: true, data}` where `writeData(encoder, context)` encodes exactly one value, the data (so
/// `writeOk(out, a, id, encodeRecord, record)` works).
pub fn writeOk(out: *std.ArrayList(u8), allocator: Allocator, id: u32, comptime writeData: anytype, context: anytype) !void {
    const reply = try beginOk(out, allocator, id);
    errdefer reply.cancel();
    try writeData(reply.encoder(), context);
    try reply.end();
}

/// `{id, ok: false, error: {code, message}}`; `code` is one of `error_codes`.
pub fn writeError(out: *std.ArrayList(u8), allocator: Allocator, id: u32, code: []const u8, message: []const u8) error{OutOfMemory}!void {
    assert(isErrorCode(code));
    const frame_start = try frame.beginFrame(out, allocator);
    errdefer out.shrinkRetainingCapacity(frame_start);
    const enc: Encoder = .init(out, allocator);
    try enc.mapHeader(3);
    try enc.str("id");
    try enc.uint(id);
    try enc.str("ok");
    try enc.boolean(false);
    try enc.str("error");
    try enc.mapHeader(2);
    try enc.str("code");
    try enc.str(code);
    try enc.str("message");
    // Messages are ours (formatted from bounded input); cut rather than fail if one ever grows.
    try enc.str(message[0..@min(message.len, string_bytes_max)]);
    frame.endFrame(out, frame_start);
}

pub fn isErrorCode(code: []const u8) bool {
    for (error_codes) |known| if (std.mem.eql(u8, code, known)) return true;
    return false;
}

/// `{id, ok: true, end: true}`: the end of a LOG_STREAM.
pub fn writeEnd(out: *std.ArrayList(u8), allocator: Allocator, id: u32) error{OutOfMemory}!void {
    const frame_start = try frame.beginFrame(out, allocator);
    errdefer out.shrinkRetainingCapacity(frame_start);
    const enc: Encoder = .init(out, allocator);
    try enc.mapHeader(3);
    try enc.str("id");
    try enc.uint(id);
    try enc.str("ok");
    try enc.boolean(true);
    try enc.str("end");
    try enc.boolean(true);
    frame.endFrame(out, frame_start);
}

/// START, STOP, RESTART, INFO: one process record.
pub fn writeRecord(out: *std.ArrayList(u8), allocator: Allocator, id: u32, record: Record) error{OutOfMemory}!void {
    return writeOk(out, allocator, id, encodeRecord, record);
}

/// LIST: an array of records (the caller sorts them by name).
pub fn writeRecords(out: *std.ArrayList(u8), allocator: Allocator, id: u32, records: []const Record) error{OutOfMemory}!void {
    return writeOk(out, allocator, id, encodeRecords, records);
}

/// LIST's data: an array of records.
pub fn encodeRecords(enc: Encoder, records: []const Record) Encoder.Error!void {
    try enc.arrayHeader(@intCast(records.len));
    for (records) |record| try encodeRecord(enc, record);
}

pub fn writePing(out: *std.ArrayList(u8), allocator: Allocator, id: u32, ping: Ping) error{OutOfMemory}!void {
    const reply = try beginOk(out, allocator, id);
    errdefer reply.cancel();
    try encodePingData(reply.encoder(), ping);
    try reply.end();
}

/// LOG_READ and each chunk of LOG_STREAM: `{data: bin}`.
pub fn writeLogData(out: *std.ArrayList(u8), allocator: Allocator, id: u32, data: []const u8) error{OutOfMemory}!void {
    const reply = try beginOk(out, allocator, id);
    errdefer reply.cancel();
    const enc = reply.encoder();
    try enc.mapHeader(1);
    try enc.str("data");
    try enc.bin(data);
    try reply.end();
}

/// DELETE: `{name}`.
pub fn writeName(out: *std.ArrayList(u8), allocator: Allocator, id: u32, name: []const u8) error{OutOfMemory}!void {
    return writeSingleString(out, allocator, id, "name", name);
}

/// SAVE: `{path}`.
pub fn writePath(out: *std.ArrayList(u8), allocator: Allocator, id: u32, path: []const u8) error{OutOfMemory}!void {
    return writeSingleString(out, allocator, id, "path", path);
}

fn writeSingleString(out: *std.ArrayList(u8), allocator: Allocator, id: u32, key: []const u8, text: []const u8) error{OutOfMemory}!void {
    const reply = try beginOk(out, allocator, id);
    errdefer reply.cancel();
    const enc = reply.encoder();
    try enc.mapHeader(1);
    try enc.str(key);
    try enc.str(text);
    try reply.end();
}

/// SHUTDOWN: `{}`.
pub fn writeEmpty(out: *std.ArrayList(u8), allocator: Allocator, id: u32) error{OutOfMemory}!void {
    const reply = try beginOk(out, allocator, id);
    errdefer reply.cancel();
    try reply.encoder().mapHeader(0);
    try reply.end();
}

/// A process record, keys in PROTOCOL.md's order.
pub fn encodeRecord(enc: Encoder, record: Record) Encoder.Error!void {
    try enc.mapHeader(11);
    try enc.str("name");
    try enc.str(record.name);
    try enc.str("pid");
    try enc.uint(record.pid);
    try enc.str("status");
    try enc.str(record.status.wireName());
    try enc.str("restarts");
    try enc.uint(record.restarts);
    try enc.str("cpu");
    try enc.float64(record.cpu);
    try enc.str("memory");
    try enc.uint(record.memory);
    try enc.str("uptime_ms");
    try enc.uint(record.uptime_ms);
    try enc.str("exit_code");
    if (record.exit_code) |code| try enc.int(code) else try enc.nil();
    try enc.str("exit_signal");
    if (record.exit_signal) |signal| try enc.uint(signal) else try enc.nil();
    try enc.str("last_error");
    if (record.last_error) |text| try enc.str(text) else try enc.nil();
    try enc.str("spec");
    try encodeSpec(enc, record.spec.*);
}

/// An app spec as stored (no `expected_hash`, no `replace`), keys in PROTOCOL.md's order; each in-place key
/// only when it differs from its default (so a spec without them encodes as before they existed).
pub fn encodeSpec(enc: Encoder, spec: Spec) Encoder.Error!void {
    const defaults: Spec = .{ .name = "", .command = "", .cwd = "" };
    const with_max_memory = spec.max_memory_bytes != defaults.max_memory_bytes;
    const with_log_max_size = spec.log_max_size_bytes != defaults.log_max_size_bytes;
    const with_log_max_files = spec.log_max_files != defaults.log_max_files;
    const with_log_timestamps = spec.log_timestamps != defaults.log_timestamps;
    const in_place_count = @as(u32, @intFromBool(with_max_memory)) + @intFromBool(with_log_max_size) +
        @intFromBool(with_log_max_files) + @intFromBool(with_log_timestamps);
    try enc.mapHeader(15 + in_place_count);
    try enc.str("name");
    try enc.str(spec.name);
    try enc.str("command");
    try enc.str(spec.command);
    try enc.str("args");
    try enc.arrayHeader(@intCast(spec.args.len));
    for (spec.args) |arg| try enc.str(arg);
    try enc.str("cwd");
    try enc.str(spec.cwd);
    try enc.str("env");
    try enc.arrayHeader(@intCast(spec.env.len));
    for (spec.env) |entry| try enc.str(entry);
    try enc.str("restart");
    try enc.str(spec.restart.wireName());
    try enc.str("max_restarts");
    try enc.uint(spec.max_restarts);
    try enc.str("restart_window_ms");
    try enc.uint(spec.restart_window_ms);
    try enc.str("backoff_initial_ms");
    try enc.uint(spec.backoff_initial_ms);
    try enc.str("backoff_max_ms");
    try enc.uint(spec.backoff_max_ms);
    try enc.str("min_uptime_ms");
    try enc.uint(spec.min_uptime_ms);
    try enc.str("kill_signal");
    try enc.uint(spec.kill_signal);
    try enc.str("kill_timeout_ms");
    try enc.uint(spec.kill_timeout_ms);
    try enc.str("spec_hash");
    try enc.str(spec.spec_hash);
    try enc.str("labels");
    try enc.mapHeader(@intCast(spec.labels.len));
    for (spec.labels) |label| {
        try enc.str(label.key);
        try enc.str(label.value);
    }
    if (with_max_memory) {
        try enc.str("max_memory_bytes");
        try enc.uint(spec.max_memory_bytes);
    }
    if (with_log_max_size) {
        try enc.str("log_max_size_bytes");
        try enc.uint(spec.log_max_size_bytes);
    }
    if (with_log_max_files) {
        try enc.str("log_max_files");
        try enc.uint(spec.log_max_files);
    }
    if (with_log_timestamps) {
        try enc.str("log_timestamps");
        try enc.boolean(spec.log_timestamps);
    }
}

/// PING's data: `{pid, version, uptime_ms, apps}`.
pub fn encodePing(enc: Encoder, pid: u32, version: []const u8, uptime_ms: u64, apps: u32) Encoder.Error!void {
    try encodePingData(enc, .{ .pid = pid, .version = version, .uptime_ms = uptime_ms, .apps = apps });
}

/// PING's data: `{pid, version, uptime_ms, apps, tracking?}` (`tracking` only when set).
pub fn encodePingData(enc: Encoder, ping: Ping) Encoder.Error!void {
    const pid = ping.pid;
    const version = ping.version;
    const uptime_ms = ping.uptime_ms;
    const apps = ping.apps;
    try enc.mapHeader(if (ping.tracking != null) 5 else 4);
    try enc.str("pid");
    try enc.uint(pid);
    try enc.str("version");
    try enc.str(version);
    try enc.str("uptime_ms");
    try enc.uint(uptime_ms);
    try enc.str("apps");
    try enc.uint(apps);
    if (ping.tracking) |tracking| {
        try enc.str("tracking");
        try enc.str(tracking);
    }
}

// --------------------------------------------------------------------------------------------- state file

pub const state_version: u64 = 1;

/// How an app's last run ended, kept in the state file so a restarted daemon neither forgets it nor runs
/// the app again: `completed` (finished) or `errored` (gave up).
pub const Outcome = enum {
    completed,
    errored,

    pub fn wireName(self: Outcome) []const u8 {
        return @tagName(self);
    }
};

/// One app as the state file keeps it: what to run, whether it should run, and which process (pid and its
/// start time, so a recycled pid is never mistaken for ours) held it when the file was written.
pub const SavedApp = struct {
    spec: Spec,
    desired_running: bool,
    /// 0 when no process ran.
    pid: u32,
    /// Field 22 of /proc/PID/stat for `pid`.
    start_time_ticks: u64,
    pgid: u32,
    /// Absent (null) while the app is neither finished nor given up.
    outcome: ?Outcome = null,
};

pub const StateError = error{
    /// Not the format of PROTOCOL.md "State file", or a spec in it that PROCESS_START would refuse.
    Malformed,
    /// Written by a newer daemon.
    UnsupportedVersion,
    OutOfMemory,
};

/// What `decodeStateDiagnosed` found wrong, e.g. `apps[2].spec.cwd: must be an absolute path`.
pub const StateDiagnostic = struct { message: []const u8 = "" };

/// `{version: 1, apps: [{spec, desired, pid, start_time_ticks, pgid}]}`, plain msgpack (no frame header).
pub fn encodeState(out: *std.ArrayList(u8), allocator: Allocator, apps: []const SavedApp) error{OutOfMemory}!void {
    const enc: Encoder = .init(out, allocator);
    try enc.mapHeader(2);
    try enc.str("version");
    try enc.uint(state_version);
    try enc.str("apps");
    try enc.arrayHeader(@intCast(apps.len));
    for (apps) |app| {
        try enc.mapHeader(if (app.outcome != null) 6 else 5);
        try enc.str("spec");
        try encodeSpec(enc, app.spec);
        try enc.str("desired");
        try enc.str(if (app.desired_running) "running" else "stopped");
        try enc.str("pid");
        try enc.uint(app.pid);
        try enc.str("start_time_ticks");
        try enc.uint(app.start_time_ticks);
        try enc.str("pgid");
        try enc.uint(app.pgid);
        if (app.outcome) |outcome| {
            try enc.str("outcome");
            try enc.str(outcome.wireName());
        }
    }
}

/// The apps of a state file; slices borrow from `bytes` and `arena`.
pub fn decodeState(arena: Allocator, bytes: []const u8) StateError![]SavedApp {
    var diagnostic: StateDiagnostic = .{};
    return decodeStateDiagnosed(arena, bytes, &diagnostic);
}

/// `decodeState`, saying in `diagnostic.message` what is wrong when it fails with error.Malformed or
/// error.UnsupportedVersion.
pub fn decodeStateDiagnosed(arena: Allocator, bytes: []const u8, diagnostic: *StateDiagnostic) StateError![]SavedApp {
    const root = msgpack.decode(arena, bytes) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        error.Truncated, error.InvalidType, error.TooDeep, error.TrailingBytes => {
            diagnostic.message = switch (err) {
                error.Truncated => "not MessagePack: truncated",
                error.InvalidType => "not MessagePack: invalid type byte",
                error.TooDeep => "not MessagePack: nested too deep",
                error.TrailingBytes => "not MessagePack: bytes after the value",
                else => unreachable,
            };
            return error.Malformed;
        },
    };
    var inner: Diagnostic = .{};
    defer diagnostic.message = inner.message;
    const fields: Fields = .{ .arena = arena, .map = root, .diagnostic = &inner };
    if (root != .map) {
        inner.message = "expected a map";
        return error.Malformed;
    }
    const version = fields.unsigned(u64, "version", std.math.maxInt(u64)) catch |err| return stateError(err);
    if ((version orelse 0) != state_version) {
        inner.message = std.fmt.allocPrint(arena, "version {?d}, this daemon reads version {d}", .{ version, state_version }) catch
            return error.OutOfMemory;
        return error.UnsupportedVersion;
    }
    return decodeApps(fields) catch |err| stateError(err);
}

fn stateError(err: Invalid) StateError {
    return switch (err) {
        error.OutOfMemory => error.OutOfMemory,
        error.Invalid => error.Malformed,
    };
}

fn decodeApps(fields: Fields) Invalid![]SavedApp {
    const items = (try fields.required("apps")).asArray() orelse return fields.fail("apps", "expected an array", .{});
    const apps = try fields.arena.alloc(SavedApp, items.len);
    var names: std.StringHashMapUnmanaged(void) = .empty;
    for (apps, items, 0..) |*app, item, index| {
        const prefix = try std.fmt.allocPrint(fields.arena, "apps[{d}].", .{index});
        if (item != .map) return fields.fail(prefix[0 .. prefix.len - 1], "expected a map", .{});
        const app_fields: Fields = .{ .arena = fields.arena, .map = item, .diagnostic = fields.diagnostic, .prefix = prefix };
        const spec = try parseSpec(try app_fields.nested("spec"));
        const names_entry = try names.getOrPut(fields.arena, spec.name);
        if (names_entry.found_existing) return app_fields.fail("spec.name", "\"{s}\" appears twice", .{spec.name});
        const desired = try app_fields.requiredString("desired");
        app.* = .{
            .spec = spec,
            .desired_running = if (std.mem.eql(u8, desired, "running"))
                true
            else if (std.mem.eql(u8, desired, "stopped"))
                false
            else
                return app_fields.fail("desired", "expected \"running\" or \"stopped\"", .{}),
            .pid = try app_fields.unsigned(u32, "pid", std.math.maxInt(i32)) orelse 0,
            .start_time_ticks = try app_fields.unsigned(u64, "start_time_ticks", std.math.maxInt(u64)) orelse 0,
            .pgid = try app_fields.unsigned(u32, "pgid", std.math.maxInt(i32)) orelse 0,
            .outcome = if (try app_fields.string("outcome")) |text|
                std.meta.stringToEnum(Outcome, text) orelse return app_fields.fail("outcome", "expected \"completed\" or \"errored\"", .{})
            else
                null,
        };
    }
    return apps;
}

// ------------------------------------------------------------------------------------------------- tests

const testing = std.testing;

/// Builds request payloads for tests with the real encoder.
const TestPayload = struct {
    out: std.ArrayList(u8) = .empty,

    fn deinit(self: *TestPayload) void {
        self.out.deinit(testing.allocator);
    }

    fn enc(self: *TestPayload) Encoder {
        return .init(&self.out, testing.allocator);
    }

    /// `{id, op, args: {…}}` with `arg_count` args the caller then writes.
    fn begin(self: *TestPayload, id: u64, op: u8, arg_count: u32) !void {
        self.out.clearRetainingCapacity();
        const e = self.enc();
        try e.mapHeader(3);
        try e.str("id");
        try e.uint(id);
        try e.str("op");
        try e.uint(op);
        try e.str("args");
        try e.mapHeader(arg_count);
    }

    fn kv(self: *TestPayload, key: []const u8, value: anytype) !void {
        const e = self.enc();
        try e.str(key);
        switch (@typeInfo(@TypeOf(value))) {
            .comptime_int, .int => if (value < 0) try e.int(value) else try e.uint(value),
            .bool => try e.boolean(value),
            .null => try e.nil(),
            else => try e.str(value),
        }
    }
};

fn expectBadRequest(arena: Allocator, payload: []const u8, id: u32, message: []const u8) !void {
    const parsed = try parseRequest(arena, payload);
    switch (parsed) {
        .request => {
            std.debug.print("expected a bad_request \"{s}\", got a request\n", .{message});
            return error.TestUnexpectedResult;
        },
        .bad_request => |bad| {
            try testing.expectEqual(id, bad.id);
            try testing.expectEqualStrings(message, bad.message);
        },
    }
}

test "parseRequest: bad frames" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    try testing.expectError(error.BadFrame, parseRequest(arena, ""));
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{0xc1}));
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{ 0x80, 0x00 })); // trailing
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{0x90})); // an array
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{0x80})); // no id
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{ 0x81, 0xa2, 'i', 'd', 0xa1, '1' })); // string id
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{ 0x81, 0xa2, 'i', 'd', 0xff })); // -1
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{ 0x81, 0xa2, 'i', 'd', 0xcf, 0, 0, 0, 1, 0, 0, 0, 0 })); // > u32
    try testing.expectError(error.BadFrame, parseRequest(arena, &.{ 0x81, 0xa2, 'i', 'd', 0xc0 })); // nil id
}

test "parseRequest: op and args problems are bad requests carrying the id" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    // {id: 3} alone
    try expectBadRequest(arena, &.{ 0x81, 0xa2, 'i', 'd', 0x03 }, 3, "op: required");
    var p: TestPayload = .{};
    defer p.deinit();
    try p.begin(4, 0x99, 0);
    try expectBadRequest(arena, p.out.items, 4, "op: unknown op 0x99");
    try p.begin(4, 0x20, 0);
    try expectBadRequest(arena, p.out.items, 4, "op: 0x20 (metrics_get) is reserved");
    // op 300 and op "ping"
    p.out.clearRetainingCapacity();
    try p.enc().mapHeader(3);
    try p.kv("id", 5);
    try p.kv("op", 300);
    try p.kv("args", null);
    try expectBadRequest(arena, p.out.items, 5, "op: unknown op 300");
    p.out.clearRetainingCapacity();
    try p.enc().mapHeader(2);
    try p.kv("id", 5);
    try p.kv("op", "ping");
    try expectBadRequest(arena, p.out.items, 5, "op: expected an unsigned integer");
    // args missing or not a map
    p.out.clearRetainingCapacity();
    try p.enc().mapHeader(2);
    try p.kv("id", 6);
    try p.kv("op", 0x30);
    try expectBadRequest(arena, p.out.items, 6, "args: required");
    p.out.clearRetainingCapacity();
    try p.enc().mapHeader(3);
    try p.kv("id", 6);
    try p.kv("op", 0x30);
    try p.kv("args", "x");
    try expectBadRequest(arena, p.out.items, 6, "args: expected a map");
}

test "parseRequest: ops without a spec" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var p: TestPayload = .{};
    defer p.deinit();

    const simple = [_]struct { op: Op, tag: std.meta.Tag(Args) }{
        .{ .op = .process_list, .tag = .list },
        .{ .op = .ping, .tag = .ping },
        .{ .op = .shutdown, .tag = .shutdown },
        .{ .op = .save, .tag = .save },
    };
    for (simple) |case| {
        try p.begin(1, @intFromEnum(case.op), 1);
        try p.kv("unknown_key_ignored", 1);
        const parsed = try parseRequest(arena, p.out.items);
        try testing.expectEqual(case.tag, std.meta.activeTag(parsed.request.args));
    }

    const named = [_]struct { op: Op, tag: std.meta.Tag(Args) }{
        .{ .op = .process_stop, .tag = .stop },
        .{ .op = .process_delete, .tag = .delete },
        .{ .op = .process_info, .tag = .info },
    };
    for (named) |case| {
        try p.begin(77, @intFromEnum(case.op), 1);
        try p.kv("name", "api-1.v2_x");
        const parsed = try parseRequest(arena, p.out.items);
        try testing.expectEqual(@as(u32, 77), parsed.request.id);
        switch (parsed.request.args) {
            inline .stop, .delete, .info => |name| try testing.expectEqualStrings("api-1.v2_x", name),
            else => return error.TestUnexpectedResult,
        }
        try p.begin(78, @intFromEnum(case.op), 0);
        try expectBadRequest(arena, p.out.items, 78, "name: required");
    }

    try p.begin(9, @intFromEnum(Op.process_restart), 2);
    try p.kv("name", "web");
    try p.kv("expected_hash", "abc");
    const restart = (try parseRequest(arena, p.out.items)).request.args.restart;
    try testing.expectEqualStrings("web", restart.name);
    try testing.expectEqualStrings("abc", restart.expected_hash.?);
    try p.begin(9, @intFromEnum(Op.process_restart), 2);
    try p.kv("name", "web");
    try p.kv("expected_hash", null); // nil = absent
    try testing.expectEqual(@as(?[]const u8, null), (try parseRequest(arena, p.out.items)).request.args.restart.expected_hash);

    try p.begin(10, @intFromEnum(Op.log_stream), 3);
    try p.kv("name", "web");
    try p.kv("stream", "out");
    try p.kv("lines", 100_000);
    const log = (try parseRequest(arena, p.out.items)).request.args.log_stream;
    try testing.expectEqual(LogArgs{ .name = log.name, .stream = .out, .lines = 100_000 }, log);
}

test "parseRequest: names" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var p: TestPayload = .{};
    defer p.deinit();
    try testing.expect(isValidName("a"));
    try testing.expect(isValidName("A.b_c-9"));
    try testing.expect(isValidName("a" ** 64));
    try testing.expect(!isValidName("a" ** 65));
    try testing.expect(!isValidName(""));
    try testing.expect(!isValidName(".hidden"));
    try testing.expect(!isValidName(".."));
    try testing.expect(!isValidName("a/b"));
    try testing.expect(!isValidName("a b"));
    try testing.expect(!isValidName("é"));

    try p.begin(2, @intFromEnum(Op.process_stop), 1);
    try p.kv("name", "../etc");
    try expectBadRequest(arena, p.out.items, 2, "name: \"../etc\" is not 1-64 of A-Z a-z 0-9 . _ - not starting with '.'");
    try p.begin(2, @intFromEnum(Op.process_stop), 1);
    try p.kv("name", 12);
    try expectBadRequest(arena, p.out.items, 2, "name: expected a string");
}

test "parseRequest: log args" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var p: TestPayload = .{};
    defer p.deinit();
    try p.begin(3, @intFromEnum(Op.log_read), 3);
    try p.kv("name", "web");
    try p.kv("stream", "both");
    try p.kv("lines", 1);
    try expectBadRequest(arena, p.out.items, 3, "stream: expected \"out\" or \"err\"");
    try p.begin(3, @intFromEnum(Op.log_read), 3);
    try p.kv("name", "web");
    try p.kv("stream", "err");
    try p.kv("lines", 100_001);
    try expectBadRequest(arena, p.out.items, 3, "lines: must be at most 100000");
    try p.begin(3, @intFromEnum(Op.log_read), 3);
    try p.kv("name", "web");
    try p.kv("stream", "err");
    try p.kv("lines", -1);
    try expectBadRequest(arena, p.out.items, 3, "lines: expected an unsigned integer");
    try p.begin(3, @intFromEnum(Op.log_read), 2);
    try p.kv("name", "web");
    try p.kv("stream", "err");
    try expectBadRequest(arena, p.out.items, 3, "lines: required");
}

/// A PROCESS_START request whose args are `name`, `command`, `cwd` plus the given extra pairs.
fn startWith(p: *TestPayload, extra_count: u32) !void {
    try p.begin(11, @intFromEnum(Op.process_start), 3 + extra_count);
    try p.kv("name", "web");
    try p.kv("command", "/bin/true");
    try p.kv("cwd", "/");
}

test "parseRequest: start with a minimal spec takes the documented defaults" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var p: TestPayload = .{};
    defer p.deinit();
    try startWith(&p, 0);
    const start = (try parseRequest(arena, p.out.items)).request.args.start;
    try testing.expectEqualStrings("web", start.name);
    try testing.expectEqual(false, start.replace);
    try testing.expectEqual(@as(?[]const u8, null), start.expected_hash);
    try testing.expectEqual(true, start.autostart);
    const spec = start.spec.?;
    try testing.expect(spec.eql(.{ .name = "web", .command = "/bin/true", .cwd = "/" }));
    try testing.expectEqual(@as(u64, 0), spec.max_memory_bytes);
    try testing.expectEqual(@as(u64, 0), spec.log_max_size_bytes);
    try testing.expectEqual(@as(u32, 5), spec.log_max_files);
    try testing.expectEqual(false, spec.log_timestamps);

    // {name} alone, with expected_hash, replace and autostart: no spec.
    try p.begin(12, @intFromEnum(Op.process_start), 4);
    try p.kv("name", "web");
    try p.kv("expected_hash", "");
    try p.kv("replace", true);
    try p.kv("autostart", false);
    const by_name = (try parseRequest(arena, p.out.items)).request.args.start;
    try testing.expect(by_name.spec == null);
    try testing.expectEqualStrings("", by_name.expected_hash.?);
    try testing.expect(by_name.replace);
    try testing.expectEqual(false, by_name.autostart);
}

test "parseRequest: the in-place keys make a spec, with their values" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var p: TestPayload = .{};
    defer p.deinit();
    try startWith(&p, 5);
    try p.kv("max_memory_bytes", 8 << 30);
    try p.kv("log_max_size_bytes", 10 << 20);
    try p.kv("log_max_files", 1000);
    try p.kv("log_timestamps", true);
    try p.kv("autostart", false);
    const start = (try parseRequest(arena, p.out.items)).request.args.start;
    const spec = start.spec.?;
    try testing.expectEqual(@as(u64, 8 << 30), spec.max_memory_bytes);
    try testing.expectEqual(@as(u64, 10 << 20), spec.log_max_size_bytes);
    try testing.expectEqual(@as(u32, 1000), spec.log_max_files);
    try testing.expectEqual(true, spec.log_timestamps);
    try testing.expectEqual(false, start.autostart);

    // One in-place key alone is a spec (so `command` and `cwd` are required).
    try p.begin(13, @intFromEnum(Op.process_start), 2);
    try p.kv("name", "web");
    try p.kv("log_timestamps", true);
    try expectBadRequest(arena, p.out.items, 13, "command: required");
}

test "encodeSpec: in-place keys are written after labels, each only when not its default" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);

    var spec = testSpec();
    try encodeSpec(.init(&out, testing.allocator), spec);
    try testing.expectEqual(@as(u8, 0x8f), out.items[0]); // 15 keys, as before the in-place keys existed

    const Case = struct { key: []const u8, set: *const fn (*Spec) void };
    const cases = [_]Case{
        .{ .key = "max_memory_bytes", .set = struct {
            fn f(s: *Spec) void {
                s.max_memory_bytes = 1;
            }
        }.f },
        .{ .key = "log_max_size_bytes", .set = struct {
            fn f(s: *Spec) void {
                s.log_max_size_bytes = 1;
            }
        }.f },
        .{ .key = "log_max_files", .set = struct {
            fn f(s: *Spec) void {
                s.log_max_files = 1;
            }
        }.f },
        .{ .key = "log_timestamps", .set = struct {
            fn f(s: *Spec) void {
                s.log_timestamps = true;
            }
        }.f },
    };
    for (cases) |case| {
        spec = testSpec();
        case.set(&spec);
        out.clearRetainingCapacity();
        try encodeSpec(.init(&out, testing.allocator), spec);
        const value = try msgpack.decode(arena, out.items);
        try testing.expectEqual(@as(usize, 16), value.map.len);
        try testing.expectEqualStrings("labels", value.map[14].key.str);
        try testing.expectEqualStrings(case.key, value.map[15].key.str);
        var diagnostic: Diagnostic = .{};
        const fields: Fields = .{ .arena = arena, .map = value, .diagnostic = &diagnostic };
        try testing.expect((try parseSpec(fields)).eql(spec));
    }

    // All four, in the documented order.
    spec = testSpec();
    spec.max_memory_bytes = 512 << 20;
    spec.log_max_size_bytes = 10 << 20;
    spec.log_max_files = 3;
    spec.log_timestamps = true;
    out.clearRetainingCapacity();
    try encodeSpec(.init(&out, testing.allocator), spec);
    const value = try msgpack.decode(arena, out.items);
    try testing.expectEqual(@as(usize, 19), value.map.len);
    for ([_][]const u8{ "labels", "max_memory_bytes", "log_max_size_bytes", "log_max_files", "log_timestamps" }, 14..) |key, index| {
        try testing.expectEqualStrings(key, value.map[index].key.str);
    }
}

test "parseRequest: every spec field is validated and named" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var p: TestPayload = .{};
    defer p.deinit();

    const Case = struct { key: []const u8, value: union(enum) { str: []const u8, int: i64, boolean: bool }, message: []const u8 };
    const cases = [_]Case{
        .{ .key = "restart", .value = .{ .str = "sometimes" }, .message = "restart: expected \"always\", \"on-failure\" or \"never\"" },
        .{ .key = "restart", .value = .{ .str = "on_failure" }, .message = "restart: expected \"always\", \"on-failure\" or \"never\"" },
        .{ .key = "kill_signal", .value = .{ .int = 0 }, .message = "kill_signal: must be 1-64" },
        .{ .key = "kill_signal", .value = .{ .int = 65 }, .message = "kill_signal: must be at most 64" },
        .{ .key = "kill_signal", .value = .{ .str = "TERM" }, .message = "kill_signal: expected an unsigned integer" },
        .{ .key = "max_restarts", .value = .{ .int = 1001 }, .message = "max_restarts: must be at most 1000" },
        .{ .key = "restart_window_ms", .value = .{ .int = -5 }, .message = "restart_window_ms: expected an unsigned integer" },
        .{ .key = "backoff_initial_ms", .value = .{ .boolean = true }, .message = "backoff_initial_ms: expected an unsigned integer" },
        .{ .key = "spec_hash", .value = .{ .int = 1 }, .message = "spec_hash: expected a string" },
        .{ .key = "args", .value = .{ .str = "-v" }, .message = "args: expected an array of strings" },
        .{ .key = "env", .value = .{ .str = "A=1" }, .message = "env: expected an array of strings" },
        .{ .key = "labels", .value = .{ .str = "a=b" }, .message = "labels: expected a map of strings" },
        .{ .key = "max_memory_bytes", .value = .{ .int = -1 }, .message = "max_memory_bytes: expected an unsigned integer" },
        .{ .key = "log_max_size_bytes", .value = .{ .str = "10M" }, .message = "log_max_size_bytes: expected an unsigned integer" },
        .{ .key = "log_max_files", .value = .{ .int = 0 }, .message = "log_max_files: must be 1-1000" },
        .{ .key = "log_max_files", .value = .{ .int = 1001 }, .message = "log_max_files: must be at most 1000" },
        .{ .key = "log_timestamps", .value = .{ .int = 1 }, .message = "log_timestamps: expected true or false" },
        .{ .key = "autostart", .value = .{ .str = "no" }, .message = "autostart: expected true or false" },
    };
    for (cases) |case| {
        try startWith(&p, 1);
        const e = p.enc();
        try e.str(case.key);
        switch (case.value) {
            .str => |s| try e.str(s),
            .int => |i| try e.int(i),
            .boolean => |b| try e.boolean(b),
        }
        try expectBadRequest(arena, p.out.items, 11, case.message);
    }

    // Relative or empty cwd.
    try p.begin(11, 1, 3);
    try p.kv("name", "web");
    try p.kv("command", "x");
    try p.kv("cwd", "srv/web");
    try expectBadRequest(arena, p.out.items, 11, "cwd: must be an absolute path");
    // A spec key without command.
    try p.begin(11, 1, 2);
    try p.kv("name", "web");
    try p.kv("cwd", "/");
    try expectBadRequest(arena, p.out.items, 11, "command: required");
    try p.begin(11, 1, 2);
    try p.kv("name", "web");
    try p.kv("command", "/bin/true");
    try expectBadRequest(arena, p.out.items, 11, "cwd: required");
    try p.begin(11, 1, 3);
    try p.kv("name", "web");
    try p.kv("command", "");
    try p.kv("cwd", "/");
    try expectBadRequest(arena, p.out.items, 11, "command: must not be empty");
    try startWith(&p, 1);
    try p.kv("replace", "yes");
    try expectBadRequest(arena, p.out.items, 11, "replace: expected true or false");

    // env entries.
    for ([_][]const u8{ "PATH", "=x" }) |bad| {
        try startWith(&p, 1);
        try p.enc().str("env");
        try p.enc().arrayHeader(2);
        try p.enc().str("A=1");
        try p.enc().str(bad);
        try expectBadRequest(arena, p.out.items, 11, "env: [1] is not KEY=VALUE");
    }
    try startWith(&p, 1);
    try p.enc().str("args");
    try p.enc().arrayHeader(2);
    try p.enc().str("ok");
    try p.enc().uint(3);
    try expectBadRequest(arena, p.out.items, 11, "args[1]: expected a string");
    try startWith(&p, 1);
    try p.enc().str("args");
    try p.enc().arrayHeader(1);
    try p.enc().str("nul\x00inside");
    try expectBadRequest(arena, p.out.items, 11, "args[0]: contains a NUL byte");
}

test "parseRequest: limits on counts and string sizes" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var p: TestPayload = .{};
    defer p.deinit();

    inline for (.{ .{ "args", args_count_max, "x" }, .{ "env", env_count_max, "K=v" } }) |case| {
        for ([_]usize{ case[1], case[1] + 1 }) |count| {
            try startWith(&p, 1);
            try p.enc().str(case[0]);
            try p.enc().arrayHeader(@intCast(count));
            for (0..count) |_| try p.enc().str(case[2]);
            const parsed = try parseRequest(arena, p.out.items);
            if (count == case[1]) {
                const spec = parsed.request.args.start.spec.?;
                try testing.expectEqual(count, @field(spec, case[0]).len);
            } else {
                try testing.expectEqualStrings(case[0] ++ ": more than " ++ std.fmt.comptimePrint("{d}", .{case[1]}) ++ " entries", parsed.bad_request.message);
            }
        }
    }

    for ([_]usize{ labels_count_max, labels_count_max + 1 }) |count| {
        try startWith(&p, 1);
        try p.enc().str("labels");
        try p.enc().mapHeader(@intCast(count));
        for (0..count) |i| {
            var key_buffer: [8]u8 = undefined;
            try p.enc().str(try std.fmt.bufPrint(&key_buffer, "k{d:0>3}", .{count - i}));
            try p.enc().str("v");
        }
        const parsed = try parseRequest(arena, p.out.items);
        if (count == labels_count_max) {
            const labels = parsed.request.args.start.spec.?.labels;
            try testing.expectEqual(count, labels.len);
            // Sorted on the way in.
            try testing.expectEqualStrings("k001", labels[0].key);
            try testing.expectEqualStrings("k064", labels[63].key);
        } else {
            try testing.expectEqualStrings("labels: more than 64 entries", parsed.bad_request.message);
        }
    }

    const long = "x" ** (string_bytes_max + 1);
    try startWith(&p, 1);
    try p.kv("spec_hash", long[0..string_bytes_max]);
    try testing.expectEqual(string_bytes_max, (try parseRequest(arena, p.out.items)).request.args.start.spec.?.spec_hash.len);
    try startWith(&p, 1);
    try p.kv("spec_hash", long);
    try expectBadRequest(arena, p.out.items, 11, "spec_hash: longer than 4096 bytes");

    // Duplicate label keys.
    try startWith(&p, 1);
    try p.enc().str("labels");
    try p.enc().mapHeader(2);
    try p.kv("app", "a");
    try p.kv("app", "b");
    try expectBadRequest(arena, p.out.items, 11, "labels: key \"app\" appears twice");
}

test "parseRequest: random payloads never crash" {
    var prng = std.Random.DefaultPrng.init(7);
    const random = prng.random();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    var p: TestPayload = .{};
    defer p.deinit();
    try startWith(&p, 2);
    try p.kv("kill_signal", 9);
    try p.kv("replace", true);
    const seed = try testing.allocator.dupe(u8, p.out.items);
    defer testing.allocator.free(seed);
    var buffer: [256]u8 = undefined;
    for (0..20_000) |_| {
        @memcpy(buffer[0..seed.len], seed);
        for (0..1 + random.uintLessThan(usize, 3)) |_| buffer[random.uintLessThan(usize, seed.len)] = random.int(u8);
        _ = parseRequest(arena_state.allocator(), buffer[0..random.uintAtMost(usize, seed.len)]) catch |err| switch (err) {
            error.BadFrame => {},
            error.OutOfMemory => return err,
        };
        _ = arena_state.reset(.retain_capacity);
    }
}

fn testSpec() Spec {
    return .{
        .name = "web",
        .command = "/bin/sleep",
        .args = &.{"3600"},
        .cwd = "/srv/web",
        .env = &.{ "PATH=/usr/bin:/bin", "PORT=8080" },
        .restart = .always,
        .max_restarts = 5,
        .kill_timeout_ms = 3000,
        .spec_hash = "9f2c4e1a7b3d5f60",
        .labels = &.{ .{ .key = "app", .value = "web" }, .{ .key = "project", .value = "demo" } },
    };
}

test "Spec: clone is deep, deinit frees it all, eql sees every field" {
    const original = testSpec();
    var copy = try original.clone(testing.allocator);
    defer copy.deinit(testing.allocator);
    try testing.expect(copy.eql(original));
    try testing.expect(copy.name.ptr != original.name.ptr);
    try testing.expect(copy.args[0].ptr != original.args[0].ptr);
    try testing.expect(copy.labels[1].value.ptr != original.labels[1].value.ptr);

    // Each field, changed alone, makes the specs differ.
    inline for (@typeInfo(Spec).@"struct".fields) |field| {
        var changed = original;
        switch (field.type) {
            []const u8 => @field(changed, field.name) = "other",
            []const []const u8 => @field(changed, field.name) = &.{"other=1"},
            []const Label => @field(changed, field.name) = &.{.{ .key = "app", .value = "api" }},
            RestartPolicy => @field(changed, field.name) = .never,
            u8, u32, u64 => @field(changed, field.name) += 1,
            bool => @field(changed, field.name) = !@field(changed, field.name),
            else => @compileError("a Spec field eql does not know: " ++ field.name),
        }
        try testing.expect(!changed.eql(original));
        // Restart-relevant: every field but labels and the in-place keys.
        const in_place = comptime for ([_][]const u8{ "labels", "max_memory_bytes", "log_max_size_bytes", "log_max_files", "log_timestamps" }) |key| {
            if (std.mem.eql(u8, key, field.name)) break true;
        } else false;
        try testing.expectEqual(in_place, changed.eqlRestartRelevant(original));
    }

    // Out of memory at every allocation leaks nothing.
    try testing.checkAllAllocationFailures(testing.allocator, struct {
        fn run(allocator: Allocator) !void {
            var spec = try testSpec().clone(allocator);
            spec.deinit(allocator);
        }
    }.run, .{});
}

fn testRecord(spec: *const Spec) Record {
    return .{
        .name = "web",
        .pid = 31337,
        .status = .running,
        .restarts = 2,
        .cpu = 1.5,
        .memory = 10485760,
        .uptime_ms = 65000,
        .exit_code = 1,
        .exit_signal = null,
        .last_error = null,
        .spec = spec,
    };
}

test "replies: every writer produces one whole frame that decodes to the documented map" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    const spec = testSpec();
    const record = testRecord(&spec);

    try writeRecord(&out, testing.allocator, 1, record);
    try writeRecords(&out, testing.allocator, 2, &.{ record, record });
    try writePing(&out, testing.allocator, 3, .{ .pid = 1, .version = "0.1.0", .uptime_ms = 5, .apps = 0 });
    try writeLogData(&out, testing.allocator, 4, "a\nb\n");
    try writeName(&out, testing.allocator, 5, "web");
    try writePath(&out, testing.allocator, 6, "/home/u/.velos/state.msgpack");
    try writeEmpty(&out, testing.allocator, 7);
    try writeError(&out, testing.allocator, 8, "conflict", "expected_hash \"x\" does not match \"y\"");
    try writeEnd(&out, testing.allocator, 9);

    var rest = out.items;
    var id: u32 = 1;
    while (rest.len > 0) : (id += 1) {
        const header = (try frame.decodeHeader(rest)).?;
        const payload = rest[frame.header_len..][0..header.payload_len];
        rest = rest[frame.header_len + header.payload_len ..];
        const value = try msgpack.decode(arena, payload);
        try testing.expectEqual(@as(u64, id), value.mapGet("id").?.asU64().?);
        try testing.expectEqualStrings("id", value.map[0].key.str);
        try testing.expectEqualStrings("ok", value.map[1].key.str);
        try testing.expectEqual(id != 8, value.map[1].value.boolean);
        const data = value.map[2].value;
        switch (id) {
            1 => {
                try testing.expectEqualStrings("running", data.mapGet("status").?.str);
                try testing.expectEqual(Value.nil, data.mapGet("exit_signal").?);
                try testing.expectEqual(@as(i64, 1), data.mapGet("exit_code").?.asI64().?);
                // The spec inside parses back to the same spec.
                var diagnostic: Diagnostic = .{};
                const fields: Fields = .{ .arena = arena, .map = data.mapGet("spec").?, .diagnostic = &diagnostic };
                try testing.expect((try parseSpec(fields)).eql(spec));
            },
            2 => try testing.expectEqual(@as(usize, 2), data.array.len),
            3 => try testing.expectEqualStrings("0.1.0", data.mapGet("version").?.str),
            4 => try testing.expectEqualStrings("a\nb\n", data.mapGet("data").?.bin),
            5 => try testing.expectEqualStrings("web", data.mapGet("name").?.str),
            6 => try testing.expectEqualStrings("/home/u/.velos/state.msgpack", data.mapGet("path").?.str),
            7 => try testing.expectEqual(@as(usize, 0), data.map.len),
            8 => {
                try testing.expectEqualStrings("error", value.map[2].key.str);
                try testing.expectEqualStrings("conflict", data.mapGet("code").?.str);
            },
            9 => {
                try testing.expectEqualStrings("end", value.map[2].key.str);
                try testing.expectEqual(true, data.boolean);
            },
            else => unreachable,
        }
    }
    try testing.expectEqual(@as(u32, 10), id);
}

test "replies: a reply over the frame limit becomes a limit error; cancel takes a frame back" {
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try writeEnd(&out, testing.allocator, 1);
    const before = out.items.len;

    const big = try testing.allocator.alloc(u8, frame.frame_bytes_max);
    defer testing.allocator.free(big);
    @memset(big, 'x');
    try writeLogData(&out, testing.allocator, 2, big);
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const header = (try frame.decodeHeader(out.items[before..])).?;
    const value = try msgpack.decode(arena_state.allocator(), out.items[before + frame.header_len ..]);
    try testing.expectEqual(out.items.len, before + frame.header_len + header.payload_len);
    try testing.expectEqualStrings("limit", value.mapGet("error").?.mapGet("code").?.str);
    try testing.expectEqual(@as(u64, 2), value.mapGet("id").?.asU64().?);

    const reply = try beginOk(&out, testing.allocator, 3);
    try reply.encoder().nil();
    reply.cancel();
    try testing.expectEqual(before + frame.header_len + header.payload_len, out.items.len);
}

test "replies: out of memory leaves the buffer as it was" {
    const spec = testSpec();
    const record = testRecord(&spec);
    try testing.checkAllAllocationFailures(testing.allocator, struct {
        fn run(allocator: Allocator, r: Record) !void {
            var out: std.ArrayList(u8) = .empty;
            defer out.deinit(allocator);
            try out.appendSlice(allocator, "previous frame");
            writeRecords(&out, allocator, 1, &.{ r, r }) catch |err| {
                try testing.expectEqualStrings("previous frame", out.items);
                return err;
            };
        }
    }.run, .{record});
}

test "state: encode then decode gives the same apps" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var second = testSpec();
    second.name = "worker";
    second.labels = &.{};
    // The in-place keys survive a daemon restart.
    second.max_memory_bytes = 256 << 20;
    second.log_max_size_bytes = 1 << 20;
    second.log_max_files = 9;
    second.log_timestamps = true;
    const apps = [_]SavedApp{
        .{ .spec = testSpec(), .desired_running = true, .pid = 4242, .start_time_ticks = 123456789, .pgid = 4242 },
        .{ .spec = second, .desired_running = false, .pid = 0, .start_time_ticks = 0, .pgid = 0 },
    };
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try encodeState(&out, testing.allocator, &apps);
    try testing.expect(!std.mem.startsWith(u8, out.items, &frame.magic)); // no frame header
    const decoded = try decodeState(arena, out.items);
    try testing.expectEqual(apps.len, decoded.len);
    for (apps, decoded) |a, b| {
        try testing.expect(a.spec.eql(b.spec));
        try testing.expectEqual(a.desired_running, b.desired_running);
        try testing.expectEqual(a.pid, b.pid);
        try testing.expectEqual(a.start_time_ticks, b.start_time_ticks);
        try testing.expectEqual(a.pgid, b.pgid);
    }
    out.clearRetainingCapacity();
    try encodeState(&out, testing.allocator, &.{});
    try testing.expectEqual(@as(usize, 0), (try decodeState(arena, out.items)).len);
}

test "state: bad files are errors with a message" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var diagnostic: StateDiagnostic = .{};
    try testing.expectError(error.Malformed, decodeStateDiagnosed(arena, "", &diagnostic));
    try testing.expectEqualStrings("not MessagePack: truncated", diagnostic.message);
    try testing.expectError(error.Malformed, decodeStateDiagnosed(arena, &.{0x90}, &diagnostic));

    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    const enc: Encoder = .init(&out, testing.allocator);
    try enc.mapHeader(2);
    try enc.str("version");
    try enc.uint(2);
    try enc.str("apps");
    try enc.arrayHeader(0);
    try testing.expectError(error.UnsupportedVersion, decodeStateDiagnosed(arena, out.items, &diagnostic));
    try testing.expectEqualStrings("version 2, this daemon reads version 1", diagnostic.message);

    // A spec PROCESS_START would refuse, and a duplicate name.
    var bad_spec = testSpec();
    bad_spec.cwd = "relative";
    out.clearRetainingCapacity();
    try encodeState(&out, testing.allocator, &.{
        .{ .spec = testSpec(), .desired_running = true, .pid = 1, .start_time_ticks = 1, .pgid = 1 },
        .{ .spec = bad_spec, .desired_running = true, .pid = 1, .start_time_ticks = 1, .pgid = 1 },
    });
    try testing.expectError(error.Malformed, decodeStateDiagnosed(arena, out.items, &diagnostic));
    try testing.expectEqualStrings("apps[1].spec.cwd: must be an absolute path", diagnostic.message);
    out.clearRetainingCapacity();
    try encodeState(&out, testing.allocator, &.{
        .{ .spec = testSpec(), .desired_running = true, .pid = 1, .start_time_ticks = 1, .pgid = 1 },
        .{ .spec = testSpec(), .desired_running = false, .pid = 0, .start_time_ticks = 0, .pgid = 0 },
    });
    try testing.expectError(error.Malformed, decodeStateDiagnosed(arena, out.items, &diagnostic));
    try testing.expectEqualStrings("apps[1].spec.name: \"web\" appears twice", diagnostic.message);
}
