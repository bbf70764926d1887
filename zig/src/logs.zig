//! An app's stdout or stderr: the pipe the program writes into, the log file (`logs/NAME-out.log`,
//! `NAME-err.log`) every byte is appended to, and the ring of the last 64 KiB that LOG_READ and LOG_STREAM
//! read from. Stream subscribers are fed by the daemon with the chunks `readChunk` returns.
//!
//! One pipe per stream for the whole life of the app, not one per process: the daemon keeps both ends and
//! hands the write end to every process it starts. So nothing written by a process, or by a grandchild that
//! outlives it, is ever lost or reordered at a restart, and no "drain until EOF" bookkeeping is needed: the
//! read end is level-triggered in the poller and read whenever it has data, before and after any exit.
//!
//! The log file is opened (O_APPEND) when data arrives and closed again after `file_idle_close_ms` without
//! any: an idle app holds no file descriptor for its logs (4 per app for the pipes is the floor, and 4096
//! apps must fit in common descriptor limits), and a log file renamed away by a rotation tool is followed by
//! a fresh one as soon as the app has been quiet for a moment.
//!
//! Pipe size: the default 64 KiB, grown to 1 MiB (F_SETPIPE_SZ) the first time a read finds the pipe full,
//! i.e. only for apps that write fast. Growing every pipe up front would charge 1 MiB per pipe to the user's
//! pipe quota (fs.pipe-user-pages-soft, 64 MiB by default), and past it the kernel gives every new pipe of
//! that user, ours and everyone else's, a single page.
const std = @import("std");
const sys = @import("sys.zig");
const Ring = @import("ring.zig").Ring;

const fd_t = sys.fd_t;

pub const pipe_bytes_grown = 1024 * 1024;
/// Log files: owner read/write, group read.
pub const file_mode: sys.mode_t = 0o640;

/// An idle stream's log file is closed after this long without data.
pub const file_idle_close_ms = 5000;

pub const StreamLog = struct {
    /// Non-blocking, close-on-exec; registered in the poller.
    read_fd: fd_t = -1,
    /// Given to each process as its stdout or stderr; close-on-exec in the daemon itself.
    write_fd: fd_t = -1,
    /// The log file, O_APPEND; -1 while the stream is idle.
    file_fd: fd_t = -1,
    /// Owned; set by `open`.
    file_path: ?[:0]u8 = null,
    ring: Ring = .{},
    pipe_grown: bool = false,
    /// Every byte read from the pipe.
    bytes_total: u64 = 0,
    /// When data last arrived (ms, monotonic): the file is closed once this is old.
    last_data_ms: u64 = 0,
    /// Opening or writing the file failed (ENOSPC, EACCES, ...): reported once, then retried with each chunk.
    file_failing: bool = false,

    pub const Step = enum { pipe, file };

    /// Creates the pipe and creates the log file at `file_path` (opened again whenever data arrives); on
    /// failure `step` says which.
    pub fn open(log: *StreamLog, allocator: std.mem.Allocator, file_path: []const u8, step: *Step) (sys.Error || error{OutOfMemory})!void {
        std.debug.assert(log.read_fd == -1);
        const path = try allocator.dupeZ(u8, file_path);
        errdefer allocator.free(path);
        step.* = .file;
        sys.close(try openFile(path));
        step.* = .pipe;
        const fds = try sys.pipe();
        errdefer {
            sys.close(fds[0]);
            sys.close(fds[1]);
        }
        try sys.setNonBlocking(fds[0]);
        log.* = .{ .read_fd = fds[0], .write_fd = fds[1], .file_path = path };
    }

    fn openFile(path: [*:0]const u8) sys.Error!fd_t {
        return sys.open(path, .{ .ACCMODE = .WRONLY, .CREAT = true, .APPEND = true, .CLOEXEC = true }, file_mode);
    }

    pub fn close(log: *StreamLog, allocator: std.mem.Allocator) void {
        if (log.read_fd != -1) sys.close(log.read_fd);
        if (log.write_fd != -1) sys.close(log.write_fd);
        if (log.file_fd != -1) sys.close(log.file_fd);
        if (log.file_path) |path| allocator.free(path);
        log.ring.deinit(allocator);
        log.* = .{};
    }

    /// Closes the file of a stream that has been quiet since `now_ms - file_idle_close_ms`.
    pub fn closeIdleFile(log: *StreamLog, now_ms: u64) void {
        if (log.file_fd == -1 or now_ms -| log.last_data_ms < file_idle_close_ms) return;
        sys.close(log.file_fd);
        log.file_fd = -1;
    }

    pub const Chunk = union(enum) {
        /// Bytes read, already appended to the file and the ring; valid until the next read into `buffer`.
        data: []const u8,
        /// Nothing more for now.
        empty,
        /// A read error other than EAGAIN (should not happen on a pipe we hold both ends of).
        failed: sys.Error,
    };

    /// One read from the pipe into `buffer`; the bytes go to the file and the ring before they are returned.
    /// `file_error` is set when opening or writing the file failed for the first time in a row (to report
    /// once).
    pub fn readChunk(log: *StreamLog, allocator: std.mem.Allocator, buffer: []u8, now_ms: u64, file_error: *?sys.Error) Chunk {
        const count = sys.read(log.read_fd, buffer) catch |err| switch (err) {
            error.AGAIN => return .empty,
            else => return .{ .failed = err },
        };
        if (count == 0) return .empty; // no writer left (only after close) — nothing to do
        const bytes = buffer[0..count];
        log.bytes_total += count;
        log.last_data_ms = now_ms;

        if (!log.pipe_grown and count >= 64 * 1024) {
            // The pipe was full: this app writes fast. Once per stream; failure (quota) is harmless.
            log.pipe_grown = true;
            _ = sys.setPipeSize(log.read_fd, pipe_bytes_grown);
        }
        if (log.appendToFile(bytes)) {
            log.file_failing = false;
        } else |err| {
            if (!log.file_failing) file_error.* = err;
            log.file_failing = true;
        }
        // The ring allocates its 64 KiB on the first write; without memory the file still has everything.
        log.ring.write(allocator, bytes) catch {};
        return .{ .data = bytes };
    }

    fn appendToFile(log: *StreamLog, bytes: []const u8) sys.Error!void {
        if (log.file_fd == -1) log.file_fd = try openFile(log.file_path.?);
        try sys.writeAll(log.file_fd, bytes);
    }
};

/// "DIR/NAME-out.log" or "DIR/NAME-err.log" into `buffer`.
pub fn filePath(buffer: []u8, logs_directory: []const u8, name: []const u8, stream_suffix: []const u8) error{NoSpaceLeft}![]u8 {
    return std.fmt.bufPrint(buffer, "{s}/{s}-{s}.log", .{ logs_directory, name, stream_suffix });
}

const testing = std.testing;

test "every byte written to the pipe reaches the file and the ring, across writers" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const directory = try tmp.dir.realpathAlloc(testing.allocator, ".");
    defer testing.allocator.free(directory);
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const path = try filePath(&path_buffer, directory, "api", "out");
    try testing.expect(std.mem.endsWith(u8, path, "/api-out.log"));

    var log: StreamLog = .{};
    var step: StreamLog.Step = undefined;
    try log.open(testing.allocator, path, &step);
    defer log.close(testing.allocator);
    // Created at once (for `tail -f`), held open only while data flows.
    try tmp.dir.access("api-out.log", .{});
    try testing.expectEqual(@as(fd_t, -1), log.file_fd);

    const buffer = try testing.allocator.alloc(u8, 256 * 1024);
    defer testing.allocator.free(buffer);
    var file_error: ?sys.Error = null;
    try testing.expectEqual(StreamLog.Chunk.empty, log.readChunk(testing.allocator, buffer, 1000, &file_error));

    // More than the default pipe holds, in pieces, read as it goes.
    var expected: std.ArrayList(u8) = .empty;
    defer expected.deinit(testing.allocator);
    var line: [100]u8 = undefined;
    for (0..3000) |index| {
        const text = try std.fmt.bufPrint(&line, "line {d:0>6} {s}\n", .{ index, "x" ** 80 });
        try expected.appendSlice(testing.allocator, text);
        try sys.writeAll(log.write_fd, text);
        if (index % 500 == 499) {
            while (true) switch (log.readChunk(testing.allocator, buffer, 1000 + index, &file_error)) {
                .data => {},
                .empty => break,
                .failed => |err| return err,
            };
        }
    }
    try testing.expectEqual(@as(?sys.Error, null), file_error);
    try testing.expectEqual(@as(u64, expected.items.len), log.bytes_total);
    var last: std.ArrayList(u8) = .empty;
    defer last.deinit(testing.allocator);
    try log.ring.lastLines(2, &last, testing.allocator);
    try testing.expect(std.mem.startsWith(u8, last.items, "line 002998 "));
    try testing.expect(log.file_fd != -1);
    log.closeIdleFile(1000 + 2999 + file_idle_close_ms - 1);
    try testing.expect(log.file_fd != -1);
    log.closeIdleFile(1000 + 2999 + file_idle_close_ms);
    try testing.expectEqual(@as(fd_t, -1), log.file_fd);

    // A rotation renames the file away: the next data lands in a new file of the same name.
    try tmp.dir.rename("api-out.log", "api-out.log.1");
    try sys.writeAll(log.write_fd, "after rotation\n");
    try testing.expect(log.readChunk(testing.allocator, buffer, 20_000, &file_error) == .data);
    const rotated = try tmp.dir.readFileAlloc(testing.allocator, "api-out.log", 1 << 20);
    defer testing.allocator.free(rotated);
    try testing.expectEqualStrings("after rotation\n", rotated);
    try tmp.dir.rename("api-out.log.1", "api-out.log");
    const written = try tmp.dir.readFileAlloc(testing.allocator, "api-out.log", 1 << 24);
    defer testing.allocator.free(written);
    try testing.expectEqualSlices(u8, expected.items, written);
}
