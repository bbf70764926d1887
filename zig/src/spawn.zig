//! Fork and exec one app process, in the order that keeps the child safe:
//!
//! 1. Before fork, in the parent: resolve the program (PATH from the spec's own environment, or a path
//!    relative to cwd), check it exists, is not a directory and is executable, check cwd is a directory, and
//!    build argv and envp as NUL-terminated arrays. Every failure here is reported without forking.
//! 2. fork. The child runs `sys.childExec` only: async-signal-safe calls, no allocation (own process group,
//!    default signal dispositions and an empty mask, stdio onto the given descriptors, chdir, execve), and
//!    reports a failure as (step, errno) over a close-on-exec pipe.
//! 3. The parent sets the child's process group too (so it is set whichever runs first), then reads the
//!    report pipe: end of file means the exec succeeded.
//!
//! The program's environment is exactly the `env` given: the daemon's own is never added.
const std = @import("std");
const sys = @import("sys.zig");

const fd_t = sys.fd_t;

/// What to run: the parts of an app spec that fork/exec needs.
pub const Program = struct {
    command: []const u8,
    args: []const []const u8 = &.{},
    /// Absolute directory the program runs in.
    cwd: []const u8,
    /// "KEY=VALUE" entries: the whole environment.
    env: []const []const u8 = &.{},
    /// "VELOS_APP_ID=NAME/HOME_ID" (tracker.zig): put first in the environment, replacing any entry of that
    /// key in `env`, so every descendant inherits it and the daemon can tell whose process it is.
    marker: ?[]const u8 = null,
};

pub const Stdio = struct {
    stdin_fd: fd_t,
    stdout_fd: fd_t,
    stderr_fd: fd_t,
};

/// A message for the user saying what failed (with the path and errno name), filled on error.
pub const Diagnostic = struct {
    buffer: [512]u8 = undefined,
    len: usize = 0,

    pub fn set(diagnostic: *Diagnostic, comptime format: []const u8, args: anytype) void {
        const written = std.fmt.bufPrint(&diagnostic.buffer, format, args) catch blk: {
            const ellipsis = "...";
            @memcpy(diagnostic.buffer[diagnostic.buffer.len - ellipsis.len ..], ellipsis);
            break :blk diagnostic.buffer[0..];
        };
        diagnostic.len = written.len;
    }

    pub fn message(diagnostic: *const Diagnostic) []const u8 {
        return diagnostic.buffer[0..diagnostic.len];
    }
};

pub const Error = error{ SpawnFailed, OutOfMemory };

/// Upper bound on one resolved path (PATH entry + command), as the kernel's PATH_MAX.
const path_bytes_max = 4096;

/// Finds the program to execute. `command` without a '/' is looked up in the PATH entry of `env` (an empty
/// PATH element means cwd, as for execvp); with a '/' it is taken relative to `cwd`. The result is
/// NUL-terminated and allocated with `allocator`.
pub fn resolveProgram(
    allocator: std.mem.Allocator,
    command: []const u8,
    cwd: []const u8,
    env: []const []const u8,
    diagnostic: *Diagnostic,
) Error![:0]u8 {
    if (command.len == 0) {
        diagnostic.set("ENOENT: the command is empty", .{});
        return error.SpawnFailed;
    }
    if (std.mem.indexOfScalar(u8, command, 0) != null) {
        diagnostic.set("EINVAL: the command contains a NUL byte", .{});
        return error.SpawnFailed;
    }
    if (std.mem.indexOfScalar(u8, command, '/') != null) {
        const path = if (command[0] == '/')
            try allocator.dupeZ(u8, command)
        else
            try joinZ(allocator, cwd, command);
        errdefer allocator.free(path);
        checkExecutable(path) catch |err| {
            diagnostic.set("{s}: cannot execute {s}{s}", .{ sys.errnoName(err), path, hint(err) });
            return error.SpawnFailed;
        };
        return path;
    }

    const search_path = pathOf(env) orelse {
        diagnostic.set("ENOENT: {s} not found in PATH (the app's env has no PATH; give one, or an absolute command)", .{command});
        return error.SpawnFailed;
    };
    var denied: ?[:0]u8 = null;
    defer if (denied) |path| allocator.free(path);
    var directories = std.mem.splitScalar(u8, search_path, ':');
    while (directories.next()) |directory_raw| {
        const directory = if (directory_raw.len == 0) cwd else directory_raw;
        if (directory.len + 1 + command.len >= path_bytes_max) continue;
        const candidate = if (directory[0] == '/')
            try joinZ(allocator, directory, command)
        else blk: {
            const base = try joinZ(allocator, cwd, directory);
            defer allocator.free(base);
            break :blk try joinZ(allocator, base, command);
        };
        checkExecutable(candidate) catch |err| {
            if (err == error.ACCES and denied == null) {
                denied = candidate; // remembered: execvp also reports EACCES when nothing better is found
            } else {
                allocator.free(candidate);
            }
            continue;
        };
        return candidate;
    }
    if (denied) |path| {
        diagnostic.set("EACCES: {s} (found in PATH) is not executable", .{path});
        return error.SpawnFailed;
    }
    diagnostic.set("ENOENT: {s} not found in PATH ({s})", .{ command, search_path });
    return error.SpawnFailed;
}

fn hint(err: anyerror) []const u8 {
    return switch (err) {
        error.NOENT => " (no such file or directory)",
        error.ACCES => " (permission denied: not executable, or a directory on the way is not searchable)",
        error.ISDIR => " (it is a directory)",
        else => "",
    };
}

/// The value of the first "PATH=" entry, as getenv would return it.
pub fn pathOf(env: []const []const u8) ?[]const u8 {
    for (env) |entry| {
        if (std.mem.startsWith(u8, entry, "PATH=")) return entry["PATH=".len..];
    }
    return null;
}

fn joinZ(allocator: std.mem.Allocator, directory: []const u8, name: []const u8) error{OutOfMemory}![:0]u8 {
    const separator: []const u8 = if (directory.len > 0 and directory[directory.len - 1] == '/') "" else "/";
    return std.fmt.allocPrintSentinel(allocator, "{s}{s}{s}", .{ directory, separator, name }, 0);
}

/// Exists, is not a directory, and we may execute it.
fn checkExecutable(path: [*:0]const u8) sys.Error!void {
    const st = try sys.stat(path);
    if (sys.isDirectory(st)) return error.ISDIR;
    try sys.access(path, sys.X_OK);
}

/// argv and envp for execve, NUL-terminated strings in NULL-terminated arrays, all from `allocator`
/// (use an arena: the caller frees it after the fork).
pub const Exec = struct {
    path: [:0]const u8,
    argv: [:null]?[*:0]const u8,
    envp: [:null]?[*:0]const u8,
    cwd: [:0]const u8,
};

pub fn buildExec(arena: std.mem.Allocator, program: Program, path: [:0]const u8, diagnostic: *Diagnostic) Error!Exec {
    const argv = try arena.allocSentinel(?[*:0]const u8, program.args.len + 1, null);
    argv[0] = try dupeArg(arena, program.command, "command", diagnostic);
    for (program.args, 1..) |arg, index| argv[index] = try dupeArg(arena, arg, "an argument", diagnostic);
    const marker_count: usize = if (program.marker != null) 1 else 0;
    var kept: usize = 0;
    for (program.env) |entry| {
        if (program.marker == null or !sameKey(entry, program.marker.?)) kept += 1;
    }
    const envp = try arena.allocSentinel(?[*:0]const u8, marker_count + kept, null);
    var used: usize = 0;
    if (program.marker) |marker| {
        envp[0] = try dupeArg(arena, marker, "the marker", diagnostic);
        used = 1;
    }
    for (program.env) |entry| {
        if (program.marker != null and sameKey(entry, program.marker.?)) continue;
        envp[used] = try dupeArg(arena, entry, "an env entry", diagnostic);
        used += 1;
    }
    return .{
        .path = path,
        .argv = argv,
        .envp = envp,
        .cwd = try dupeArg(arena, program.cwd, "cwd", diagnostic),
    };
}

/// Whether two "KEY=VALUE" entries have the same key.
fn sameKey(a: []const u8, b: []const u8) bool {
    const a_key = a[0 .. std.mem.indexOfScalar(u8, a, '=') orelse a.len];
    const b_key = b[0 .. std.mem.indexOfScalar(u8, b, '=') orelse b.len];
    return std.mem.eql(u8, a_key, b_key);
}

fn dupeArg(arena: std.mem.Allocator, bytes: []const u8, what: []const u8, diagnostic: *Diagnostic) Error![:0]u8 {
    if (std.mem.indexOfScalar(u8, bytes, 0) != null) {
        diagnostic.set("EINVAL: {s} contains a NUL byte", .{what});
        return error.SpawnFailed;
    }
    return arena.dupeZ(u8, bytes);
}

pub const Options = struct {
    /// Given back to the program (the daemon raises its own descriptor limit).
    descriptor_limit: ?sys.Rlimit = null,
};

/// Resolves, forks and execs `program` with the given stdio. Returns the child's pid once the exec
/// succeeded; on failure nothing is left running and `diagnostic` says why.
pub fn spawn(
    scratch: std.mem.Allocator,
    program: Program,
    stdio: Stdio,
    options: Options,
    diagnostic: *Diagnostic,
) Error!sys.pid_t {
    if (program.cwd.len == 0 or program.cwd[0] != '/') {
        diagnostic.set("EINVAL: cwd must be an absolute directory, got \"{s}\"", .{program.cwd});
        return error.SpawnFailed;
    }
    var arena_state = std.heap.ArenaAllocator.init(scratch);
    defer arena_state.deinit();
    const arena = arena_state.allocator();

    const path = try resolveProgram(arena, program.command, program.cwd, program.env, diagnostic);
    const exec = try buildExec(arena, program, path, diagnostic);
    const cwd_stat = sys.stat(exec.cwd) catch |err| {
        diagnostic.set("{s}: cwd {s} is not usable{s}", .{ sys.errnoName(err), program.cwd, hint(err) });
        return error.SpawnFailed;
    };
    if (!sys.isDirectory(cwd_stat)) {
        diagnostic.set("ENOTDIR: cwd {s} is not a directory", .{program.cwd});
        return error.SpawnFailed;
    }

    const report = sys.pipe() catch |err| {
        diagnostic.set("{s}: pipe() for the exec report failed{s}", .{ sys.errnoName(err), limitHint(err) });
        return error.SpawnFailed;
    };
    var report_read_open = true;
    defer if (report_read_open) sys.close(report[0]);
    var report_write_open = true;
    defer if (report_write_open) sys.close(report[1]);

    const plan: sys.ChildPlan = .{
        .path = exec.path.ptr,
        .argv = exec.argv.ptr,
        .envp = exec.envp.ptr,
        .cwd = exec.cwd.ptr,
        .stdin_fd = stdio.stdin_fd,
        .stdout_fd = stdio.stdout_fd,
        .stderr_fd = stdio.stderr_fd,
        .report_fd = report[1],
        .descriptor_limit = options.descriptor_limit,
    };
    const pid = sys.fork() catch |err| {
        diagnostic.set("{s}: fork() failed{s}", .{ sys.errnoName(err), limitHint(err) });
        return error.SpawnFailed;
    };
    if (pid == 0) sys.childExec(&plan);

    // Parent. Whichever of parent and child runs first, the group is set before anyone signals it.
    sys.setpgid(pid, pid) catch {}; // EACCES once the child has exec'd: it did setpgid itself
    sys.close(report[1]);
    report_write_open = false;

    var failure: sys.ChildFailure = undefined;
    const bytes = std.mem.asBytes(&failure);
    var got: usize = 0;
    while (got < bytes.len) {
        const count = sys.read(report[0], bytes[got..]) catch break;
        if (count == 0) break;
        got += count;
    }
    sys.close(report[0]);
    report_read_open = false;
    if (got == 0) return pid; // end of file: the close-on-exec pipe closed because execve succeeded

    sys.waitPid(pid); // the child exits right after its report: reap it here, it is not an app process
    if (got < bytes.len) {
        diagnostic.set("EIO: the child failed before exec and its report was cut short", .{});
        return error.SpawnFailed;
    }
    const errno_name = sys.errnoNumberName(failure.errno_value);
    switch (failure.step) {
        .chdir => diagnostic.set("{s}: chdir to {s} failed", .{ errno_name, program.cwd }),
        .exec => diagnostic.set("{s}: execve {s} failed{s}", .{ errno_name, path, execHint(failure.errno_value) }),
        .stdio => diagnostic.set("{s}: setting up stdin/stdout/stderr in the child failed", .{errno_name}),
        .setpgid => diagnostic.set("{s}: setpgid in the child failed", .{errno_name}),
        _ => diagnostic.set("{s}: the child failed before exec", .{errno_name}),
    }
    return error.SpawnFailed;
}

fn limitHint(err: anyerror) []const u8 {
    return switch (err) {
        error.MFILE => " (too many open files in the daemon: raise its descriptor limit)",
        error.NFILE => " (the system's open file table is full)",
        error.AGAIN => " (process limit reached: RLIMIT_NPROC or the pid space)",
        error.NOMEM => " (out of memory)",
        else => "",
    };
}

fn execHint(errno_value: i32) []const u8 {
    if (errno_value == @intFromEnum(sys.E.NOEXEC)) return " (not a binary the kernel can run, and no #! line)";
    if (errno_value == @intFromEnum(sys.E.NOENT)) return " (the file or its #! interpreter does not exist)";
    if (errno_value == @intFromEnum(sys.E.ACCES)) return " (permission denied)";
    return "";
}

// ---------------------------------------------------------------------------------------------------------

const testing = std.testing;

test "pathOf takes the first PATH entry" {
    try testing.expectEqual(@as(?[]const u8, null), pathOf(&.{ "HOME=/root", "PATHX=/x" }));
    try testing.expectEqualStrings("/a:/b", pathOf(&.{ "X=1", "PATH=/a:/b", "PATH=/c" }).?);
}

test "resolveProgram: PATH of the spec, not the daemon's" {
    var diagnostic: Diagnostic = .{};
    const found = try resolveProgram(testing.allocator, "sh", "/", &.{ "A=1", "PATH=/nonexistent:/bin:/usr/bin" }, &diagnostic);
    defer testing.allocator.free(found);
    try testing.expectEqualStrings("/bin/sh", found);

    try testing.expectError(error.SpawnFailed, resolveProgram(testing.allocator, "sh", "/", &.{"HOME=/"}, &diagnostic));
    try testing.expect(std.mem.startsWith(u8, diagnostic.message(), "ENOENT: sh not found in PATH"));

    try testing.expectError(error.SpawnFailed, resolveProgram(testing.allocator, "velos-no-such-program", "/", &.{"PATH=/bin:/usr/bin"}, &diagnostic));
    try testing.expectEqualStrings("ENOENT: velos-no-such-program not found in PATH (/bin:/usr/bin)", diagnostic.message());
}

test "resolveProgram: a command with a slash is relative to cwd" {
    var diagnostic: Diagnostic = .{};
    const relative = try resolveProgram(testing.allocator, "bin/sh", "/", &.{}, &diagnostic);
    defer testing.allocator.free(relative);
    try testing.expectEqualStrings("/bin/sh", relative);
    const absolute = try resolveProgram(testing.allocator, "/bin/sh", "/tmp", &.{}, &diagnostic);
    defer testing.allocator.free(absolute);
    try testing.expectEqualStrings("/bin/sh", absolute);

    try testing.expectError(error.SpawnFailed, resolveProgram(testing.allocator, "./missing", "/tmp", &.{}, &diagnostic));
    try testing.expectEqualStrings("ENOENT: cannot execute /tmp/./missing (no such file or directory)", diagnostic.message());
    try testing.expectError(error.SpawnFailed, resolveProgram(testing.allocator, "/tmp", "/", &.{}, &diagnostic));
    try testing.expect(std.mem.startsWith(u8, diagnostic.message(), "EISDIR: cannot execute /tmp"));
}

test "buildExec: argv[0] is the command, envp is exactly env" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    var diagnostic: Diagnostic = .{};
    const exec = try buildExec(arena_state.allocator(), .{
        .command = "node",
        .args = &.{ "server.js", "--port", "8080" },
        .cwd = "/srv",
        .env = &.{ "PATH=/usr/bin", "PORT=8080" },
    }, "/usr/bin/node", &diagnostic);
    try testing.expectEqual(@as(usize, 4), exec.argv.len);
    try testing.expectEqualStrings("node", std.mem.span(exec.argv[0].?));
    try testing.expectEqualStrings("8080", std.mem.span(exec.argv[3].?));
    try testing.expectEqual(@as(?[*:0]const u8, null), exec.argv.ptr[4]);
    try testing.expectEqual(@as(usize, 2), exec.envp.len);
    try testing.expectEqualStrings("PORT=8080", std.mem.span(exec.envp[1].?));
    try testing.expectEqual(@as(?[*:0]const u8, null), exec.envp.ptr[2]);
    try testing.expectEqualStrings("/srv", exec.cwd);

    try testing.expectError(error.SpawnFailed, buildExec(arena_state.allocator(), .{
        .command = "x",
        .args = &.{"a\x00b"},
        .cwd = "/",
    }, "/bin/x", &diagnostic));
    try testing.expectEqualStrings("EINVAL: an argument contains a NUL byte", diagnostic.message());
}

test "buildExec: the marker comes first and replaces an entry of the same key" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    var diagnostic: Diagnostic = .{};
    const exec = try buildExec(arena_state.allocator(), .{
        .command = "x",
        .cwd = "/",
        .env = &.{ "PATH=/bin", "VELOS_APP_ID=forged", "VELOS_APP_IDX=kept" },
        .marker = "VELOS_APP_ID=web/1.2",
    }, "/bin/x", &diagnostic);
    try testing.expectEqual(@as(usize, 3), exec.envp.len);
    try testing.expectEqualStrings("VELOS_APP_ID=web/1.2", std.mem.span(exec.envp[0].?));
    try testing.expectEqualStrings("PATH=/bin", std.mem.span(exec.envp[1].?));
    try testing.expectEqualStrings("VELOS_APP_IDX=kept", std.mem.span(exec.envp[2].?));
}

/// Runs `program` with stdout and stderr into one pipe; returns (output, exit).
fn runForTest(program: Program, output: *std.ArrayList(u8)) !sys.Exit {
    const pipe_fds = try sys.pipe();
    defer sys.close(pipe_fds[0]);
    const dev_null = try sys.open("/dev/null", .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0);
    defer sys.close(dev_null);
    var diagnostic: Diagnostic = .{};
    const pid = spawn(testing.allocator, program, .{
        .stdin_fd = dev_null,
        .stdout_fd = pipe_fds[1],
        .stderr_fd = pipe_fds[1],
    }, .{}, &diagnostic) catch |err| {
        sys.close(pipe_fds[1]);
        std.debug.print("spawn failed: {s}\n", .{diagnostic.message()});
        return err;
    };
    sys.close(pipe_fds[1]);
    var buffer: [4096]u8 = undefined;
    while (true) {
        const count = try sys.read(pipe_fds[0], &buffer);
        if (count == 0) break;
        try output.appendSlice(testing.allocator, buffer[0..count]);
    }
    return sys.waitPidExit(pid);
}

test "spawn runs /bin/sh, captures its output and exit code" {
    if (!sys.is_linux) return;
    var output: std.ArrayList(u8) = .empty;
    defer output.deinit(testing.allocator);
    const exit = try runForTest(.{
        .command = "sh",
        .args = &.{ "-c", "echo hi; echo err >&2; exit 3" },
        .cwd = "/",
        .env = &.{"PATH=/usr/bin:/bin"},
    }, &output);
    try testing.expectEqualStrings("hi\nerr\n", output.items);
    try testing.expectEqual(sys.Exit{ .code = 3 }, exit);
}

test "spawn: the environment is exactly env, cwd is applied, signals are reset" {
    if (!sys.is_linux) return;
    // The daemon ignores SIGPIPE and blocks SIGCHLD: the program must see neither.
    const old_pipe = sys.ignoreSignal(sys.SIG.PIPE);
    defer sys.restoreSignal(sys.SIG.PIPE, &old_pipe);
    const old_mask = try sys.blockSignals(&.{sys.SIG.CHLD});
    defer sys.setSignalMask(&old_mask);

    var output: std.ArrayList(u8) = .empty;
    defer output.deinit(testing.allocator);
    const exit = try runForTest(.{
        .command = "/bin/sh",
        .args = &.{ "-c", "echo \"$FOO|$HOME|$(pwd)\"; grep -E '^Sig(Ign|Blk)' /proc/self/status; test -t 0 || read x </dev/stdin; echo stdin=$?" },
        .cwd = "/tmp",
        .env = &.{ "FOO=bar", "PATH=/usr/bin:/bin" },
    }, &output);
    try testing.expectEqual(sys.Exit{ .code = 0 }, exit);
    try testing.expectEqualStrings(
        "bar||/tmp\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nstdin=1\n",
        output.items,
    );
}

test "spawn failures are reported without a running child" {
    if (!sys.is_linux) return;
    const dev_null = try sys.open("/dev/null", .{ .ACCMODE = .RDWR, .CLOEXEC = true }, 0);
    defer sys.close(dev_null);
    const stdio: Stdio = .{ .stdin_fd = dev_null, .stdout_fd = dev_null, .stderr_fd = dev_null };
    var diagnostic: Diagnostic = .{};

    try testing.expectError(error.SpawnFailed, spawn(testing.allocator, .{ .command = "velos-missing", .cwd = "/", .env = &.{"PATH=/bin"} }, stdio, .{}, &diagnostic));
    try testing.expectEqualStrings("ENOENT: velos-missing not found in PATH (/bin)", diagnostic.message());

    try testing.expectError(error.SpawnFailed, spawn(testing.allocator, .{ .command = "/bin/sh", .cwd = "/velos-no-such-dir" }, stdio, .{}, &diagnostic));
    try testing.expectEqualStrings("ENOENT: cwd /velos-no-such-dir is not usable (no such file or directory)", diagnostic.message());

    // A file that is executable but not a program: only execve can tell, in the child.
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.writeFile(.{ .sub_path = "garbage", .data = "\x00\x01\x02\x03not a program", .flags = .{ .mode = 0o755 } });
    const directory = try tmp.dir.realpathAlloc(testing.allocator, ".");
    defer testing.allocator.free(directory);
    try testing.expectError(error.SpawnFailed, spawn(testing.allocator, .{ .command = "./garbage", .cwd = directory }, stdio, .{}, &diagnostic));
    try testing.expect(std.mem.startsWith(u8, diagnostic.message(), "ENOEXEC: execve "));

    // Not executable: refused before fork (as root access(X_OK) still needs an x bit somewhere).
    try tmp.dir.writeFile(.{ .sub_path = "plain", .data = "#!/bin/sh\n", .flags = .{ .mode = 0o644 } });
    try testing.expectError(error.SpawnFailed, spawn(testing.allocator, .{ .command = "./plain", .cwd = directory }, stdio, .{}, &diagnostic));
    try testing.expect(std.mem.startsWith(u8, diagnostic.message(), "EACCES: cannot execute "));
    // No child is left behind by any of these.
    try testing.expectEqual(@as(?sys.Reaped, null), sys.reapAny());
}
