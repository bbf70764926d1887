//! The daemon's own log, `$VELOS_HOME/daemon.log`: its stdout and stderr, opened (O_APPEND) by the CLI that
//! started it. A crash-looping app makes the daemon write a line per restart, so the file is bounded the way
//! app logs are: once a second the daemon looks at its stderr, and when that is `daemon.log` in its home
//! (same inode: never a terminal, a pipe or a file a test passed) and larger than `rotate_bytes`, it renames
//! it to `daemon.log.1` (replacing the previous one) and points descriptors 1 and 2 at a fresh `daemon.log`.
//! So the log takes at most twice `rotate_bytes` on disk. The CLI opens `daemon.log` anew for each daemon it
//! starts, so it follows the rotation by itself.
const std = @import("std");
const sys = @import("sys.zig");
const home = @import("home.zig");

const fd_t = sys.fd_t;

pub const file_name = "daemon.log";
pub const rotated_name = "daemon.log.1";
/// The size past which daemon.log is rotated.
pub const rotate_bytes: u64 = 10 * 1024 * 1024;

pub const Outcome = union(enum) {
    /// Under the limit, or stderr is not our daemon.log.
    kept,
    rotated,
    /// A call failed (the file keeps growing; tried again next time).
    failed: sys.Error,
};

/// Rotates daemon.log when `stderr_fd` is it and it is over `bytes_max`; see the file comment.
pub fn rotateIfLarge(home_fd: fd_t, stderr_fd: fd_t, stdout_fd: fd_t, bytes_max: u64) Outcome {
    const err_stat = sys.fstat(stderr_fd) catch return .kept;
    if (!sys.isRegular(err_stat) or @as(u64, @intCast(err_stat.size)) <= bytes_max) return .kept;
    const named = sys.lstatAt(home_fd, file_name) catch return .kept;
    if (named.ino != err_stat.ino or named.dev != err_stat.dev) return .kept;
    sys.renameAt(home_fd, file_name, rotated_name) catch |err| return .{ .failed = err };
    const fresh = home.openFile(home_fd, file_name, .{ .ACCMODE = .WRONLY, .CREAT = true, .APPEND = true }, 0o600) catch |err|
        return .{ .failed = err };
    defer sys.close(fresh);
    // stdout too, when it is the same file (as the CLI sets it up).
    const same_stdout = if (sys.fstat(stdout_fd)) |out_stat| out_stat.ino == err_stat.ino and out_stat.dev == err_stat.dev else |_| false;
    sys.dup2(fresh, stderr_fd) catch |err| return .{ .failed = err };
    if (same_stdout) sys.dup2(fresh, stdout_fd) catch |err| return .{ .failed = err };
    return .rotated;
}

const testing = std.testing;

test "daemon.log past the limit is renamed to daemon.log.1 and the descriptors follow a fresh file" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const flags: sys.O = .{ .ACCMODE = .WRONLY, .CREAT = true, .APPEND = true, .CLOEXEC = true };
    // Stand-ins for descriptors 2 and 1, both on daemon.log as the CLI opens them.
    const err_fd = try sys.openAt(tmp.dir.fd, file_name, flags, 0o600);
    defer sys.close(err_fd);
    const out_fd = try sys.openAt(tmp.dir.fd, file_name, flags, 0o600);
    defer sys.close(out_fd);
    try sys.writeAll(err_fd, "a" ** 100);
    try testing.expectEqual(Outcome.kept, rotateIfLarge(tmp.dir.fd, err_fd, out_fd, 100));
    try sys.writeAll(out_fd, "b");
    try testing.expectEqual(Outcome.rotated, rotateIfLarge(tmp.dir.fd, err_fd, out_fd, 100));
    try sys.writeAll(err_fd, "after\n");
    try sys.writeAll(out_fd, "out\n");
    const fresh = try tmp.dir.readFileAlloc(testing.allocator, file_name, 1024);
    defer testing.allocator.free(fresh);
    try testing.expectEqualStrings("after\nout\n", fresh);
    const old = try tmp.dir.readFileAlloc(testing.allocator, rotated_name, 1024);
    defer testing.allocator.free(old);
    try testing.expectEqualStrings("a" ** 100 ++ "b", old);

    // A stderr that is not daemon.log (a test's file, a terminal) is never touched.
    const other = try sys.openAt(tmp.dir.fd, "other.log", flags, 0o600);
    defer sys.close(other);
    try sys.writeAll(other, "c" ** 200);
    try testing.expectEqual(Outcome.kept, rotateIfLarge(tmp.dir.fd, other, other, 100));
    // A daemon.log replaced by a symlink is not followed.
    try tmp.dir.deleteFile(file_name);
    try tmp.dir.symLink("other.log", file_name, .{});
    try testing.expectEqual(Outcome.kept, rotateIfLarge(tmp.dir.fd, other, other, 100));
}
