//! What each request means: the daemon's answer to every op of docs/PROTOCOL.md, from a validated request
//! (request.zig) to the supervisor's decisions (supervisor.zig) and a reply queued on the client. PROCESS_START
//! in full (create, start, update in place, replace; see PROTOCOL.md "PROCESS_START, step by step") is here.
//! server.zig keeps the sockets: framing, buffers, back-pressure, followers.
const std = @import("std");
const sys = @import("sys.zig");
const protocol = @import("protocol.zig");
const supervisor = @import("supervisor.zig");
const daemon_module = @import("daemon.zig");
const server = @import("server.zig");
const root = @import("root.zig");

const Daemon = daemon_module.Daemon;
const Client = server.Client;
const diag = daemon_module.diag;
const drop = server.drop;

pub fn replyError(daemon: *Daemon, client: *Client, id: u32, code: []const u8, comptime format: []const u8, args: anytype) void {
    var buffer: [1024]u8 = undefined;
    const message = std.fmt.bufPrint(&buffer, format, args) catch blk: {
        @memcpy(buffer[buffer.len - 3 ..], "...");
        break :blk buffer[0..];
    };
    protocol.writeError(&client.outbound, daemon.allocator, id, code, message) catch
        return drop(daemon, client, "out of memory queueing a reply");
}

fn replyRecord(daemon: *Daemon, client: *Client, id: u32, app: *const supervisor.App, now_ms: u64) void {
    protocol.writeRecord(&client.outbound, daemon.allocator, id, app.record(now_ms)) catch
        return drop(daemon, client, "out of memory queueing a reply");
}

/// The reply of a request that may have spawned: `spawn_failed` if the spawn just failed, else the record.
fn replyStarted(daemon: *Daemon, client: *Client, id: u32, app: *const supervisor.App, now_ms: u64) void {
    if (daemon.spawn_failed_now) {
        return replyError(daemon, client, id, "spawn_failed", "{s}", .{app.last_error orelse "the program could not be executed"});
    }
    replyRecord(daemon, client, id, app, now_ms);
}

/// Carries out one validated request and queues its reply on `client`.
pub fn dispatch(daemon: *Daemon, client: *Client, request: protocol.Request) void {
    const id = request.id;
    const now_ms = sys.monotonicMs();
    daemon.spawn_failed_now = false;
    switch (request.args) {
        .start => |args| handleStart(daemon, client, id, args, now_ms),
        .stop => |name| {
            const slot = daemon.table.find(name) orelse return notFound(daemon, client, id, name);
            const app = daemon.table.get(slot);
            daemon.apply(slot, app.machine.stop(app.policy(), now_ms, .{}));
            replyRecord(daemon, client, id, app, now_ms);
        },
        .restart => |args| {
            if (daemon.shutdown != null) return shuttingDown(daemon, client, id);
            const slot = daemon.table.find(args.name) orelse return notFound(daemon, client, id, args.name);
            const app = daemon.table.get(slot);
            if (args.expected_hash) |expected| {
                if (!std.mem.eql(u8, expected, app.spec.spec_hash)) {
                    return replyError(daemon, client, id, "conflict", "app {s} has spec_hash \"{s}\", the request expected \"{s}\"", .{ args.name, app.spec.spec_hash, expected });
                }
            }
            if (app.beingDeleted()) return beingDeleted(daemon, client, id, args.name);
            daemon.apply(slot, app.machine.restart(app.policy(), now_ms));
            replyStarted(daemon, client, id, app, now_ms);
        },
        .delete => |name| {
            const slot = daemon.table.find(name) orelse return notFound(daemon, client, id, name);
            const app = daemon.table.get(slot);
            const name_copy = daemon.request_arena.allocator().dupe(u8, name) catch name;
            // Removed now if nothing runs; otherwise once its group is empty (LIST shows it `stopping`).
            daemon.apply(slot, app.machine.delete(app.policy(), now_ms));
            protocol.writeName(&client.outbound, daemon.allocator, id, name_copy) catch
                return drop(daemon, client, "out of memory queueing a reply");
        },
        .list => {
            const slots = daemon.table.sortedByName(daemon.sort_buffer);
            const records = daemon.request_arena.allocator().alloc(protocol.Record, slots.len) catch
                return replyError(daemon, client, id, "internal", "out of memory listing {d} apps", .{slots.len});
            for (records, slots) |*record, slot| record.* = daemon.table.get(slot).record(now_ms);
            protocol.writeRecords(&client.outbound, daemon.allocator, id, records) catch
                return drop(daemon, client, "out of memory queueing a reply");
        },
        .info => |name| {
            const slot = daemon.table.find(name) orelse return notFound(daemon, client, id, name);
            replyRecord(daemon, client, id, daemon.table.get(slot), now_ms);
        },
        .log_read => |args| {
            const slot = daemon.table.find(args.name) orelse return notFound(daemon, client, id, args.name);
            const app = daemon.table.get(slot);
            var lines: std.ArrayList(u8) = .empty;
            app.log(args.stream).ring.lastLines(args.lines, &lines, daemon.request_arena.allocator()) catch
                return replyError(daemon, client, id, "internal", "out of memory reading the log ring", .{});
            protocol.writeLogData(&client.outbound, daemon.allocator, id, lines.items) catch
                return drop(daemon, client, "out of memory queueing a reply");
        },
        .log_stream => |args| {
            if (daemon.shutdown != null) return shuttingDown(daemon, client, id);
            const slot = daemon.table.find(args.name) orelse return notFound(daemon, client, id, args.name);
            const app = daemon.table.get(slot);
            var lines: std.ArrayList(u8) = .empty;
            app.log(args.stream).ring.lastLines(args.lines, &lines, daemon.request_arena.allocator()) catch
                return replyError(daemon, client, id, "internal", "out of memory reading the log ring", .{});
            protocol.writeLogData(&client.outbound, daemon.allocator, id, lines.items) catch
                return drop(daemon, client, "out of memory queueing a reply");
            client.subscription = .{ .slot = slot, .generation = daemon.table.generation(slot), .stream = args.stream, .id = id };
            app.subscribers += 1;
        },
        .ping => protocol.writePing(&client.outbound, daemon.allocator, id, .{
            .pid = @intCast(daemon.pid),
            .version = root.version,
            .uptime_ms = now_ms -| daemon.started_ms,
            .apps = daemon.table.count,
            .tracking = daemon.trackingMechanism(),
        }) catch return drop(daemon, client, "out of memory queueing a reply"),
        .shutdown => {
            // Reply first: the client learns it was heard before anything stops.
            protocol.writeEmpty(&client.outbound, daemon.allocator, id) catch {};
            daemon.beginShutdown("SHUTDOWN request");
        },
        .save => {
            daemon.saveState(.fsync) catch
                return replyError(daemon, client, id, "internal", "{s}", .{daemon.last_failure});
            protocol.writePath(&client.outbound, daemon.allocator, id, daemon.paths.?.state) catch
                return drop(daemon, client, "out of memory queueing a reply");
        },
    }
}

fn notFound(daemon: *Daemon, client: *Client, id: u32, name: []const u8) void {
    replyError(daemon, client, id, "not_found", "no app named {s}", .{name});
}

fn shuttingDown(daemon: *Daemon, client: *Client, id: u32) void {
    replyError(daemon, client, id, "shutting_down", "the daemon is shutting down and takes no new work", .{});
}

fn beingDeleted(daemon: *Daemon, client: *Client, id: u32, name: []const u8) void {
    replyError(daemon, client, id, "bad_request", "app {s} is being deleted: retry once it is gone", .{name});
}

/// PROCESS_START: create, start, idempotent re-start, update in place, or replace; see PROTOCOL.md
/// "PROCESS_START". With `autostart = false` nothing is started: a new app is created stopped, an existing
/// one keeps its run state.
fn handleStart(daemon: *Daemon, client: *Client, id: u32, args: protocol.StartArgs, now_ms: u64) void {
    if (daemon.shutdown != null) return shuttingDown(daemon, client, id);
    const existing = daemon.table.find(args.name);
    const app_existing: ?*const supervisor.App = if (existing) |slot| daemon.table.get(slot) else null;
    const hash = if (app_existing) |app| app.spec.spec_hash else "";
    switch (supervisor.decideStart(app_existing, args)) {
        .conflict => |reason| return switch (reason) {
            .expected_absent => replyError(daemon, client, id, "conflict", "app {s} exists (spec_hash \"{s}\"), the request expected it not to", .{ args.name, hash }),
            .expected_other_hash => replyError(daemon, client, id, "conflict", "app {s} has spec_hash \"{s}\", the request expected \"{s}\"", .{ args.name, hash, args.expected_hash.? }),
            .expected_present => replyError(daemon, client, id, "conflict", "app {s} does not exist, the request expected spec_hash \"{s}\"", .{ args.name, args.expected_hash.? }),
        },
        .not_found => return replyError(daemon, client, id, "not_found", "no app named {s} (send a full spec to create it)", .{args.name}),
        .being_deleted => return beingDeleted(daemon, client, id, args.name),
        .exists => return replyError(daemon, client, id, "exists", "app {s} exists with a different spec (spec_hash \"{s}\"): send replace to replace it", .{ args.name, hash }),
        .create => {
            const slot = daemon.registerApp(args.spec.?) catch |err| return switch (err) {
                error.Limit => replyError(daemon, client, id, "limit", "{d} apps already (apps_max): delete one first", .{supervisor.apps_max}),
                error.OutOfMemory => replyError(daemon, client, id, "internal", "out of memory registering app {s}", .{args.name}),
                error.LogsUnusable => replyError(daemon, client, id, "internal", "{s}", .{daemon.last_failure}),
            };
            diag("app {s}: created{s}", .{ args.name, if (args.autostart) "" else " (stopped: autostart false)" });
            const app = daemon.table.get(slot);
            if (args.autostart) daemon.apply(slot, app.machine.start(now_ms));
            replyStarted(daemon, client, id, app, now_ms);
        },
        .start => {
            const app = daemon.table.get(existing.?);
            if (args.autostart) daemon.apply(existing.?, app.machine.start(now_ms));
            replyStarted(daemon, client, id, app, now_ms);
        },
        .update_in_place => {
            const slot = existing.?;
            const app = daemon.table.get(slot);
            // Nothing a running process depends on changes: no restart. The new limits apply from the next
            // sample and the next log write.
            daemon.table.replaceSpec(daemon.allocator, slot, args.spec.?) catch
                return replyError(daemon, client, id, "internal", "out of memory updating the spec of {s}", .{args.name});
            daemon.table_touched = true;
            diag("app {s}: spec updated in place (no restart)", .{args.name});
            if (args.autostart) daemon.apply(slot, app.machine.start(now_ms));
            replyStarted(daemon, client, id, app, now_ms);
        },
        .replace => {
            const slot = existing.?;
            const app = daemon.table.get(slot);
            // The old process stops with the old spec's signal and timeout; the new one starts with the new.
            const old_policy = app.policy();
            daemon.table.replaceSpec(daemon.allocator, slot, args.spec.?) catch
                return replyError(daemon, client, id, "internal", "out of memory replacing the spec of {s}", .{args.name});
            daemon.table_touched = true;
            diag("app {s}: spec replaced (spec_hash \"{s}\")", .{ args.name, app.spec.spec_hash });
            const effects = if (args.autostart)
                app.machine.restart(old_policy, now_ms)
            else
                app.machine.restartIfActive(old_policy, now_ms);
            daemon.apply(slot, effects);
            replyStarted(daemon, client, id, app, now_ms);
        },
    }
}
