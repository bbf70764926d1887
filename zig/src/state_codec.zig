//! The state file's codec ($VELOS_HOME/state.msgpack, plain msgpack without a frame header; docs/PROTOCOL.md
//! "State file"): encodeState(out, a, apps), decodeState(arena, bytes) / decodeStateDiagnosed(arena, bytes,
//! &diagnostic). Specs in it are validated exactly like PROCESS_START's (request.zig's `parseSpec`). Reading
//! and writing the file itself is state.zig's.
const std = @import("std");
const Allocator = std.mem.Allocator;
const msgpack = @import("msgpack.zig");
const frame = @import("frame.zig");
const Encoder = msgpack.Encoder;
const spec_module = @import("spec.zig");
const Spec = spec_module.Spec;
const request_module = @import("request.zig");
const reply_module = @import("reply.zig");
const encodeSpec = reply_module.encodeSpec;
const testSpec = spec_module.testSpec;
const Fields = request_module.Fields;
const Invalid = request_module.Invalid;
const Diagnostic = request_module.Diagnostic;
const parseSpec = request_module.parseSpec;

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
    const root = msgpack.decodeBounded(arena, bytes, std.math.maxInt(usize)) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        error.Truncated, error.InvalidType, error.TooDeep, error.TrailingBytes, error.OverBudget => {
            diagnostic.message = switch (err) {
                error.OverBudget => "more arrays and maps than a state file of this size can hold",
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
    second.log_format = .json;
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
