//! The socket side of the daemon: client connections, framing, request dispatch, replies and log followers.
//!
//! Every client socket is non-blocking, with an inbound buffer (whole frames are handled as soon as they are
//! there: a client may pipeline a hundred requests in one write) and an outbound buffer flushed when the
//! socket is writable. Bounds: `clients_max` connections (one more gets a `limit` error and is closed), 16
//! MiB per frame, `outbound_bytes_max` unsent bytes per client (a log follower that falls behind is dropped:
//! it never blocks the loop). While a client has more than `outbound_pause_bytes` unsent, its further
//! requests wait in the kernel's socket buffer (back-pressure instead of unbounded replies).
//!
//! A malformed frame (bad magic or version, over 16 MiB, or a payload that is not a request) gets one
//! `bad_frame` error with id 0, then that connection alone is closed.
const std = @import("std");
const sys = @import("sys.zig");
const frame = @import("frame.zig");
const protocol = @import("protocol.zig");
const supervisor = @import("supervisor.zig");
const poller_module = @import("poller.zig");
const daemon_module = @import("daemon.zig");
const root = @import("root.zig");

const fd_t = sys.fd_t;
const Daemon = daemon_module.Daemon;
const Interest = poller_module.Interest;
const diag = daemon_module.diag;
const token = daemon_module.token;

/// PROTOCOL.md `clients_max`.
pub const clients_max = 128;
/// Unsent reply bytes one client may have before it is dropped.
pub const outbound_bytes_max = 8 * 1024 * 1024;
/// Past this many unsent bytes, a client's next requests wait until it reads its replies.
const outbound_pause_bytes = 1024 * 1024;
/// An idle client keeps at most this much buffer capacity.
const buffer_keep_bytes = 64 * 1024;

pub const Subscription = struct {
    slot: u32,
    generation: u32,
    stream: protocol.Stream,
    id: u32,
};

pub const Client = struct {
    fd: fd_t = -1,
    /// Bumped each time the slot gets a new connection (stale poller events are recognised).
    generation: u32 = 0,
    /// Bytes of incomplete frames.
    inbound: std.ArrayList(u8) = .empty,
    /// Reply frames; `outbound[0..sent]` is already on the socket.
    outbound: std.ArrayList(u8) = .empty,
    sent: usize = 0,
    interest: Interest = .{},
    /// Close once the outbound buffer is flushed; nothing more is read (after a bad frame).
    closing: bool = false,
    /// The client shut its side: answer what it sent, then close.
    peer_closed: bool = false,
    /// LOG_STREAM in progress: the connection carries that stream only.
    subscription: ?Subscription = null,

    fn pending(client: *const Client) usize {
        return client.outbound.items.len - client.sent;
    }
};

pub const Clients = struct {
    items: [clients_max]Client = @splat(.{}),
    count: u32 = 0,
};

// -------------------------------------------------------------------------------------------------------------
// Connections

pub fn acceptAll(daemon: *Daemon) void {
    while (true) {
        const fd = sys.accept(daemon.listen_fd) catch |err| switch (err) {
            error.AGAIN => return,
            error.INTR, error.CONNABORTED, error.PROTO => continue,
            error.MFILE, error.NFILE, error.NOBUFS, error.NOMEM => {
                // Level-triggered: the listener would wake us at once again. Pause it for a moment.
                diag("error: accept failed: {s}{s}; not accepting for 100 ms", .{ sys.errnoName(err), daemon_module.fileHint(err) });
                daemon.poller.?.modify(daemon.listen_fd, token(.listener, 0, 0), .{ .read = true }, .{}) catch {};
                daemon.accept_paused_until_ms = sys.monotonicMs() + 100;
                return;
            },
            else => {
                diag("error: accept failed: {s}", .{sys.errnoName(err)});
                return;
            },
        };
        if (daemon.clients.count >= clients_max) {
            rejectForLimit(fd);
            continue;
        }
        const index = for (&daemon.clients.items, 0..) |*client, index| {
            if (client.fd == -1) break index;
        } else unreachable;
        const client = &daemon.clients.items[index];
        const generation = client.generation +% 1;
        client.* = .{ .fd = fd, .generation = generation, .interest = .{ .read = true } };
        daemon.poller.?.add(fd, token(.client, @intCast(index), generation), client.interest) catch |err| {
            diag("error: adding a client to the poller failed: {s}", .{sys.errnoName(err)});
            sys.close(fd);
            client.fd = -1;
            continue;
        };
        daemon.clients.count += 1;
    }
}

/// The connection past `clients_max`: one `limit` error, then closed.
fn rejectForLimit(fd: fd_t) void {
    var storage: [256]u8 = undefined;
    var fixed = std.heap.FixedBufferAllocator.init(&storage);
    var out: std.ArrayList(u8) = .empty;
    var message_buffer: [128]u8 = undefined;
    const message = std.fmt.bufPrint(&message_buffer, "too many clients: {d} are connected (clients_max)", .{clients_max}) catch unreachable;
    protocol.writeError(&out, fixed.allocator(), 0, "limit", message) catch {};
    _ = sys.send(fd, out.items) catch {};
    sys.close(fd);
    diag("client refused: {d} clients connected already", .{clients_max});
}

pub fn handleEvent(daemon: *Daemon, index: u32, generation: u32, event: poller_module.Event) void {
    if (index >= clients_max) return;
    const client = &daemon.clients.items[index];
    if (client.fd == -1 or client.generation != generation) return; // closed earlier in this round
    if (event.writable) flush(daemon, client);
    if (client.fd == -1) return;
    if (event.readable or event.hangup) readFrom(daemon, client);
    if (client.fd == -1) return;
    settle(daemon, client);
}

fn readFrom(daemon: *Daemon, client: *Client) void {
    while (!client.closing and !client.peer_closed) {
        if (client.subscription == null and client.pending() >= outbound_pause_bytes) break;
        const direct = client.inbound.items.len == 0;
        const into: []u8 = if (direct) daemon.socket_buffer else blk: {
            client.inbound.ensureUnusedCapacity(daemon.allocator, daemon_module.socket_read_bytes) catch
                return drop(daemon, client, "out of memory for its inbound buffer");
            break :blk client.inbound.unusedCapacitySlice();
        };
        const count = sys.read(client.fd, into) catch |err| switch (err) {
            error.AGAIN => break,
            else => return close(daemon, client), // ECONNRESET: it went away
        };
        if (count == 0) {
            client.peer_closed = true;
            break;
        }
        if (client.subscription != null) continue; // a follower sends nothing more; anything it does is ignored
        if (direct) {
            // Fast path: whole frames straight from the read buffer; only a partial tail is copied.
            const consumed = handleFrames(daemon, client, daemon.socket_buffer[0..count]);
            if (client.fd == -1) return;
            if (consumed < count and !client.closing and client.subscription == null) {
                client.inbound.appendSlice(daemon.allocator, daemon.socket_buffer[consumed..count]) catch
                    return drop(daemon, client, "out of memory for its inbound buffer");
            }
        } else {
            client.inbound.items.len += count;
            handleInbound(daemon, client);
            if (client.fd == -1) return;
        }
    }
}

/// Handles the whole frames at the start of `inbound` and keeps the rest.
fn handleInbound(daemon: *Daemon, client: *Client) void {
    const consumed = handleFrames(daemon, client, client.inbound.items);
    if (client.fd == -1) return;
    if (client.closing or client.subscription != null) {
        client.inbound.clearAndFree(daemon.allocator);
        return;
    }
    const rest = client.inbound.items.len - consumed;
    std.mem.copyForwards(u8, client.inbound.items[0..rest], client.inbound.items[consumed..]);
    client.inbound.items.len = rest;
    if (rest == 0 and client.inbound.capacity > buffer_keep_bytes) client.inbound.clearAndFree(daemon.allocator);
}

/// Handles each whole frame in `bytes`, in order; returns how many bytes were used.
fn handleFrames(daemon: *Daemon, client: *Client, bytes: []const u8) usize {
    var offset: usize = 0;
    while (!client.closing and client.subscription == null and client.pending() < outbound_pause_bytes) {
        const header = frame.decodeHeader(bytes[offset..]) catch |err| {
            badFrame(daemon, client, switch (err) {
                error.BadMagic => "bad magic: not a Velos frame",
                error.BadVersion => "unsupported protocol version",
                error.TooLarge => "frame over the 16 MiB limit",
            });
            return bytes.len;
        } orelse break;
        const total = frame.header_len + @as(usize, header.payload_len);
        if (bytes.len - offset < total) break;
        const payload = bytes[offset + frame.header_len .. offset + total];
        offset += total;
        handleFrame(daemon, client, payload);
        if (client.fd == -1) return bytes.len;
    }
    if (client.closing or client.subscription != null) return bytes.len;
    return offset;
}

fn badFrame(daemon: *Daemon, client: *Client, why: []const u8) void {
    diag("client dropped: bad frame ({s})", .{why});
    protocol.writeError(&client.outbound, daemon.allocator, 0, "bad_frame", why) catch {};
    client.closing = true;
}

fn handleFrame(daemon: *Daemon, client: *Client, payload: []const u8) void {
    defer _ = daemon.request_arena.reset(.{ .retain_with_limit = buffer_keep_bytes });
    const arena = daemon.request_arena.allocator();
    const parsed = protocol.parseRequest(arena, payload) catch |err| switch (err) {
        error.BadFrame => return badFrame(daemon, client, "the payload is not a request: a MessagePack map with a u32 id"),
        error.OutOfMemory => return badFrame(daemon, client, "out of memory decoding the request"),
    };
    switch (parsed) {
        .bad_request => |bad| replyError(daemon, client, bad.id, "bad_request", "{s}", .{bad.message}),
        .request => |request| dispatch(daemon, client, request),
    }
    checkOutbound(daemon, client);
}

/// After anything was appended: a client holding too much unsent is dropped.
fn checkOutbound(daemon: *Daemon, client: *Client) void {
    if (client.fd != -1 and client.pending() > outbound_bytes_max) {
        drop(daemon, client, "it does not read its replies (over 8 MiB unsent)");
    }
}

/// Sends what the socket takes now.
fn flush(daemon: *Daemon, client: *Client) void {
    while (client.pending() > 0) {
        const count = sys.send(client.fd, client.outbound.items[client.sent..]) catch |err| switch (err) {
            error.AGAIN => break,
            else => return close(daemon, client), // EPIPE, ECONNRESET: it went away
        };
        client.sent += count;
    }
    if (client.pending() == 0) {
        client.sent = 0;
        if (client.outbound.capacity > buffer_keep_bytes) {
            client.outbound.clearAndFree(daemon.allocator);
        } else {
            client.outbound.clearRetainingCapacity();
        }
    } else if (client.sent >= buffer_keep_bytes) {
        // A follower may never be fully drained: keep the buffer from growing by what was sent.
        const rest = client.pending();
        std.mem.copyForwards(u8, client.outbound.items[0..rest], client.outbound.items[client.sent..]);
        client.outbound.items.len = rest;
        client.sent = 0;
    }
}

/// After reads and writes: resume paused requests, close when done, and watch the right readiness.
fn settle(daemon: *Daemon, client: *Client) void {
    if (!client.closing and client.subscription == null and client.inbound.items.len > 0 and
        client.pending() < outbound_pause_bytes)
    {
        handleInbound(daemon, client);
        if (client.fd == -1) return;
        flush(daemon, client);
        if (client.fd == -1) return;
    }
    if (client.pending() == 0 and (client.closing or client.peer_closed)) return close(daemon, client);
    const wanted: Interest = .{
        .read = !client.closing and !client.peer_closed and
            (client.subscription != null or client.pending() < outbound_pause_bytes),
        .write = client.pending() > 0,
    };
    if (wanted.read != client.interest.read or wanted.write != client.interest.write) {
        const index: u32 = @intCast(client - &daemon.clients.items[0]);
        daemon.poller.?.modify(client.fd, token(.client, index, client.generation), client.interest, wanted) catch |err| {
            diag("error: updating a client in the poller failed: {s}", .{sys.errnoName(err)});
            return close(daemon, client);
        };
        client.interest = wanted;
    }
}

/// Once per loop round: send what was queued for every client (replies, followers' chunks).
pub fn flushAll(daemon: *Daemon) void {
    for (&daemon.clients.items) |*client| {
        if (client.fd == -1) continue;
        if (client.pending() > 0) flush(daemon, client);
        if (client.fd == -1) continue;
        settle(daemon, client);
    }
}

fn drop(daemon: *Daemon, client: *Client, why: []const u8) void {
    diag("client dropped: {s}", .{why});
    close(daemon, client);
}

fn close(daemon: *Daemon, client: *Client) void {
    std.debug.assert(client.fd != -1);
    if (client.subscription) |subscription| {
        if (daemon.table.lookup(subscription.slot, subscription.generation)) |app| app.subscribers -= 1;
    }
    daemon.poller.?.remove(client.fd, client.interest);
    sys.close(client.fd);
    client.inbound.deinit(daemon.allocator);
    client.outbound.deinit(daemon.allocator);
    client.* = .{ .generation = client.generation };
    daemon.clients.count -= 1;
}

/// At shutdown: followers get their `end`, everyone gets what is queued (as far as the socket takes it now).
pub fn closeAll(daemon: *Daemon) void {
    for (&daemon.clients.items) |*client| {
        if (client.fd == -1) continue;
        if (client.subscription) |subscription| {
            protocol.writeEnd(&client.outbound, daemon.allocator, subscription.id) catch {};
        }
        flush(daemon, client);
        if (client.fd != -1) close(daemon, client);
    }
}

pub fn freeAll(daemon: *Daemon) void {
    for (&daemon.clients.items) |*client| {
        if (client.fd != -1) close(daemon, client);
    }
}

// -------------------------------------------------------------------------------------------------------------
// Log followers

/// A new chunk of an app's stream: to every client following it.
pub fn fanOut(daemon: *Daemon, slot: u32, generation: u32, stream: protocol.Stream, bytes: []const u8) void {
    for (&daemon.clients.items) |*client| {
        if (client.fd == -1) continue;
        const subscription = client.subscription orelse continue;
        if (subscription.slot != slot or subscription.generation != generation or subscription.stream != stream) continue;
        protocol.writeLogData(&client.outbound, daemon.allocator, subscription.id, bytes) catch
            return drop(daemon, client, "out of memory queueing a log chunk");
        if (client.pending() > outbound_bytes_max) drop(daemon, client, "a log follower fell behind (over 8 MiB unsent)");
    }
}

/// The app is deleted: its followers get `end`, and their connections take requests again.
pub fn endStreams(daemon: *Daemon, slot: u32, generation: u32) void {
    for (&daemon.clients.items) |*client| {
        if (client.fd == -1) continue;
        const subscription = client.subscription orelse continue;
        if (subscription.slot != slot or subscription.generation != generation) continue;
        protocol.writeEnd(&client.outbound, daemon.allocator, subscription.id) catch {};
        client.subscription = null;
    }
}

// -------------------------------------------------------------------------------------------------------------
// Requests

fn replyError(daemon: *Daemon, client: *Client, id: u32, code: []const u8, comptime format: []const u8, args: anytype) void {
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

fn dispatch(daemon: *Daemon, client: *Client, request: protocol.Request) void {
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
