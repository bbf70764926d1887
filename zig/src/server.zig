//! The socket side of the daemon: client connections, framing, request dispatch, replies and log followers.
//!
//! Every client socket is non-blocking, with an inbound buffer (whole frames are handled as soon as they are
//! there: a client may pipeline a hundred requests in one write) and an outbound buffer flushed when the
//! socket is writable. Bounds (docs/PROTOCOL.md "Limits"):
//! - `clients_max` connections. At the limit, the client idle the longest (nothing received or sent for
//!   `evict_idle_ms`, and not following a log) is closed with a `limit` error to make room; when none is, the
//!   new connection gets the `limit` error and is closed.
//! - 16 MiB per frame; `inbound_bytes_max` for the unfinished frames of all clients together (a client whose
//!   next bytes would pass it gets a `limit` error and is closed), so slow or stalled senders cannot pin
//!   memory: the buffer of an unfinished frame is allocated to the size its header announces, never more.
//! - `idle_timeout_ms` without a byte in either direction closes a client (log followers excepted).
//! - `outbound_bytes_max` unsent bytes per client (a log follower that falls behind is dropped: it never
//!   blocks the loop). While a client has more than `outbound_pause_bytes` unsent, its further requests wait
//!   in the kernel's socket buffer (back-pressure instead of unbounded replies).
//! - Decoding one request allocates at most `msgpack.treeBytesMax(frame size)` (4 × its size + 1 MiB).
//!
//! A malformed frame (bad magic or version, over 16 MiB, or a payload that is not a request) gets one
//! `bad_frame` error with id 0, then that connection alone is closed. What a valid request does is
//! dispatch.zig's.
const std = @import("std");
const sys = @import("sys.zig");
const frame = @import("frame.zig");
const protocol = @import("protocol.zig");
const poller_module = @import("poller.zig");
const daemon_module = @import("daemon.zig");
const requests = @import("dispatch.zig");

const fd_t = sys.fd_t;
const Daemon = daemon_module.Daemon;
const Interest = poller_module.Interest;
const diag = daemon_module.diag;
const token = daemon_module.token;

/// PROTOCOL.md `clients_max`.
pub const clients_max = 128;
/// PROTOCOL.md `inbound_bytes_max`: unfinished frames of all clients together (four whole 16 MiB frames).
pub const inbound_bytes_max: usize = 64 * 1024 * 1024;
/// PROTOCOL.md `idle_timeout_ms`: a connection silent this long both ways is closed.
pub const idle_timeout_ms: u64 = 60_000;
/// At `clients_max`, a client silent this long may be closed to let a new one in.
pub const evict_idle_ms: u64 = 1_000;
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
    /// When a byte last went either way (monotonic ms): idle clients are closed.
    active_ms: u64 = 0,
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
    /// The capacity of every client's `inbound` buffer, summed: at most `inbound_bytes_max`.
    inbound_bytes: usize = 0,
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
        const now_ms = sys.monotonicMs();
        if (daemon.clients.count >= clients_max and !evictIdlest(daemon, now_ms)) {
            rejectForLimit(fd);
            continue;
        }
        const index = for (&daemon.clients.items, 0..) |*client, index| {
            if (client.fd == -1) break index;
        } else unreachable;
        const client = &daemon.clients.items[index];
        const generation = client.generation +% 1;
        client.* = .{ .fd = fd, .generation = generation, .interest = .{ .read = true }, .active_ms = now_ms };
        daemon.poller.?.add(fd, token(.client, @intCast(index), generation), client.interest) catch |err| {
            diag("error: adding a client to the poller failed: {s}", .{sys.errnoName(err)});
            sys.close(fd);
            client.fd = -1;
            continue;
        };
        daemon.clients.count += 1;
    }
}

/// At `clients_max`: closes the client silent the longest, if it has been for `evict_idle_ms`.
fn evictIdlest(daemon: *Daemon, now_ms: u64) bool {
    var idlest: ?*Client = null;
    for (&daemon.clients.items) |*client| {
        if (client.fd == -1 or client.subscription != null) continue;
        if (idlest == null or client.active_ms < idlest.?.active_ms) idlest = client;
    }
    const client = idlest orelse return false;
    if (now_ms -| client.active_ms < evict_idle_ms) return false;
    refuse(daemon, client, "closed to make room: idle while the daemon had clients_max (128) clients");
    return true;
}

/// Closes idle clients; returns when the next one may become idle (for the loop's timeout).
pub fn expireIdle(daemon: *Daemon, now_ms: u64) u64 {
    const timeout_ms = daemon.options.client_idle_timeout_ms;
    var next_ms: u64 = now_ms + timeout_ms;
    for (&daemon.clients.items) |*client| {
        if (client.fd == -1 or client.subscription != null) continue;
        if (now_ms -| client.active_ms >= timeout_ms) {
            var buffer: [96]u8 = undefined;
            const why = std.fmt.bufPrint(&buffer, "closed: idle for {d} ms (idle_timeout_ms)", .{timeout_ms}) catch "closed: idle";
            refuse(daemon, client, why);
        } else {
            next_ms = @min(next_ms, client.active_ms + timeout_ms);
        }
    }
    return next_ms;
}

/// A `limit` error with id 0, sent as far as the socket takes it now, then the connection is closed.
fn refuse(daemon: *Daemon, client: *Client, why: []const u8) void {
    diag("client dropped: {s}", .{why});
    protocol.writeError(&client.outbound, daemon.allocator, 0, "limit", why) catch {};
    flush(daemon, client);
    if (client.fd != -1) close(daemon, client);
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
            if (!reserveInbound(daemon, client, client.inbound.items, client.inbound.items.len)) return;
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
        client.active_ms = daemon.loop_now_ms;
        if (client.subscription != null) continue; // a follower sends nothing more; anything it does is ignored
        if (direct) {
            // Fast path: whole frames straight from the read buffer; only a partial tail is copied.
            const consumed = handleFrames(daemon, client, daemon.socket_buffer[0..count]);
            if (client.fd == -1) return;
            if (consumed < count and !client.closing and client.subscription == null) {
                const tail = daemon.socket_buffer[consumed..count];
                if (!reserveInbound(daemon, client, tail, tail.len)) return;
                client.inbound.appendSliceAssumeCapacity(tail);
            }
        } else {
            client.inbound.items.len += count;
            handleInbound(daemon, client);
            if (client.fd == -1) return;
        }
    }
}

/// Makes room in `inbound` for the unfinished frame that `start` begins, of which `buffered` bytes will be
/// in `inbound`: exactly the size its header announces, or `buffered` plus one socket read while the header
/// is incomplete. A client that would take the unfinished frames of all clients past `inbound_bytes_max` is
/// refused; false when it was closed.
fn reserveInbound(daemon: *Daemon, client: *Client, start: []const u8, buffered: usize) bool {
    // handleFrames has refused a bad header already: only an incomplete one or a valid one is left.
    const header = frame.decodeHeader(start) catch null;
    const target = if (header) |h|
        @max(frame.header_len + @as(usize, h.payload_len), buffered)
    else
        buffered + daemon_module.socket_read_bytes;
    if (client.inbound.capacity >= target) return true;
    const growth = target - client.inbound.capacity;
    if (daemon.clients.inbound_bytes + growth > inbound_bytes_max) {
        refuse(daemon, client, "unfinished frames of all clients would pass inbound_bytes_max (64 MiB): send whole frames, or retry");
        return false;
    }
    const before = client.inbound.capacity;
    client.inbound.ensureTotalCapacityPrecise(daemon.allocator, target) catch {
        drop(daemon, client, "out of memory for its inbound buffer");
        return false;
    };
    daemon.clients.inbound_bytes += client.inbound.capacity - before;
    return true;
}

fn freeInbound(daemon: *Daemon, client: *Client) void {
    daemon.clients.inbound_bytes -= client.inbound.capacity;
    client.inbound.clearAndFree(daemon.allocator);
}

/// Handles the whole frames at the start of `inbound` and keeps the rest.
fn handleInbound(daemon: *Daemon, client: *Client) void {
    const consumed = handleFrames(daemon, client, client.inbound.items);
    if (client.fd == -1) return;
    if (client.closing or client.subscription != null) {
        freeInbound(daemon, client);
        return;
    }
    const rest = client.inbound.items.len - consumed;
    std.mem.copyForwards(u8, client.inbound.items[0..rest], client.inbound.items[consumed..]);
    client.inbound.items.len = rest;
    // Whole frames handled: the buffer sized for the largest of them goes back.
    if (rest == 0 and client.inbound.capacity > buffer_keep_bytes) freeInbound(daemon, client);
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
        .bad_request => |bad| requests.replyError(daemon, client, bad.id, "bad_request", "{s}", .{bad.message}),
        .request => |request| requests.dispatch(daemon, client, request),
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
        if (count > 0) client.active_ms = daemon.loop_now_ms;
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

pub fn drop(daemon: *Daemon, client: *Client, why: []const u8) void {
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
    daemon.clients.inbound_bytes -= client.inbound.capacity;
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
