//! Rotation of one log file by numbered generations, at a cost that does not depend on `max_files`.
//!
//! Naming (docs/CONFIG.md "Log files"): the live file is `NAME-out.log`; a rotation renames it to
//! `NAME-out.log.G`, where G is one more than the newest generation already there (1 when there is none),
//! then deletes the generations older than the newest `max_files`. So a higher number is always newer, and a
//! reader gets the whole history in order by sorting the `.G` files numerically and ending with the live
//! file. Each rotation is one rename, one open and, in the steady state, one unlink, whatever `max_files`
//! is (the scheme it replaced renamed every kept file at each rotation: 1000 renames at `max_files = 1000`).
//! After `max_files` was lowered, the surplus goes at most `prune_per_rotation_max` files per rotation.
//!
//! Where the generations stand is learned from the directory at the first rotation of a stream (one pass
//! over `logs/`), then counted. Files left by the earlier scheme (`.1` newest) are read as the oldest
//! generations and deleted first.
const std = @import("std");
const sys = @import("sys.zig");

const fd_t = sys.fd_t;

/// Surplus generations deleted by one rotation, at most (after `max_files` was lowered).
pub const prune_per_rotation_max = 16;

/// The generations on disk: `.oldest` up to `.next - 1` (some may be missing).
pub const Generations = struct {
    oldest: u64,
    next: u64,

    /// One pass over the directory for `FILE_NAME.G` entries.
    pub fn scan(directory_fd: fd_t, file_name: []const u8) sys.Error!Generations {
        // A handle of its own: iterating moves the descriptor's offset, and the caller's is shared.
        const fd = try sys.openAt(directory_fd, ".", .{ .ACCMODE = .RDONLY, .DIRECTORY = true, .CLOEXEC = true }, 0);
        var dir: std.fs.Dir = .{ .fd = fd };
        defer dir.close();
        var lowest: ?u64 = null;
        var highest: u64 = 0;
        var iterator = dir.iterate();
        while (iterator.next() catch |err| return switch (err) {
            error.AccessDenied, error.PermissionDenied => error.ACCES,
            error.SystemResources => error.NOMEM,
            else => error.IO,
        }) |entry| {
            const generation = parseGeneration(file_name, entry.name) orelse continue;
            lowest = @min(lowest orelse generation, generation);
            highest = @max(highest, generation);
        }
        return if (lowest) |oldest| .{ .oldest = oldest, .next = highest + 1 } else .{ .oldest = 1, .next = 1 };
    }

    pub fn count(generations: Generations) u64 {
        return generations.next - generations.oldest;
    }
};

/// The G of `FILE_NAME.G` (digits only), or null for any other name.
pub fn parseGeneration(file_name: []const u8, entry_name: []const u8) ?u64 {
    if (entry_name.len <= file_name.len + 1 or !std.mem.startsWith(u8, entry_name, file_name)) return null;
    if (entry_name[file_name.len] != '.') return null;
    const digits = entry_name[file_name.len + 1 ..];
    for (digits) |digit| if (!std.ascii.isDigit(digit)) return null;
    const generation = std.fmt.parseInt(u64, digits, 10) catch return null;
    // `.0` is never written; the counter must stay far from overflowing.
    if (generation == 0 or generation > std.math.maxInt(u64) / 2) return null;
    return generation;
}

/// `FILE_NAME.G`, NUL-terminated, into `buffer`.
pub fn generationName(buffer: []u8, file_name: []const u8, generation: u64) error{NAMETOOLONG}![:0]const u8 {
    return std.fmt.bufPrintZ(buffer, "{s}.{d}", .{ file_name, generation }) catch error.NAMETOOLONG;
}

/// A rotation that failed: which call, on which file, and the error.
pub const Failure = struct {
    step: enum { scan, unlink, rename, open },
    /// The file the failing call was about (`NAME-out.log.3`), cut to fit.
    path_buffer: [std.fs.max_name_bytes + 32]u8 = undefined,
    path_len: usize = 0,
    err: sys.Error,

    pub fn path(failure: *const Failure) []const u8 {
        return failure.path_buffer[0..failure.path_len];
    }
};

pub fn fail(failure: *Failure, step: @FieldType(Failure, "step"), path: []const u8, err: sys.Error) sys.Error {
    failure.* = .{ .step = step, .err = err };
    failure.path_len = @min(path.len, failure.path_buffer.len);
    @memcpy(failure.path_buffer[0..failure.path_len], path[0..failure.path_len]);
    return err;
}

/// Renames the live file to the next generation. A live file already gone (removed by someone else) is
/// not an error: the fresh file starts the same way.
pub fn retire(directory_fd: fd_t, file_name: [:0]const u8, generations: *Generations, failure: *Failure) sys.Error!void {
    var buffer: [std.fs.max_name_bytes + 32]u8 = undefined;
    const newest = generationName(&buffer, file_name, generations.next) catch |err| return fail(failure, .rename, file_name, err);
    sys.renameAt(directory_fd, file_name, newest) catch |err| switch (err) {
        error.NOENT => return,
        else => return fail(failure, .rename, file_name, err),
    };
    generations.next += 1;
}

/// Deletes the generations older than the newest `max_files`, at most `prune_per_rotation_max` of them;
/// returns how many names it unlinked (for tests and the bench: the cost of one rotation).
pub fn prune(directory_fd: fd_t, file_name: []const u8, generations: *Generations, max_files: u32, failure: *Failure) sys.Error!u32 {
    std.debug.assert(max_files >= 1);
    var unlinked: u32 = 0;
    var buffer: [std.fs.max_name_bytes + 32]u8 = undefined;
    while (generations.count() > max_files and unlinked < prune_per_rotation_max) {
        const oldest = generationName(&buffer, file_name, generations.oldest) catch |err| return fail(failure, .unlink, file_name, err);
        sys.unlinkAt(directory_fd, oldest) catch |err| switch (err) {
            error.NOENT => {},
            else => return fail(failure, .unlink, oldest, err),
        };
        generations.oldest += 1;
        unlinked += 1;
    }
    return unlinked;
}

const testing = std.testing;

test "parseGeneration: only FILE_NAME.DIGITS" {
    try testing.expectEqual(@as(?u64, 7), parseGeneration("api-out.log", "api-out.log.7"));
    try testing.expectEqual(@as(?u64, 1234), parseGeneration("api-out.log", "api-out.log.1234"));
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-out.log"));
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-out.log."));
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-out.log.0"));
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-out.log.1x"));
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-out.log.-1"));
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-err.log.1"));
    // Another app whose name starts the same way.
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-out.log2.1"));
    try testing.expectEqual(@as(?u64, null), parseGeneration("api-out.log", "api-out.log.99999999999999999999"));
}

test "scan: the generations already on disk, whatever else is there" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    try testing.expectEqual(Generations{ .oldest = 1, .next = 1 }, try Generations.scan(tmp.dir.fd, "w-out.log"));
    for ([_][]const u8{ "w-out.log", "w-out.log.12", "w-out.log.9", "w-out.log.10", "w-err.log.40", "x-out.log.2" }) |name| {
        try tmp.dir.writeFile(.{ .sub_path = name, .data = "" });
    }
    try testing.expectEqual(Generations{ .oldest = 9, .next = 13 }, try Generations.scan(tmp.dir.fd, "w-out.log"));
}

test "rotation at max_files = 1000 costs one rename and at most one unlink, every time" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var generations = try Generations.scan(tmp.dir.fd, "big-out.log");
    var failure: Failure = undefined;
    for (0..1200) |index| {
        var content: [16]u8 = undefined;
        try tmp.dir.writeFile(.{ .sub_path = "big-out.log", .data = try std.fmt.bufPrint(&content, "{d}", .{index}) });
        try retire(tmp.dir.fd, "big-out.log", &generations, &failure);
        const unlinked = try prune(tmp.dir.fd, "big-out.log", &generations, 1000, &failure);
        try testing.expectEqual(@as(u32, if (index >= 1000) 1 else 0), unlinked);
    }
    try testing.expectEqual(Generations{ .oldest = 201, .next = 1201 }, generations);
    // The oldest kept holds the 201st write, the newest the last: numbers order them.
    const oldest = try tmp.dir.readFileAlloc(testing.allocator, "big-out.log.201", 64);
    defer testing.allocator.free(oldest);
    try testing.expectEqualStrings("200", oldest);
    const newest = try tmp.dir.readFileAlloc(testing.allocator, "big-out.log.1200", 64);
    defer testing.allocator.free(newest);
    try testing.expectEqualStrings("1199", newest);
    try testing.expectError(error.FileNotFound, tmp.dir.access("big-out.log.200", .{}));
    // A daemon started later finds the same generations.
    try testing.expectEqual(generations, try Generations.scan(tmp.dir.fd, "big-out.log"));

    // max_files lowered to 1: the surplus goes 16 files per rotation, never all at once.
    try tmp.dir.writeFile(.{ .sub_path = "big-out.log", .data = "last" });
    try retire(tmp.dir.fd, "big-out.log", &generations, &failure);
    try testing.expectEqual(@as(u32, prune_per_rotation_max), try prune(tmp.dir.fd, "big-out.log", &generations, 1, &failure));
    try testing.expectEqual(@as(u64, 1001 - prune_per_rotation_max), generations.count());
}
