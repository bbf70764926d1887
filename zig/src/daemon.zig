//! The daemon: VELOS_HOME, the pid-file lock, signals, the event loop, and carrying out the supervisor's
//! decisions (spawn, signal, reap, sample, persist). One thread; every descriptor non-blocking except files.
//!
//! Start-up order: new session (detached) → home (0700, ours) → logs/ → lock velos.pid → signals blocked
//! and read through the poller → child subreaper → socket → state file (kill leftovers, restore apps) → loop.
//! Shutdown (SIGTERM, SIGINT, SHUTDOWN): every app stopped (kill signal, SIGKILL after its timeout) until
//! every process group is empty, the table saved with fsync (apps keep their desired state, so they come
//! back with the daemon), socket and pid file removed.
const std = @import("std");
const sys = @import("sys.zig");
const poller_module = @import("poller.zig");
const spawn = @import("spawn.zig");
const supervisor = @import("supervisor.zig");
const logs = @import("logs.zig");
const server = @import("server.zig");
const state = @import("state.zig");
const protocol = @import("protocol.zig");
const procfs = @import("procfs.zig");
const tracker_module = @import("tracker.zig");
const tree = @import("tree.zig");
const diag_module = @import("diag.zig");
const restore = @import("restore.zig");
const Status = @import("status.zig").Status;
const root = @import("root.zig");
const home_files = @import("home.zig");
const daemon_log = @import("daemon_log.zig");

const assert = std.debug.assert;
const fd_t = sys.fd_t;
const Poller = poller_module.Poller;
const Table = supervisor.Table;
const App = supervisor.App;

/// Bytes read from an app's pipe per read call.
const pipe_read_bytes = 256 * 1024;
/// Where timestamped log lines are assembled before each write to the file.
const log_scratch_bytes = 64 * 1024;
/// Reads per pipe per readiness event before other descriptors get their turn (level-triggered: the rest
/// is read on the next round).
const pipe_reads_per_event = 16;
/// Bytes read from a client socket per read call.
pub const socket_read_bytes = 64 * 1024;
/// How often cpu and memory are sampled.
const sample_interval_ms = 1000;
/// How soon after a spawn the next sample is taken (once the program has had time to load).
const early_sample_delay_ms = 100;
/// How often a stopping app's process group is checked once its main process is gone.
const group_poll_ms = 20;
/// The descriptor limit the daemon raises itself to (pipes and log files: 4 per app, plus clients).
const descriptor_limit_wanted = 65536;
/// At shutdown, how long past the longest kill timeout the daemon waits for process groups to empty.
const shutdown_grace_ms = 5000;

/// What kind of descriptor a poller token names; the rest of the token is a slot and its generation.
pub const TokenKind = enum(u8) { listener = 1, client = 2, app_out = 3, app_err = 4 };

pub fn token(kind: TokenKind, slot: u32, generation: u32) u64 {
    assert(slot < (1 << 24));
    return @as(u64, @intFromEnum(kind)) | (@as(u64, slot) << 8) | (@as(u64, generation) << 32);
}

pub const Token = struct { kind: TokenKind, slot: u32, generation: u32 };

pub fn decodeToken(value: u64) ?Token {
    const kind = std.meta.intToEnum(TokenKind, @as(u8, @truncate(value))) catch return null;
    return .{ .kind = kind, .slot = @truncate(value >> 8 & 0xff_ffff), .generation = @truncate(value >> 32) };
}

// ---------------------------------------------------------------------------------------------------------
// Diagnostics (diag.zig): one line per event worth knowing, on stderr.

pub const diag = diag_module.diag;
const appDiag = diag_module.appDiag;

// ---------------------------------------------------------------------------------------------------------
// Entry point

/// A failed start-up: the status for the C caller and a message saying what failed and the likely cause.
pub const Failure = struct {
    status: Status,
    holder_pid: i32 = 0,
    buffer: [512]u8 = undefined,
    len: usize = 0,

    fn set(failure: *Failure, status: Status, comptime format: []const u8, args: anytype) error{Failed} {
        failure.status = status;
        const written = std.fmt.bufPrint(&failure.buffer, format, args) catch blk: {
            @memcpy(failure.buffer[failure.buffer.len - 3 ..], "...");
            break :blk failure.buffer[0..];
        };
        failure.len = written.len;
        return error.Failed;
    }

    pub fn message(failure: *const Failure) []const u8 {
        return failure.buffer[0..failure.len];
    }
};

pub const Options = struct {
    detach: bool = false,
    /// A client silent this long both ways is closed (server.zig); shorter only in tests.
    client_idle_timeout_ms: u64 = server.idle_timeout_ms,
};

/// Runs the daemon until it is told to stop. Returns .ok after a clean stop; otherwise `failure` says why.
pub fn run(home: []const u8, options: Options, failure: *Failure) Status {
    const allocator = std.heap.c_allocator;
    const daemon = allocator.create(Daemon) catch {
        _ = failure.set(.internal, "out of memory allocating the daemon", .{}) catch {};
        return .internal;
    };
    defer allocator.destroy(daemon);
    daemon.* = .{ .allocator = allocator, .options = options };
    defer daemon.deinit();
    daemon.setUp(home, failure) catch return failure.status;
    daemon.loop();
    daemon.finish();
    diag("stopped", .{});
    return .ok;
}

const Paths = struct {
    home: [:0]u8,
    logs: [:0]u8,
    socket: [:0]u8,
    pid: [:0]u8,
    state: [:0]u8,
    state_tmp: [:0]u8,
    state_corrupt: [:0]u8,

    fn init(allocator: std.mem.Allocator, home: []const u8) error{OutOfMemory}!Paths {
        const trimmed = if (home.len > 1) std.mem.trimRight(u8, home, "/") else home;
        return .{
            .home = try allocator.dupeZ(u8, trimmed),
            .logs = try join(allocator, trimmed, "logs"),
            .socket = try join(allocator, trimmed, "velos.sock"),
            .pid = try join(allocator, trimmed, "velos.pid"),
            .state = try join(allocator, trimmed, "state.msgpack"),
            .state_tmp = try join(allocator, trimmed, "state.msgpack.tmp"),
            .state_corrupt = try join(allocator, trimmed, "state.msgpack.corrupt"),
        };
    }

    fn join(allocator: std.mem.Allocator, directory: []const u8, name: []const u8) error{OutOfMemory}![:0]u8 {
        const separator: []const u8 = if (std.mem.endsWith(u8, directory, "/")) "" else "/";
        return std.fmt.allocPrintSentinel(allocator, "{s}{s}{s}", .{ directory, separator, name }, 0);
    }

    fn deinit(paths: *Paths, allocator: std.mem.Allocator) void {
        inline for (@typeInfo(Paths).@"struct".fields) |field| allocator.free(@field(paths, field.name));
    }
};

/// Signals read through the poller. SIGHUP: ignored when detached, else (a closed terminal) a shutdown.
const watched_signals = [_]u8{ sys.SIG.CHLD, sys.SIG.TERM, sys.SIG.INT, sys.SIG.HUP };

const Shutdown = struct {
    reason: []const u8,
    give_up_ms: u64,
};

pub const Daemon = struct {
    allocator: std.mem.Allocator,
    options: Options,
    pid: i32 = 0,
    started_ms: u64 = 0,
    paths: ?Paths = null,
    pid_fd: fd_t = -1,
    /// VELOS_HOME and logs/, opened once (home.zig): files under them are opened relative to these.
    home_fd: fd_t = -1,
    logs_fd: fd_t = -1,
    listen_fd: fd_t = -1,
    dev_null_fd: fd_t = -1,
    poller: ?Poller = null,
    table: Table = .{},
    clients: server.Clients = .{},
    /// Pipe reads land here.
    pipe_buffer: []u8 = &.{},
    /// Timestamped log lines are assembled here.
    log_scratch: []u8 = &.{},
    /// Client socket reads land here.
    socket_buffer: []u8 = &.{},
    /// For LIST's sort.
    sort_buffer: []u32 = &.{},
    /// Decoded requests; reset after each one.
    request_arena: std.heap.ArenaAllocator = std.heap.ArenaAllocator.init(std.heap.c_allocator),
    /// The encoded table, kept between writes.
    state_bytes: std.ArrayList(u8) = .empty,
    /// Something that may change the persisted table happened in this iteration.
    table_touched: bool = false,
    /// Fingerprint of the persisted fields at the last write.
    saved_fingerprint: u64 = 0,
    descriptor_limit: ?sys.Rlimit = null,
    next_sample_ms: u64 = 0,
    /// The clock read once per loop round, for bookkeeping that needs no precision (log idleness).
    loop_now_ms: u64 = 0,
    /// When to wake next for a deadline, a group poll or sampling (computed by `tick`).
    next_wake_ms: u64 = 0,
    /// Rotating daemon.log failed last time (reported once).
    own_log_failing: bool = false,
    /// When daemon.log's size is looked at next (rotateOwnLog), on the sampling cadence.
    next_own_log_check_ms: u64 = 0,
    /// The listener is paused after EMFILE until this time.
    accept_paused_until_ms: ?u64 = null,
    shutdown: ?Shutdown = null,
    stat_buffer: [1024]u8 = undefined,
    /// Set when a spawn fails; a request handler clears it first and reads it after (`spawn_failed` reply).
    spawn_failed_now: bool = false,
    /// The message of the last failed registration or state write, for the client's error reply.
    last_failure_buffer: [512]u8 = undefined,
    last_failure: []const u8 = "",
    page_size_bytes: u64 = 4096,
    /// Every process of every app, from /proc (tracker.zig, tree.zig).
    tracker: tracker_module.Tracker = .{},
    /// `DEV.INODE` of VELOS_HOME: the part of each app's marker that says which daemon it belongs to.
    home_id_buffer: [48]u8 = undefined,
    home_id: []const u8 = "",
    environ_buffer: []u8 = &.{},
    /// A signal to some app's group was sent: scan the tree soon, so its descendants get it too.
    scan_due: bool = false,
    /// When the next tree scan may run (tree.nextScanAllowedMs).
    next_scan_allowed_ms: u64 = 0,
    /// false off Linux (no /proc): only process groups are tracked.
    tree_tracking: bool = sys.is_linux,
    // Put back on return: the caller (the Rust process) had these.
    old_mask: ?sys.SignalMask = null,
    old_pipe_action: ?sys.SignalAction = null,
    old_hup_action: ?sys.SignalAction = null,
    old_term_action: ?sys.SignalAction = null,
    old_int_action: ?sys.SignalAction = null,

    // -----------------------------------------------------------------------------------------------------
    // Start-up

    fn setUp(daemon: *Daemon, home: []const u8, failure: *Failure) error{Failed}!void {
        const allocator = daemon.allocator;
        daemon.pid = sys.getpid();
        daemon.started_ms = sys.monotonicMs();
        daemon.page_size_bytes = procfs.pageSizeBytes();

        if (daemon.options.detach) {
            // Whatever the caller left open above stderr (a pipe of a CI step, make's jobserver) is not ours:
            // kept, it would hold the caller's pipe open for as long as the daemon lives. Only when detached:
            // a foreground daemon may run inside a process that owns its descriptors (the Zig tests do).
            sys.closeFrom(3);
            sys.setsid() catch {}; // EPERM: already a session leader, which is what we wanted
            daemon.old_hup_action = sys.ignoreSignal(sys.SIG.HUP);
        }
        sys.ensureStdioOpen();
        if (daemon.options.detach) sys.stdinFromDevNull();
        // Writes to a closed socket must fail with EPIPE, not kill the daemon (sends also use MSG_NOSIGNAL).
        daemon.old_pipe_action = sys.ignoreSignal(sys.SIG.PIPE);

        daemon.paths = Paths.init(allocator, home) catch
            return failure.set(.internal, "out of memory building the paths under {s}", .{home});
        const paths = &daemon.paths.?;

        try daemon.prepareHome(paths, failure);
        const home_stat = sys.fstat(daemon.home_fd) catch |err|
            return failure.set(.home_unusable, "stat {s} failed: {s}{s}", .{ paths.home, sys.errnoName(err), fileHint(err) });
        daemon.home_id = std.fmt.bufPrint(&daemon.home_id_buffer, "{d}.{d}", .{ home_stat.dev, home_stat.ino }) catch unreachable;
        try daemon.lockPidFile(failure);

        // Signals: blocked, then read as events (signalfd on Linux; kqueue's EVFILT_SIGNAL on macOS, where
        // TERM/INT/HUP are ignored instead — blocking them would leave them pending — and SIGCHLD keeps its
        // default, since ignoring it would make the kernel reap children for us).
        daemon.poller = Poller.init() catch |err|
            return failure.set(.internal, "creating the event poller failed: {s}", .{sys.errnoName(err)});
        if (sys.is_linux) {
            daemon.old_mask = sys.blockSignals(&watched_signals) catch |err|
                return failure.set(.internal, "sigprocmask failed: {s}", .{sys.errnoName(err)});
        } else {
            daemon.old_term_action = sys.ignoreSignal(sys.SIG.TERM);
            daemon.old_int_action = sys.ignoreSignal(sys.SIG.INT);
            if (daemon.old_hup_action == null) daemon.old_hup_action = sys.ignoreSignal(sys.SIG.HUP);
        }
        daemon.poller.?.watchSignals(&watched_signals) catch |err|
            return failure.set(.internal, "watching signals failed (signalfd/kqueue): {s}", .{sys.errnoName(err)});

        sys.becomeChildSubreaper() catch |err|
            diag("warning: prctl(PR_SET_CHILD_SUBREAPER) failed ({s}): orphaned grandchildren go to init", .{sys.errnoName(err)});
        daemon.descriptor_limit = sys.raiseDescriptorLimit(descriptor_limit_wanted);

        daemon.dev_null_fd = sys.open("/dev/null", .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0) catch |err|
            return failure.set(.internal, "open /dev/null failed: {s}", .{sys.errnoName(err)});

        daemon.pipe_buffer = allocator.alloc(u8, pipe_read_bytes) catch
            return failure.set(.internal, "out of memory allocating buffers", .{});
        daemon.log_scratch = allocator.alloc(u8, log_scratch_bytes) catch
            return failure.set(.internal, "out of memory allocating buffers", .{});
        daemon.socket_buffer = allocator.alloc(u8, socket_read_bytes) catch
            return failure.set(.internal, "out of memory allocating buffers", .{});
        daemon.sort_buffer = allocator.alloc(u32, supervisor.apps_max) catch
            return failure.set(.internal, "out of memory allocating buffers", .{});
        daemon.environ_buffer = allocator.alloc(u8, tree.environ_head_bytes) catch
            return failure.set(.internal, "out of memory allocating buffers", .{});

        try daemon.bindSocket(failure);
        daemon.restoreState();
        daemon.next_sample_ms = sys.monotonicMs() + sample_interval_ms;
        diag("started: pid {d}, home {s}, {d} apps restored", .{ daemon.pid, paths.home, daemon.table.count });
    }

    /// VELOS_HOME and logs/ as directory handles (home.zig): each a real directory (a symlink is refused,
    /// never followed), ours, mode 0700 (put right through the handle). Everything below is opened
    /// relative to them with O_NOFOLLOW.
    fn prepareHome(daemon: *Daemon, paths: *const Paths, failure: *Failure) error{Failed}!void {
        if (paths.home.len == 0 or paths.home[0] != '/') {
            return failure.set(.invalid_argument, "VELOS_HOME must be an absolute path, got \"{s}\"", .{paths.home});
        }
        makeParents(paths.home);
        daemon.home_fd = try openHomeDirectory(sys.at_cwd, paths.home, paths.home, failure);
        daemon.logs_fd = try openHomeDirectory(daemon.home_fd, "logs", paths.logs, failure);
    }

    fn openHomeDirectory(parent_fd: fd_t, name: [*:0]const u8, path: []const u8, failure: *Failure) error{Failed}!fd_t {
        var problem: home_files.DirectoryProblem = undefined;
        var mode_fixed: ?u32 = null;
        const fd = home_files.openDirectory(parent_fd, name, &problem, &mode_fixed) catch return switch (problem) {
            .failed => |failed| failure.set(.home_unusable, "{s} {s} failed: {s}{s}", .{ failed.step, path, sys.errnoName(failed.err), fileHint(failed.err) }),
            .symlink => failure.set(.home_unusable, "{s} is a symlink: refusing to follow it (set VELOS_HOME to the real directory)", .{path}),
            .not_directory => failure.set(.home_unusable, "{s} exists and is not a directory", .{path}),
            .other_owner => |uid| failure.set(.home_unusable, "{s} belongs to uid {d}, not to us (uid {d}): refusing to run a daemon in another user's directory", .{ path, uid, sys.geteuid() }),
        };
        if (mode_fixed) |mode| diag("{s} had mode {o:0>4}: changed to 0700", .{ path, mode });
        return fd;
    }

    /// mkdir -p for the parents of `path` (0755, as mkdir -p); errors surface at the mkdir of `path`.
    fn makeParents(path: [:0]u8) void {
        var index: usize = 1;
        while (std.mem.indexOfScalarPos(u8, path, index, '/')) |slash| : (index = slash + 1) {
            path[slash] = 0;
            defer path[slash] = '/';
            sys.mkdir(path[0..slash :0], 0o755) catch {};
        }
    }

    fn lockPidFile(daemon: *Daemon, failure: *Failure) error{Failed}!void {
        const path = daemon.paths.?.pid;
        daemon.pid_fd = home_files.openFile(daemon.home_fd, "velos.pid", .{ .ACCMODE = .RDWR, .CREAT = true }, 0o600) catch |err|
            return failure.set(.home_unusable, "open {s} failed: {s}{s}", .{ path, sys.errnoName(err), fileHint(err) });
        const locked = sys.lockExclusive(daemon.pid_fd) catch |err|
            return failure.set(.home_unusable, "flock {s} failed: {s} (a filesystem without locks, such as some network mounts?)", .{ path, sys.errnoName(err) });
        if (!locked) {
            var buffer: [32]u8 = undefined;
            const count = sys.read(daemon.pid_fd, &buffer) catch 0;
            const text = std.mem.trim(u8, buffer[0..count], " \n");
            failure.holder_pid = std.fmt.parseInt(i32, text, 10) catch 0;
            sys.close(daemon.pid_fd);
            daemon.pid_fd = -1;
            return failure.set(.already_running, "a daemon (pid {s}) already runs for {s}: it holds the lock on {s}", .{
                if (text.len > 0) text else "unknown", daemon.paths.?.home, path,
            });
        }
        var buffer: [32]u8 = undefined;
        const text = std.fmt.bufPrint(&buffer, "{d}\n", .{daemon.pid}) catch unreachable;
        sys.ftruncate(daemon.pid_fd, 0) catch {};
        sys.writeAll(daemon.pid_fd, text) catch |err|
            return failure.set(.home_unusable, "writing our pid to {s} failed: {s}{s}", .{ path, sys.errnoName(err), fileHint(err) });
    }

    fn bindSocket(daemon: *Daemon, failure: *Failure) error{Failed}!void {
        const path = daemon.paths.?.socket;
        if (path.len >= sys.sun_path_max) {
            return failure.set(.socket_failed, "the socket path {s} is {d} bytes, over the {d}-byte limit of a Unix socket address (sun_path): use a shorter VELOS_HOME", .{ path, path.len, sys.sun_path_max - 1 });
        }
        // Safe: we hold the lock, so any socket file here is a dead daemon's.
        sys.unlink(path) catch |err| switch (err) {
            error.NOENT => {},
            else => return failure.set(.socket_failed, "removing the stale socket {s} failed: {s}{s}", .{ path, sys.errnoName(err), fileHint(err) }),
        };
        const fd = sys.unixSocket() catch |err|
            return failure.set(.socket_failed, "socket(AF_UNIX) failed: {s}", .{sys.errnoName(err)});
        daemon.listen_fd = fd;
        sys.bindUnix(fd, path) catch |err| {
            const cause: []const u8 = switch (err) {
                error.ADDRINUSE => " (another process bound it after we removed it)",
                error.ACCES => " (no write permission on the directory)",
                error.NAMETOOLONG => " (path too long for sun_path)",
                error.ROFS => " (read-only filesystem)",
                else => "",
            };
            return failure.set(.socket_failed, "bind {s} failed: {s}{s}", .{ path, sys.errnoName(err), cause });
        };
        sys.chmod(path, 0o600) catch |err|
            return failure.set(.socket_failed, "chmod 0600 {s} failed: {s}", .{ path, sys.errnoName(err) });
        sys.listen(fd, 512) catch |err|
            return failure.set(.socket_failed, "listen on {s} failed: {s}", .{ path, sys.errnoName(err) });
        daemon.poller.?.add(fd, token(.listener, 0, 0), .{ .read = true }) catch |err|
            return failure.set(.internal, "adding the socket to the poller failed: {s}", .{sys.errnoName(err)});
    }

    /// Loads the state file, kills what a previous daemon left running (restore.zig), and registers (and
    /// starts) the apps.
    fn restoreState(daemon: *Daemon) void {
        const paths = &daemon.paths.?;
        var arena_state = std.heap.ArenaAllocator.init(daemon.allocator);
        defer arena_state.deinit();
        const apps = restore.loadAndClear(
            arena_state.allocator(),
            .{ .state = paths.state, .state_corrupt = paths.state_corrupt },
            if (daemon.tree_tracking) daemon.home_id else null,
            .{ .stat_buffer = &daemon.stat_buffer, .environ_buffer = daemon.environ_buffer },
        );
        for (apps) |saved| {
            const slot = daemon.registerApp(saved.spec) catch |err| {
                diag("warning: app {s} from the state file could not be registered: {s}", .{ saved.spec.name, @errorName(err) });
                continue;
            };
            const app = daemon.table.get(slot);
            app.machine = supervisor.Machine.restored(saved.desired_running, saved.outcome);
            if (app.machine.startsOnRestore()) daemon.apply(slot, app.machine.start(sys.monotonicMs()));
        }
        daemon.table_touched = true;
    }

    // -----------------------------------------------------------------------------------------------------
    // The loop

    fn loop(daemon: *Daemon) void {
        daemon.tick();
        while (true) {
            const now_ms = sys.monotonicMs();
            const timeout_ms: u32 = @intCast(@min(daemon.next_wake_ms -| now_ms, 60_000));
            const events = daemon.poller.?.wait(timeout_ms) catch |err| {
                diag("error: waiting for events failed: {s}", .{sys.errnoName(err)});
                sys.sleepMs(10);
                continue;
            };
            daemon.loop_now_ms = sys.monotonicMs();
            for (events) |event| daemon.handleEvent(event);
            daemon.tick();
            daemon.persistIfChanged();
            server.flushAll(daemon);
            if (daemon.shutdownComplete()) break;
        }
    }

    fn handleEvent(daemon: *Daemon, event: poller_module.Event) void {
        if (event.signal != 0) return daemon.handleSignal(event.signal);
        const decoded = decodeToken(event.token) orelse return;
        switch (decoded.kind) {
            .listener => server.acceptAll(daemon),
            .client => server.handleEvent(daemon, decoded.slot, decoded.generation, event),
            .app_out, .app_err => {
                const app = daemon.table.lookup(decoded.slot, decoded.generation) orelse return;
                const stream: protocol.Stream = if (decoded.kind == .app_out) .out else .err;
                daemon.drainPipe(decoded.slot, app, stream, pipe_reads_per_event);
            },
        }
    }

    fn handleSignal(daemon: *Daemon, signal: u8) void {
        switch (signal) {
            sys.SIG.CHLD => daemon.reapChildren(),
            sys.SIG.TERM => daemon.beginShutdown("SIGTERM"),
            sys.SIG.INT => daemon.beginShutdown("SIGINT"),
            sys.SIG.HUP => if (daemon.options.detach) {
                diag("SIGHUP ignored (detached)", .{});
            } else daemon.beginShutdown("SIGHUP"),
            else => {},
        }
    }

    /// Deadlines, group polls, sampling, and when to wake next.
    fn tick(daemon: *Daemon) void {
        var now_ms = sys.monotonicMs();
        var next_ms: u64 = now_ms + 60_000;
        const scanned_now = daemon.scanIfDue(now_ms, &next_ms);
        now_ms = sys.monotonicMs();
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            const machine = &entry.app.machine;
            if (machine.deadline_ms) |deadline_ms| {
                if (now_ms >= deadline_ms) daemon.apply(entry.slot, machine.deadlineReached(now_ms));
            }
            if (daemon.table.lookup(entry.slot, daemon.table.generation(entry.slot)) == null) continue; // removed
            if (machine.awaitsEmptyGroup()) {
                // Empty means the group and every descendant that left it, as of a scan made just now.
                const tree_empty = !daemon.tree_tracking or (scanned_now and entry.app.descendants == 0);
                if (!sys.groupExists(machine.pgid) and tree_empty) {
                    daemon.apply(entry.slot, machine.groupEmpty(now_ms));
                    if (daemon.table.lookup(entry.slot, daemon.table.generation(entry.slot)) == null) continue;
                } else {
                    next_ms = @min(next_ms, now_ms + group_poll_ms);
                }
            }
            if (machine.deadline_ms) |deadline_ms| next_ms = @min(next_ms, deadline_ms);
            for (&entry.app.logs) |*log| {
                if (log.file_fd == -1) continue;
                log.closeIdleFile(now_ms);
                if (log.file_fd != -1) next_ms = @min(next_ms, log.last_data_ms + logs.file_idle_close_ms);
            }
        }
        if (now_ms >= daemon.next_own_log_check_ms) {
            daemon.rotateOwnLog();
            daemon.next_own_log_check_ms = now_ms + sample_interval_ms;
        }
        next_ms = @min(next_ms, daemon.next_own_log_check_ms);
        if (!daemon.tree_tracking and now_ms >= daemon.next_sample_ms) {
            daemon.sample(now_ms);
            daemon.next_sample_ms = now_ms + sample_interval_ms;
        }
        next_ms = @min(next_ms, daemon.next_sample_ms);
        if (daemon.accept_paused_until_ms) |until_ms| {
            if (now_ms >= until_ms) {
                daemon.accept_paused_until_ms = null;
                daemon.poller.?.modify(daemon.listen_fd, token(.listener, 0, 0), .{}, .{ .read = true }) catch {};
            } else next_ms = @min(next_ms, until_ms);
        }
        if (daemon.shutdown) |shutdown| next_ms = @min(next_ms, shutdown.give_up_ms);
        next_ms = @min(next_ms, server.expireIdle(daemon, now_ms));
        daemon.next_wake_ms = next_ms;
    }

    /// What PING reports as `tracking`: how an app's processes are known.
    pub fn trackingMechanism(daemon: *const Daemon) []const u8 {
        return if (daemon.tree_tracking) tracker_module.mechanism else "process-group";
    }

    /// Scans the process tree when a signal for descendants is pending, an app waits for its tree to empty,
    /// or sampling is due, spaced by `tree.nextScanAllowedMs`; true when it scanned.
    fn scanIfDue(daemon: *Daemon, now_ms: u64, next_ms: *u64) bool {
        if (!daemon.tree_tracking) return false;
        var due = daemon.scan_due or now_ms >= daemon.next_sample_ms;
        if (!due) {
            var iterator = daemon.table.iterator();
            while (iterator.next()) |entry| {
                if (entry.app.machine.awaitsEmptyGroup()) {
                    due = true;
                    break;
                }
            }
        }
        if (!due) return false;
        if (now_ms < daemon.next_scan_allowed_ms) {
            next_ms.* = @min(next_ms.*, daemon.next_scan_allowed_ms);
            return false;
        }
        const report = tree.scan(&daemon.tracker, daemon.allocator, &daemon.table, daemon.pid, daemon.home_id, .{
            .stat_buffer = &daemon.stat_buffer,
            .environ_buffer = daemon.environ_buffer,
        }) catch |err| {
            if (err == error.Unsupported) {
                diag("warning: /proc cannot be scanned: only process groups are tracked", .{});
                daemon.tree_tracking = false;
            }
            return false;
        };
        if (report.deleted_apps_killed > 0) diag("killed {d} processes left by deleted apps", .{report.deleted_apps_killed});
        if (report.leftovers_killed > 0) {
            var iterator = daemon.table.iterator();
            while (iterator.next()) |entry| {
                const app = entry.app;
                if (app.leftovers_killed == 0) continue;
                appDiag(app, "killed {d} leftover processes of a run that had ended", .{app.leftovers_killed});
                app.leftovers_killed = 0;
            }
        }
        daemon.scan_due = false;
        daemon.next_scan_allowed_ms = tree.nextScanAllowedMs(now_ms, sys.monotonicMs() -| now_ms);
        if (now_ms >= daemon.next_sample_ms) {
            daemon.sampleTree(now_ms);
            daemon.next_sample_ms = now_ms + sample_interval_ms;
        }
        return true;
    }

    /// CPU and memory of every running app from the last scan, its whole tree; an app above its
    /// `max_memory_bytes` is restarted.
    fn sampleTree(daemon: *Daemon, now_ms: u64) void {
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            const app = entry.app;
            if (app.machine.pid == 0) continue;
            app.cpu_ticks_total +|= app.sampler.delta(app.tree_cpu_ticks);
            app.cpu_percent = app.sampler.sample(app.tree_cpu_ticks, now_ms);
            app.memory_bytes = app.tree_rss_pages * daemon.page_size_bytes;
            if (daemon.shutdown == null and supervisor.overMemoryLimit(app.machine.status, app.memory_bytes, app.spec.max_memory_bytes)) {
                daemon.apply(entry.slot, app.machine.memoryExceeded(app.policy(), now_ms));
            }
        }
    }

    /// daemon.log past its bound: rotated (daemon_log.zig), once a second at most.
    fn rotateOwnLog(daemon: *Daemon) void {
        switch (daemon_log.rotateIfLarge(daemon.home_fd, 2, 1, daemon_log.rotate_bytes)) {
            .kept => daemon.own_log_failing = false,
            .rotated => {
                daemon.own_log_failing = false;
                diag("daemon.log rotated (over {d} MiB): the previous one is daemon.log.1", .{daemon_log.rotate_bytes >> 20});
            },
            .failed => |err| {
                // Once, not every second.
                if (!daemon.own_log_failing) diag("error: rotating daemon.log failed: {s}", .{sys.errnoName(err)});
                daemon.own_log_failing = true;
            },
        }
    }

    /// CPU and memory of every running app's main process (no /proc tree); an app above its
    /// `max_memory_bytes` is restarted.
    fn sample(daemon: *Daemon, now_ms: u64) void {
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            const app = entry.app;
            if (app.machine.pid == 0) continue;
            const stat = procfs.readStat(app.machine.pid, &daemon.stat_buffer) catch continue;
            app.cpu_ticks_total +|= app.sampler.delta(stat.utime_ticks + stat.stime_ticks);
            app.cpu_percent = app.sampler.sample(stat.utime_ticks + stat.stime_ticks, now_ms);
            app.memory_bytes = stat.rss_pages * daemon.page_size_bytes;
            if (daemon.shutdown == null and supervisor.overMemoryLimit(app.machine.status, app.memory_bytes, app.spec.max_memory_bytes)) {
                daemon.apply(entry.slot, app.machine.memoryExceeded(app.policy(), now_ms));
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Apps

    pub const RegisterError = error{ OutOfMemory, Limit, LogsUnusable };

    /// Adds an app to the table (stopped) with its pipes and log files. On `LogsUnusable` a diagnostic line
    /// says why and `last_failure` holds the message for the client.
    pub fn registerApp(daemon: *Daemon, spec: protocol.Spec) RegisterError!u32 {
        const slot = try daemon.table.add(daemon.allocator, spec);
        const app = daemon.table.get(slot);
        errdefer {
            for (&app.logs) |*log| {
                if (log.read_fd != -1) daemon.poller.?.remove(log.read_fd, .{ .read = true });
                log.close(daemon.allocator);
            }
            daemon.table.remove(daemon.allocator, slot);
        }
        const generation = daemon.table.generation(slot);
        inline for (.{ protocol.Stream.out, protocol.Stream.err }) |stream| {
            var path_buffer: [std.fs.max_name_bytes]u8 = undefined;
            const path = logs.fileName(&path_buffer, spec.name, stream.wireName()) catch
                return daemon.registerFailed(error.NAMETOOLONG, "log path", spec.name);
            var step: logs.StreamLog.Step = undefined;
            app.log(stream).open(daemon.allocator, daemon.logs_fd, path, &step) catch |err| switch (err) {
                error.OutOfMemory => return error.OutOfMemory,
                else => |sys_err| return daemon.registerFailed(sys_err, if (step == .pipe) "pipe()" else path, spec.name),
            };
            const kind: TokenKind = if (stream == .out) .app_out else .app_err;
            daemon.poller.?.add(app.log(stream).read_fd, token(kind, slot, generation), .{ .read = true }) catch |err|
                return daemon.registerFailed(err, "adding the pipe to the poller", spec.name);
        }
        daemon.table_touched = true;
        return slot;
    }

    fn registerFailed(daemon: *Daemon, err: anyerror, what: []const u8, name: []const u8) RegisterError {
        daemon.last_failure = std.fmt.bufPrint(&daemon.last_failure_buffer, "{s} for app {s} failed: {s}{s}", .{
            what, name, sys.errnoName(err), fileHint(err),
        }) catch "opening the app's logs failed";
        diag("error: {s}", .{daemon.last_failure});
        return error.LogsUnusable;
    }

    /// Carries out the supervisor's effects for the app in `slot` (a failed spawn sets `spawn_failed_now`).
    pub fn apply(daemon: *Daemon, slot: u32, effects: supervisor.Effects) void {
        daemon.table_touched = true;
        const app = daemon.table.get(slot);
        if (effects.signal_group) |group| {
            sys.kill(-group.pgid, group.signal) catch |err| switch (err) {
                error.SRCH => {}, // already empty
                else => diag("app {s}: kill(-{d}, {d}) failed: {s}", .{ app.spec.name, group.pgid, group.signal, sys.errnoName(err) }),
            };
            // The descendants that left the group get it from the next scan: the same signal when the app is
            // stopping; after an exit they are leftovers of a run that ended, and the scan kills them.
            if (app.machine.status == .stopping) app.descendant_signal = group.signal;
            daemon.scan_due = true;
        }
        switch (effects.note) {
            .none, .restart_now => {},
            .exited_for_good => diag("app {s}: not restarted (restart = {s})", .{ app.spec.name, app.spec.restart.wireName() }),
            .restart_scheduled_ms => |delay_ms| appDiag(app, "restart scheduled in {d} ms (restart {d})", .{ delay_ms, app.machine.restarts }),
            .gave_up => {
                var buffer: [256]u8 = undefined;
                const message = std.fmt.bufPrint(&buffer, "restarted {d} times within {d} ms (max_restarts {d}): not restarting again until a start or restart", .{
                    app.machine.window_restarts, app.spec.restart_window_ms, app.spec.max_restarts,
                }) catch "too many restarts";
                app.setLastError(daemon.allocator, message);
                diag("app {s}: errored: {s}", .{ app.spec.name, message });
            },
            .kill_escalated => diag("app {s}: its process group outlived the grace period after signal {d}: SIGKILL", .{ app.spec.name, app.spec.kill_signal }),
            .memory_restart, .memory_gave_up => {
                var buffer: [256]u8 = undefined;
                const over = memoryOverText(&buffer, app.memory_bytes, app.spec.max_memory_bytes);
                if (effects.note == .memory_restart) {
                    diag("app {s}: {s}, restarting (restart {d})", .{ app.spec.name, over, app.machine.restarts });
                    var message_buffer: [256]u8 = undefined;
                    const message = std.fmt.bufPrint(&message_buffer, "restarted by the daemon: {s}", .{over}) catch over;
                    app.setLastError(daemon.allocator, message);
                } else {
                    var message_buffer: [384]u8 = undefined;
                    const message = std.fmt.bufPrint(&message_buffer, "{s}, and restarted {d} times within {d} ms (max_restarts {d}): stopped, not restarting again until a start or restart", .{
                        over, app.machine.window_restarts, app.spec.restart_window_ms, app.spec.max_restarts,
                    }) catch over;
                    app.setLastError(daemon.allocator, message);
                    diag("app {s}: errored: {s}", .{ app.spec.name, message });
                }
            },
        }
        if (effects.spawn) daemon.spawnApp(app, effects.automatic);
        if (effects.remove) daemon.removeApp(slot);
    }

    /// `automatic`: a restart the daemon decided (the app's `last_error`, which may say why, is kept).
    fn spawnApp(daemon: *Daemon, app: *App, automatic: bool) void {
        var diagnostic: spawn.Diagnostic = .{};
        var marker_buffer: [tracker_module.marker_key.len + 1 + protocol.name_bytes_max + 1 + 48]u8 = undefined;
        const marker = std.fmt.bufPrint(&marker_buffer, "{s}={s}/{s}", .{ tracker_module.marker_key, app.spec.name, daemon.home_id }) catch unreachable;
        const program: spawn.Program = .{
            .command = app.spec.command,
            .args = app.spec.args,
            .cwd = app.spec.cwd,
            .env = app.spec.env,
            .marker = marker,
        };
        app.run +%= 1;
        const stdio: spawn.Stdio = .{
            .stdin_fd = daemon.dev_null_fd,
            .stdout_fd = app.logs[0].write_fd,
            .stderr_fd = app.logs[1].write_fd,
        };
        const pid = spawn.spawn(daemon.allocator, program, stdio, .{ .descriptor_limit = daemon.descriptor_limit }, &diagnostic) catch |err| {
            const message = if (err == error.OutOfMemory) "ENOMEM: out of memory preparing argv and envp" else diagnostic.message();
            app.machine.spawnFailed();
            app.setLastError(daemon.allocator, message);
            daemon.spawn_failed_now = true;
            diag("app {s}: errored: spawn failed: {s}", .{ app.spec.name, message });
            return;
        };
        app.machine.spawned(pid, sys.monotonicMs());
        if (!automatic) app.setLastError(daemon.allocator, null);
        app.sampler = .{};
        app.cpu_percent = 0;
        app.memory_bytes = 0;
        app.start_time_ticks = 0;
        if (procfs.readStat(pid, &daemon.stat_buffer)) |stat| {
            app.start_time_ticks = stat.start_time_ticks;
            // Primes the CPU sampler. Memory is not read here: right after exec the new image has not
            // faulted a page in yet, so its resident size is still ~0.
            _ = app.sampler.sample(stat.utime_ticks + stat.stime_ticks, sys.monotonicMs());
        } else |_| {}
        // Sample soon rather than up to 1 s later, so `velos list` right after a start shows real figures.
        daemon.next_sample_ms = @min(daemon.next_sample_ms, sys.monotonicMs() + early_sample_delay_ms);
        appDiag(app, "started, pid {d}", .{pid});
    }

    /// Closes the app's pipes (after reading what is left in them), ends its log streams, frees it.
    fn removeApp(daemon: *Daemon, slot: u32) void {
        const app = daemon.table.get(slot);
        const generation = daemon.table.generation(slot);
        diag("app {s}: deleted", .{app.spec.name});
        for ([_]protocol.Stream{ .out, .err }) |stream| {
            daemon.drainPipe(slot, app, stream, std.math.maxInt(u32));
            const log = app.log(stream);
            if (log.read_fd != -1) daemon.poller.?.remove(log.read_fd, .{ .read = true });
            log.close(daemon.allocator);
        }
        server.endStreams(daemon, slot, generation);
        daemon.table.remove(daemon.allocator, slot);
        daemon.table_touched = true;
    }

    /// Reads what the app wrote (up to `reads_max` reads): to its log file, its ring and its followers.
    fn drainPipe(daemon: *Daemon, slot: u32, app: *App, stream: protocol.Stream, reads_max: u32) void {
        const log = app.log(stream);
        if (log.read_fd == -1) return;
        var reads: u32 = 0;
        const write: logs.StreamLog.Write = .{
            .options = app.logOptions(),
            .now_ms = daemon.loop_now_ms,
            .epoch_ms = if (app.spec.log_timestamps or app.spec.log_format == .json) sys.realtimeMs() else 0,
            .scratch = daemon.log_scratch,
            .stream = @tagName(stream),
        };
        while (reads < reads_max) : (reads += 1) {
            var report: logs.Report = .{};
            switch (log.readChunk(daemon.allocator, daemon.pipe_buffer, write, &report)) {
                .data => |bytes| {
                    if (report.file_error) |err| diag("error: app {s}: writing {s} failed: {s}{s} (the ring still has the last 64 KiB)", .{
                        app.spec.name, log.file_name orelse "its log", sys.errnoName(err), fileHint(err),
                    });
                    if (report.rotate_failure) |*failure| diag("error: app {s}: rotating {s} failed: {s} {s}: {s}{s} (the live file keeps growing; retried after each write)", .{
                        app.spec.name, log.file_name orelse "its log", @tagName(failure.step), failure.path(), sys.errnoName(failure.err), fileHint(failure.err),
                    });
                    if (app.subscribers > 0) server.fanOut(daemon, slot, daemon.table.generation(slot), stream, bytes);
                    // A short read emptied the pipe: save the read that would say EAGAIN.
                    if (bytes.len < daemon.pipe_buffer.len) break;
                },
                .empty => break,
                .failed => |err| {
                    diag("error: app {s}: reading its {s} pipe failed: {s}", .{ app.spec.name, stream.wireName(), sys.errnoName(err) });
                    break;
                },
            }
        }
    }

    fn reapChildren(daemon: *Daemon) void {
        while (sys.reapAny()) |reaped| {
            // Not in the table: a grandchild reparented to us (we are the subreaper); reaping is all it needs.
            const slot = daemon.findByPid(reaped.pid) orelse continue;
            const app = daemon.table.get(slot);
            const exit: supervisor.Exit = switch (reaped.exit) {
                .code => |code| .{ .code = code },
                .signal => |signal| .{ .signal = signal },
            };
            switch (exit) {
                .code => |code| appDiag(app, "pid {d} exited with code {d}", .{ reaped.pid, code }),
                .signal => |signal| appDiag(app, "pid {d} killed by signal {d}", .{ reaped.pid, signal }),
            }
            daemon.apply(slot, app.machine.exited(app.policy(), exit, sys.monotonicMs()));
        }
    }

    fn findByPid(daemon: *Daemon, pid: i32) ?u32 {
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            if (entry.app.machine.pid == pid) return entry.slot;
        }
        return null;
    }

    // -----------------------------------------------------------------------------------------------------
    // Persistence

    /// Hash of what the state file holds, to skip writes that would change nothing (an idempotent START).
    fn fingerprint(daemon: *const Daemon) u64 {
        var hasher = std.hash.Wyhash.init(0);
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            const app = entry.app;
            std.hash.autoHash(&hasher, entry.slot);
            std.hash.autoHash(&hasher, daemon.table.generation(entry.slot));
            std.hash.autoHash(&hasher, app.spec_version);
            std.hash.autoHash(&hasher, app.machine.desired_running);
            std.hash.autoHash(&hasher, app.machine.outcome());
            std.hash.autoHash(&hasher, app.machine.pid);
            std.hash.autoHash(&hasher, app.machine.pgid);
        }
        return hasher.final();
    }

    /// At most one write per loop iteration, and none when nothing persisted changed.
    fn persistIfChanged(daemon: *Daemon) void {
        if (!daemon.table_touched) return;
        daemon.table_touched = false;
        const current = daemon.fingerprint();
        if (current == daemon.saved_fingerprint) return;
        if (daemon.saveState(.rename_only)) |_| {
            daemon.saved_fingerprint = current;
        } else |_| {}
    }

    /// Writes the state file; the error is logged here, and its message is in `last_failure`.
    pub fn saveState(daemon: *Daemon, durability: state.Durability) error{SaveFailed}!void {
        const paths = &daemon.paths.?;
        state.encode(daemon.allocator, &daemon.table, &daemon.state_bytes) catch {
            daemon.saveFailed("encoding the state failed: out of memory", .{});
            return error.SaveFailed;
        };
        var step: state.WriteStep = undefined;
        state.writeFile(daemon.state_bytes.items, paths.state_tmp, paths.state, paths.home, durability, &step) catch |err| {
            daemon.saveFailed("{s} of {s} failed: {s}{s}", .{ @tagName(step), if (step == .rename) paths.state else paths.state_tmp, sys.errnoName(err), fileHint(err) });
            return error.SaveFailed;
        };
        // Keep the buffer for next time unless one big table left it large.
        if (daemon.state_bytes.capacity > 4 * 1024 * 1024) daemon.state_bytes.clearAndFree(daemon.allocator);
    }

    fn saveFailed(daemon: *Daemon, comptime format: []const u8, args: anytype) void {
        daemon.last_failure = std.fmt.bufPrint(&daemon.last_failure_buffer, "saving the state: " ++ format, args) catch "saving the state failed";
        diag("error: {s}", .{daemon.last_failure});
    }

    // -----------------------------------------------------------------------------------------------------
    // Shutdown

    pub fn beginShutdown(daemon: *Daemon, reason: []const u8) void {
        const now_ms = sys.monotonicMs();
        if (daemon.shutdown != null) {
            // Asked again (a second Ctrl-C): no more grace.
            diag("{s} again: SIGKILL to every app still stopping", .{reason});
            var iterator = daemon.table.iterator();
            while (iterator.next()) |entry| {
                const machine = &entry.app.machine;
                if (machine.status == .stopping and !machine.killed) machine.deadline_ms = now_ms;
            }
            return;
        }
        var kill_timeout_max_ms: u64 = 0;
        var stopping: u32 = 0;
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            const app = entry.app;
            if (app.machine.status == .running or app.machine.status == .starting) stopping += 1;
            kill_timeout_max_ms = @max(kill_timeout_max_ms, app.spec.kill_timeout_ms);
            daemon.apply(entry.slot, app.machine.stop(app.policy(), now_ms, .{ .keep_desired = true }));
        }
        daemon.shutdown = .{ .reason = reason, .give_up_ms = now_ms +| kill_timeout_max_ms +| shutdown_grace_ms };
        diag("shutting down ({s}): stopping {d} apps", .{ reason, stopping });
    }

    fn shutdownComplete(daemon: *Daemon) bool {
        const shutdown = daemon.shutdown orelse return false;
        var iterator = daemon.table.iterator();
        var remaining: u32 = 0;
        while (iterator.next()) |entry| {
            if (entry.app.machine.pid != 0 or entry.app.machine.pgid != 0) remaining += 1;
        }
        if (remaining == 0) return true;
        if (sys.monotonicMs() < shutdown.give_up_ms) return false;
        iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            const machine = &entry.app.machine;
            if (machine.pid != 0 or machine.pgid != 0) {
                diag("warning: app {s}: process group {d} still has members after SIGKILL; giving up on it", .{ entry.app.spec.name, machine.pgid });
            }
        }
        return true;
    }

    /// After the loop: last log bytes, the table saved durably, streams ended, clients told.
    fn finish(daemon: *Daemon) void {
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            daemon.drainPipe(entry.slot, entry.app, .out, std.math.maxInt(u32));
            daemon.drainPipe(entry.slot, entry.app, .err, std.math.maxInt(u32));
        }
        daemon.saveState(.fsync) catch {};
        server.closeAll(daemon);
    }

    fn deinit(daemon: *Daemon) void {
        const allocator = daemon.allocator;
        // The socket goes before the pid file: once the lock is released a new daemon may bind its own.
        if (daemon.listen_fd != -1) {
            sys.close(daemon.listen_fd);
            if (daemon.paths) |paths| sys.unlink(paths.socket) catch {};
        }
        var iterator = daemon.table.iterator();
        while (iterator.next()) |entry| {
            for (&entry.app.logs) |*log| log.close(allocator);
        }
        daemon.table.deinit(allocator);
        daemon.tracker.deinit(allocator);
        allocator.free(daemon.environ_buffer);
        server.freeAll(daemon);
        if (daemon.poller) |*poller| poller.deinit();
        if (daemon.dev_null_fd != -1) sys.close(daemon.dev_null_fd);
        if (daemon.logs_fd != -1) sys.close(daemon.logs_fd);
        if (daemon.home_fd != -1) sys.close(daemon.home_fd);
        if (daemon.pid_fd != -1) {
            if (daemon.paths) |paths| sys.unlink(paths.pid) catch {};
            sys.close(daemon.pid_fd);
        }
        if (daemon.old_mask) |*mask| sys.setSignalMask(mask);
        if (daemon.old_pipe_action) |*action| sys.restoreSignal(sys.SIG.PIPE, action);
        if (daemon.old_hup_action) |*action| sys.restoreSignal(sys.SIG.HUP, action);
        if (daemon.old_term_action) |*action| sys.restoreSignal(sys.SIG.TERM, action);
        if (daemon.old_int_action) |*action| sys.restoreSignal(sys.SIG.INT, action);
        allocator.free(daemon.pipe_buffer);
        allocator.free(daemon.log_scratch);
        allocator.free(daemon.socket_buffer);
        allocator.free(daemon.sort_buffer);
        daemon.state_bytes.deinit(allocator);
        daemon.request_arena.deinit();
        if (daemon.paths) |*paths| paths.deinit(allocator);
    }
};

/// "memory 612 MiB above max_memory 512 MiB" into `buffer`.
pub fn memoryOverText(buffer: []u8, memory_bytes: u64, max_memory_bytes: u64) []const u8 {
    var memory_buffer: [32]u8 = undefined;
    var max_buffer: [32]u8 = undefined;
    return std.fmt.bufPrint(buffer, "memory {s} above max_memory {s}", .{
        formatMebibytes(&memory_buffer, memory_bytes), formatMebibytes(&max_buffer, max_memory_bytes),
    }) catch "memory above max_memory";
}

/// Bytes as MiB with at most one decimal, rounded down ("512 MiB", "19.1 MiB", "0.5 MiB"), or in bytes
/// under 0.1 MiB.
fn formatMebibytes(buffer: *[32]u8, bytes: u64) []const u8 {
    const mebibyte = 1024 * 1024;
    const tenths: u64 = @intCast(@as(u128, bytes) * 10 / mebibyte);
    if (tenths == 0) return std.fmt.bufPrint(buffer, "{d} bytes", .{bytes}) catch unreachable;
    if (tenths % 10 == 0) return std.fmt.bufPrint(buffer, "{d} MiB", .{tenths / 10}) catch unreachable;
    return std.fmt.bufPrint(buffer, "{d}.{d} MiB", .{ tenths / 10, tenths % 10 }) catch unreachable;
}

test "memory messages in MiB" {
    var buffer: [128]u8 = undefined;
    try std.testing.expectEqualStrings("memory 612 MiB above max_memory 512 MiB", memoryOverText(&buffer, 612 << 20, 512 << 20));
    try std.testing.expectEqualStrings("memory 19.5 MiB above max_memory 8 MiB", memoryOverText(&buffer, 20_500_000, 8 << 20));
    var size_buffer: [32]u8 = undefined;
    try std.testing.expectEqualStrings("19 MiB", formatMebibytes(&size_buffer, 19 << 20));
    try std.testing.expectEqualStrings("19 MiB", formatMebibytes(&size_buffer, 20_000_000)); // 19.07, rounded down
    try std.testing.expectEqualStrings("0.5 MiB", formatMebibytes(&size_buffer, 512 * 1024));
    try std.testing.expectEqualStrings("1000 bytes", formatMebibytes(&size_buffer, 1000));
    try std.testing.expectEqualStrings("17179869184 MiB", formatMebibytes(&size_buffer, 16 << 50));
}

pub fn fileHint(err: anyerror) []const u8 {
    return switch (err) {
        error.ACCES, error.PERM => " (permission denied)",
        error.NOSPC => " (no space left on the device)",
        error.DQUOT => " (disk quota exceeded)",
        error.ROFS => " (read-only filesystem)",
        error.MFILE => " (too many open files in the daemon)",
        error.NFILE => " (the system's open file table is full)",
        error.NOENT => " (a directory on the way does not exist)",
        error.NOTDIR => " (a component of the path is not a directory)",
        error.NAMETOOLONG => " (path too long)",
        else => "",
    };
}

test "tokens round-trip" {
    const value = token(.app_err, 4095, 0xdead_beef);
    const decoded = decodeToken(value).?;
    try std.testing.expectEqual(TokenKind.app_err, decoded.kind);
    try std.testing.expectEqual(@as(u32, 4095), decoded.slot);
    try std.testing.expectEqual(@as(u32, 0xdead_beef), decoded.generation);
    try std.testing.expect(value != poller_module.signal_token);
}
