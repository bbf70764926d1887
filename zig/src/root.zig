//! Root of the Velos Zig core: the C ABI exports (see zig/include/velos_core.h), the panic handler, and the
//! test index. The daemon itself is daemon.zig.
const std = @import("std");
const builtin = @import("builtin");
const daemon = @import("daemon.zig");

pub const version = "0.1.0";

pub const Status = @import("status.zig").Status;

pub const daemon_detach: u32 = 1;

pub const DaemonResult = extern struct {
    holder_pid: i32,
    message_len: u32,
    message: [512]u8,
};

/// Nothing unwinds across the C ABI: a panic (a bug of ours) prints its message and aborts the process.
pub const panic = std.debug.FullPanic(panicAbort);

fn panicAbort(message: []const u8, first_trace_address: ?usize) noreturn {
    @branchHint(.cold);
    const prefix = "velos core: a bug in the daemon; please report it with the trace below\n";
    _ = std.c.write(2, prefix, prefix.len);
    // Prints the message and a stack trace, then aborts (never unwinds).
    std.debug.defaultPanic(message, first_trace_address);
}

/// The longest VELOS_HOME accepted (PATH_MAX); the socket path must also fit in sun_path (checked later).
const home_bytes_max = 4095;

export fn velos_daemon_run(home: ?[*]const u8, home_len: usize, flags: u32, result: ?*DaemonResult) i32 {
    const out = result orelse return @intFromEnum(Status.invalid_argument);
    out.* = .{ .holder_pid = 0, .message_len = 0, .message = undefined };
    var failure: daemon.Failure = .{ .status = .internal };
    const status = blk: {
        const home_pointer = home orelse break :blk invalid(&failure, "home is a null pointer");
        if (home_len == 0) break :blk invalid(&failure, "home is empty");
        if (home_len > home_bytes_max) break :blk invalid(&failure, "home is longer than 4095 bytes");
        const home_bytes = home_pointer[0..home_len];
        if (std.mem.indexOfScalar(u8, home_bytes, 0) != null) break :blk invalid(&failure, "home contains a NUL byte");
        if (flags & ~daemon_detach != 0) break :blk invalid(&failure, "unknown flags");
        break :blk daemon.run(home_bytes, .{ .detach = flags & daemon_detach != 0 }, &failure);
    };
    if (status != .ok) {
        const message = failure.message();
        @memcpy(out.message[0..message.len], message);
        out.message_len = @intCast(message.len);
        out.holder_pid = failure.holder_pid;
    }
    return @intFromEnum(status);
}

fn invalid(failure: *daemon.Failure, message: []const u8) Status {
    failure.status = .invalid_argument;
    @memcpy(failure.buffer[0..message.len], message);
    failure.len = message.len;
    return .invalid_argument;
}

export fn velos_core_version() [*:0]const u8 {
    return version;
}

test "the C header declares what this file exports" {
    const header = std.fs.cwd().readFileAlloc(std.testing.allocator, "zig/include/velos_core.h", 1 << 20) catch |err| {
        std.debug.print("reading zig/include/velos_core.h (tests run from the repository root): {s}\n", .{@errorName(err)});
        return err;
    };
    defer std.testing.allocator.free(header);
    const expected = [_][]const u8{
        "int32_t velos_daemon_run(const uint8_t *home, size_t home_len, uint32_t flags, velos_daemon_result *result);",
        "const char *velos_core_version(void);",
        "#define VELOS_DAEMON_DETACH 1u",
        "int32_t holder_pid;",
        "uint32_t message_len;",
        "uint8_t message[512];",
        "VELOS_STATUS_OK = 0,",
        "VELOS_STATUS_ALREADY_RUNNING = 1,",
        "VELOS_STATUS_HOME_UNUSABLE = 2,",
        "VELOS_STATUS_SOCKET_FAILED = 3,",
        "VELOS_STATUS_INVALID_ARGUMENT = 4,",
        "VELOS_STATUS_INTERNAL = 5,",
    };
    for (expected) |declaration| {
        if (std.mem.indexOf(u8, header, declaration) == null) {
            std.debug.print("velos_core.h lacks: {s}\n", .{declaration});
            return error.TestUnexpectedResult;
        }
    }
    try std.testing.expectEqual(@as(usize, 520), @sizeOf(DaemonResult));
    try std.testing.expectEqual(daemon_detach, 1);
}

test "velos_daemon_run refuses bad arguments without running" {
    var result: DaemonResult = undefined;
    try std.testing.expectEqual(@intFromEnum(Status.invalid_argument), velos_daemon_run(null, 3, 0, &result));
    try std.testing.expectEqualStrings("home is a null pointer", result.message[0..result.message_len]);
    try std.testing.expectEqual(@intFromEnum(Status.invalid_argument), velos_daemon_run("x", 0, 0, &result));
    try std.testing.expectEqual(@intFromEnum(Status.invalid_argument), velos_daemon_run("/tmp/x", 6, 0, null));
    try std.testing.expectEqual(@intFromEnum(Status.invalid_argument), velos_daemon_run("relative", 8, 0, &result));
    try std.testing.expectEqualStrings("VELOS_HOME must be an absolute path, got \"relative\"", result.message[0..result.message_len]);
}

test {
    std.testing.refAllDecls(@This());
    // Pure modules (codec helper).
    _ = @import("msgpack.zig");
    _ = @import("frame.zig");
    _ = @import("protocol.zig");
    _ = @import("ring.zig");
    _ = @import("procfs.zig");
    _ = @import("tracker.zig");
    _ = @import("golden_test.zig");
    // Daemon modules.
    _ = @import("sys.zig");
    _ = @import("poller.zig");
    _ = @import("spawn.zig");
    _ = @import("supervisor.zig");
    _ = @import("logs.zig");
    _ = @import("home.zig");
    _ = @import("log_rotation.zig");
    _ = @import("log_json.zig");
    _ = @import("daemon_log.zig");
    _ = @import("fuzz_test.zig");
    _ = @import("request_test.zig");
    _ = @import("state.zig");
    _ = @import("tree.zig");
    _ = @import("diag.zig");
    _ = @import("restore.zig");
    _ = @import("server.zig");
    _ = @import("dispatch.zig");
    _ = @import("daemon.zig");
    _ = @import("daemon_test.zig");
}
