//! The persisted app table ($VELOS_HOME/state.msgpack, format in protocol.zig / PROTOCOL.md "State file").
//!
//! Writes go to `state.msgpack.tmp`, then `rename` over `state.msgpack`. The rename is atomic, so after a
//! daemon crash (the case this file exists for: the kernel still has every page we wrote) the file is either
//! the old table or the new one, never a mix. Without fsync a power loss may lose the last few changes (and
//! on some filesystems leave an empty file, which loads as "corrupt" and is set aside); an fsync per change
//! would cost milliseconds on every START/STOP, so it is done only where durability is asked for: on SAVE
//! and at shutdown (the file, then its directory, so the rename itself is durable).
//!
//! At start-up every recorded child that is still alive is killed (its whole process group), but only when
//! /proc/PID/stat still shows the start time we recorded: a pid recycled by an unrelated process is never
//! touched. Then the daemon starts again the apps that were desired running: never two copies of one app.
const std = @import("std");
const sys = @import("sys.zig");
const protocol = @import("protocol.zig");
const procfs = @import("procfs.zig");
const supervisor = @import("supervisor.zig");

pub const SavedApp = protocol.SavedApp;

/// The state file of the largest table (4096 apps with every spec at its limits) is far below this; a file
/// over it is not ours.
pub const file_bytes_max = 256 * 1024 * 1024;

/// Encodes `table` into `out` (cleared first).
pub fn encode(allocator: std.mem.Allocator, table: *const supervisor.Table, out: *std.ArrayList(u8)) error{OutOfMemory}!void {
    out.clearRetainingCapacity();
    const apps = try allocator.alloc(SavedApp, table.count);
    defer allocator.free(apps);
    var used: usize = 0;
    var iterator = table.iterator();
    while (iterator.next()) |entry| {
        const app = entry.app;
        apps[used] = .{
            .spec = app.spec,
            .desired_running = app.machine.desired_running,
            .pid = @intCast(app.machine.pid),
            .start_time_ticks = if (app.machine.pid != 0) app.start_time_ticks else 0,
            .pgid = @intCast(app.machine.pgid),
            .outcome = app.machine.outcome(),
        };
        used += 1;
    }
    std.debug.assert(used == apps.len);
    try protocol.encodeState(out, allocator, apps);
}

pub const Durability = enum { rename_only, fsync };

pub const WriteStep = enum { open, write, fsync, rename };

/// Writes `bytes` to `tmp_path` and renames it over `path`. On failure `step` says which call failed.
pub fn writeFile(
    bytes: []const u8,
    tmp_path: [*:0]const u8,
    path: [*:0]const u8,
    directory: [*:0]const u8,
    durability: Durability,
    step: *WriteStep,
) sys.Error!void {
    step.* = .open;
    // Never through a symlink planted at the name, nor blocking on a FIFO (the home is checked by home.zig).
    const fd = try sys.open(tmp_path, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true, .NOFOLLOW = true, .NONBLOCK = true }, 0o600);
    var fd_open = true;
    defer if (fd_open) sys.close(fd);
    step.* = .write;
    try sys.writeAll(fd, bytes);
    if (durability == .fsync) {
        step.* = .fsync;
        try sys.fsync(fd);
    }
    sys.close(fd);
    fd_open = false;
    step.* = .rename;
    try sys.rename(tmp_path, path);
    if (durability == .fsync) {
        step.* = .fsync;
        const directory_fd = try sys.open(directory, .{ .ACCMODE = .RDONLY, .DIRECTORY = true, .CLOEXEC = true }, 0);
        defer sys.close(directory_fd);
        try sys.fsync(directory_fd);
    }
}

pub const Loaded = union(enum) {
    /// No state file: a first start.
    missing,
    apps: []SavedApp,
    /// The file could not be decoded; `message` says why.
    corrupt: []const u8,
    /// The file exists but could not be read.
    unreadable: sys.Error,
};

/// Reads and decodes the state file; everything is allocated from `arena`.
pub fn load(arena: std.mem.Allocator, path: [*:0]const u8) error{OutOfMemory}!Loaded {
    const fd = sys.open(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true, .NOFOLLOW = true, .NONBLOCK = true }, 0) catch |err| switch (err) {
        error.NOENT => return .missing,
        else => return .{ .unreadable = err },
    };
    defer sys.close(fd);
    const st = sys.fstat(fd) catch |err| return .{ .unreadable = err };
    const size: usize = @intCast(st.size);
    if (size > file_bytes_max) return .{ .corrupt = "the file is larger than any state file this daemon writes" };
    const bytes = try arena.alloc(u8, size);
    var got: usize = 0;
    while (got < size) {
        const count = sys.read(fd, bytes[got..]) catch |err| return .{ .unreadable = err };
        if (count == 0) break;
        got += count;
    }
    var diagnostic: protocol.StateDiagnostic = .{};
    const apps = protocol.decodeStateDiagnosed(arena, bytes[0..got], &diagnostic) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        error.Malformed, error.UnsupportedVersion => return .{
            .corrupt = std.fmt.allocPrint(arena, "{s}: {s}", .{ @errorName(err), diagnostic.message }) catch
                return error.OutOfMemory,
        },
    };
    return .{ .apps = apps };
}

/// What became of one recorded process at start-up.
pub const Leftover = enum {
    /// No process was recorded, or it is gone.
    none,
    /// The pid is alive but started at another time: someone else's process now. Not touched.
    recycled,
    /// Ours, still alive: SIGKILL sent to its group.
    killed,
    /// /proc is not available (not Linux): the process cannot be identified safely, so it is left alone.
    unverifiable,
};

/// Kills the recorded process of `saved` if it is provably still ours (pid and start time match).
pub fn killLeftover(saved: SavedApp, stat_buffer: []u8) Leftover {
    if (saved.pid == 0) return .none;
    const pid: i32 = @intCast(saved.pid);
    const stat = procfs.readStat(pid, stat_buffer) catch |err| return switch (err) {
        error.Unsupported => .unverifiable,
        error.ProcessGone => .none,
        else => .unverifiable,
    };
    if (stat.start_time_ticks != saved.start_time_ticks) return .recycled;
    if (stat.state == 'Z') return .none; // dead already, waiting for its new parent to reap it
    if (saved.pgid > 0 and stat.pgrp == @as(i32, @intCast(saved.pgid))) {
        sys.kill(-@as(i32, @intCast(saved.pgid)), supervisor.sigkill) catch {};
    }
    sys.kill(pid, supervisor.sigkill) catch {};
    return .killed;
}

/// Whether the leader we killed (`pid` with `start_time_ticks`) is gone. A zombie counts as gone: it holds
/// no port and no file, and only its new parent (init) can reap it.
pub fn leaderGone(saved: SavedApp, stat_buffer: []u8) bool {
    const pid: i32 = @intCast(saved.pid);
    const stat = procfs.readStat(pid, stat_buffer) catch return true;
    return stat.start_time_ticks != saved.start_time_ticks or stat.state == 'Z';
}

/// Sets `alive[i]` when process group `pgids[i]` still has a member that is not a zombie: one scan of /proc
/// (members reparented to init stay zombies until init reaps them, which kill(-pgid, 0) cannot tell).
/// Off Linux, kill(-pgid, 0) decides.
pub fn markLiveGroups(pgids: []const i32, alive: []bool, stat_buffer: []u8) void {
    @memset(alive, false);
    if (!sys.is_linux) {
        for (pgids, alive) |pgid, *live| live.* = pgid > 0 and sys.groupExists(pgid);
        return;
    }
    var proc = std.fs.openDirAbsolute("/proc", .{ .iterate = true }) catch {
        for (pgids, alive) |pgid, *live| live.* = pgid > 0 and sys.groupExists(pgid);
        return;
    };
    defer proc.close();
    var entries = proc.iterate();
    while (entries.next() catch null) |entry| {
        const pid = std.fmt.parseInt(i32, entry.name, 10) catch continue;
        const stat = procfs.readStat(pid, stat_buffer) catch continue;
        if (stat.state == 'Z') continue;
        for (pgids, alive) |pgid, *live| {
            if (pgid > 0 and stat.pgrp == pgid) live.* = true;
        }
    }
}

const testing = std.testing;

test "encode then load round-trips the table, and rename leaves no temporary file" {
    const allocator = testing.allocator;
    var table: supervisor.Table = .{};
    defer table.deinit(allocator);
    const web = try table.add(allocator, .{
        .name = "web",
        .command = "node",
        .args = &.{"server.js"},
        .cwd = "/srv",
        .env = &.{"PORT=8080"},
        .spec_hash = "abc",
    });
    _ = try table.add(allocator, .{ .name = "worker", .command = "/bin/true", .cwd = "/" });
    table.get(web).machine.desired_running = true;

    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(allocator);
    try encode(allocator, &table, &out);

    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const directory = try tmp.dir.realpathAlloc(allocator, ".");
    defer allocator.free(directory);
    const path = try std.fmt.allocPrintSentinel(allocator, "{s}/state.msgpack", .{directory}, 0);
    defer allocator.free(path);
    const tmp_path = try std.fmt.allocPrintSentinel(allocator, "{s}/state.msgpack.tmp", .{directory}, 0);
    defer allocator.free(tmp_path);
    const directory_z = try allocator.dupeZ(u8, directory);
    defer allocator.free(directory_z);

    var arena_state = std.heap.ArenaAllocator.init(allocator);
    defer arena_state.deinit();
    try testing.expectEqual(Loaded.missing, try load(arena_state.allocator(), path));

    var step: WriteStep = undefined;
    try writeFile(out.items, tmp_path, path, directory_z, .fsync, &step);
    try testing.expectError(error.FileNotFound, tmp.dir.access("state.msgpack.tmp", .{}));

    const loaded = try load(arena_state.allocator(), path);
    const apps = loaded.apps;
    try testing.expectEqual(@as(usize, 2), apps.len);
    try testing.expectEqualStrings("web", apps[0].spec.name);
    try testing.expect(apps[0].desired_running);
    try testing.expectEqualStrings("server.js", apps[0].spec.args[0]);
    try testing.expectEqualStrings("abc", apps[0].spec.spec_hash);
    try testing.expect(!apps[1].desired_running);

    try tmp.dir.writeFile(.{ .sub_path = "state.msgpack", .data = "\x93garbage" });
    const corrupt = try load(arena_state.allocator(), path);
    try testing.expect(corrupt == .corrupt);
}

test "a leftover is killed only when its start time matches" {
    if (!sys.is_linux) return;
    // A child of ours that stands in for a process recorded by a previous daemon.
    const pid = try sys.fork();
    if (pid == 0) {
        _ = std.c.setpgid(0, 0);
        sys.sleepMs(10_000);
        std.c._exit(0);
    }
    sys.setpgid(pid, pid) catch {};
    defer _ = sys.waitPidExit(pid);
    var buffer: [1024]u8 = undefined;
    const stat = try procfs.readStat(pid, &buffer);
    var saved: SavedApp = .{
        .spec = .{ .name = "x", .command = "/bin/true", .cwd = "/" },
        .desired_running = true,
        .pid = @intCast(pid),
        .start_time_ticks = stat.start_time_ticks + 1,
        .pgid = @intCast(pid),
    };
    try testing.expectEqual(Leftover.recycled, killLeftover(saved, &buffer));
    try testing.expect(sys.processExists(pid));
    var alive: [2]bool = undefined;
    markLiveGroups(&.{ pid, 0 }, &alive, &buffer);
    try testing.expectEqualSlices(bool, &.{ true, false }, &alive);
    saved.start_time_ticks = stat.start_time_ticks;
    try testing.expectEqual(Leftover.killed, killLeftover(saved, &buffer));
    // Until reaped it is a zombie: gone as far as start-up is concerned.
    sys.sleepMs(20);
    try testing.expect(leaderGone(saved, &buffer));
    markLiveGroups(&.{pid}, alive[0..1], &buffer);
    try testing.expect(!alive[0]);
    try testing.expectEqual(sys.Exit{ .signal = 9 }, sys.waitPidExit(pid));
}

test "the outcome of a finished or given-up app round-trips; a file without it reads as none" {
    const allocator = testing.allocator;
    var table: supervisor.Table = .{};
    defer table.deinit(allocator);
    const job = try table.add(allocator, .{ .name = "migrate", .command = "/bin/true", .cwd = "/" });
    table.get(job).machine = supervisor.Machine.restored(true, .completed);
    const broken = try table.add(allocator, .{ .name = "broken", .command = "/bin/false", .cwd = "/" });
    table.get(broken).machine = supervisor.Machine.restored(true, .errored);
    _ = try table.add(allocator, .{ .name = "idle", .command = "/bin/true", .cwd = "/" });

    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(allocator);
    try encode(allocator, &table, &out);
    var arena_state = std.heap.ArenaAllocator.init(allocator);
    defer arena_state.deinit();
    const apps = try protocol.decodeState(arena_state.allocator(), out.items);
    try testing.expectEqual(@as(?protocol.Outcome, .completed), apps[0].outcome);
    try testing.expectEqual(@as(?protocol.Outcome, .errored), apps[1].outcome);
    try testing.expectEqual(@as(?protocol.Outcome, null), apps[2].outcome);
    try testing.expect(apps[0].desired_running);
}
