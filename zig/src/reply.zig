//! Replies out (docs/PROTOCOL.md "Reply"): each `write*` appends one whole frame (header included) to `out`,
//! or on error.OutOfMemory leaves `out` as it was. Key order is PROTOCOL.md's.
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
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const msgpack = @import("msgpack.zig");
const frame = @import("frame.zig");
const Value = msgpack.Value;
const Encoder = msgpack.Encoder;
const spec_module = @import("spec.zig");
const string_bytes_max = spec_module.string_bytes_max;
const error_codes = spec_module.error_codes;
const Spec = spec_module.Spec;
const Record = spec_module.Record;
const Ping = spec_module.Ping;
const testSpec = spec_module.testSpec;

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
    const counters = [_]struct { key: []const u8, value: u64 }{
        .{ .key = "cpu_time_ms", .value = record.cpu_time_ms },
        .{ .key = "log_out_lines", .value = record.log_out_lines },
        .{ .key = "log_out_bytes", .value = record.log_out_bytes },
        .{ .key = "log_err_lines", .value = record.log_err_lines },
        .{ .key = "log_err_bytes", .value = record.log_err_bytes },
    };
    var counters_present: u32 = 0;
    for (counters) |counter| counters_present += @intFromBool(counter.value != 0);
    try enc.mapHeader(11 + counters_present);
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
    // Counters last, each only when not 0: a client that predates one ignores it, and a record without
    // any encodes as before they existed.
    for (counters) |counter| {
        if (counter.value == 0) continue;
        try enc.str(counter.key);
        try enc.uint(counter.value);
    }
}

/// An app spec as stored (no `expected_hash`, no `replace`), keys in PROTOCOL.md's order; each in-place key
/// only when it differs from its default (so a spec without them encodes as before they existed).
pub fn encodeSpec(enc: Encoder, spec: Spec) Encoder.Error!void {
    const defaults: Spec = .{ .name = "", .command = "", .cwd = "" };
    const with_max_memory = spec.max_memory_bytes != defaults.max_memory_bytes;
    const with_log_max_size = spec.log_max_size_bytes != defaults.log_max_size_bytes;
    const with_log_max_files = spec.log_max_files != defaults.log_max_files;
    const with_log_timestamps = spec.log_timestamps != defaults.log_timestamps;
    const with_log_format = spec.log_format != defaults.log_format;
    const in_place_count = @as(u32, @intFromBool(with_max_memory)) + @intFromBool(with_log_max_size) +
        @intFromBool(with_log_max_files) + @intFromBool(with_log_timestamps) + @intFromBool(with_log_format);
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
    if (with_log_format) {
        try enc.str("log_format");
        try enc.str(@tagName(spec.log_format));
    }
}

/// PING's data: `{pid, version, uptime_ms, apps}`.
pub fn encodePing(enc: Encoder, pid: u32, version: []const u8, uptime_ms: u64, apps: u32) Encoder.Error!void {
    try encodePingData(enc, .{ .pid = pid, .version = version, .uptime_ms = uptime_ms, .apps = apps });
}

/// PING's data: `{pid, version, uptime_ms, apps, tracking?}` (`tracking` only when set).
pub fn encodePingData(enc: Encoder, ping: Ping) Encoder.Error!void {
    try enc.mapHeader(if (ping.tracking != null) 5 else 4);
    try enc.str("pid");
    try enc.uint(ping.pid);
    try enc.str("version");
    try enc.str(ping.version);
    try enc.str("uptime_ms");
    try enc.uint(ping.uptime_ms);
    try enc.str("apps");
    try enc.uint(ping.apps);
    if (ping.tracking) |tracking| {
        try enc.str("tracking");
        try enc.str(tracking);
    }
}

// ------------------------------------------------------------------------------------------------- tests

const testing = std.testing;
const request_module = @import("request.zig");
const Diagnostic = request_module.Diagnostic;
const Fields = request_module.Fields;
const parseSpec = request_module.parseSpec;

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

test "replies: a record carries cpu_time_ms last, and only once it is not 0" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    const spec = testSpec();
    var record = testRecord(&spec);
    try writeRecord(&out, testing.allocator, 1, record);
    const without = try msgpack.decode(arena, out.items[frame.header_len..]);
    try testing.expectEqual(@as(usize, 11), without.mapGet("data").?.map.len);
    try testing.expect(without.mapGet("data").?.mapGet("cpu_time_ms") == null);

    out.clearRetainingCapacity();
    record.cpu_time_ms = 12340;
    try writeRecord(&out, testing.allocator, 2, record);
    const data = (try msgpack.decode(arena, out.items[frame.header_len..])).mapGet("data").?;
    try testing.expectEqual(@as(usize, 12), data.map.len);
    try testing.expectEqualStrings("cpu_time_ms", data.map[11].key.str);
    try testing.expectEqual(@as(u64, 12340), data.map[11].value.asU64().?);
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
