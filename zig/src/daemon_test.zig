//! End-to-end test of the daemon inside `zig build test` (Linux): a forked child runs the real loop on a
//! temporary VELOS_HOME, the test talks to it over the socket with real frames, then shuts it down.
const std = @import("std");
const sys = @import("sys.zig");
const frame = @import("frame.zig");
const msgpack = @import("msgpack.zig");
const daemon = @import("daemon.zig");
const protocol = @import("protocol.zig");
const log_rotation = @import("log_rotation.zig");

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
    try shSpecEntries(encoder, spec.name, spec.script, spec.restart);
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
    const started = data(try client.call(.process_start, shSpecArgs, ShSpec{ .name = "hello", .script = "echo hi; echo oops >&2; exit 3", .restart = "never" }));
    try testing.expectEqualStrings("hello", started.mapGet("name").?.asStr().?);
    var info: msgpack.Value = undefined;
    const deadline_ms = sys.monotonicMs() + 3000;
    while (true) {
        info = data(try client.call(.process_info, nameArgs, @as([]const u8, "hello")));
        if (std.mem.eql(u8, info.mapGet("status").?.asStr().?, "completed")) break;
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
    // The log counters, per stream, at the end of the record.
    while (true) {
        info = data(try client.call(.process_info, nameArgs, @as([]const u8, "hello")));
        if (info.mapGet("log_err_bytes") != null) break;
        try testing.expect(sys.monotonicMs() < deadline_ms);
        sys.sleepMs(5);
    }
    try testing.expectEqual(@as(?u64, 1), info.mapGet("log_out_lines").?.asU64());
    try testing.expectEqual(@as(?u64, 3), info.mapGet("log_out_bytes").?.asU64());
    try testing.expectEqual(@as(?u64, 1), info.mapGet("log_err_lines").?.asU64());
    try testing.expectEqual(@as(?u64, 5), info.mapGet("log_err_bytes").?.asU64());

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

/// A daemon forked on a fresh temporary VELOS_HOME, its diagnostics in `daemon.log` beside it.
const TestDaemon = struct {
    tmp: testing.TmpDir,
    directory: []u8,
    home: []u8,
    socket_path: []u8,
    pid: sys.pid_t = 0,

    /// Null when the temporary directory is too deep for a socket path.
    fn start() !?TestDaemon {
        return startWith(.{});
    }

    fn startWith(options: daemon.Options) !?TestDaemon {
        var tmp = testing.tmpDir(.{});
        errdefer tmp.cleanup();
        const directory = try tmp.dir.realpathAlloc(testing.allocator, ".");
        errdefer testing.allocator.free(directory);
        const home = try std.fmt.allocPrint(testing.allocator, "{s}/home", .{directory});
        errdefer testing.allocator.free(home);
        const socket_path = try std.fmt.allocPrint(testing.allocator, "{s}/velos.sock", .{home});
        errdefer testing.allocator.free(socket_path);
        if (socket_path.len >= sys.sun_path_max) {
            testing.allocator.free(socket_path);
            testing.allocator.free(home);
            testing.allocator.free(directory);
            tmp.cleanup();
            return null;
        }
        const log_path = try std.fmt.allocPrintSentinel(testing.allocator, "{s}/daemon.log", .{directory}, 0);
        defer testing.allocator.free(log_path);
        const pid = try sys.fork();
        if (pid == 0) {
            const log_fd = std.c.open(log_path, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true }, @as(std.c.mode_t, 0o600));
            _ = std.c.dup2(log_fd, 2);
            var failure: daemon.Failure = .{ .status = .internal };
            const status = daemon.run(home, options, &failure);
            if (status != .ok) std.debug.print("daemon failed: {s}\n", .{failure.message()});
            std.c._exit(@intCast(@intFromEnum(status)));
        }
        return .{ .tmp = tmp, .directory = directory, .home = home, .socket_path = socket_path, .pid = pid };
    }

    /// SHUTDOWN through `client`, and the daemon's exit status.
    fn shutdown(test_daemon: *TestDaemon, client: *TestClient) !void {
        const bye = try client.call(.shutdown, noArgs, {});
        try testing.expect(bye.mapGet("ok").?.asBool().?);
        try testing.expectEqual(sys.Exit{ .code = 0 }, sys.waitPidExit(test_daemon.pid));
        test_daemon.pid = 0;
    }

    fn deinit(test_daemon: *TestDaemon) void {
        if (test_daemon.pid != 0) {
            sys.kill(test_daemon.pid, sys.SIG.KILL) catch {};
            _ = sys.waitPidExit(test_daemon.pid);
        }
        testing.allocator.free(test_daemon.socket_path);
        testing.allocator.free(test_daemon.home);
        testing.allocator.free(test_daemon.directory);
        test_daemon.tmp.cleanup();
    }

    fn readLog(test_daemon: *TestDaemon, file_name: []const u8) ![]u8 {
        var path_buffer: [256]u8 = undefined;
        const path = try std.fmt.bufPrint(&path_buffer, "home/logs/{s}", .{file_name});
        return test_daemon.tmp.dir.readFileAlloc(testing.allocator, path, 1 << 24);
    }
};

/// A `sh -c SCRIPT` app with the in-place keys and the START arguments.
const App = struct {
    name: []const u8,
    script: []const u8,
    restart: []const u8 = "always",
    max_memory_bytes: u64 = 0,
    log_max_size_bytes: u64 = 0,
    log_max_files: u32 = 5,
    log_timestamps: bool = false,
    replace: bool = false,
    autostart: bool = true,
};

fn appArgs(encoder: msgpack.Encoder, app: App) !void {
    const optional_count = @as(u32, @intFromBool(app.max_memory_bytes != 0)) + @intFromBool(app.log_max_size_bytes != 0) +
        @intFromBool(app.log_max_files != 5) + @intFromBool(app.log_timestamps) + @intFromBool(app.replace) +
        @intFromBool(!app.autostart);
    try encoder.mapHeader(6 + optional_count);
    try shSpecEntries(encoder, app.name, app.script, app.restart);
    if (app.max_memory_bytes != 0) {
        try encoder.str("max_memory_bytes");
        try encoder.uint(app.max_memory_bytes);
    }
    if (app.log_max_size_bytes != 0) {
        try encoder.str("log_max_size_bytes");
        try encoder.uint(app.log_max_size_bytes);
    }
    if (app.log_max_files != 5) {
        try encoder.str("log_max_files");
        try encoder.uint(app.log_max_files);
    }
    if (app.log_timestamps) {
        try encoder.str("log_timestamps");
        try encoder.boolean(true);
    }
    if (app.replace) {
        try encoder.str("replace");
        try encoder.boolean(true);
    }
    if (!app.autostart) {
        try encoder.str("autostart");
        try encoder.boolean(false);
    }
}

/// The 6 entries of `shSpecArgs`, without the map header.
fn shSpecEntries(encoder: msgpack.Encoder, name: []const u8, script: []const u8, restart: []const u8) !void {
    try encoder.str("name");
    try encoder.str(name);
    try encoder.str("command");
    try encoder.str("sh");
    try encoder.str("args");
    try encoder.arrayHeader(2);
    try encoder.str("-c");
    try encoder.str(script);
    try encoder.str("cwd");
    try encoder.str("/");
    try encoder.str("env");
    try encoder.arrayHeader(1);
    try encoder.str("PATH=/usr/bin:/bin");
    try encoder.str("restart");
    try encoder.str(restart);
}

fn nameNoAutostartArgs(encoder: msgpack.Encoder, name: []const u8) !void {
    try encoder.mapHeader(2);
    try encoder.str("name");
    try encoder.str(name);
    try encoder.str("autostart");
    try encoder.boolean(false);
}

fn lastLineArgs(encoder: msgpack.Encoder, name: []const u8) !void {
    try encoder.mapHeader(3);
    try encoder.str("name");
    try encoder.str(name);
    try encoder.str("stream");
    try encoder.str("out");
    try encoder.str("lines");
    try encoder.uint(1);
}

fn recordPid(record: msgpack.Value) i32 {
    return @intCast(record.mapGet("pid").?.asU64().?);
}

fn recordStatus(record: msgpack.Value) []const u8 {
    return record.mapGet("status").?.asStr().?;
}

/// Polls `condition(record)` on INFO of `name` for up to `timeout_ms`; returns the record that met it.
fn waitForRecord(client: *TestClient, name: []const u8, timeout_ms: u64, comptime condition: fn (msgpack.Value) bool) !msgpack.Value {
    const deadline_ms = sys.monotonicMs() + timeout_ms;
    while (true) {
        const record = data(try client.call(.process_info, nameArgs, name));
        if (condition(record)) return record;
        if (sys.monotonicMs() > deadline_ms) {
            std.debug.print("timed out waiting on {s}: {any}\n", .{ name, record });
            return error.Timeout;
        }
        sys.sleepMs(10);
    }
}

test "daemon end to end: autostart false, update in place without a restart, timestamps switched on live" {
    if (!sys.is_linux) return;
    var test_daemon = (try TestDaemon.start()) orelse return;
    defer test_daemon.deinit();
    var client = try TestClient.connect(test_daemon.socket_path);
    defer client.deinit();

    const ticker: App = .{ .name = "ticker", .script = "while :; do echo tick; sleep 0.02; done" };

    // autostart = false: registered, stopped, nothing runs; a START by name without autostart changes nothing.
    var app = ticker;
    app.autostart = false;
    const created = data(try client.call(.process_start, appArgs, app));
    try testing.expectEqualStrings("stopped", recordStatus(created));
    try testing.expectEqual(@as(i32, 0), recordPid(created));
    try testing.expectEqualStrings("stopped", recordStatus(data(try client.call(.process_start, nameNoAutostartArgs, @as([]const u8, "ticker")))));
    sys.sleepMs(50);
    try testing.expectEqualStrings("stopped", recordStatus(data(try client.call(.process_info, nameArgs, @as([]const u8, "ticker")))));

    // Started by a plain START of the same spec.
    const running = data(try client.call(.process_start, appArgs, ticker));
    try testing.expectEqualStrings("running", recordStatus(running));
    const pid = recordPid(running);
    // A first line read (and written raw) before the update.
    const first_deadline_ms = sys.monotonicMs() + 3000;
    while (true) {
        const ring = data(try client.call(.log_read, lastLineArgs, @as([]const u8, "ticker")));
        if (ring.mapGet("data").?.asBin().?.len > 0) break;
        try testing.expect(sys.monotonicMs() < first_deadline_ms);
        sys.sleepMs(5);
    }

    // The in-place keys changed (no replace): same process, the record carries the new spec.
    app = ticker;
    app.log_timestamps = true;
    app.max_memory_bytes = 1 << 30;
    app.log_max_size_bytes = 1 << 20;
    app.log_max_files = 2;
    const updated = data(try client.call(.process_start, appArgs, app));
    try testing.expectEqual(pid, recordPid(updated));
    try testing.expectEqualStrings("running", recordStatus(updated));
    const spec = updated.mapGet("spec").?;
    try testing.expectEqual(@as(?u64, 1 << 30), spec.mapGet("max_memory_bytes").?.asU64());
    try testing.expectEqual(@as(?u64, 1 << 20), spec.mapGet("log_max_size_bytes").?.asU64());
    try testing.expectEqual(@as(?u64, 2), spec.mapGet("log_max_files").?.asU64());
    try testing.expectEqual(@as(?bool, true), spec.mapGet("log_timestamps").?.asBool());
    try testing.expectEqual(@as(?u64, 0), updated.mapGet("restarts").?.asU64());

    // Lines written from now on carry a timestamp in the file (and not in the ring).
    const deadline_ms = sys.monotonicMs() + 3000;
    while (true) {
        const file = try test_daemon.readLog("ticker-out.log");
        defer testing.allocator.free(file);
        try testing.expect(std.mem.startsWith(u8, file, "tick\n")); // written before the update: raw
        if (std.mem.indexOf(u8, file, "Z tick\n")) |at| {
            // `\n2026-11-23T22:20:55.123Z tick`
            const line_start = std.mem.lastIndexOfScalar(u8, file[0..at], '\n').? + 1;
            try testing.expectEqual(@as(usize, 23), at - line_start);
            try testing.expectEqual(@as(u8, 'T'), file[line_start + 10]);
            break;
        }
        try testing.expect(sys.monotonicMs() < deadline_ms);
        sys.sleepMs(20);
    }
    const ring = data(try client.call(.log_read, lastLineArgs, @as([]const u8, "ticker")));
    try testing.expectEqualStrings("tick\n", ring.mapGet("data").?.asBin().?);
    try testing.expectEqual(pid, recordPid(data(try client.call(.process_info, nameArgs, @as([]const u8, "ticker")))));

    // A restart-relevant change is still `exists` without replace; with replace and autostart = false
    // the running app is restarted with the new spec (it keeps running).
    app.script = "while :; do echo tock; sleep 0.02; done";
    try testing.expectEqualStrings("exists", errorCode(try client.call(.process_start, appArgs, app)));
    app.replace = true;
    app.autostart = false;
    _ = try client.call(.process_start, appArgs, app);
    _ = try waitForStatus(&client, "ticker", "running", pid);

    // STOP, then a replacing START with autostart = false keeps it stopped.
    _ = try client.call(.process_stop, nameArgs, @as([]const u8, "ticker"));
    _ = try waitForStatus(&client, "ticker", "stopped", 0);
    app.script = "exec sleep 100";
    const replaced = data(try client.call(.process_start, appArgs, app));
    try testing.expectEqualStrings("stopped", recordStatus(replaced));
    try testing.expectEqualStrings("exec sleep 100", replaced.mapGet("spec").?.mapGet("args").?.asArray().?[1].asStr().?);

    try test_daemon.shutdown(&client);
    // The state file keeps the in-place keys.
    const saved = try test_daemon.tmp.dir.readFileAlloc(testing.allocator, "home/state.msgpack", 1 << 20);
    defer testing.allocator.free(saved);
    var arena = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena.deinit();
    const apps = try protocol.decodeState(arena.allocator(), saved);
    try testing.expectEqual(@as(usize, 1), apps.len);
    try testing.expectEqual(@as(u64, 1 << 30), apps[0].spec.max_memory_bytes);
    try testing.expectEqual(@as(u32, 2), apps[0].spec.log_max_files);
    try testing.expect(apps[0].spec.log_timestamps);
    try testing.expect(!apps[0].desired_running);
}

test "daemon end to end: max_memory restarts an app above it" {
    if (!sys.is_linux) return;
    var test_daemon = (try TestDaemon.start()) orelse return;
    defer test_daemon.deinit();
    var client = try TestClient.connect(test_daemon.socket_path);
    defer client.deinit();

    // ~20 MB held by the shell itself (the main process) against a limit of 8 MiB.
    const hog: App = .{
        .name = "hog",
        .script = "x=$(head -c 20000000 /dev/zero | tr \"\\0\" a); sleep 100",
        .restart = "never", // a memory restart happens whatever the policy
        .max_memory_bytes = 8 << 20,
    };
    const started = data(try client.call(.process_start, appArgs, hog));
    const first_pid = recordPid(started);
    const restarted = try waitForRecord(&client, "hog", 10_000, struct {
        fn met(record: msgpack.Value) bool {
            return record.mapGet("restarts").?.asU64().? >= 1 and std.mem.eql(u8, recordStatus(record), "running");
        }
    }.met);
    try testing.expect(recordPid(restarted) != first_pid);
    try testing.expectEqual(@as(?u64, 15), restarted.mapGet("exit_signal").?.asU64()); // stopped the usual way
    const last_error = restarted.mapGet("last_error").?.asStr().?;
    try testing.expect(std.mem.startsWith(u8, last_error, "restarted by the daemon: memory "));
    try testing.expect(std.mem.endsWith(u8, last_error, " MiB above max_memory 8 MiB"));
    try testing.expect(!sys.processExists(first_pid) or isZombie(first_pid));

    // Raising the limit in place stops the restarts, without a restart of its own (one already under way
    // when the update lands still completes).
    var raised = hog;
    raised.max_memory_bytes = 1 << 30;
    const updated = data(try client.call(.process_start, appArgs, raised));
    try testing.expectEqual(@as(?u64, 1 << 30), updated.mapGet("spec").?.mapGet("max_memory_bytes").?.asU64());
    const current = try waitForStatus(&client, "hog", "running", 0);
    sys.sleepMs(1500); // more than a sample interval, the hog still above 8 MiB
    const later = data(try client.call(.process_info, nameArgs, @as([]const u8, "hog")));
    try testing.expectEqual(recordPid(current), recordPid(later));
    try testing.expectEqual(current.mapGet("restarts").?.asU64(), later.mapGet("restarts").?.asU64());
    try testing.expect(later.mapGet("memory").?.asU64().? > 8 << 20);
    try test_daemon.shutdown(&client);
}

fn isZombie(pid: i32) bool {
    var buffer: [1024]u8 = undefined;
    const stat = @import("procfs.zig").readStat(pid, &buffer) catch return true;
    return stat.state == 'Z';
}

test "daemon end to end: log rotation through a running app keeps every byte it keeps, in order" {
    if (!sys.is_linux) return;
    var test_daemon = (try TestDaemon.start()) orelse return;
    defer test_daemon.deinit();
    var client = try TestClient.connect(test_daemon.socket_path);
    defer client.deinit();

    const writer: App = .{
        .name = "writer",
        // A pause every 500 lines: at least six reads, so at least four rotations, however the scheduler
        // interleaves the writer and the daemon (one read per write would otherwise depend on it).
        .script = "i=0; while [ $i -lt 3000 ]; do echo \"line $i\"; i=$((i+1)); [ $((i % 500)) -eq 0 ] && sleep 0.05; done; true",
        .restart = "never",
        .log_max_size_bytes = 2000,
        .log_max_files = 3,
    };
    _ = try client.call(.process_start, appArgs, writer);
    // Every line has reached the file once the ring has the last one.
    const deadline_ms = sys.monotonicMs() + 5000;
    while (true) {
        const ring = data(try client.call(.log_read, lastLineArgs, @as([]const u8, "writer")));
        if (std.mem.eql(u8, ring.mapGet("data").?.asBin().?, "line 2999\n")) break;
        try testing.expect(sys.monotonicMs() < deadline_ms);
        sys.sleepMs(10);
    }
    var expected: std.ArrayList(u8) = .empty;
    defer expected.deinit(testing.allocator);
    for (0..3000) |index| {
        var line: [32]u8 = undefined;
        try expected.appendSlice(testing.allocator, try std.fmt.bufPrint(&line, "line {d}\n", .{index}));
    }
    var kept: std.ArrayList(u8) = .empty;
    defer kept.deinit(testing.allocator);
    // The newest three generations, oldest first (log_rotation.zig), then the live file.
    var logs_dir = try test_daemon.tmp.dir.openDir("home/logs", .{ .iterate = true });
    defer logs_dir.close();
    const generations = try log_rotation.Generations.scan(logs_dir.fd, "writer-out.log");
    // How many rotations there were depends on how the pipe reads fell (one rotation per read at most).
    try testing.expect(generations.count() >= 1 and generations.count() <= 3);
    var generation = generations.oldest;
    var name_buffer: [64]u8 = undefined;
    while (generation < generations.next) : (generation += 1) {
        const bytes = try test_daemon.readLog(try log_rotation.generationName(&name_buffer, "writer-out.log", generation));
        defer testing.allocator.free(bytes);
        try testing.expect(bytes.len > 2000);
        try kept.appendSlice(testing.allocator, bytes);
    }
    const live = try test_daemon.readLog("writer-out.log");
    defer testing.allocator.free(live);
    try kept.appendSlice(testing.allocator, live);
    try testing.expectError(error.FileNotFound, test_daemon.readLog(try log_rotation.generationName(&name_buffer, "writer-out.log", generations.oldest - 1)));
    try testing.expect(kept.items.len > generations.count() * 2000);
    try testing.expect(std.mem.endsWith(u8, expected.items, kept.items));
    try testing.expect(std.mem.startsWith(u8, kept.items, "line "));
    try test_daemon.shutdown(&client);
}

test "daemon end to end: an idle client is closed with the reason, a busy one is not" {
    if (!sys.is_linux) return;
    var test_daemon = (try TestDaemon.startWith(.{ .client_idle_timeout_ms = 300 })) orelse return;
    defer test_daemon.deinit();
    var idle = try TestClient.connect(test_daemon.socket_path);
    defer idle.deinit();
    // Without the timeout the read below would wait forever: fail after 5 s instead (EAGAIN).
    const five_seconds: std.posix.timeval = .{ .sec = 5, .usec = 0 };
    try std.posix.setsockopt(idle.fd, std.posix.SOL.SOCKET, std.posix.SO.RCVTIMEO, std.mem.asBytes(&five_seconds));
    var busy = try TestClient.connect(test_daemon.socket_path);
    defer busy.deinit();
    // The busy client keeps talking past the timeout; the idle one says nothing.
    const began_ms = sys.monotonicMs();
    while (sys.monotonicMs() - began_ms < 600) {
        _ = data(try busy.call(.ping, noArgs, {}));
        sys.sleepMs(50);
    }
    // The idle one got a `limit` error saying why, then the end of the connection.
    const refusal = (try idle.receive()) orelse return error.TestExpectedRefusal;
    try testing.expectEqualStrings("limit", errorCode(refusal));
    try testing.expectEqual(@as(?u64, 0), refusal.mapGet("id").?.asU64());
    try testing.expect(std.mem.indexOf(u8, refusal.mapGet("error").?.mapGet("message").?.asStr().?, "idle") != null);
    try testing.expectEqual(@as(?msgpack.Value, null), try idle.receive());
    try test_daemon.shutdown(&busy);
}
