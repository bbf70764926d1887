//! The app table meets the process tree: one scan of /proc (tracker.zig) gives every app its descendants,
//! their CPU time and resident size, sends each app's pending signal to its descendants, and kills the
//! leftovers of runs that already ended. Called by the daemon once per sampling tick and whenever a signal
//! to an app's group is due (a stop, its escalation, the leftovers of an exit), at most once per
//! `scan_interval_ms` and never more than a fifth of the daemon's time (`nextScanAllowedMs`).
//!
//! At start-up, `killMarked` finds what a crashed daemon left: every process whose environment carries this
//! home's marker, whoever its parent is now (it was reparented away from the dead daemon), so a batch of
//! starts cut short by a SIGKILL leaves nothing that a new daemon would start a second copy of.
const std = @import("std");
const sys = @import("sys.zig");
const procfs = @import("procfs.zig");
const tracker_module = @import("tracker.zig");
const supervisor = @import("supervisor.zig");

const Tracker = tracker_module.Tracker;
const Table = supervisor.Table;

/// Scans come at most this often (a burst of stops in one loop round shares one scan)...
pub const scan_interval_ms = 10;
/// ...and at most this busy: the gap after a scan is at least this many times what it took, so scans asked
/// for again and again (many apps in crash loops, each exit asking for one) cost at most ~1/(1+N) of a core.
pub const scan_gap_factor = 4;

/// When the next scan may run, after one that began at `began_ms` and took `took_ms`.
pub fn nextScanAllowedMs(began_ms: u64, took_ms: u64) u64 {
    return began_ms +| @max(scan_interval_ms, took_ms *| (1 + scan_gap_factor));
}

test "scans are spaced by the interval, or by a multiple of what they cost" {
    try std.testing.expectEqual(@as(u64, 1010), nextScanAllowedMs(1000, 1));
    try std.testing.expectEqual(@as(u64, 1040), nextScanAllowedMs(1000, 8));
    try std.testing.expectEqual(@as(u64, std.math.maxInt(u64)), nextScanAllowedMs(std.math.maxInt(u64) - 5, 100));
}
/// Bytes of /proc/PID/environ read to find the marker (the daemon puts it first).
pub const environ_head_bytes = 4096;

/// Buffers the scan borrows from the daemon (allocated once at start-up).
pub const Scratch = struct {
    stat_buffer: []u8,
    environ_buffer: []u8,
};

pub const Report = struct {
    /// Descendants signalled this scan (a stop's signal, or SIGKILL for a leftover).
    signalled: u32 = 0,
    leftovers_killed: u32 = 0,
    /// Processes of apps deleted since they were seen, killed.
    deleted_apps_killed: u32 = 0,
    processes: u32 = 0,
};

const MarkerLookup = struct {
    table: *const Table,
    home_id: []const u8,
    environ_buffer: []u8,

    fn lookup(ctx: *anyopaque, pid: i32) ?tracker_module.MarkerOwner {
        const self: *MarkerLookup = @ptrCast(@alignCast(ctx));
        const environ = tracker_module.readEnvironHead(pid, self.environ_buffer) orelse return null;
        const value = tracker_module.markerValue(environ) orelse return null;
        const name = tracker_module.markerName(value, self.home_id) orelse return null;
        const slot = self.table.find(name) orelse return null;
        const app = self.table.get(slot);
        return .{
            .owner = .{ .slot = slot, .generation = self.table.generation(slot), .run = app.run },
            .main_start_time_ticks = if (app.machine.pid != 0) app.start_time_ticks else 0,
        };
    }
};

/// One scan: every app's `descendants`, `tree_cpu_ticks` and `tree_rss_pages` (main process included in the
/// sums), pending descendant signals sent, leftovers killed. error.Unsupported: no /proc (not Linux).
pub fn scan(
    tracker: *Tracker,
    allocator: std.mem.Allocator,
    table: *Table,
    daemon_pid: i32,
    home_id: []const u8,
    scratch: Scratch,
) error{ Unsupported, OutOfMemory }!Report {
    tracker.snapshotBelow(allocator, daemon_pid, scratch.stat_buffer) catch |err| switch (err) {
        error.OutOfMemory => return error.OutOfMemory,
        error.Unsupported => try tracker.snapshot(allocator, scratch.stat_buffer),
    };
    tracker.roots.clearRetainingCapacity();
    try tracker.roots.ensureTotalCapacity(allocator, table.count);
    var iterator = table.iterator();
    while (iterator.next()) |entry| {
        const app = entry.app;
        app.descendants = 0;
        app.tree_cpu_ticks = 0;
        app.tree_rss_pages = 0;
        if (app.machine.pid == 0) continue;
        tracker.roots.appendAssumeCapacity(.{
            .pid = app.machine.pid,
            .start_time_ticks = app.start_time_ticks,
            .owner = .{ .slot = entry.slot, .generation = table.generation(entry.slot), .run = app.run },
        });
    }
    var markers: MarkerLookup = .{ .table = table, .home_id = home_id, .environ_buffer = scratch.environ_buffer };
    try tracker.resolveSnapshot(allocator, .{
        .daemon_pid = daemon_pid,
        .roots = tracker.roots.items,
        .known = &tracker.known,
        .marker_owner = MarkerLookup.lookup,
        .marker_ctx = &markers,
    });

    var report: Report = .{ .processes = @intCast(tracker.processes.items.len) };
    for (tracker.processes.items) |process| {
        const owner = process.owner orelse continue;
        if (process.state == 'Z') continue;
        const app = table.lookup(owner.slot, owner.generation) orelse {
            // Its app was deleted: nothing of it may outlive it.
            if (tracker_module.signalProcess(process.pid, process.start_time_ticks, supervisor.sigkill, scratch.stat_buffer)) report.deleted_apps_killed += 1;
            continue;
        };
        app.tree_cpu_ticks +|= process.cpu_ticks;
        app.tree_rss_pages +|= process.rss_pages;
        if (process.pid == app.machine.pid) {
            // Unknown when /proc could not be read right after the spawn: learnt now.
            if (app.start_time_ticks == 0) app.start_time_ticks = process.start_time_ticks;
            continue;
        }
        app.descendants += 1;
        const machine = &app.machine;
        const current_run = owner.run == app.run and (machine.pid != 0 or machine.status == .stopping);
        const signal: u8 = if (!current_run) supervisor.sigkill else if (machine.status == .stopping and machine.killed) supervisor.sigkill else app.descendant_signal;
        if (signal == 0) continue;
        if (tracker_module.signalProcess(process.pid, process.start_time_ticks, signal, scratch.stat_buffer)) {
            if (current_run) {
                report.signalled += 1;
            } else {
                report.leftovers_killed += 1;
                app.leftovers_killed +|= 1;
            }
        }
    }
    iterator = table.iterator();
    while (iterator.next()) |entry| entry.app.descendant_signal = 0;
    return report;
}

/// Start-up: SIGKILLs every process (other than this one) whose environment carries a marker of `home_id`,
/// then waits (at most `wait_ms`) until they are gone, reaping any that are our children. Two passes: a
/// child the dead daemon had forked but not yet exec'd carries the marker only once it has exec'd.
/// Returns how many were killed.
pub fn killMarked(allocator: std.mem.Allocator, home_id: []const u8, wait_ms: u64, stat_buffer: []u8, environ_buffer: []u8) u32 {
    if (!sys.is_linux) return 0;
    var killed: std.ArrayList(Victim) = .empty;
    defer killed.deinit(allocator);
    var total: u32 = 0;
    for (0..2) |pass| {
        killed.clearRetainingCapacity();
        if (pass == 1) sys.sleepMs(10);
        findAndKill(allocator, home_id, stat_buffer, environ_buffer, &killed);
        total += @intCast(killed.items.len);
        awaitGone(killed.items, wait_ms, stat_buffer);
    }
    return total;
}

const Victim = struct { pid: i32, start_time_ticks: u64 };

fn findAndKill(allocator: std.mem.Allocator, home_id: []const u8, stat_buffer: []u8, environ_buffer: []u8, killed: *std.ArrayList(Victim)) void {
    var proc = std.fs.openDirAbsolute("/proc", .{ .iterate = true }) catch return;
    defer proc.close();
    const self = sys.getpid();
    var entries = proc.iterate();
    while (entries.next() catch null) |entry| {
        const pid = std.fmt.parseInt(i32, entry.name, 10) catch continue;
        if (pid == self) continue;
        const environ = tracker_module.readEnvironHead(pid, environ_buffer) orelse continue;
        const value = tracker_module.markerValue(environ) orelse continue;
        _ = tracker_module.markerName(value, home_id) orelse continue;
        const stat = procfs.readStat(pid, stat_buffer) catch continue;
        if (stat.state == 'Z') continue;
        if (tracker_module.signalProcess(pid, stat.start_time_ticks, supervisor.sigkill, stat_buffer)) {
            killed.append(allocator, .{ .pid = pid, .start_time_ticks = stat.start_time_ticks }) catch {};
        }
    }
}

fn awaitGone(victims: []const Victim, wait_ms: u64, stat_buffer: []u8) void {
    const give_up_ms = sys.monotonicMs() +| wait_ms;
    while (true) {
        while (sys.reapAny()) |_| {}
        var alive = false;
        for (victims) |victim| {
            const stat = procfs.readStat(victim.pid, stat_buffer) catch continue;
            if (stat.start_time_ticks == victim.start_time_ticks and stat.state != 'Z') alive = true;
        }
        if (!alive or sys.monotonicMs() >= give_up_ms) return;
        sys.sleepMs(5);
    }
}
