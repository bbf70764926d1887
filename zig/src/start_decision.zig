//! PROCESS_START, decided without effects (the daemon carries the decision out): PROTOCOL.md "PROCESS_START,
//! step by step", steps 1-6, as a pure function of the existing app (if any) and the request.
const std = @import("std");
const protocol = @import("protocol.zig");
const app_table = @import("app_table.zig");
const App = app_table.App;
const Spec = protocol.Spec;

pub const StartDecision = union(enum) {
    /// `expected_hash` does not match what exists (or that nothing exists).
    conflict: ConflictReason,
    /// `{name}` alone for an app that does not exist.
    not_found,
    /// The app is being deleted: refused until it is gone.
    being_deleted,
    /// A different spec without `replace`.
    exists,
    /// Register the spec as a new app, then start it.
    create,
    /// Start the existing app unless it runs (identical spec, or `{name}` alone).
    start,
    /// The spec differs only in `labels` and the in-place keys: swap it in without a restart, then as `start`.
    update_in_place,
    /// Stop the old process, swap in the new spec, start.
    replace,
};

pub const ConflictReason = enum { expected_absent, expected_other_hash, expected_present };

pub fn decideStart(existing: ?*const App, args: protocol.StartArgs) StartDecision {
    if (args.expected_hash) |expected| {
        if (existing) |app| {
            if (expected.len == 0) return .{ .conflict = .expected_absent };
            if (!std.mem.eql(u8, expected, app.spec.spec_hash)) return .{ .conflict = .expected_other_hash };
        } else if (expected.len != 0) {
            return .{ .conflict = .expected_present };
        }
    }
    const app = existing orelse return if (args.spec == null) .not_found else .create;
    if (app.beingDeleted()) return .being_deleted;
    const spec = args.spec orelse return .start;
    if (spec.eql(app.spec)) return .start;
    if (spec.eqlRestartRelevant(app.spec)) return .update_in_place;
    return if (args.replace) .replace else .exists;
}

const testing = std.testing;
const Table = app_table.Table;

test "decideStart: create, idempotent start, exists, replace, conflicts, being deleted" {
    const allocator = testing.allocator;
    var table: Table = .{};
    defer table.deinit(allocator);
    const spec: Spec = .{ .name = "web", .command = "node", .cwd = "/srv", .spec_hash = "h1" };
    const other: Spec = .{ .name = "web", .command = "node", .cwd = "/srv", .env = &.{"PORT=1"}, .spec_hash = "h2" };
    const start = struct {
        fn args(s: ?Spec, expected_hash: ?[]const u8, replace: bool) protocol.StartArgs {
            return .{ .name = "web", .spec = s, .expected_hash = expected_hash, .replace = replace };
        }
    }.args;

    try testing.expectEqual(StartDecision.create, decideStart(null, start(spec, null, false)));
    try testing.expectEqual(StartDecision.create, decideStart(null, start(spec, "", false)));
    try testing.expectEqual(StartDecision.not_found, decideStart(null, start(null, null, false)));
    try testing.expectEqual(StartDecision{ .conflict = .expected_present }, decideStart(null, start(spec, "h1", false)));

    const app = table.get(try table.add(allocator, spec));
    try testing.expectEqual(StartDecision.start, decideStart(app, start(spec, null, false)));
    try testing.expectEqual(StartDecision.start, decideStart(app, start(spec, "h1", false)));
    try testing.expectEqual(StartDecision.start, decideStart(app, start(null, null, false)));
    // Idempotent even with replace: nothing differs.
    try testing.expectEqual(StartDecision.start, decideStart(app, start(spec, null, true)));
    try testing.expectEqual(StartDecision.exists, decideStart(app, start(other, null, false)));
    try testing.expectEqual(StartDecision.replace, decideStart(app, start(other, null, true)));
    try testing.expectEqual(StartDecision.replace, decideStart(app, start(other, "h1", true)));
    try testing.expectEqual(StartDecision{ .conflict = .expected_other_hash }, decideStart(app, start(other, "h0", true)));
    try testing.expectEqual(StartDecision{ .conflict = .expected_absent }, decideStart(app, start(spec, "", false)));

    // A running app under DELETE cannot be started until it is gone.
    _ = app.machine.start(0);
    app.machine.spawned(42, 0);
    _ = app.machine.delete(.{}, 0);
    try testing.expectEqual(StartDecision.being_deleted, decideStart(app, start(spec, null, false)));
    try testing.expectEqual(StartDecision{ .conflict = .expected_other_hash }, decideStart(app, start(spec, "zz", false)));
}

test "decideStart: a spec differing only in labels and in-place keys is an update in place, even with replace" {
    const allocator = testing.allocator;
    var table: Table = .{};
    defer table.deinit(allocator);
    const spec: Spec = .{ .name = "web", .command = "node", .cwd = "/srv", .spec_hash = "h1" };
    const app = table.get(try table.add(allocator, spec));
    const start = struct {
        fn args(s: Spec, expected_hash: ?[]const u8, replace: bool) protocol.StartArgs {
            return .{ .name = "web", .spec = s, .expected_hash = expected_hash, .replace = replace, .autostart = false };
        }
    }.args;

    var in_place = spec;
    in_place.max_memory_bytes = 512 << 20;
    in_place.log_max_size_bytes = 10 << 20;
    in_place.log_max_files = 3;
    in_place.log_timestamps = true;
    in_place.labels = &.{.{ .key = "project", .value = "shop" }};
    try testing.expectEqual(StartDecision.update_in_place, decideStart(app, start(in_place, null, false)));
    try testing.expectEqual(StartDecision.update_in_place, decideStart(app, start(in_place, null, true)));
    try testing.expectEqual(StartDecision.update_in_place, decideStart(app, start(in_place, "h1", false)));
    // expected_hash is checked first.
    try testing.expectEqual(StartDecision{ .conflict = .expected_other_hash }, decideStart(app, start(in_place, "h0", false)));
    // A restart-relevant difference as well (spec_hash included): exists, or replace.
    var both = in_place;
    both.kill_timeout_ms = 1;
    try testing.expectEqual(StartDecision.exists, decideStart(app, start(both, null, false)));
    try testing.expectEqual(StartDecision.replace, decideStart(app, start(both, null, true)));
    var other_hash = in_place;
    other_hash.spec_hash = "h2";
    try testing.expectEqual(StartDecision.exists, decideStart(app, start(other_hash, null, false)));
}
