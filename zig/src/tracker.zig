//! Which processes belong to which app: the whole tree, not only the process group. A process that called
//! `setsid` or double-forked has left its app's group, so `kill(-pgid)` misses it; this file finds it.
//!
//! The mechanism ("procfs", what `PING` reports as `tracking`): the daemon is the child subreaper of every
//! app, so an orphaned descendant is reparented to the daemon, never to init. A scan walks down from the
//! daemon through /proc/PID/task/TID/children (all of /proc where the kernel lacks those files) and reads
//! each process's parent, start time, CPU time and resident size; a process belongs to an app when
//!   1. it is the app's main process (the daemon's unreaped child, so its pid is enough), or
//!   2. it was seen as the app's member in an earlier scan (pid and start time: a recycled pid is never
//!      taken for it), or
//!   3. its parent belongs to the app (ancestry), or
//!   4. its parent is the daemon (an orphan, its ancestry lost) and its environment carries the app's marker
//!      (`VELOS_APP_ID=NAME/HOME_ID`, set by the daemon at spawn, inherited by every descendant).
//! Members remember the run (spawn count) they were first seen in; a member of an earlier run is a leftover
//! of a process that already exited and is SIGKILLed, as the old process group is.
//!
//! No cgroups: the daemon runs at the root of a hybrid cgroup hierarchy on the machines it is built for, where
//! creating cgroups is not ours to do. The limit of this mechanism: a descendant that both clears its
//! environment and is orphaned between two scans cannot be told apart from an unrelated child of the daemon.
//!
//! `resolve` is pure (tested without processes); `Tracker.scan` reads /proc and is the one effectful part.
const std = @import("std");
const procfs = @import("procfs.zig");
const sys = @import("sys.zig");
const assert = std.debug.assert;

pub const mechanism = "procfs";

/// The environment variable every app process carries: `NAME/HOME_ID` (a name never holds a '/').
pub const marker_key = "VELOS_APP_ID";

/// At most this many processes are tracked across all apps (beyond that a scan stops remembering new members
/// and says so once); far above any real host's process count per daemon.
pub const members_max = 65536;

/// An app as the tracker needs it: its slot, the slot's generation, and the run it is on.
pub const Owner = struct {
    slot: u32,
    generation: u32,
    /// The app's spawn count when the member was first seen.
    run: u32,
};

/// A process remembered from earlier scans.
pub const Member = struct {
    owner: Owner,
    start_time_ticks: u64,
};

/// One app's main process, as the daemon knows it.
pub const Root = struct {
    pid: i32,
    start_time_ticks: u64,
    owner: Owner,
};

/// One process from the scan.
pub const Process = struct {
    pid: i32,
    ppid: i32,
    start_time_ticks: u64,
    state: u8,
    threads: u32 = 1,
    cpu_ticks: u64,
    rss_pages: u64,
    owner: ?Owner = null,
    resolved: bool = false,
};

/// What `resolve` needs from outside: the marker of an orphan (read from /proc/PID/environ by the daemon,
/// faked in tests), and the owner and run a marker names.
pub const Context = struct {
    daemon_pid: i32,
    roots: []const Root,
    known: *const std.AutoHashMapUnmanaged(i32, Member),
    /// The app an orphan's marker names, with its current run and its main process's start time (0 when no
    /// process runs); null when the orphan carries no marker of this daemon.
    marker_owner: *const fn (ctx: *anyopaque, pid: i32) ?MarkerOwner,
    marker_ctx: *anyopaque,
};

pub const MarkerOwner = struct {
    owner: Owner,
    main_start_time_ticks: u64,
};

const children_bytes_initial = 4096;
/// Room for every main process and orphan of a full table, at up to 11 bytes a pid.
const children_bytes_max = 1 << 20;

/// Longest parent chain followed (a cycle in a racy snapshot must not loop forever).
const depth_max = 4096;

/// Gives every process in `processes` its owner (or none). `index` maps a pid to its position.
pub fn resolve(processes: []Process, index: *const std.AutoHashMapUnmanaged(i32, u32), context: Context) void {
    for (processes, 0..) |_, position| _ = resolveOne(processes, index, context, @intCast(position), 0);
}

fn resolveOne(processes: []Process, index: *const std.AutoHashMapUnmanaged(i32, u32), context: Context, position: u32, depth: u32) ?Owner {
    const process = &processes[position];
    if (process.resolved) return process.owner;
    process.resolved = true; // set first: a cycle resolves to "none" rather than recursing
    process.owner = blk: {
        if (process.pid == context.daemon_pid) break :blk null;
        // A main process is the daemon's own child, not reaped yet: its pid cannot have been recycled, so
        // the pid alone names it (its start time may be unknown, when /proc could not be read at spawn).
        for (context.roots) |root| {
            if (root.pid == process.pid) break :blk root.owner;
        }
        if (context.known.get(process.pid)) |member| {
            if (member.start_time_ticks == process.start_time_ticks) break :blk member.owner;
        }
        if (process.ppid == context.daemon_pid) {
            const found = context.marker_owner(context.marker_ctx, process.pid) orelse break :blk null;
            var owner = found.owner;
            // Started before the current main process: a leftover of an earlier run.
            if (found.main_start_time_ticks == 0 or process.start_time_ticks < found.main_start_time_ticks) owner.run -%= 1;
            break :blk owner;
        }
        if (depth >= depth_max) break :blk null;
        const parent = index.get(process.ppid) orelse break :blk null;
        break :blk resolveOne(processes, index, context, parent, depth + 1);
    };
    return process.owner;
}

/// Parses a marker value `NAME/HOME_ID`: the name when HOME_ID is `home_id`.
pub fn markerName(value: []const u8, home_id: []const u8) ?[]const u8 {
    const slash = std.mem.lastIndexOfScalar(u8, value, '/') orelse return null;
    if (!std.mem.eql(u8, value[slash + 1 ..], home_id)) return null;
    if (slash == 0) return null;
    return value[0..slash];
}

/// The value of `VELOS_APP_ID` in the NUL-separated environment block `environ` (the first entry wins, as
/// getenv), or null.
pub fn markerValue(environ: []const u8) ?[]const u8 {
    var entries = std.mem.splitScalar(u8, environ, 0);
    while (entries.next()) |entry| {
        if (entry.len > marker_key.len and std.mem.startsWith(u8, entry, marker_key) and entry[marker_key.len] == '=') {
            return entry[marker_key.len + 1 ..];
        }
    }
    return null;
}

/// Reads the start of /proc/PID/environ into `buffer` (the marker is the first entry the daemon writes, so
/// the head is enough); the bytes read.
pub fn readEnvironHead(pid: i32, buffer: []u8) ?[]const u8 {
    if (!sys.is_linux) return null;
    var path_buffer: [40]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buffer, "/proc/{d}/environ", .{pid}) catch return null;
    const fd = sys.open(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0) catch return null;
    defer sys.close(fd);
    const count = sys.read(fd, buffer) catch return null;
    return buffer[0..count];
}

/// Sends `signal` to `pid` only if it is still the process that started at `start_time_ticks`: through a
/// pidfd, opened first and checked after, so the pid cannot be recycled between the check and the signal
/// (before Linux 5.3, kill after the check: a window of microseconds). False when the process is gone or
/// is another one now.
pub fn signalProcess(pid: i32, start_time_ticks: u64, signal: u8, stat_buffer: []u8) bool {
    const pidfd: ?sys.fd_t = sys.pidfdOpen(pid) catch |err| switch (err) {
        error.SRCH => return false,
        else => null,
    };
    defer if (pidfd) |fd| sys.close(fd);
    const stat = procfs.readStat(pid, stat_buffer) catch return false;
    if (stat.start_time_ticks != start_time_ticks) return false;
    if (pidfd) |fd| {
        sys.pidfdSendSignal(fd, signal) catch return false;
    } else {
        sys.kill(pid, signal) catch return false;
    }
    return true;
}

/// The scan's storage, reused from one scan to the next (grows to the host's process count, then stays).
pub const Tracker = struct {
    /// Members from the last scan (main processes excluded): pid → owner and start time.
    known: std.AutoHashMapUnmanaged(i32, Member) = .empty,
    processes: std.ArrayList(Process) = .empty,
    index: std.AutoHashMapUnmanaged(i32, u32) = .empty,
    next_known: std.AutoHashMapUnmanaged(i32, Member) = .empty,
    /// Where /proc/PID/task/TID/children is read; grows (to `children_bytes_max`) when a list fills it.
    children: std.ArrayList(u8) = .empty,
    /// The main processes, rebuilt at each scan.
    roots: std.ArrayList(Root) = .empty,
    /// The limit was hit (said once).
    full_reported: bool = false,

    pub fn deinit(tracker: *Tracker, allocator: std.mem.Allocator) void {
        tracker.known.deinit(allocator);
        tracker.processes.deinit(allocator);
        tracker.index.deinit(allocator);
        tracker.next_known.deinit(allocator);
        tracker.children.deinit(allocator);
        tracker.roots.deinit(allocator);
    }

    /// Reads the processes below `top` (the daemon) into `processes`, `top` first, following each thread's
    /// /proc/PID/task/TID/children: the cost grows with what the daemon runs, not with the host's process
    /// count. error.Unsupported when the children files are missing (no CONFIG_PROC_CHILDREN): then
    /// `snapshot` reads all of /proc instead.
    pub fn snapshotBelow(tracker: *Tracker, allocator: std.mem.Allocator, top: i32, stat_buffer: []u8) error{ OutOfMemory, Unsupported }!void {
        tracker.processes.clearRetainingCapacity();
        tracker.index.clearRetainingCapacity();
        if (!sys.is_linux) return error.Unsupported;
        if (tracker.children.capacity == 0) try tracker.children.ensureTotalCapacity(allocator, children_bytes_initial);
        if (procfs.readChildren(top, top, tracker.children.allocatedSlice()) == null) return error.Unsupported;
        try tracker.add(allocator, top, stat_buffer);
        var next: usize = 0; // the list is its own breadth-first queue
        while (next < tracker.processes.items.len) : (next += 1) {
            const parent = tracker.processes.items[next];
            if (parent.threads <= 1) {
                try tracker.addChildren(allocator, parent.pid, parent.pid, stat_buffer);
                continue;
            }
            var path_buffer: [32]u8 = undefined;
            const path = std.fmt.bufPrint(&path_buffer, "/proc/{d}/task", .{parent.pid}) catch unreachable;
            var tasks = std.fs.openDirAbsolute(path, .{ .iterate = true }) catch continue;
            defer tasks.close();
            var entries = tasks.iterate();
            while (entries.next() catch null) |entry| {
                const tid = std.fmt.parseInt(i32, entry.name, 10) catch continue;
                try tracker.addChildren(allocator, parent.pid, tid, stat_buffer);
            }
        }
    }

    fn addChildren(tracker: *Tracker, allocator: std.mem.Allocator, pid: i32, tid: i32, stat_buffer: []u8) error{OutOfMemory}!void {
        // A list that fills the buffer may be cut: read it again into twice the room (the daemon's own list
        // holds every main process).
        var text = procfs.readChildren(pid, tid, tracker.children.allocatedSlice()) orelse return;
        while (text.len + 16 >= tracker.children.capacity and tracker.children.capacity < children_bytes_max) {
            try tracker.children.ensureTotalCapacity(allocator, tracker.children.capacity * 2);
            text = procfs.readChildren(pid, tid, tracker.children.allocatedSlice()) orelse return;
        }
        var fields = std.mem.tokenizeAny(u8, text, " \n");
        while (fields.next()) |field| {
            const child = std.fmt.parseInt(i32, field, 10) catch continue;
            if (tracker.index.contains(child)) continue;
            if (tracker.processes.items.len >= members_max) return;
            try tracker.add(allocator, child, stat_buffer);
        }
    }

    fn add(tracker: *Tracker, allocator: std.mem.Allocator, pid: i32, stat_buffer: []u8) error{OutOfMemory}!void {
        const stat = procfs.readStat(pid, stat_buffer) catch return; // gone meanwhile
        try tracker.index.put(allocator, pid, @intCast(tracker.processes.items.len));
        try tracker.processes.append(allocator, .{
            .pid = pid,
            .ppid = stat.ppid,
            .start_time_ticks = stat.start_time_ticks,
            .state = stat.state,
            .threads = stat.threads,
            .cpu_ticks = stat.utime_ticks +| stat.stime_ticks,
            .rss_pages = stat.rss_pages,
        });
    }

    /// Reads every process of /proc into `processes` (zombies included: their parent link still counts).
    pub fn snapshot(tracker: *Tracker, allocator: std.mem.Allocator, stat_buffer: []u8) error{ OutOfMemory, Unsupported }!void {
        tracker.processes.clearRetainingCapacity();
        tracker.index.clearRetainingCapacity();
        if (!sys.is_linux) return error.Unsupported;
        var proc = std.fs.openDirAbsolute("/proc", .{ .iterate = true }) catch return error.Unsupported;
        defer proc.close();
        var entries = proc.iterate();
        while (entries.next() catch null) |entry| {
            const pid = std.fmt.parseInt(i32, entry.name, 10) catch continue;
            const stat = procfs.readStat(pid, stat_buffer) catch continue;
            try tracker.processes.append(allocator, .{
                .pid = pid,
                .ppid = stat.ppid,
                .start_time_ticks = stat.start_time_ticks,
                .state = stat.state,
                .cpu_ticks = stat.utime_ticks +| stat.stime_ticks,
                .rss_pages = stat.rss_pages,
            });
        }
        try tracker.index.ensureTotalCapacity(allocator, @intCast(tracker.processes.items.len));
        for (tracker.processes.items, 0..) |process, position| {
            tracker.index.putAssumeCapacity(process.pid, @intCast(position));
        }
    }

    /// Resolves the snapshot and remembers its members (main processes excluded) for the next scan.
    pub fn resolveSnapshot(tracker: *Tracker, allocator: std.mem.Allocator, context: Context) error{OutOfMemory}!void {
        resolve(tracker.processes.items, &tracker.index, context);
        tracker.next_known.clearRetainingCapacity();
        for (tracker.processes.items) |process| {
            const owner = process.owner orelse continue;
            if (process.state == 'Z' or isRoot(context.roots, process.pid)) continue;
            if (tracker.next_known.count() >= members_max) {
                tracker.full_reported = true;
                break;
            }
            try tracker.next_known.put(allocator, process.pid, .{ .owner = owner, .start_time_ticks = process.start_time_ticks });
        }
        std.mem.swap(std.AutoHashMapUnmanaged(i32, Member), &tracker.known, &tracker.next_known);
    }

    fn isRoot(roots: []const Root, pid: i32) bool {
        for (roots) |root| {
            if (root.pid == pid) return true;
        }
        return false;
    }
};

// ---------------------------------------------------------------------------------------------------------

const testing = std.testing;

const FakeMarkers = struct {
    entries: []const struct { pid: i32, found: MarkerOwner },

    fn lookup(ctx: *anyopaque, pid: i32) ?MarkerOwner {
        const fake: *const FakeMarkers = @ptrCast(@alignCast(ctx));
        for (fake.entries) |entry| {
            if (entry.pid == pid) return entry.found;
        }
        return null;
    }
};

fn fakeProcess(pid: i32, ppid: i32, start: u64) Process {
    return .{ .pid = pid, .ppid = ppid, .start_time_ticks = start, .state = 'S', .cpu_ticks = 0, .rss_pages = 0 };
}

fn buildIndex(processes: []const Process, index: *std.AutoHashMapUnmanaged(i32, u32)) !void {
    for (processes, 0..) |p, position| try index.put(testing.allocator, p.pid, @intCast(position));
}

test "resolve: main process, its setsid'd and double-forked descendants, an orphan by marker, strangers" {
    const web: Owner = .{ .slot = 0, .generation = 3, .run = 5 };
    const api: Owner = .{ .slot = 1, .generation = 0, .run = 1 };
    // 10 = daemon; 20 = web's main (start 100); 21 its child that called setsid; 22 a grandchild (listed
    // before its parent, as /proc order does not follow ancestry); 30 = api's main; 40 an orphan carrying
    // web's marker, started after web's main (this run); 41 an orphan of web started before it (a leftover);
    // 42 an orphan without a marker; 50 an unrelated process; 51 a recycled pid of a known member.
    var processes = [_]Process{
        fakeProcess(1, 0, 1),     fakeProcess(10, 1, 50),   fakeProcess(22, 21, 130), fakeProcess(20, 10, 100),
        fakeProcess(21, 20, 120), fakeProcess(30, 10, 101), fakeProcess(40, 10, 140), fakeProcess(41, 10, 90),
        fakeProcess(42, 10, 150), fakeProcess(50, 1, 5),    fakeProcess(51, 1, 160),  fakeProcess(52, 51, 170),
    };
    var index: std.AutoHashMapUnmanaged(i32, u32) = .empty;
    defer index.deinit(testing.allocator);
    try buildIndex(&processes, &index);
    var known: std.AutoHashMapUnmanaged(i32, Member) = .empty;
    defer known.deinit(testing.allocator);
    // 51 was web's member once, with another start time: now someone else's.
    try known.put(testing.allocator, 51, .{ .owner = web, .start_time_ticks = 60 });
    var markers: FakeMarkers = .{ .entries = &.{
        .{ .pid = 40, .found = .{ .owner = web, .main_start_time_ticks = 100 } },
        .{ .pid = 41, .found = .{ .owner = web, .main_start_time_ticks = 100 } },
    } };
    resolve(&processes, &index, .{
        .daemon_pid = 10,
        .roots = &.{ .{ .pid = 20, .start_time_ticks = 100, .owner = web }, .{ .pid = 30, .start_time_ticks = 101, .owner = api } },
        .known = &known,
        .marker_owner = FakeMarkers.lookup,
        .marker_ctx = &markers,
    });
    const expect = struct {
        fn owner(list: []const Process, pid: i32, expected: ?Owner) !void {
            for (list) |p| {
                if (p.pid == pid) return testing.expectEqual(expected, p.owner);
            }
            return error.TestUnexpectedResult;
        }
    }.owner;
    try expect(&processes, 1, null);
    try expect(&processes, 10, null);
    try expect(&processes, 20, web);
    try expect(&processes, 21, web);
    try expect(&processes, 22, web);
    try expect(&processes, 30, api);
    try expect(&processes, 40, web);
    try expect(&processes, 41, Owner{ .slot = 0, .generation = 3, .run = 4 });
    try expect(&processes, 42, null);
    try expect(&processes, 50, null);
    try expect(&processes, 51, null);
    try expect(&processes, 52, null);
}

test "resolve: a remembered member keeps its app after its parent died, and a parent cycle ends" {
    const web: Owner = .{ .slot = 2, .generation = 0, .run = 1 };
    // 60's parent (web's shell) died and it was reparented to the daemon (10); it cleared its environment,
    // but the tracker saw it before. 70 and 71 name each other as parent (a torn snapshot).
    var processes = [_]Process{ fakeProcess(60, 10, 300), fakeProcess(61, 60, 310), fakeProcess(70, 71, 1), fakeProcess(71, 70, 2) };
    var index: std.AutoHashMapUnmanaged(i32, u32) = .empty;
    defer index.deinit(testing.allocator);
    try buildIndex(&processes, &index);
    var known: std.AutoHashMapUnmanaged(i32, Member) = .empty;
    defer known.deinit(testing.allocator);
    try known.put(testing.allocator, 60, .{ .owner = web, .start_time_ticks = 300 });
    var markers: FakeMarkers = .{ .entries = &.{} };
    resolve(&processes, &index, .{ .daemon_pid = 10, .roots = &.{}, .known = &known, .marker_owner = FakeMarkers.lookup, .marker_ctx = &markers });
    try testing.expectEqual(@as(?Owner, web), processes[0].owner);
    try testing.expectEqual(@as(?Owner, web), processes[1].owner);
    try testing.expectEqual(@as(?Owner, null), processes[2].owner);
    try testing.expectEqual(@as(?Owner, null), processes[3].owner);
}

test "markers: the value, and the name only for this daemon's home" {
    try testing.expectEqualStrings("web/2049.77", markerValue("VELOS_APP_ID=web/2049.77\x00PATH=/bin\x00").?);
    try testing.expectEqualStrings("a/1.2", markerValue("X=1\x00VELOS_APP_IDX=no\x00VELOS_APP_ID=a/1.2").?);
    try testing.expectEqual(@as(?[]const u8, null), markerValue("PATH=/bin\x00VELOS_APP_ID\x00"));
    try testing.expectEqualStrings("web", markerName("web/2049.77", "2049.77").?);
    try testing.expectEqualStrings("my.app-1", markerName("my.app-1/5.6", "5.6").?);
    try testing.expectEqual(@as(?[]const u8, null), markerName("web/2049.78", "2049.77"));
    try testing.expectEqual(@as(?[]const u8, null), markerName("/2049.77", "2049.77"));
    try testing.expectEqual(@as(?[]const u8, null), markerName("web", "2049.77"));
}

test "signalProcess: only the process with the recorded start time" {
    if (!sys.is_linux) return error.SkipZigTest;
    const pid = try sys.fork();
    if (pid == 0) {
        sys.sleepMs(10_000);
        std.c._exit(0);
    }
    var buffer: [1024]u8 = undefined;
    const stat = try procfs.readStat(pid, &buffer);
    try testing.expect(!signalProcess(pid, stat.start_time_ticks + 1, 9, &buffer));
    try testing.expect(sys.processExists(pid));
    try testing.expect(signalProcess(pid, stat.start_time_ticks, 9, &buffer));
    try testing.expectEqual(sys.Exit{ .signal = 9 }, sys.waitPidExit(pid));
    try testing.expect(!signalProcess(pid, stat.start_time_ticks, 9, &buffer));
}

test "snapshotBelow: this process's child and grandchild, and nothing above" {
    if (!sys.is_linux) return error.SkipZigTest;
    const pid = try sys.fork();
    if (pid == 0) {
        // The child forks a grandchild that calls setsid: still below us.
        const grandchild = std.c.fork();
        if (grandchild == 0) {
            _ = std.c.setsid();
            sys.sleepMs(10_000);
            std.c._exit(0);
        }
        sys.sleepMs(10_000);
        std.c._exit(0);
    }
    defer {
        sys.kill(pid, 9) catch {};
        _ = sys.waitPidExit(pid);
    }
    var tracker: Tracker = .{};
    defer tracker.deinit(testing.allocator);
    var stat_buffer: [1024]u8 = undefined;
    const self = sys.getpid();
    var found_grandchild: ?i32 = null;
    const deadline_ms = sys.monotonicMs() + 5000;
    while (found_grandchild == null) {
        tracker.snapshotBelow(testing.allocator, self, &stat_buffer) catch |err| switch (err) {
            error.Unsupported => return error.SkipZigTest,
            else => return err,
        };
        try testing.expectEqual(self, tracker.processes.items[0].pid);
        for (tracker.processes.items) |p| {
            if (p.ppid == pid) found_grandchild = p.pid;
            try testing.expect(p.pid != 1); // nothing above us
        }
        try testing.expect(sys.monotonicMs() < deadline_ms);
        if (found_grandchild == null) sys.sleepMs(5);
    }
    try testing.expect(tracker.index.contains(pid));
    // The grandchild is not ours to reap: kill it by pid (it is in a session of its own).
    sys.kill(found_grandchild.?, 9) catch {};
}

test "snapshot: this process and its child are in it" {
    if (!sys.is_linux) return error.SkipZigTest;
    const pid = try sys.fork();
    if (pid == 0) {
        sys.sleepMs(10_000);
        std.c._exit(0);
    }
    defer {
        sys.kill(pid, 9) catch {};
        _ = sys.waitPidExit(pid);
    }
    var tracker: Tracker = .{};
    defer tracker.deinit(testing.allocator);
    var buffer: [1024]u8 = undefined;
    try tracker.snapshot(testing.allocator, &buffer);
    const position = tracker.index.get(pid) orelse return error.TestUnexpectedResult;
    try testing.expectEqual(sys.getpid(), tracker.processes.items[position].ppid);
}
