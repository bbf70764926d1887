//! The tests of request.zig: every request and spec field, the messages that name them, the limits.
const std = @import("std");
const Allocator = std.mem.Allocator;
const msgpack = @import("msgpack.zig");
const Encoder = msgpack.Encoder;
const spec_module = @import("spec.zig");
const Op = spec_module.Op;
const string_bytes_max = spec_module.string_bytes_max;
const args_count_max = spec_module.args_count_max;
const env_count_max = spec_module.env_count_max;
const labels_count_max = spec_module.labels_count_max;
const limits = spec_module.limits;
const Spec = spec_module.Spec;
const LogFormat = spec_module.LogFormat;
const isValidName = spec_module.isValidName;
const reply_module = @import("reply.zig");
const encodeSpec = reply_module.encodeSpec;
const testSpec = spec_module.testSpec;
const request = @import("request.zig");
const LogArgs = request.LogArgs;
const Args = request.Args;
const parseRequest = request.parseRequest;
const Diagnostic = request.Diagnostic;
const Fields = request.Fields;
const parseSpec = request.parseSpec;

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
    try testing.expectEqual(@as(u64, 10 << 20), spec.log_max_size_bytes);
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
    try startWith(&p, 6);
    try p.kv("max_memory_bytes", 8 << 30);
    try p.kv("log_max_size_bytes", 10 << 20);
    try p.kv("log_max_files", 1000);
    try p.kv("log_timestamps", true);
    try p.kv("log_format", "json");
    try p.kv("autostart", false);
    const start = (try parseRequest(arena, p.out.items)).request.args.start;
    const spec = start.spec.?;
    try testing.expectEqual(@as(u64, 8 << 30), spec.max_memory_bytes);
    try testing.expectEqual(@as(u64, 10 << 20), spec.log_max_size_bytes);
    try testing.expectEqual(@as(u32, 1000), spec.log_max_files);
    try testing.expectEqual(true, spec.log_timestamps);
    try testing.expectEqual(LogFormat.json, spec.log_format);
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
        .{
            .key = "log_max_size_bytes",
            .set = struct {
                fn f(s: *Spec) void {
                    s.log_max_size_bytes = 0; // never rotate: off the default
                }
            }.f,
        },
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
        .{ .key = "log_format", .set = struct {
            fn f(s: *Spec) void {
                s.log_format = .json;
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

    // All five, in the documented order.
    spec = testSpec();
    spec.max_memory_bytes = 512 << 20;
    spec.log_max_size_bytes = 20 << 20;
    spec.log_max_files = 3;
    spec.log_timestamps = true;
    spec.log_format = .json;
    out.clearRetainingCapacity();
    try encodeSpec(.init(&out, testing.allocator), spec);
    const value = try msgpack.decode(arena, out.items);
    try testing.expectEqual(@as(usize, 20), value.map.len);
    for ([_][]const u8{ "labels", "max_memory_bytes", "log_max_size_bytes", "log_max_files", "log_timestamps", "log_format" }, 14..) |key, index| {
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
        .{ .key = "kill_signal", .value = .{ .int = 0 }, .message = "kill_signal: must be 1-31, got 0" },
        .{ .key = "kill_signal", .value = .{ .int = 65 }, .message = "kill_signal: must be 1-31, got 65" },
        .{ .key = "kill_signal", .value = .{ .str = "TERM" }, .message = "kill_signal: expected an unsigned integer" },
        .{ .key = "max_restarts", .value = .{ .int = 1001 }, .message = "max_restarts: must be 0-1000, got 1001" },
        .{ .key = "max_restarts", .value = .{ .int = 1_000_000 }, .message = "max_restarts: must be 0-1000, got 1000000" },
        .{ .key = "restart_window_ms", .value = .{ .int = 999 }, .message = "restart_window_ms: must be 1000-86400000, got 999" },
        .{ .key = "kill_timeout_ms", .value = .{ .int = std.math.maxInt(i64) }, .message = "kill_timeout_ms: must be 0-3600000, got 9223372036854775807" },
        .{ .key = "min_uptime_ms", .value = .{ .int = 3_600_001 }, .message = "min_uptime_ms: must be 0-3600000, got 3600001" },
        .{ .key = "backoff_max_ms", .value = .{ .int = 3_600_001 }, .message = "backoff_max_ms: must be 0-3600000, got 3600001" },
        .{ .key = "backoff_initial_ms", .value = .{ .int = 5001 }, .message = "backoff_initial_ms: 5001 is more than backoff_max_ms (5000)" },
        .{ .key = "max_memory_bytes", .value = .{ .int = (64 << 40) + 1 }, .message = "max_memory_bytes: must be 1-70368744177664, got 70368744177665" },
        .{ .key = "log_max_size_bytes", .value = .{ .int = 1023 }, .message = "log_max_size_bytes: must be 1024-1099511627776, got 1023" },
        .{ .key = "restart_window_ms", .value = .{ .int = -5 }, .message = "restart_window_ms: expected an unsigned integer" },
        .{ .key = "backoff_initial_ms", .value = .{ .boolean = true }, .message = "backoff_initial_ms: expected an unsigned integer" },
        .{ .key = "spec_hash", .value = .{ .int = 1 }, .message = "spec_hash: expected a string" },
        .{ .key = "args", .value = .{ .str = "-v" }, .message = "args: expected an array of strings" },
        .{ .key = "env", .value = .{ .str = "A=1" }, .message = "env: expected an array of strings" },
        .{ .key = "labels", .value = .{ .str = "a=b" }, .message = "labels: expected a map of strings" },
        .{ .key = "max_memory_bytes", .value = .{ .int = -1 }, .message = "max_memory_bytes: expected an unsigned integer" },
        .{ .key = "log_max_size_bytes", .value = .{ .str = "10M" }, .message = "log_max_size_bytes: expected an unsigned integer" },
        .{ .key = "log_max_files", .value = .{ .int = 0 }, .message = "log_max_files: must be 1-1000, got 0" },
        .{ .key = "log_max_files", .value = .{ .int = 1001 }, .message = "log_max_files: must be 1-1000, got 1001" },
        .{ .key = "log_timestamps", .value = .{ .int = 1 }, .message = "log_timestamps: expected true or false" },
        .{ .key = "log_format", .value = .{ .str = "xml" }, .message = "log_format: expected \"text\" or \"json\"" },
        .{ .key = "log_format", .value = .{ .boolean = true }, .message = "log_format: expected a string" },
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
