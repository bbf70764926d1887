//! One small readiness interface over epoll (Linux) and kqueue (macOS), plus signals as events (a signalfd
//! under epoll; EVFILT_SIGNAL under kqueue). Level-triggered: a descriptor that still has data is reported
//! again on the next wait, so a reader may stop early (fairness) without losing anything.
const std = @import("std");
const sys = @import("sys.zig");

const fd_t = sys.fd_t;

pub const Interest = struct {
    read: bool = false,
    write: bool = false,
};

pub const Event = struct {
    token: u64,
    readable: bool = false,
    writable: bool = false,
    /// The peer closed or the descriptor is in error; a read will say which (0 bytes or an errno).
    hangup: bool = false,
    /// Non-zero for a signal event (token is then `signal_token`).
    signal: u8 = 0,
};

/// Reported for signals; callers must not use it for a descriptor.
pub const signal_token: u64 = std.math.maxInt(u64);

/// At most this many events come back from one `wait` (plus a few signals).
pub const events_max = 256;
const signals_max = 8;

pub const Poller = switch (sys.is_linux) {
    true => EpollPoller,
    false => KqueuePoller,
};

const EpollPoller = struct {
    epoll_fd: fd_t,
    signal_fd: fd_t = -1,
    raw: [events_max]sys.EpollEvent = undefined,
    out: [events_max + signals_max]Event = undefined,

    pub fn init() sys.Error!EpollPoller {
        return .{ .epoll_fd = try sys.epollCreate() };
    }

    pub fn deinit(poller: *EpollPoller) void {
        if (poller.signal_fd != -1) sys.close(poller.signal_fd);
        sys.close(poller.epoll_fd);
        poller.* = undefined;
    }

    fn mask(interest: Interest) u32 {
        var bits: u32 = 0;
        if (interest.read) bits |= sys.EPOLL.IN | sys.EPOLL.RDHUP;
        if (interest.write) bits |= sys.EPOLL.OUT;
        return bits;
    }

    pub fn add(poller: *EpollPoller, fd: fd_t, token: u64, interest: Interest) sys.Error!void {
        std.debug.assert(token != signal_token);
        var event: sys.EpollEvent = .{ .events = mask(interest), .data = .{ .u64 = token } };
        try sys.epollCtl(poller.epoll_fd, sys.EPOLL.CTL_ADD, fd, &event);
    }

    pub fn modify(poller: *EpollPoller, fd: fd_t, token: u64, old: Interest, interest: Interest) sys.Error!void {
        _ = old;
        var event: sys.EpollEvent = .{ .events = mask(interest), .data = .{ .u64 = token } };
        try sys.epollCtl(poller.epoll_fd, sys.EPOLL.CTL_MOD, fd, &event);
    }

    /// Call before closing `fd`.
    pub fn remove(poller: *EpollPoller, fd: fd_t, interest: Interest) void {
        _ = interest;
        sys.epollCtl(poller.epoll_fd, sys.EPOLL.CTL_DEL, fd, null) catch {};
    }

    /// `signals` must already be blocked (sys.blockSignals); they are then delivered as events only.
    pub fn watchSignals(poller: *EpollPoller, signals: []const u8) sys.Error!void {
        std.debug.assert(poller.signal_fd == -1);
        poller.signal_fd = try sys.signalfd(signals);
        errdefer {
            sys.close(poller.signal_fd);
            poller.signal_fd = -1;
        }
        var event: sys.EpollEvent = .{ .events = sys.EPOLL.IN, .data = .{ .u64 = signal_token } };
        try sys.epollCtl(poller.epoll_fd, sys.EPOLL.CTL_ADD, poller.signal_fd, &event);
    }

    /// Waits up to `timeout_ms` (null = forever). The returned slice lives until the next call.
    pub fn wait(poller: *EpollPoller, timeout_ms: ?u32) sys.Error![]const Event {
        const timeout: i32 = if (timeout_ms) |ms| @intCast(@min(ms, std.math.maxInt(i32))) else -1;
        const count = try sys.epollWait(poller.epoll_fd, &poller.raw, timeout);
        var used: usize = 0;
        for (poller.raw[0..count]) |raw| {
            if (raw.data.u64 == signal_token) {
                used += poller.readSignals(poller.out[used..]);
                continue;
            }
            poller.out[used] = .{
                .token = raw.data.u64,
                .readable = raw.events & (sys.EPOLL.IN | sys.EPOLL.PRI) != 0,
                .writable = raw.events & sys.EPOLL.OUT != 0,
                .hangup = raw.events & (sys.EPOLL.HUP | sys.EPOLL.ERR | sys.EPOLL.RDHUP) != 0,
            };
            used += 1;
        }
        return poller.out[0..used];
    }

    fn readSignals(poller: *EpollPoller, out: []Event) usize {
        var used: usize = 0;
        var infos: [signals_max]sys.SignalInfo = undefined;
        const bytes = sys.read(poller.signal_fd, std.mem.sliceAsBytes(&infos)) catch return 0;
        const count = @min(bytes / @sizeOf(sys.SignalInfo), out.len);
        for (infos[0..count]) |info| {
            out[used] = .{ .token = signal_token, .signal = @intCast(info.signo) };
            used += 1;
        }
        return used;
    }
};

const KqueuePoller = struct {
    kqueue_fd: fd_t,
    raw: [events_max]sys.Kevent = undefined,
    out: [events_max]Event = undefined,

    pub fn init() sys.Error!KqueuePoller {
        return .{ .kqueue_fd = try sys.kqueue() };
    }

    pub fn deinit(poller: *KqueuePoller) void {
        sys.close(poller.kqueue_fd);
        poller.* = undefined;
    }

    fn change(fd: fd_t, filter: i16, flags: u16, token: u64) sys.Kevent {
        return .{
            .ident = @intCast(fd),
            .filter = filter,
            .flags = flags,
            .fflags = 0,
            .data = 0,
            .udata = @intCast(token),
        };
    }

    fn apply(poller: *KqueuePoller, changes: []const sys.Kevent) sys.Error!void {
        if (changes.len == 0) return;
        var none: [0]sys.Kevent = .{};
        _ = try sys.kevent(poller.kqueue_fd, changes, &none, 0);
    }

    pub fn add(poller: *KqueuePoller, fd: fd_t, token: u64, interest: Interest) sys.Error!void {
        std.debug.assert(token != signal_token);
        try poller.modify(fd, token, .{}, interest);
    }

    pub fn modify(poller: *KqueuePoller, fd: fd_t, token: u64, old: Interest, interest: Interest) sys.Error!void {
        const c = std.c;
        var changes: [2]sys.Kevent = undefined;
        var count: usize = 0;
        if (interest.read) {
            changes[count] = change(fd, c.EVFILT.READ, c.EV.ADD | c.EV.ENABLE, token);
            count += 1;
        } else if (old.read) {
            changes[count] = change(fd, c.EVFILT.READ, c.EV.DELETE, token);
            count += 1;
        }
        if (interest.write) {
            changes[count] = change(fd, c.EVFILT.WRITE, c.EV.ADD | c.EV.ENABLE, token);
            count += 1;
        } else if (old.write) {
            changes[count] = change(fd, c.EVFILT.WRITE, c.EV.DELETE, token);
            count += 1;
        }
        try poller.apply(changes[0..count]);
    }

    pub fn remove(poller: *KqueuePoller, fd: fd_t, interest: Interest) void {
        poller.modify(fd, 0, interest, .{}) catch {};
    }

    /// On kqueue a watched signal is reported even when it is ignored; the caller sets SIG_IGN on the
    /// signals whose default would kill us (never on SIGCHLD, which would auto-reap children).
    pub fn watchSignals(poller: *KqueuePoller, signals: []const u8) sys.Error!void {
        const c = std.c;
        var changes: [signals_max]sys.Kevent = undefined;
        for (signals, 0..) |signal, index| {
            changes[index] = change(@intCast(signal), c.EVFILT.SIGNAL, c.EV.ADD | c.EV.ENABLE, signal_token);
        }
        try poller.apply(changes[0..signals.len]);
    }

    pub fn wait(poller: *KqueuePoller, timeout_ms: ?u32) sys.Error![]const Event {
        const c = std.c;
        var none: [0]sys.Kevent = .{};
        const count = try sys.kevent(poller.kqueue_fd, &none, &poller.raw, timeout_ms);
        for (poller.raw[0..count], 0..) |raw, index| {
            if (raw.filter == c.EVFILT.SIGNAL) {
                poller.out[index] = .{ .token = signal_token, .signal = @intCast(raw.ident) };
                continue;
            }
            poller.out[index] = .{
                .token = raw.udata,
                .readable = raw.filter == c.EVFILT.READ,
                .writable = raw.filter == c.EVFILT.WRITE,
                .hangup = raw.flags & (c.EV.EOF | c.EV.ERROR) != 0,
            };
        }
        return poller.out[0..count];
    }
};

test "a pipe becomes readable, then hangs up" {
    var poller = try Poller.init();
    defer poller.deinit();
    const fds = try sys.pipe();
    defer sys.close(fds[0]);
    try poller.add(fds[0], 42, .{ .read = true });
    try std.testing.expectEqual(@as(usize, 0), (try poller.wait(0)).len);
    _ = try sys.write(fds[1], "x");
    const events = try poller.wait(1000);
    try std.testing.expectEqual(@as(usize, 1), events.len);
    try std.testing.expectEqual(@as(u64, 42), events[0].token);
    try std.testing.expect(events[0].readable);
    sys.close(fds[1]);
    var buffer: [4]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 1), try sys.read(fds[0], &buffer));
    const after_close = try poller.wait(1000);
    try std.testing.expectEqual(@as(usize, 1), after_close.len);
    try std.testing.expect(after_close[0].hangup);
    poller.remove(fds[0], .{ .read = true });
}
