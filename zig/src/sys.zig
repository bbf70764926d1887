//! Every raw system call the daemon makes, behind small wrappers (the only file that talks to libc directly,
//! so a Zig upgrade that moves `std.posix` around touches this file alone).
//!
//! Failures come back as `Error`, an error set with one member per errno (`error.NOENT`, `error.ACCES`, ...),
//! so a caller can both `try` and say in a message exactly what the kernel answered (`errnoName`). EINTR is
//! retried here and never reaches a caller. Linux-only calls (epoll, signalfd, prctl, F_SETPIPE_SZ) are guarded
//! at comptime; their kqueue counterparts are compiled on macOS.
const std = @import("std");
const builtin = @import("builtin");

const c = std.c;
const posix = std.posix;

pub const is_linux = builtin.os.tag == .linux;
pub const is_darwin = builtin.os.tag.isDarwin();

pub const fd_t = posix.fd_t;
pub const pid_t = posix.pid_t;
pub const E = posix.E;
pub const SIG = c.SIG;
pub const O = c.O;
pub const mode_t = c.mode_t;

/// One error per errno value, plus `Unexpected` for a value this Zig does not know.
pub const Error = blk: {
    const fields = @typeInfo(E).@"enum".fields;
    var errors: [fields.len + 1]std.builtin.Type.Error = undefined;
    for (fields, 0..) |field, index| errors[index] = .{ .name = field.name };
    errors[fields.len] = .{ .name = "Unexpected" };
    break :blk @Type(.{ .error_set = &errors });
};

pub fn errorFromErrno(errno_value: E) Error {
    inline for (@typeInfo(E).@"enum".fields) |field| {
        if (@intFromEnum(errno_value) == field.value) return @field(Error, field.name);
    }
    return error.Unexpected;
}

/// The errno number of an `Error` (0 for errors that are not errno values).
pub fn errnoNumber(err: anyerror) i32 {
    inline for (@typeInfo(E).@"enum".fields) |field| {
        if (err == @field(anyerror, field.name)) return @intCast(field.value);
    }
    return 0;
}

/// "ENOENT" for `error.NOENT`; the plain error name for any other error.
pub fn errnoName(err: anyerror) []const u8 {
    inline for (@typeInfo(E).@"enum".fields) |field| {
        if (err == @field(anyerror, field.name)) return "E" ++ field.name;
    }
    return @errorName(err);
}

/// The name of a raw errno number, e.g. from a child's exec report.
pub fn errnoNumberName(number: i32) []const u8 {
    inline for (@typeInfo(E).@"enum".fields) |field| {
        if (number == field.value) return "E" ++ field.name;
    }
    return "E?";
}

fn lastErrno() E {
    return @enumFromInt(c._errno().*);
}

fn lastError() Error {
    return errorFromErrno(lastErrno());
}

/// rc == -1 → the errno as an error.
fn check(rc: c_int) Error!void {
    if (rc == -1) return lastError();
}

// ---------------------------------------------------------------------------------------------------------
// Files and descriptors

const lfs64 = is_linux and (builtin.abi.isGnu() or builtin.abi.isAndroid());

pub const Stat = c.Stat;

pub fn open(path: [*:0]const u8, flags: O, mode: mode_t) Error!fd_t {
    while (true) {
        const rc = c.open(path, flags, mode);
        if (rc >= 0) return rc;
        if (lastErrno() == .INTR) continue;
        return lastError();
    }
}

pub fn close(fd: fd_t) void {
    _ = c.close(fd);
}

/// One read; 0 means end of file; `error.AGAIN` when a non-blocking descriptor has nothing.
pub fn read(fd: fd_t, buffer: []u8) Error!usize {
    while (true) {
        const rc = c.read(fd, buffer.ptr, buffer.len);
        if (rc >= 0) return @intCast(rc);
        if (lastErrno() == .INTR) continue;
        return lastError();
    }
}

pub fn write(fd: fd_t, bytes: []const u8) Error!usize {
    while (true) {
        const rc = c.write(fd, bytes.ptr, bytes.len);
        if (rc >= 0) return @intCast(rc);
        if (lastErrno() == .INTR) continue;
        return lastError();
    }
}

/// For regular files and blocking descriptors: writes everything or fails.
pub fn writeAll(fd: fd_t, bytes: []const u8) Error!void {
    var done: usize = 0;
    while (done < bytes.len) done += try write(fd, bytes[done..]);
}

/// A send that never raises SIGPIPE (MSG_NOSIGNAL on Linux; on macOS SIGPIPE is ignored by the daemon).
pub fn send(fd: fd_t, bytes: []const u8) Error!usize {
    const flags: u32 = if (is_linux) c.MSG.NOSIGNAL else 0;
    while (true) {
        const rc = c.send(fd, bytes.ptr, bytes.len, flags);
        if (rc >= 0) return @intCast(rc);
        if (lastErrno() == .INTR) continue;
        return lastError();
    }
}

pub fn fstat(fd: fd_t) Error!Stat {
    var result = std.mem.zeroes(Stat);
    const rc = if (lfs64) c.fstat64(fd, &result) else c.fstat(fd, &result);
    try check(rc);
    return result;
}

pub fn stat(path: [*:0]const u8) Error!Stat {
    var result = std.mem.zeroes(Stat);
    const rc = if (lfs64) c.fstatat64(c.AT.FDCWD, path, &result, 0) else c.fstatat(c.AT.FDCWD, path, &result, 0);
    try check(rc);
    return result;
}

pub fn isDirectory(st: Stat) bool {
    return (st.mode & c.S.IFMT) == c.S.IFDIR;
}

pub fn access(path: [*:0]const u8, mode: c_uint) Error!void {
    try check(c.access(path, mode));
}

pub const X_OK: c_uint = c.X_OK;

pub fn mkdir(path: [*:0]const u8, mode: mode_t) Error!void {
    try check(c.mkdir(path, mode));
}

pub fn chmod(path: [*:0]const u8, mode: mode_t) Error!void {
    try check(c.chmod(path, mode));
}

pub fn unlink(path: [*:0]const u8) Error!void {
    try check(c.unlink(path));
}

pub fn rename(old_path: [*:0]const u8, new_path: [*:0]const u8) Error!void {
    try check(c.rename(old_path, new_path));
}

pub fn fsync(fd: fd_t) Error!void {
    while (true) {
        if (c.fsync(fd) == 0) return;
        if (lastErrno() == .INTR) continue;
        return lastError();
    }
}

pub fn ftruncate(fd: fd_t, length: u64) Error!void {
    const rc = if (lfs64) c.ftruncate64(fd, @intCast(length)) else c.ftruncate(fd, @intCast(length));
    try check(rc);
}

/// Exclusive, non-blocking flock: false when another process holds it.
pub fn lockExclusive(fd: fd_t) Error!bool {
    while (true) {
        if (c.flock(fd, posix.LOCK.EX | posix.LOCK.NB) == 0) return true;
        switch (lastErrno()) {
            .INTR => continue,
            .AGAIN => return false, // EWOULDBLOCK has the value of EAGAIN on Linux and macOS
            else => |errno_value| return errorFromErrno(errno_value),
        }
    }
}

pub fn setNonBlocking(fd: fd_t) Error!void {
    const flags = c.fcntl(fd, c.F.GETFL);
    if (flags == -1) return lastError();
    const nonblock: c_int = @bitCast(@as(u32, @bitCast(O{ .NONBLOCK = true })));
    try check(c.fcntl(fd, c.F.SETFL, flags | nonblock));
}

pub fn setCloseOnExec(fd: fd_t) Error!void {
    try check(c.fcntl(fd, c.F.SETFD, @as(c_int, c.FD_CLOEXEC)));
}

/// Whether `fd` is an open descriptor.
pub fn isOpen(fd: fd_t) bool {
    return c.fcntl(fd, c.F.GETFD) != -1;
}

/// A pipe whose both ends are close-on-exec: [read end, write end].
pub fn pipe() Error![2]fd_t {
    var fds: [2]fd_t = undefined;
    if (is_linux) {
        try check(c.pipe2(&fds, .{ .CLOEXEC = true }));
    } else {
        try check(c.pipe(&fds));
        errdefer {
            close(fds[0]);
            close(fds[1]);
        }
        try setCloseOnExec(fds[0]);
        try setCloseOnExec(fds[1]);
    }
    return fds;
}

const F_SETPIPE_SZ = 1031; // F_LINUX_SPECIFIC_BASE + 7
const F_GETPIPE_SZ = 1032;

/// Linux: grow a pipe's buffer; returns the size it got, or null when the kernel refused (per-user pipe
/// limits) or off Linux. Failure is harmless: the pipe keeps its old size.
pub fn setPipeSize(fd: fd_t, bytes: usize) ?usize {
    if (!is_linux) return null;
    const rc = c.fcntl(fd, F_SETPIPE_SZ, @as(c_int, @intCast(bytes)));
    if (rc < 0) return null;
    return @intCast(rc);
}

pub fn pipeSize(fd: fd_t) ?usize {
    if (!is_linux) return null;
    const rc = c.fcntl(fd, F_GETPIPE_SZ);
    if (rc < 0) return null;
    return @intCast(rc);
}

/// Make sure descriptors 0, 1 and 2 are open (on /dev/null if they were closed), so that no pipe or file the
/// daemon opens later lands on them and gets mixed up with a child's stdio.
pub fn ensureStdioOpen() void {
    var fd: fd_t = 0;
    while (fd <= 2) : (fd += 1) {
        if (isOpen(fd)) continue;
        _ = c.open("/dev/null", .{ .ACCMODE = .RDWR }, @as(mode_t, 0));
    }
}

/// Puts stdin on /dev/null (a detached daemon reads nothing from whoever started it).
pub fn stdinFromDevNull() void {
    const fd = c.open("/dev/null", .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, @as(mode_t, 0));
    if (fd < 0) return;
    _ = c.dup2(fd, 0);
    _ = c.close(fd);
}

// ---------------------------------------------------------------------------------------------------------
// Processes

pub fn getpid() pid_t {
    return c.getpid();
}

pub fn geteuid() u32 {
    return c.geteuid();
}

pub fn setsid() Error!void {
    if (c.setsid() == -1) return lastError();
}

pub fn fork() Error!pid_t {
    const rc = c.fork();
    if (rc == -1) return lastError();
    return rc;
}

pub fn setpgid(pid: pid_t, pgid: pid_t) Error!void {
    try check(c.setpgid(pid, pgid));
}

pub fn kill(pid: pid_t, signal: u8) Error!void {
    try check(c.kill(pid, signal));
}

/// Whether the process group `pgid` still has a member (a zombie counts until it is reaped).
pub fn groupExists(pgid: pid_t) bool {
    std.debug.assert(pgid > 0);
    if (c.kill(-pgid, 0) == 0) return true;
    return lastErrno() != .SRCH; // EPERM: it exists but is not ours
}

pub fn processExists(pid: pid_t) bool {
    std.debug.assert(pid > 0);
    if (c.kill(pid, 0) == 0) return true;
    return lastErrno() != .SRCH;
}

/// How a child ended.
pub const Exit = union(enum) {
    code: u8,
    signal: u8,
};

pub const Reaped = struct { pid: pid_t, exit: Exit };

/// Reap one terminated child, if any (waitpid(-1, WNOHANG)); null when none is waiting.
pub fn reapAny() ?Reaped {
    while (true) {
        var status: c_int = 0;
        const pid = c.waitpid(-1, &status, c.W.NOHANG);
        if (pid > 0) return .{ .pid = pid, .exit = decodeWaitStatus(@bitCast(status)) };
        if (pid == -1 and lastErrno() == .INTR) continue;
        return null; // 0: children exist but none exited; -1 ECHILD: no children at all
    }
}

/// Blocking wait for one known child that is about to exit (a failed spawn); ignores the status.
pub fn waitPid(pid: pid_t) void {
    _ = waitPidExit(pid);
}

/// Blocking wait for one child; its exit.
pub fn waitPidExit(pid: pid_t) Exit {
    while (true) {
        var status: c_int = 0;
        const rc = c.waitpid(pid, &status, 0);
        if (rc == pid) return decodeWaitStatus(@bitCast(status));
        if (rc == -1 and lastErrno() == .INTR) continue;
        return .{ .signal = 0 };
    }
}

pub fn decodeWaitStatus(status: u32) Exit {
    if (c.W.IFEXITED(status)) return .{ .code = c.W.EXITSTATUS(status) };
    if (c.W.IFSIGNALED(status)) return .{ .signal = @truncate(c.W.TERMSIG(status)) };
    // Stopped or continued: we do not ask for those (no WUNTRACED), so this is unreachable in practice.
    return .{ .signal = 0 };
}

/// Linux: become the reaper of orphaned descendants, so a grandchild whose parent died is reparented to us
/// and reaped, never left a zombie. Off Linux this does nothing.
pub fn becomeChildSubreaper() Error!void {
    if (!is_linux) return;
    try check(c.prctl(@intFromEnum(c.PR.SET_CHILD_SUBREAPER), @as(c_ulong, 1), @as(c_ulong, 0), @as(c_ulong, 0), @as(c_ulong, 0)));
}

// ---------------------------------------------------------------------------------------------------------
// Process handles and descriptor hygiene

/// pidfd_open(2): a handle on one process that no recycled pid can alias. error.NOSYS off Linux and before
/// Linux 5.3; error.SRCH when the process is gone.
pub fn pidfdOpen(pid: pid_t) Error!fd_t {
    if (!is_linux) return error.NOSYS;
    const rc = std.os.linux.pidfd_open(pid, 0);
    return switch (std.os.linux.E.init(rc)) {
        .SUCCESS => @intCast(rc),
        else => |errno_value| errorFromErrno(errno_value),
    };
}

/// pidfd_send_signal(2) on a handle from `pidfdOpen`.
pub fn pidfdSendSignal(pidfd: fd_t, signal: u8) Error!void {
    if (!is_linux) return error.NOSYS;
    const rc = std.os.linux.pidfd_send_signal(pidfd, signal, null, 0);
    return switch (std.os.linux.E.init(rc)) {
        .SUCCESS => {},
        else => |errno_value| errorFromErrno(errno_value),
    };
}

const close_range_cloexec: usize = 1 << 2; // CLOSE_RANGE_CLOEXEC, Linux 5.11

/// Closes every descriptor from `first` on: close_range(2) (Linux 5.9), else a loop up to the soft limit.
/// For start-up, before the process opens anything of its own.
pub fn closeFrom(first: fd_t) void {
    if (is_linux) {
        const rc = std.os.linux.syscall3(.close_range, @intCast(first), std.math.maxInt(c_uint), 0);
        if (std.os.linux.E.init(rc) == .SUCCESS) return;
    }
    var limit: Rlimit = undefined;
    const highest: u64 = if (c.getrlimit(.NOFILE, &limit) == 0) @min(@as(u64, @intCast(limit.cur)), 1 << 20) else 1024;
    var fd: fd_t = first;
    while (fd < highest) : (fd += 1) _ = c.close(fd);
}

/// In a forked child: marks every descriptor from `first` on close-on-exec, so the program gets exactly what
/// was set up below `first` (the exec-report pipe, already close-on-exec, keeps working until execve).
/// close_range(CLOSE_RANGE_CLOEXEC) is one call; before Linux 5.11 a loop of fcntl up to `highest`.
/// Async-signal-safe.
fn childCloseOnExecFrom(first: fd_t, highest: u64) void {
    if (is_linux) {
        const rc = std.os.linux.syscall3(.close_range, @intCast(first), std.math.maxInt(c_uint), close_range_cloexec);
        if (std.os.linux.E.init(rc) == .SUCCESS) return;
    }
    var fd: fd_t = first;
    while (fd < highest) : (fd += 1) _ = c.fcntl(fd, c.F.SETFD, @as(c_int, c.FD_CLOEXEC));
}

pub const Rlimit = c.rlimit;

/// Raise the soft limit on open descriptors towards `wanted` (capped by the hard limit). Returns the limit as
/// it was, so children can be given the original back (some programs loop over every possible descriptor).
pub fn raiseDescriptorLimit(wanted: u64) ?Rlimit {
    var limit: Rlimit = undefined;
    if (c.getrlimit(.NOFILE, &limit) != 0) return null;
    const original = limit;
    const target: c.rlim_t = @intCast(@min(wanted, @as(u64, @intCast(limit.max))));
    if (target > limit.cur) {
        limit.cur = target;
        if (c.setrlimit(.NOFILE, &limit) != 0) return null;
    }
    return original;
}

// ---------------------------------------------------------------------------------------------------------
// The child side of fork: async-signal-safe calls only, no allocation, no Zig error handling that could panic.

/// Everything the child needs, prepared by the parent before fork.
pub const ChildPlan = struct {
    path: [*:0]const u8,
    argv: [*:null]const ?[*:0]const u8,
    envp: [*:null]const ?[*:0]const u8,
    cwd: [*:0]const u8,
    stdin_fd: fd_t,
    stdout_fd: fd_t,
    stderr_fd: fd_t,
    /// Write end of a close-on-exec pipe: gets a `ChildFailure` when something before exec fails.
    report_fd: fd_t,
    /// The descriptor limit the daemon inherited, given back to the program.
    descriptor_limit: ?Rlimit,
    /// Above every descriptor the daemon may hold (its raised soft limit): where the fallback loop of
    /// `childCloseOnExecFrom` stops on kernels without CLOSE_RANGE_CLOEXEC.
    descriptor_ceiling: u64 = 65536,
};

/// What the child writes to `report_fd` when it cannot exec.
pub const ChildFailure = extern struct {
    step: ChildStep,
    errno_value: i32,
};

pub const ChildStep = enum(u32) {
    setpgid = 1,
    stdio = 2,
    chdir = 3,
    exec = 4,
    _,
};

/// Sets one signal back to its default disposition in the forked child. On Linux this is the raw
/// rt_sigaction syscall: glibc refuses signals 32 and 33 (its own SIGCANCEL/SIGSETXID) with EINVAL, yet a
/// caller may have left them ignored and an ignored disposition survives exec.
fn childResetSignal(signal_number: u8) void {
    if (builtin.os.tag == .linux) {
        var default_action = std.mem.zeroes(std.os.linux.Sigaction);
        default_action.handler = .{ .handler = std.os.linux.SIG.DFL };
        _ = std.os.linux.sigaction(signal_number, &default_action, null);
    } else {
        var default_action: c.Sigaction = std.mem.zeroes(c.Sigaction);
        default_action.handler = .{ .handler = SIG.DFL };
        _ = c.sigaction(signal_number, &default_action, null);
    }
}

/// Runs in the forked child. Order: own process group, default signal dispositions and an empty mask
/// (ignored signals survive exec — Rust ignores SIGPIPE, and the daemon ignores SIGHUP and blocks SIGCHLD,
/// SIGTERM, SIGINT, SIGHUP — so the program would inherit them), stdio onto the pipes, cwd, the original
/// descriptor limit, every descriptor above 2 close-on-exec (only 0-2 reach the program), then execve. Any failure is reported as (step, errno) and the child exits with 127.
pub fn childExec(plan: *const ChildPlan) noreturn {
    if (c.setpgid(0, 0) != 0) childFail(plan.report_fd, .setpgid);

    var signal_number: u8 = 1;
    while (signal_number < signal_count) : (signal_number += 1) {
        if (signal_number == SIG.KILL or signal_number == SIG.STOP) continue;
        childResetSignal(signal_number);
    }
    var empty_mask: c.sigset_t = undefined;
    _ = c.sigemptyset(&empty_mask);
    _ = c.sigprocmask(SIG.SETMASK, &empty_mask, null);

    childDup(plan.stdin_fd, 0, plan.report_fd);
    childDup(plan.stdout_fd, 1, plan.report_fd);
    childDup(plan.stderr_fd, 2, plan.report_fd);

    if (c.chdir(plan.cwd) != 0) childFail(plan.report_fd, .chdir);
    if (plan.descriptor_limit) |limit| _ = c.setrlimit(.NOFILE, &limit);
    childCloseOnExecFrom(3, plan.descriptor_ceiling);

    _ = c.execve(plan.path, plan.argv, plan.envp);
    childFail(plan.report_fd, .exec);
}

const signal_count: u8 = if (is_linux) 65 else 32;

fn childDup(from: fd_t, to: fd_t, report_fd: fd_t) void {
    if (from == to) {
        // dup2 onto itself would keep close-on-exec set: clear it instead.
        if (c.fcntl(to, c.F.SETFD, @as(c_int, 0)) != 0) childFail(report_fd, .stdio);
        return;
    }
    while (c.dup2(from, to) == -1) {
        if (lastErrno() != .INTR) childFail(report_fd, .stdio);
    }
}

fn childFail(report_fd: fd_t, step: ChildStep) noreturn {
    const failure: ChildFailure = .{ .step = step, .errno_value = c._errno().* };
    const bytes = std.mem.asBytes(&failure);
    _ = c.write(report_fd, bytes.ptr, bytes.len);
    c._exit(127);
}

// ---------------------------------------------------------------------------------------------------------
// Signals

pub const SignalMask = c.sigset_t;

pub fn signalMask(signals: []const u8) SignalMask {
    var mask: SignalMask = undefined;
    _ = c.sigemptyset(&mask);
    for (signals) |signal| _ = c.sigaddset(&mask, signal);
    return mask;
}

/// Block `signals` for this thread; returns the previous mask.
pub fn blockSignals(signals: []const u8) Error!SignalMask {
    const mask = signalMask(signals);
    var old: SignalMask = undefined;
    try check(c.sigprocmask(SIG.BLOCK, &mask, &old));
    return old;
}

pub fn setSignalMask(mask: *const SignalMask) void {
    _ = c.sigprocmask(SIG.SETMASK, mask, null);
}

pub const SignalAction = c.Sigaction;

/// Set a signal to SIG_IGN; returns the previous action so it can be put back.
pub fn ignoreSignal(signal: u8) SignalAction {
    var action: c.Sigaction = std.mem.zeroes(c.Sigaction);
    action.handler = .{ .handler = SIG.IGN };
    var old: c.Sigaction = std.mem.zeroes(c.Sigaction);
    _ = c.sigaction(signal, &action, &old);
    return old;
}

pub fn restoreSignal(signal: u8, action: *const SignalAction) void {
    _ = c.sigaction(signal, action, null);
}

/// Linux: a non-blocking, close-on-exec signalfd for `signals` (which must be blocked).
pub fn signalfd(signals: []const u8) Error!fd_t {
    if (!is_linux) unreachable;
    const mask = signalMask(signals);
    const flags: u32 = @as(u32, std.os.linux.SFD.NONBLOCK) | @as(u32, std.os.linux.SFD.CLOEXEC);
    const rc = c.signalfd(-1, &mask, flags);
    if (rc == -1) return lastError();
    return rc;
}

pub const SignalInfo = if (is_linux) std.os.linux.signalfd_siginfo else void;

// ---------------------------------------------------------------------------------------------------------
// epoll (Linux) and kqueue (macOS)

pub const EpollEvent = if (is_linux) std.os.linux.epoll_event else void;
pub const EPOLL = if (is_linux) std.os.linux.EPOLL else void;

pub fn epollCreate() Error!fd_t {
    if (!is_linux) unreachable;
    const rc = c.epoll_create1(std.os.linux.EPOLL.CLOEXEC);
    if (rc == -1) return lastError();
    return rc;
}

pub fn epollCtl(epoll_fd: fd_t, op: u32, fd: fd_t, event: ?*EpollEvent) Error!void {
    if (!is_linux) unreachable;
    try check(c.epoll_ctl(epoll_fd, op, fd, event));
}

/// Returns the number of events; 0 on timeout or when a signal interrupted the wait.
pub fn epollWait(epoll_fd: fd_t, events: []EpollEvent, timeout_ms: i32) Error!usize {
    if (!is_linux) unreachable;
    const rc = c.epoll_wait(epoll_fd, events.ptr, @intCast(events.len), timeout_ms);
    if (rc >= 0) return @intCast(rc);
    if (lastErrno() == .INTR) return 0;
    return lastError();
}

pub const Kevent = if (is_darwin) c.Kevent else void;

pub fn kqueue() Error!fd_t {
    if (!is_darwin) unreachable;
    const rc = c.kqueue();
    if (rc == -1) return lastError();
    try setCloseOnExec(rc);
    return rc;
}

/// Applies `changes` and waits for events (timeout null = forever). Returns the number of events.
pub fn kevent(kqueue_fd: fd_t, changes: []const Kevent, events: []Kevent, timeout_ms: ?u32) Error!usize {
    if (!is_darwin) unreachable;
    var timeout: c.timespec = undefined;
    var timeout_pointer: ?*const c.timespec = null;
    if (timeout_ms) |ms| {
        timeout = .{ .sec = @intCast(ms / 1000), .nsec = @intCast(@as(u64, ms % 1000) * std.time.ns_per_ms) };
        timeout_pointer = &timeout;
    }
    const rc = c.kevent(kqueue_fd, changes.ptr, @intCast(changes.len), events.ptr, @intCast(events.len), timeout_pointer);
    if (rc >= 0) return @intCast(rc);
    if (lastErrno() == .INTR) return 0;
    return lastError();
}

// ---------------------------------------------------------------------------------------------------------
// Unix sockets

pub const SockaddrUn = c.sockaddr.un;
pub const sun_path_max = @typeInfo(@TypeOf(@as(SockaddrUn, undefined).path)).array.len;

pub fn unixSocket() Error!fd_t {
    const rc = c.socket(c.AF.UNIX, c.SOCK.STREAM, 0);
    if (rc == -1) return lastError();
    errdefer close(rc);
    try setCloseOnExec(rc);
    try setNonBlocking(rc);
    return rc;
}

/// Fails with `error.NAMETOOLONG` when `path` does not fit in sun_path (with its NUL).
pub fn bindUnix(fd: fd_t, path: []const u8) Error!void {
    var address = std.mem.zeroes(SockaddrUn);
    address.family = c.AF.UNIX;
    if (path.len >= address.path.len) return error.NAMETOOLONG;
    @memcpy(address.path[0..path.len], path);
    try check(c.bind(fd, @ptrCast(&address), @intCast(@sizeOf(SockaddrUn))));
}

pub fn listen(fd: fd_t, backlog: u31) Error!void {
    try check(c.listen(fd, backlog));
}

/// Accept one connection as a non-blocking, close-on-exec socket; `error.AGAIN` when none is waiting.
pub fn accept(fd: fd_t) Error!fd_t {
    while (true) {
        const rc = if (is_linux)
            c.accept4(fd, null, null, c.SOCK.NONBLOCK | c.SOCK.CLOEXEC)
        else
            c.accept(fd, null, null);
        if (rc >= 0) {
            if (!is_linux) {
                errdefer close(rc);
                try setCloseOnExec(rc);
                try setNonBlocking(rc);
                const one: c_int = 1;
                _ = c.setsockopt(rc, c.SOL.SOCKET, c.SO.NOSIGPIPE, &one, @sizeOf(c_int));
            }
            return rc;
        }
        if (lastErrno() == .INTR) continue;
        return lastError();
    }
}

// ---------------------------------------------------------------------------------------------------------
// Clocks

/// Milliseconds of a monotonic clock (for deadlines and uptimes; never goes back).
pub fn monotonicMs() u64 {
    var ts: c.timespec = undefined;
    _ = c.clock_gettime(c.CLOCK.MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * 1000 + @as(u64, @intCast(ts.nsec)) / std.time.ns_per_ms;
}

/// Wall-clock milliseconds since the Unix epoch (for log timestamps only).
pub fn realtimeMs() u64 {
    var ts: c.timespec = undefined;
    _ = c.clock_gettime(c.CLOCK.REALTIME, &ts);
    return @as(u64, @intCast(ts.sec)) * 1000 + @as(u64, @intCast(ts.nsec)) / std.time.ns_per_ms;
}

pub fn sleepMs(ms: u64) void {
    var ts: c.timespec = .{ .sec = @intCast(ms / 1000), .nsec = @intCast((ms % 1000) * std.time.ns_per_ms) };
    while (c.nanosleep(&ts, &ts) == -1 and lastErrno() == .INTR) {}
}

// ---------------------------------------------------------------------------------------------------------
// Files relative to a directory handle (home.zig): nothing under VELOS_HOME is reached through a symlink.

pub fn openAt(directory_fd: fd_t, name: [*:0]const u8, flags: O, mode: mode_t) Error!fd_t {
    while (true) {
        const rc = c.openat(directory_fd, name, flags, mode);
        if (rc >= 0) return rc;
        if (lastErrno() == .INTR) continue;
        return lastError();
    }
}

/// fstatat without following a final symlink (lstat relative to a directory; AT_FDCWD for a path).
pub fn lstatAt(directory_fd: fd_t, name: [*:0]const u8) Error!Stat {
    var result = std.mem.zeroes(Stat);
    const flags: u32 = c.AT.SYMLINK_NOFOLLOW;
    const rc = if (lfs64) c.fstatat64(directory_fd, name, &result, flags) else c.fstatat(directory_fd, name, &result, flags);
    try check(rc);
    return result;
}

pub const at_cwd: fd_t = c.AT.FDCWD;

pub fn mkdirAt(directory_fd: fd_t, name: [*:0]const u8, mode: mode_t) Error!void {
    try check(c.mkdirat(directory_fd, name, mode));
}

pub fn unlinkAt(directory_fd: fd_t, name: [*:0]const u8) Error!void {
    try check(c.unlinkat(directory_fd, name, 0));
}

pub fn renameAt(directory_fd: fd_t, old_name: [*:0]const u8, new_name: [*:0]const u8) Error!void {
    try check(c.renameat(directory_fd, old_name, directory_fd, new_name));
}

pub fn fchmod(fd: fd_t, mode: mode_t) Error!void {
    try check(c.fchmod(fd, mode));
}

/// dup2 that retries EINTR (for the daemon's own stdout/stderr; the forked child has its own).
pub fn dup2(from: fd_t, to: fd_t) Error!void {
    while (c.dup2(from, to) == -1) {
        if (lastErrno() != .INTR) return lastError();
    }
}

pub fn isRegular(st: Stat) bool {
    return (st.mode & c.S.IFMT) == c.S.IFREG;
}

pub fn isSymlink(st: Stat) bool {
    return (st.mode & c.S.IFMT) == c.S.IFLNK;
}

test "errno errors carry their name" {
    const err: anyerror = errorFromErrno(.NOENT);
    try std.testing.expectEqualStrings("ENOENT", errnoName(err));
    try std.testing.expectEqualStrings("OutOfMemory", errnoName(error.OutOfMemory));
    try std.testing.expectEqual(@as(i32, @intFromEnum(E.ACCES)), errnoNumber(error.ACCES));
    try std.testing.expectEqualStrings("EACCES", errnoNumberName(@intFromEnum(E.ACCES)));
}

test "wait status decoding" {
    if (!is_linux) return;
    try std.testing.expectEqual(Exit{ .code = 3 }, decodeWaitStatus(3 << 8));
    try std.testing.expectEqual(Exit{ .signal = 9 }, decodeWaitStatus(9));
}

test "every wrapper compiles" {
    std.testing.refAllDecls(@This());
}
