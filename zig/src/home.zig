//! Files under VELOS_HOME, reached only through directory handles and never through a symlink.
//!
//! The daemon may run as root in a directory another user can influence (a VELOS_HOME created in advance by
//! someone else, a symlink planted at `logs/NAME-out.log` or `state.msgpack.tmp`). So: VELOS_HOME and
//! `logs/` are opened as directories with O_NOFOLLOW and checked (a directory, owned by us, no access for
//! group or others — put right with fchmod on the handle, never chmod on a path), and every file in them is
//! opened relative to that handle with O_NOFOLLOW, then checked to be a regular file owned by us. A symlink
//! anywhere fails with ELOOP, something else with EPERM; nothing is written through either.
const std = @import("std");
const sys = @import("sys.zig");

const fd_t = sys.fd_t;

/// Why a directory cannot be used; the daemon turns it into its start-up failure message.
pub const DirectoryProblem = union(enum) {
    /// A syscall failed (`step` says which).
    failed: struct { step: []const u8, err: sys.Error },
    symlink,
    not_directory,
    other_owner: u32,
};

/// Opens (creating it 0700 if missing) the directory `name` relative to `parent_fd` (`sys.at_cwd` for an
/// absolute path), refusing a symlink and another user's directory; group and other access is removed
/// through the handle. `problem` says why on error.Unusable; `mode_fixed` gets the mode it had when changed.
pub fn openDirectory(parent_fd: fd_t, name: [*:0]const u8, problem: *DirectoryProblem, mode_fixed: *?u32) error{Unusable}!fd_t {
    sys.mkdirAt(parent_fd, name, 0o700) catch |err| switch (err) {
        error.EXIST => {},
        else => return fail(problem, .{ .failed = .{ .step = "mkdir", .err = err } }),
    };
    const link_stat = sys.lstatAt(parent_fd, name) catch |err| return fail(problem, .{ .failed = .{ .step = "lstat", .err = err } });
    if (sys.isSymlink(link_stat)) return fail(problem, .symlink);
    if (!sys.isDirectory(link_stat)) return fail(problem, .not_directory);
    const fd = sys.openAt(parent_fd, name, .{ .ACCMODE = .RDONLY, .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true }, 0) catch |err| switch (err) {
        error.LOOP => return fail(problem, .symlink), // swapped for a symlink since the lstat
        error.NOTDIR => return fail(problem, .not_directory),
        else => return fail(problem, .{ .failed = .{ .step = "open", .err = err } }),
    };
    errdefer sys.close(fd);
    const st = sys.fstat(fd) catch |err| return fail(problem, .{ .failed = .{ .step = "fstat", .err = err } });
    const uid = sys.geteuid();
    if (st.uid != uid) return fail(problem, .{ .other_owner = st.uid });
    mode_fixed.* = null;
    if (st.mode & 0o077 != 0) {
        sys.fchmod(fd, 0o700) catch |err| return fail(problem, .{ .failed = .{ .step = "fchmod 0700", .err = err } });
        mode_fixed.* = st.mode & 0o777;
    }
    return fd;
}

fn fail(problem: *DirectoryProblem, value: DirectoryProblem) error{Unusable} {
    problem.* = value;
    return error.Unusable;
}

/// Opens the file `name` in `directory_fd`: never through a symlink (ELOOP), never blocking on a FIFO, and
/// only a regular file owned by us (else EPERM).
pub fn openFile(directory_fd: fd_t, name: [*:0]const u8, flags: sys.O, mode: sys.mode_t) sys.Error!fd_t {
    var safe = flags;
    safe.NOFOLLOW = true;
    safe.CLOEXEC = true;
    // A FIFO planted at the name would block the daemon in open(); O_NONBLOCK makes it fail instead and
    // changes nothing for a regular file.
    safe.NONBLOCK = true;
    const fd = try sys.openAt(directory_fd, name, safe, mode);
    errdefer sys.close(fd);
    const st = try sys.fstat(fd);
    if (!sys.isRegular(st) or st.uid != sys.geteuid()) return error.PERM;
    return fd;
}

const testing = std.testing;
extern "c" fn mkfifoat(directory_fd: c_int, path: [*:0]const u8, mode: sys.mode_t) c_int;

test "openDirectory: refuses a symlink, fixes the mode through the handle" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var problem: DirectoryProblem = undefined;
    var mode_fixed: ?u32 = null;
    const fd = try openDirectory(tmp.dir.fd, "home", &problem, &mode_fixed);
    defer sys.close(fd);
    try testing.expectEqual(@as(?u32, null), mode_fixed);

    try tmp.dir.makeDir("elsewhere");
    const target_mode = (try sys.lstatAt(tmp.dir.fd, "elsewhere")).mode;
    try tmp.dir.symLink("elsewhere", "linked", .{ .is_directory = true });
    try testing.expectError(error.Unusable, openDirectory(tmp.dir.fd, "linked", &problem, &mode_fixed));
    try testing.expect(problem == .symlink);

    // An open mode is closed on the directory itself.
    try tmp.dir.makeDir("open");
    const open_fd = try sys.openAt(tmp.dir.fd, "open", .{ .ACCMODE = .RDONLY, .DIRECTORY = true }, 0);
    try sys.fchmod(open_fd, 0o755);
    sys.close(open_fd);
    const fixed_fd = try openDirectory(tmp.dir.fd, "open", &problem, &mode_fixed);
    defer sys.close(fixed_fd);
    try testing.expectEqual(@as(?u32, 0o755), mode_fixed);
    try testing.expectEqual(@as(u32, 0o700), (try sys.fstat(fixed_fd)).mode & 0o777);
    // The symlink's target was never touched.
    try testing.expectEqual(target_mode, (try sys.lstatAt(tmp.dir.fd, "elsewhere")).mode);
}

test "openFile: nothing is written through a symlink or into a FIFO" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.writeFile(.{ .sub_path = "target", .data = "untouched" });
    try tmp.dir.symLink("target", "app-out.log", .{});
    const flags: sys.O = .{ .ACCMODE = .WRONLY, .CREAT = true, .APPEND = true };
    try testing.expectError(error.LOOP, openFile(tmp.dir.fd, "app-out.log", flags, 0o640));
    const kept = try tmp.dir.readFileAlloc(testing.allocator, "target", 64);
    defer testing.allocator.free(kept);
    try testing.expectEqualStrings("untouched", kept);

    if (mkfifoat(tmp.dir.fd, "fifo", 0o600) == 0) {
        try testing.expectError(error.NXIO, openFile(tmp.dir.fd, "fifo", flags, 0o640));
    }
    const fd = try openFile(tmp.dir.fd, "fresh.log", flags, 0o640);
    sys.close(fd);
}
