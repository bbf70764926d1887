//! Start-up after a previous daemon: read the state file and make sure nothing the previous daemon started
//! still runs before any app starts again, so no app ever runs twice.
//!
//! In order: every process carrying this home's `VELOS_APP_ID` marker is killed (wherever it was reparented:
//! this is what finds a batch of starts a crash cut short before the state file listed it, and descendants
//! that left their group); then every recorded main process still alive and provably ours (pid and start
//! time) and its group; then a bounded wait until they are gone. The caller registers the apps it returns.
const std = @import("std");
const sys = @import("sys.zig");
const state = @import("state.zig");
const tree = @import("tree.zig");
const diag = @import("diag.zig").diag;

/// How long start-up waits for the processes of a previous daemon to die.
pub const leftover_wait_ms = 2000;

pub const Paths = struct {
    state: [:0]const u8,
    state_corrupt: [:0]const u8,
};

pub const Scratch = struct {
    stat_buffer: []u8,
    environ_buffer: []u8,
};

/// The apps of the state file (allocated from `arena`; empty when there is none or it is unusable, which is
/// said on stderr), with every leftover of the previous daemon dead. `home_id` null: no /proc to scan.
pub fn loadAndClear(arena: std.mem.Allocator, paths: Paths, home_id: ?[]const u8, scratch: Scratch) []const state.SavedApp {
    if (home_id) |id| {
        const killed = tree.killMarked(arena, id, leftover_wait_ms, scratch.stat_buffer, scratch.environ_buffer);
        if (killed > 0) diag("killed {d} processes left by the previous daemon (found by their VELOS_APP_ID)", .{killed});
    }
    const apps = load(arena, paths) orelse return &.{};
    var killed: std.ArrayList(state.SavedApp) = .empty;
    for (apps) |saved| {
        switch (state.killLeftover(saved, scratch.stat_buffer)) {
            .none => {},
            .killed => {
                killed.append(arena, saved) catch {};
                diag("app {s}: killed its process group {d} left by the previous daemon", .{ saved.spec.name, saved.pgid });
            },
            .recycled => diag("app {s}: pid {d} now belongs to another process: not touched", .{ saved.spec.name, saved.pid }),
            .unverifiable => diag("warning: app {s}: pid {d} cannot be verified on this system: not touched", .{ saved.spec.name, saved.pid }),
        }
    }
    if (killed.items.len > 0) awaitLeftovers(arena, killed.items, scratch.stat_buffer);
    return apps;
}

fn load(arena: std.mem.Allocator, paths: Paths) ?[]const state.SavedApp {
    const loaded = state.load(arena, paths.state) catch {
        diag("warning: out of memory loading {s}: starting with no apps", .{paths.state});
        return null;
    };
    switch (loaded) {
        .missing => return null,
        .apps => |apps| return apps,
        .unreadable => |err| {
            diag("warning: reading {s} failed ({s}): starting with no apps", .{ paths.state, sys.errnoName(err) });
            return null;
        },
        .corrupt => |message| {
            diag("warning: {s} is corrupt ({s}): moved to {s}, starting with no apps", .{ paths.state, message, paths.state_corrupt });
            sys.rename(paths.state, paths.state_corrupt) catch |err|
                diag("warning: renaming it failed: {s}", .{sys.errnoName(err)});
            return null;
        },
    }
}

/// Waits (bounded) until the processes killed in `apps` and their groups are gone.
fn awaitLeftovers(arena: std.mem.Allocator, apps: []const state.SavedApp, stat_buffer: []u8) void {
    const pgids = arena.alloc(i32, apps.len) catch return;
    const alive = arena.alloc(bool, apps.len) catch return;
    for (apps, pgids) |saved, *pgid| pgid.* = @intCast(saved.pgid);
    const give_up_ms = sys.monotonicMs() + leftover_wait_ms;
    while (true) {
        while (sys.reapAny()) |_| {} // some may be ours if we are their subreaper
        var leaders_gone = true;
        for (apps) |saved| {
            if (!state.leaderGone(saved, stat_buffer)) leaders_gone = false;
        }
        if (leaders_gone) {
            state.markLiveGroups(pgids, alive, stat_buffer);
            if (std.mem.indexOfScalar(bool, alive, true) == null) return;
        }
        if (sys.monotonicMs() >= give_up_ms) break;
        sys.sleepMs(5);
    }
    diag("warning: some processes of the previous daemon were still alive {d} ms after SIGKILL", .{leftover_wait_ms});
}
