//! Requests in (docs/PROTOCOL.md "Request"): `parseRequest(arena, payload) !Parsed` takes one frame's payload
//! (after the 7-byte header):
//!     error.BadFrame       not msgpack (or more arrays and maps than its size allows), not a map, or no u32
//!                          `id`: reply `bad_frame` with id 0, close.
//!     .bad_request         the id is known but something else is wrong; `message` names the field
//!                          (e.g. `cwd: must be an absolute path`): reply `bad_request` with that id.
//!     .request             validated `Args`. Slices borrow from `payload` and `arena`: `Spec.clone` what
//!                          must outlive them.
//! `Fields` and `parseSpec` are shared with the state file (state_codec.zig): its specs are validated exactly
//! like PROCESS_START's.
const std = @import("std");
const Allocator = std.mem.Allocator;
const msgpack = @import("msgpack.zig");
const frame = @import("frame.zig");
const Value = msgpack.Value;
const spec_module = @import("spec.zig");
const Op = spec_module.Op;
const RestartPolicy = spec_module.RestartPolicy;
const LogFormat = spec_module.LogFormat;
const Stream = spec_module.Stream;
const Label = spec_module.Label;
const name_bytes_max = spec_module.name_bytes_max;
const string_bytes_max = spec_module.string_bytes_max;
const args_count_max = spec_module.args_count_max;
const env_count_max = spec_module.env_count_max;
const labels_count_max = spec_module.labels_count_max;
const lines_max = spec_module.lines_max;
const Limit = spec_module.Limit;
const limits = spec_module.limits;
const Spec = spec_module.Spec;
const isValidName = spec_module.isValidName;

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

/// See the file comment. `arena` holds the decoded tree and the messages; free it after the reply.
pub fn parseRequest(arena: Allocator, payload: []const u8) error{ BadFrame, OutOfMemory }!Parsed {
    const root = msgpack.decode(arena, payload) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        error.Truncated, error.InvalidType, error.TooDeep, error.TrailingBytes, error.OverBudget => return error.BadFrame,
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

pub const Invalid = error{ Invalid, OutOfMemory };

pub const Diagnostic = struct {
    message: []const u8 = "",
};

/// Typed, validated access to the keys of one map, reporting the first problem into `diagnostic` as
/// `<prefix><key>: <what is wrong>`. A nil value counts as absent (an encoder may write None as nil).
pub const Fields = struct {
    arena: Allocator,
    map: Value,
    diagnostic: *Diagnostic,
    /// Where this map sits, for messages: "" for a request's top level, "apps[2].spec." in the state file.
    prefix: []const u8 = "",

    pub fn fail(self: Fields, key: []const u8, comptime format: []const u8, args: anytype) Invalid {
        self.diagnostic.message = std.fmt.allocPrint(self.arena, "{s}{s}: " ++ format, .{ self.prefix, key } ++ args) catch
            return error.OutOfMemory;
        return error.Invalid;
    }

    pub fn get(self: Fields, key: []const u8) ?Value {
        const value = self.map.mapGet(key) orelse return null;
        return if (value == .nil) null else value;
    }

    pub fn has(self: Fields, key: []const u8) bool {
        return self.get(key) != null;
    }

    pub fn required(self: Fields, key: []const u8) Invalid!Value {
        return self.get(key) orelse self.fail(key, "required", .{});
    }

    pub fn nested(self: Fields, key: []const u8) Invalid!Fields {
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
    pub fn checkString(self: Fields, key: []const u8, value: Value) Invalid![]const u8 {
        const text = value.asStr() orelse return self.fail(key, "expected a string", .{});
        if (text.len > string_bytes_max) return self.fail(key, "longer than {d} bytes", .{string_bytes_max});
        if (std.mem.indexOfScalar(u8, text, 0) != null) return self.fail(key, "contains a NUL byte", .{});
        return text;
    }

    pub fn string(self: Fields, key: []const u8) Invalid!?[]const u8 {
        const value = self.get(key) orelse return null;
        return try self.checkString(key, value);
    }

    pub fn requiredString(self: Fields, key: []const u8) Invalid![]const u8 {
        return self.checkString(key, try self.required(key));
    }

    pub fn name(self: Fields) Invalid![]const u8 {
        const text = try self.requiredString("name");
        if (!isValidName(text)) {
            return self.fail("name", "\"{s}\" is not 1-64 of A-Z a-z 0-9 . _ - not starting with '.'", .{
                text[0..@min(text.len, name_bytes_max + 1)],
            });
        }
        return text;
    }

    pub fn unsigned(self: Fields, comptime T: type, key: []const u8, max: T) Invalid!?T {
        const value = self.get(key) orelse return null;
        const number = value.asU64() orelse return self.fail(key, "expected an unsigned integer", .{});
        if (number > max) return self.fail(key, "must be at most {d}", .{max});
        return @intCast(number);
    }

    /// An unsigned integer within `limit`; the message gives the range, so a client learns what to send.
    pub fn ranged(self: Fields, comptime T: type, key: []const u8, limit: Limit) Invalid!?T {
        const value = self.get(key) orelse return null;
        const number = value.asU64() orelse return self.fail(key, "expected an unsigned integer", .{});
        if (!limit.contains(number)) return self.fail(key, "must be {d}-{d}, got {d}", .{ limit.min, limit.max, number });
        return @intCast(number);
    }

    pub fn rangedOrZero(self: Fields, comptime T: type, key: []const u8, limit: Limit) Invalid!?T {
        const value = self.get(key) orelse return null;
        if (value.asU64() == 0) return 0;
        return self.ranged(T, key, limit);
    }

    pub fn boolean(self: Fields, key: []const u8) Invalid!?bool {
        const value = self.get(key) orelse return null;
        return value.asBool() orelse self.fail(key, "expected true or false", .{});
    }

    pub fn stringArray(self: Fields, key: []const u8, count_max: usize) Invalid!?[]const []const u8 {
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
    "log_max_files",  "log_timestamps", "log_format",
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
pub fn parseSpec(fields: Fields) Invalid!Spec {
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
    if (try fields.ranged(u32, "max_restarts", limits.max_restarts)) |v| spec.max_restarts = v;
    if (try fields.ranged(u64, "restart_window_ms", limits.restart_window_ms)) |v| spec.restart_window_ms = v;
    if (try fields.ranged(u64, "backoff_initial_ms", limits.backoff_ms)) |v| spec.backoff_initial_ms = v;
    if (try fields.ranged(u64, "backoff_max_ms", limits.backoff_ms)) |v| spec.backoff_max_ms = v;
    if (spec.backoff_initial_ms > spec.backoff_max_ms) {
        return fields.fail("backoff_initial_ms", "{d} is more than backoff_max_ms ({d})", .{ spec.backoff_initial_ms, spec.backoff_max_ms });
    }
    if (try fields.ranged(u64, "min_uptime_ms", limits.min_uptime_ms)) |v| spec.min_uptime_ms = v;
    if (try fields.ranged(u8, "kill_signal", limits.kill_signal)) |v| spec.kill_signal = v;
    if (try fields.ranged(u64, "kill_timeout_ms", limits.kill_timeout_ms)) |v| spec.kill_timeout_ms = v;
    if (try fields.string("spec_hash")) |v| spec.spec_hash = v;
    spec.labels = try parseLabels(fields);
    // 0 is "no limit" / "never rotate" on the wire (a file cannot write it).
    if (try fields.rangedOrZero(u64, "max_memory_bytes", limits.max_memory_bytes)) |v| spec.max_memory_bytes = v;
    if (try fields.rangedOrZero(u64, "log_max_size_bytes", limits.log_max_size_bytes)) |v| spec.log_max_size_bytes = v;
    if (try fields.ranged(u32, "log_max_files", limits.log_max_files)) |v| spec.log_max_files = v;
    if (try fields.boolean("log_timestamps")) |v| spec.log_timestamps = v;
    if (try fields.string("log_format")) |text| {
        spec.log_format = std.meta.stringToEnum(LogFormat, text) orelse
            return fields.fail("log_format", "expected \"text\" or \"json\"", .{});
    }
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
