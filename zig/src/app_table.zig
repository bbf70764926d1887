//! The app table: one `App` per name, in stable slots (a slot index plus its generation names an app in the
//! poller's tokens, so an event for a deleted app is recognised as stale). An `App` is the daemon's whole
//! record of one app: its spec, its supervision machine (machine.zig), logs, samples and process-tree counts.
const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");
const procfs = @import("procfs.zig");
const logs = @import("logs.zig");
const machine_module = @import("machine.zig");
const StreamLog = logs.StreamLog;
const Machine = machine_module.Machine;
const Policy = machine_module.Policy;
const Spec = protocol.Spec;
const Status = protocol.Status;

/// PROTOCOL.md: at most this many apps; START of one more gets a `limit` error.
pub const apps_max = 4096;

pub const App = struct {
    /// Owned (cloned from the request or the state file).
    spec: Spec,
    machine: Machine = .{},
    /// Start time (clock ticks after boot, /proc/PID/stat field 22) of the current process, so that after a
    /// daemon crash a recycled pid is never mistaken for ours. 0 when unknown.
    start_time_ticks: u64 = 0,
    /// Owned; why the app is errored or why the last spawn failed.
    last_error: ?[]u8 = null,
    cpu_percent: f64 = 0,
    /// CPU ticks counted by every sample since the app was registered, across restarts (never reset): the
    /// record's `cpu_time_ms`.
    cpu_ticks_total: u64 = 0,
    memory_bytes: u64 = 0,
    sampler: procfs.CpuSampler = .{},
    /// stdout and stderr, indexed by `protocol.Stream`.
    logs: [2]StreamLog = .{ .{}, .{} },
    /// LOG_STREAM clients following this app (any stream).
    subscribers: u32 = 0,
    /// Bumped when the spec is replaced (the state file must be written again).
    spec_version: u32 = 0,
    /// Spawns so far: the run a tracked descendant belongs to (tracker.zig); one of an earlier run is a
    /// leftover, killed.
    run: u32 = 0,
    /// Live descendants outside the main process at the last scan of the process tree (any group): a stop
    /// is over only when the group is empty and this is 0.
    descendants: u32 = 0,
    /// A signal the next scan sends to every descendant (a stop's kill signal, or SIGKILL once it escalates).
    descendant_signal: u8 = 0,
    /// The budget of daemon.log lines about this app's runs (daemon.zig `appDiag`): the window's start, the
    /// lines written in it, and those left out.
    diag_window_start_ms: u64 = 0,
    diag_lines: u32 = 0,
    diag_suppressed: u32 = 0,
    /// Leftovers of ended runs the last scan killed, for one (budgeted) line in daemon.log.
    leftovers_killed: u32 = 0,
    /// CPU ticks and resident pages of the whole tree (main process included) at the last scan.
    tree_cpu_ticks: u64 = 0,
    tree_rss_pages: u64 = 0,

    pub fn policy(app: *const App) Policy {
        return Policy.fromSpec(&app.spec);
    }

    /// What the spec asks of the log files (read at each write, so an in-place update applies at once).
    pub fn logOptions(app: *const App) logs.Options {
        return .{
            .max_size_bytes = app.spec.log_max_size_bytes,
            .max_files = app.spec.log_max_files,
            .timestamps = app.spec.log_timestamps,
            .format = app.spec.log_format,
        };
    }

    pub fn log(app: *App, stream: protocol.Stream) *StreamLog {
        return &app.logs[@intFromEnum(stream)];
    }

    pub fn setLastError(app: *App, allocator: std.mem.Allocator, message: ?[]const u8) void {
        if (app.last_error) |old| allocator.free(old);
        app.last_error = null;
        if (message) |text| app.last_error = allocator.dupe(u8, text) catch null;
    }

    pub fn beingDeleted(app: *const App) bool {
        return app.machine.after_stop == .delete;
    }

    pub fn record(app: *const App, now_ms: u64) protocol.Record {
        const machine = &app.machine;
        const live = machine.pid != 0;
        return .{
            .name = app.spec.name,
            .pid = @intCast(machine.pid),
            .status = machine.status,
            .restarts = machine.restarts,
            .cpu = if (live) app.cpu_percent else 0,
            .memory = if (live) app.memory_bytes else 0,
            .uptime_ms = if (live) now_ms -| machine.started_ms else 0,
            .exit_code = if (machine.exit) |exit| switch (exit) {
                .code => |code| code,
                .signal => null,
            } else null,
            .exit_signal = if (machine.exit) |exit| switch (exit) {
                .code => null,
                .signal => |signal| signal,
            } else null,
            .last_error = app.last_error,
            .cpu_time_ms = app.cpu_ticks_total *| 1000 / procfs.clockTicksPerSecond(),
            .log_out_lines = app.logs[@intFromEnum(protocol.Stream.out)].lines_total,
            .log_out_bytes = app.logs[@intFromEnum(protocol.Stream.out)].bytes_total,
            .log_err_lines = app.logs[@intFromEnum(protocol.Stream.err)].lines_total,
            .log_err_bytes = app.logs[@intFromEnum(protocol.Stream.err)].bytes_total,
            .spec = &app.spec,
        };
    }
};

pub const Table = struct {
    slots: std.ArrayList(Slot) = .empty,
    free_slots: std.ArrayList(u32) = .empty,
    /// Keys borrow `app.spec.name`.
    by_name: std.StringHashMapUnmanaged(u32) = .empty,
    count: u32 = 0,

    pub const Slot = struct {
        app: ?*App = null,
        /// Bumped each time the slot is freed.
        generation: u32 = 0,
    };

    pub const AddError = error{ OutOfMemory, Limit };

    pub fn deinit(table: *Table, allocator: std.mem.Allocator) void {
        for (table.slots.items) |slot| {
            if (slot.app) |app| freeApp(allocator, app);
        }
        table.slots.deinit(allocator);
        table.free_slots.deinit(allocator);
        table.by_name.deinit(allocator);
        table.* = undefined;
    }

    fn freeApp(allocator: std.mem.Allocator, app: *App) void {
        app.spec.deinit(allocator);
        if (app.last_error) |text| allocator.free(text);
        allocator.destroy(app);
    }

    pub fn invariants(table: *const Table) void {
        assert(table.count <= apps_max);
        assert(table.by_name.count() == table.count);
        assert(table.slots.items.len == table.count + table.free_slots.items.len);
    }

    pub fn find(table: *const Table, name: []const u8) ?u32 {
        return table.by_name.get(name);
    }

    pub fn get(table: *const Table, slot: u32) *App {
        return table.slots.items[slot].app.?;
    }

    pub fn generation(table: *const Table, slot: u32) u32 {
        return table.slots.items[slot].generation;
    }

    /// The app in `slot` if it is still the one of `slot_generation`.
    pub fn lookup(table: *const Table, slot: u32, slot_generation: u32) ?*App {
        if (slot >= table.slots.items.len) return null;
        const entry = table.slots.items[slot];
        if (entry.generation != slot_generation) return null;
        return entry.app;
    }

    /// Registers a new app with a copy of `spec` (stopped, no process, logs not open yet).
    pub fn add(table: *Table, allocator: std.mem.Allocator, spec: Spec) AddError!u32 {
        table.invariants();
        defer table.invariants();
        assert(table.find(spec.name) == null);
        if (table.count >= apps_max) return error.Limit;
        const app = try allocator.create(App);
        errdefer allocator.destroy(app);
        app.* = .{ .spec = try spec.clone(allocator) };
        errdefer app.spec.deinit(allocator);
        try table.by_name.ensureUnusedCapacity(allocator, 1);
        // Room for every slot in the free list, so `remove` never allocates.
        try table.free_slots.ensureTotalCapacity(allocator, table.slots.items.len + 1);
        const slot: u32 = if (table.free_slots.pop()) |free| free else blk: {
            try table.slots.append(allocator, .{});
            break :blk @intCast(table.slots.items.len - 1);
        };
        table.slots.items[slot].app = app;
        table.by_name.putAssumeCapacityNoClobber(app.spec.name, slot);
        table.count += 1;
        return slot;
    }

    /// Frees the app's record (its logs must be closed by the caller first).
    pub fn remove(table: *Table, allocator: std.mem.Allocator, slot: u32) void {
        table.invariants();
        defer table.invariants();
        const app = table.get(slot);
        assert(app.logs[0].read_fd == -1 and app.logs[1].read_fd == -1);
        assert(table.by_name.remove(app.spec.name));
        freeApp(allocator, app);
        table.slots.items[slot].app = null;
        table.slots.items[slot].generation +%= 1;
        table.free_slots.appendAssumeCapacity(slot);
        table.count -= 1;
    }

    /// Gives the app in `slot` a copy of `spec` (same name), freeing the old one.
    pub fn replaceSpec(table: *Table, allocator: std.mem.Allocator, slot: u32, spec: Spec) error{OutOfMemory}!void {
        const app = table.get(slot);
        assert(std.mem.eql(u8, app.spec.name, spec.name));
        var copy = try spec.clone(allocator);
        std.mem.swap(Spec, &app.spec, &copy);
        table.by_name.getEntry(app.spec.name).?.key_ptr.* = app.spec.name;
        app.spec_version +%= 1;
        copy.deinit(allocator);
    }

    /// The slots of every app, sorted by name, into `buffer` (at least `count` long).
    pub fn sortedByName(table: *const Table, buffer: []u32) []u32 {
        var used: usize = 0;
        for (table.slots.items, 0..) |slot, index| {
            if (slot.app == null) continue;
            buffer[used] = @intCast(index);
            used += 1;
        }
        const sorted = buffer[0..used];
        std.mem.sort(u32, sorted, table, nameLessThan);
        return sorted;
    }

    fn nameLessThan(table: *const Table, a: u32, b: u32) bool {
        return std.mem.lessThan(u8, table.get(a).spec.name, table.get(b).spec.name);
    }

    pub const Entry = struct { slot: u32, app: *App };

    pub const Iterator = struct {
        table: *const Table,
        index: u32 = 0,

        pub fn next(cursor: *Iterator) ?Entry {
            while (cursor.index < cursor.table.slots.items.len) {
                const index = cursor.index;
                cursor.index += 1;
                if (cursor.table.slots.items[index].app) |app| return .{ .slot = index, .app = app };
            }
            return null;
        }
    };

    /// Every app; removing the current one while iterating is allowed.
    pub fn iterator(table: *const Table) Iterator {
        return .{ .table = table };
    }
};

const testing = std.testing;

test "table: add, find, replace the spec, remove, slot reuse with a new generation, sorted names" {
    const allocator = testing.allocator;
    var table: Table = .{};
    defer table.deinit(allocator);
    const web = try table.add(allocator, .{ .name = "web", .command = "/bin/true", .cwd = "/" });
    const api = try table.add(allocator, .{ .name = "api", .command = "/bin/true", .cwd = "/" });
    try testing.expectEqual(@as(?u32, web), table.find("web"));
    try testing.expectEqual(@as(u32, 2), table.count);

    try table.replaceSpec(allocator, web, .{ .name = "web", .command = "/bin/false", .cwd = "/tmp", .spec_hash = "h2" });
    try testing.expectEqualStrings("/bin/false", table.get(web).spec.command);
    try testing.expectEqual(@as(?u32, web), table.find("web"));

    var buffer: [apps_max]u32 = undefined;
    const sorted = table.sortedByName(&buffer);
    try testing.expectEqualSlices(u32, &.{ api, web }, sorted);

    const old_generation = table.generation(web);
    table.remove(allocator, web);
    try testing.expectEqual(@as(?u32, null), table.find("web"));
    try testing.expectEqual(@as(?*App, null), table.lookup(web, old_generation));
    const again = try table.add(allocator, .{ .name = "worker", .command = "/bin/true", .cwd = "/" });
    try testing.expectEqual(web, again);
    try testing.expect(table.generation(again) != old_generation);

    // Removing every app of a big table never needs memory.
    var names: [100][8]u8 = undefined;
    for (&names, 0..) |*name, index| {
        _ = try std.fmt.bufPrint(name, "app{d:0>5}", .{index});
        _ = try table.add(allocator, .{ .name = name, .command = "/bin/true", .cwd = "/" });
    }
    for (&names) |*name| table.remove(allocator, table.find(name).?);

    const record = table.get(api).record(0);
    try testing.expectEqualStrings("api", record.name);
    try testing.expectEqual(Status.stopped, record.status);
    try testing.expectEqual(@as(?i32, null), record.exit_code);
}
