//! End-to-end test of the daemon inside `zig build test` (Linux): a forked child runs the real loop on a
//! temporary VELOS_HOME, the test talks to it over the socket with real frames, then shuts it down.
const std = @import("std");
const sys = @import("sys.zig");
const frame = @import("frame.zig");
const msgpack = @import("msgpack.zig");
const daemon = @import("daemon.zig");
const protocol = @import("protocol.zig");

const testing = std.testing;

const TestClient = struct {
    fd: sys.fd_t,
    inbound: std.ArrayList(u8) = .empty,
    arena: std.heap.ArenaAllocator,
    next_id: u32 = 1,

    fn connect(socket_path: []const u8) !TestClient {
        const deadline_ms = sys.monotonicMs() + 3000;
        while (true) {
            const fd = try std.posix.socket(std.posix.AF.UNIX, std.posix.SOCK.STREAM | std.posix.SOCK.CLOEXEC, 0);
            var address = std.mem.zeroes(std.posix.sockaddr.un);
            address.family = std.posix.AF.UNIX;
            @memcpy(address.path[0..socket_path.len], socket_path);
            if (std.posix.connect(fd, @ptrCast(&address), @sizeOf(std.posix.sockaddr.un))) {
                return .{ .fd = fd, .arena = .init(testing.allocator) };
            } else |err| {
                std.posix.close(fd);
                if (sys.monotonicMs() > deadline_ms) return err;
                sys.sleepMs(5);
            }
        }
    }

    fn deinit(client: *TestClient) void {
        sys.close(client.fd);
        client.inbound.deinit(testing.allocator);
        client.arena.deinit();
    }

    /// Sends `{id, op, args}` where `writeArgs(encoder, context)` writes the args map.
    fn send(client: *TestClient, op: protocol.Op, comptime writeArgs: anytype, context: anytype) !u32 {
        var out: std.ArrayList(u8) = .empty;
        defer out.deinit(testing.allocator);
        const start = try frame.beginFrame(&out, testing.allocator);
        const encoder: msgpack.Encoder = .init(&out, testing.allocator);
        const id = client.next_id;
        client.next_id += 1;
        try encoder.mapHeader(3);
        try encoder.str("id");
        try encoder.uint(id);
        try encoder.str("op");
        try encoder.uint(@intFromEnum(op));
        try encoder.str("args");
        try writeArgs(encoder, context);
        frame.endFrame(&out, start);
        try sys.writeAll(client.fd, out.items);
        return id;
    }

    fn sendRaw(client: *TestClient, bytes: []const u8) !void {
        try sys.writeAll(client.fd, bytes);
    }

    /// The next reply, decoded (valid until the arena is reset); null at end of file.
    fn receive(client: *TestClient) !?msgpack.Value {
        while (true) {
            if (try frame.decodeHeader(client.inbound.items)) |header| {
                const total = frame.header_len + header.payload_len;
                if (client.inbound.items.len >= total) {
                    const payload = try client.arena.allocator().dupe(u8, client.inbound.items[frame.header_len..total]);
                    const rest = client.inbound.items.len - total;
                    std.mem.copyForwards(u8, client.inbound.items[0..rest], client.inbound.items[total..]);
                    client.inbound.items.len = rest;
                    return try msgpack.decode(client.arena.allocator(), payload);
                }
            }
            var buffer: [65536]u8 = undefined;
            const count = sys.read(client.fd, &buffer) catch |err| switch (err) {
                error.CONNRESET => return null,
                else => return err,
            };
            if (count == 0) return null;
            try client.inbound.appendSlice(testing.allocator, buffer[0..count]);
        }
    }

    fn call(client: *TestClient, op: protocol.Op, comptime writeArgs: anytype, context: anytype) !msgpack.Value {
        const id = try client.send(op, writeArgs, context);
        const reply = (try client.receive()) orelse return error.EndOfStream;
        try testing.expectEqual(@as(?u64, id), reply.mapGet("id").?.asU64());
        return reply;
    }
};

fn noArgs(encoder: msgpack.Encoder, _: void) !void {
    try encoder.mapHeader(0);
}

fn nameArgs(encoder: msgpack.Encoder, name: []const u8) !void {
    try encoder.mapHeader(1);
    try encoder.str("name");
    try encoder.str(name);
}

const ShSpec = struct { name: []const u8, script: []const u8, restart: []const u8 };

fn shSpecArgs(encoder: msgpack.Encoder, spec: ShSpec) !void {
    try encoder.mapHeader(6);
    try encoder.str("name");
    try encoder.str(spec.name);
    try encoder.str("command");
    try encoder.str("sh");
    try encoder.str("args");
    try encoder.arrayHeader(2);
    try encoder.str("-c");
    try encoder.str(spec.script);
    try encoder.str("cwd");
    try encoder.str("/");
    try encoder.str("env");
    try encoder.arrayHeader(1);
    try encoder.str("PATH=/usr/bin:/bin");
    try encoder.str("restart");
    try encoder.str(spec.restart);
}

fn logArgs(encoder: msgpack.Encoder, name: []const u8) !void {
    try encoder.mapHeader(3);
    try encoder.str("name");
    try encoder.str(name);
    try encoder.str("stream");
    try encoder.str("out");
    try encoder.str("lines");
    try encoder.uint(10);
}

fn data(reply: msgpack.Value) msgpack.Value {
    return reply.mapGet("data") orelse {
        std.debug.print("not an ok reply: {any}\n", .{reply});
        @panic("expected data");
    };
}

/// Polls INFO until `name` has `status` and a pid other than `not_pid` (for "running"); returns the record.
fn waitForStatus(client: *TestClient, name: []const u8, status: []const u8, not_pid: i32) !msgpack.Value {
    const deadline_ms = sys.monotonicMs() + 3000;
    while (true) {
        const record = data(try client.call(.process_info, nameArgs, name));
        const pid: i32 = @intCast(record.mapGet("pid").?.asU64().?);
        if (std.mem.eql(u8, record.mapGet("status").?.asStr().?, status) and (not_pid == 0 or pid != not_pid)) return record;
        if (sys.monotonicMs() > deadline_ms) {
            std.debug.print("timed out waiting for {s} to be {s}: {any}\n", .{ name, status, record });
            return error.Timeout;
        }
        sys.sleepMs(2);
    }
}

fn errorCode(reply: msgpack.Value) []const u8 {
    return reply.mapGet("error").?.mapGet("code").?.asStr().?;
}

test "daemon end to end: ping, spawn and exit code, logs, errors, bad frame, shutdown" {
    if (!sys.is_linux) return;
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const directory = try tmp.dir.realpathAlloc(testing.allocator, ".");
    defer testing.allocator.free(directory);
    const home = try std.fmt.allocPrint(testing.allocator, "{s}/home", .{directory});
    defer testing.allocator.free(home);
    const socket_path = try std.fmt.allocPrint(testing.allocator, "{s}/velos.sock", .{home});
    defer testing.allocator.free(socket_path);
    const log_path = try std.fmt.allocPrintSentinel(testing.allocator, "{s}/daemon.log", .{directory}, 0);
    defer testing.allocator.free(log_path);
    if (socket_path.len >= sys.sun_path_max) return; // a very deep temporary directory: skip

    const daemon_pid = try sys.fork();
    if (daemon_pid == 0) {
        // The daemon's diagnostics go to a file, not into the test output.
        const log_fd = std.c.open(log_path, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true }, @as(std.c.mode_t, 0o600));
        _ = std.c.dup2(log_fd, 2);
        var failure: daemon.Failure = .{ .status = .internal };
        const status = daemon.run(home, .{}, &failure);
        if (status != .ok) std.debug.print("daemon failed: {s}\n", .{failure.message()});
        std.c._exit(@intCast(@intFromEnum(status)));
    }
    var daemon_reaped = false;
    defer if (!daemon_reaped) {
        sys.kill(daemon_pid, sys.SIG.KILL) catch {};
        _ = sys.waitPidExit(daemon_pid);
    };

    var client = try TestClient.connect(socket_path);
    defer client.deinit();

    const ping = data(try client.call(.ping, noArgs, {}));
    try testing.expectEqual(@as(?u64, @intCast(daemon_pid)), ping.mapGet("pid").?.asU64());
    try testing.expectEqualStrings("0.1.0", ping.mapGet("version").?.asStr().?);

    // The brief's example: output and exit code come back through the daemon.
    const started = data(try client.call(.process_start, shSpecArgs, ShSpec{ .name = "hello", .script = "echo hi; exit 3", .restart = "never" }));
    try testing.expectEqualStrings("hello", started.mapGet("name").?.asStr().?);
    var info: msgpack.Value = undefined;
    const deadline_ms = sys.monotonicMs() + 3000;
    while (true) {
        info = data(try client.call(.process_info, nameArgs, @as([]const u8, "hello")));
        if (std.mem.eql(u8, info.mapGet("status").?.asStr().?, "stopped")) break;
        try testing.expect(sys.monotonicMs() < deadline_ms);
        sys.sleepMs(5);
    }
    try testing.expectEqual(@as(?i64, 3), info.mapGet("exit_code").?.asI64());
    try testing.expectEqual(@as(?u64, 0), info.mapGet("pid").?.asU64());
    const log = data(try client.call(.log_read, logArgs, @as([]const u8, "hello")));
    try testing.expectEqualStrings("hi\n", log.mapGet("data").?.asBin().?);
    const log_file = try tmp.dir.readFileAlloc(testing.allocator, "home/logs/hello-out.log", 1 << 20);
    defer testing.allocator.free(log_file);
    try testing.expectEqualStrings("hi\n", log_file);

    // kill -9 of a running app: restarted at once with a new pid; STOP then brings it down for good.
    const sleeper = data(try client.call(.process_start, shSpecArgs, ShSpec{ .name = "sleeper", .script = "exec sleep 100", .restart = "always" }));
    const first_pid: i32 = @intCast(sleeper.mapGet("pid").?.asU64().?);
    try sys.kill(first_pid, sys.SIG.KILL);
    const restarted = try waitForStatus(&client, "sleeper", "running", first_pid);
    try testing.expectEqual(@as(?u64, 1), restarted.mapGet("restarts").?.asU64());
    try testing.expectEqual(@as(?u64, 9), restarted.mapGet("exit_signal").?.asU64());
    const stopping = data(try client.call(.process_stop, nameArgs, @as([]const u8, "sleeper")));
    try testing.expectEqualStrings("stopping", stopping.mapGet("status").?.asStr().?);
    _ = try waitForStatus(&client, "sleeper", "stopped", 0);
    const deleted = data(try client.call(.process_delete, nameArgs, @as([]const u8, "sleeper")));
    try testing.expectEqualStrings("sleeper", deleted.mapGet("name").?.asStr().?);
    try testing.expectEqualStrings("not_found", errorCode(try client.call(.process_info, nameArgs, @as([]const u8, "sleeper"))));

    // Errors keep the connection.
    try testing.expectEqualStrings("not_found", errorCode(try client.call(.process_info, nameArgs, @as([]const u8, "nobody"))));
    const stop_unknown = try client.call(.process_stop, nameArgs, @as([]const u8, "nobody"));
    try testing.expectEqualStrings("not_found", errorCode(stop_unknown));
    try testing.expect((try client.call(.ping, noArgs, {})).mapGet("ok").?.asBool().?);

    // A second daemon on the same home is refused with the holder's pid.
    // (In-process: the lock is held by the child, so this process sees it taken.)
    var failure: daemon.Failure = .{ .status = .internal };
    try testing.expectEqual(@import("root.zig").Status.already_running, daemon.run(home, .{}, &failure));
    try testing.expectEqual(daemon_pid, failure.holder_pid);

    // A bad frame: one bad_frame error with id 0, and only that connection closes.
    {
        var bad = try TestClient.connect(socket_path);
        defer bad.deinit();
        try bad.sendRaw("XX\x01\x00\x00\x00\x00");
        const reply = (try bad.receive()).?;
        try testing.expectEqual(@as(?u64, 0), reply.mapGet("id").?.asU64());
        try testing.expectEqualStrings("bad_frame", errorCode(reply));
        try testing.expectEqual(@as(?msgpack.Value, null), try bad.receive());
    }
    try testing.expect((try client.call(.ping, noArgs, {})).mapGet("ok").?.asBool().?);

    // SHUTDOWN: the reply first, then the daemon stops and exits 0, removing its socket and pid file.
    const bye = try client.call(.shutdown, noArgs, {});
    try testing.expect(bye.mapGet("ok").?.asBool().?);
    try testing.expectEqual(sys.Exit{ .code = 0 }, sys.waitPidExit(daemon_pid));
    daemon_reaped = true;
    try testing.expectError(error.FileNotFound, tmp.dir.access("home/velos.sock", .{}));
    try testing.expectError(error.FileNotFound, tmp.dir.access("home/velos.pid", .{}));
    const saved = try tmp.dir.readFileAlloc(testing.allocator, "home/state.msgpack", 1 << 20);
    defer testing.allocator.free(saved);
    var arena = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena.deinit();
    const apps = try protocol.decodeState(arena.allocator(), saved);
    try testing.expectEqual(@as(usize, 1), apps.len);
    try testing.expectEqualStrings("hello", apps[0].spec.name);
    try testing.expectEqual(@as(u32, 0), apps[0].pid);
}
