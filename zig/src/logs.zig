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
//! Rotation (`log_max_size_bytes` > 0, 10 MiB unless the spec says otherwise): after a write leaves the
//! file larger than the limit, it is renamed to its next numbered generation and a fresh one is created
//! (log_rotation.zig: the naming, and why the cost does not grow with `log_max_files`). At most one rotation
//! per write, and only between writes, so every byte is in exactly one file: a chunk larger than the limit
//! is written whole, then rotated.
//!
//! Files are opened relative to the daemon's handle on `logs/`, never through a symlink (home.zig).
//!
//! Timestamps (`log_timestamps`): each line written to the FILE starts with the time its first byte was
//! read, RFC 3339 UTC with milliseconds and a space (`2026-11-23T22:20:55.123Z `). A line split across two
//! reads gets one prefix (the stream remembers whether it stands at the start of a line). The ring and
//! LOG_STREAM keep the raw bytes. Lines are assembled in a scratch buffer the caller owns: no allocation.
//!
//! JSON lines (`log_format = json`): each line becomes one object, `{"ts":...,"stream":"out","body":...}`
//! (log_json.zig: the encoding). An object left open by a rotation or by a switch back to text is closed
//! there, and the rest of its line starts afresh; a text line left open by a switch to JSON gets its
//! newline first. The ring and LOG_STREAM keep the raw bytes, as with timestamps.
//!
//! Pipe size: the default 64 KiB, grown to 1 MiB (F_SETPIPE_SZ) the first time a read finds the pipe full,
//! i.e. only for apps that write fast. Growing every pipe up front would charge 1 MiB per pipe to the user's
//! pipe quota (fs.pipe-user-pages-soft, 64 MiB by default), and past it the kernel gives every new pipe of
//! that user, ours and everyone else's, a single page.
const std = @import("std");
const sys = @import("sys.zig");
const home = @import("home.zig");
const rotation = @import("log_rotation.zig");
const Ring = @import("ring.zig").Ring;
const log_json = @import("log_json.zig");
pub const Format = @import("spec.zig").LogFormat;

const fd_t = sys.fd_t;

pub const pipe_bytes_grown = 1024 * 1024;
/// Log files: owner read/write, group read.
pub const file_mode: sys.mode_t = 0o640;

/// An idle stream's log file is closed after this long without data.
pub const file_idle_close_ms = 5000;

/// What the app's spec asks of its log files (its in-place keys: they change without a restart).
pub const Options = struct {
    /// Rotate once a write leaves the file larger than this; 0 = never.
    max_size_bytes: u64 = 0,
    /// Rotated generations kept (the newest ones).
    max_files: u32 = 5,
    /// Prefix each line in the file with a timestamp.
    timestamps: bool = false,
    /// Plain text, or one JSON object per line.
    format: Format = .text,
};

/// `YYYY-MM-DDTHH:MM:SS.mmmZ ` is 25 bytes until the year 10000.
pub const timestamp_prefix_bytes_max = 32;
/// The smallest scratch buffer `readChunk` accepts (a prefix plus some line).
pub const scratch_bytes_min = 2 * timestamp_prefix_bytes_max;

/// RFC 3339 UTC with milliseconds, e.g. `2023-11-14T22:13:20.123Z`; no allocation.
pub fn writeTimestamp(writer: *std.Io.Writer, epoch_ms: u64) std.Io.Writer.Error!void {
    const seconds: std.time.epoch.EpochSeconds = .{ .secs = epoch_ms / 1000 };
    const year_day = seconds.getEpochDay().calculateYearDay();
    const month_day = year_day.calculateMonthDay();
    const day_seconds = seconds.getDaySeconds();
    try writer.print("{d:0>4}-{d:0>2}-{d:0>2}T{d:0>2}:{d:0>2}:{d:0>2}.{d:0>3}Z", .{
        year_day.year,
        month_day.month.numeric(),
        month_day.day_index + 1,
        day_seconds.getHoursIntoDay(),
        day_seconds.getMinutesIntoHour(),
        day_seconds.getSecondsIntoMinute(),
        epoch_ms % 1000,
    });
}

/// The line prefix for `epoch_ms` (timestamp and a space) in `buffer`.
fn timestampPrefix(buffer: *[timestamp_prefix_bytes_max]u8, epoch_ms: u64) []const u8 {
    var writer: std.Io.Writer = .fixed(buffer);
    writeTimestamp(&writer, epoch_ms) catch unreachable; // at most 4+ digits of year: fits
    writer.writeByte(' ') catch unreachable;
    return writer.buffered();
}

pub const RotateFailure = rotation.Failure;

/// What happened to the file during one `readChunk`, for the daemon to report.
pub const Report = struct {
    /// Opening or writing the file failed, for the first time in a row.
    file_error: ?sys.Error = null,
    /// The file was rotated.
    rotated: bool = false,
    /// Rotating failed, for the first time in a row (retried after each write).
    rotate_failure: ?RotateFailure = null,
};

pub const StreamLog = struct {
    /// Non-blocking, close-on-exec; registered in the poller.
    read_fd: fd_t = -1,
    /// Given to each process as its stdout or stderr; close-on-exec in the daemon itself.
    write_fd: fd_t = -1,
    /// The log file, O_APPEND; -1 while the stream is idle.
    file_fd: fd_t = -1,
    /// The `logs/` directory, borrowed (the daemon's handle, home.zig); set by `open`.
    directory_fd: fd_t = -1,
    /// `NAME-out.log`, owned; set by `open`.
    file_name: ?[:0]u8 = null,
    /// Learned at the first rotation, then counted.
    generations: ?rotation.Generations = null,
    ring: Ring = .{},
    pipe_grown: bool = false,
    /// Every byte read from the pipe, over all the app's runs (the record's `log_*_bytes`).
    bytes_total: u64 = 0,
    /// Every newline read from the pipe (the record's `log_*_lines`): a last line without one is counted
    /// when its newline comes.
    lines_total: u64 = 0,
    /// When data last arrived (ms, monotonic): the file is closed once this is old.
    last_data_ms: u64 = 0,
    /// Opening or writing the file failed (ENOSPC, EACCES, ...): reported once, then retried with each chunk.
    file_failing: bool = false,
    /// The size of the open file (from fstat when opened, then counted); meaningless while `file_fd` is -1.
    file_bytes: u64 = 0,
    /// The last byte read was a newline (or nothing was read yet): the next byte starts a line.
    at_line_start: bool = true,
    /// Rotations done since the stream was opened.
    rotations: u64 = 0,
    /// Rotating failed last time: reported once, then retried after each write.
    rotate_failing: bool = false,
    /// The JSON encoder's state between reads (an open object, an unfinished UTF-8 sequence).
    json: log_json.Encoder = .{},

    pub const Step = enum { pipe, file };

    /// Creates the pipe and creates the log file `file_name` in `directory_fd` (opened again whenever data
    /// arrives); on failure `step` says which.
    pub fn open(log: *StreamLog, allocator: std.mem.Allocator, directory_fd: fd_t, file_name: []const u8, step: *Step) (sys.Error || error{OutOfMemory})!void {
        std.debug.assert(log.read_fd == -1);
        const name = try allocator.dupeZ(u8, file_name);
        errdefer allocator.free(name);
        step.* = .file;
        sys.close(try openFile(directory_fd, name));
        step.* = .pipe;
        const fds = try sys.pipe();
        errdefer {
            sys.close(fds[0]);
            sys.close(fds[1]);
        }
        try sys.setNonBlocking(fds[0]);
        log.* = .{ .read_fd = fds[0], .write_fd = fds[1], .directory_fd = directory_fd, .file_name = name };
    }

    fn openFile(directory_fd: fd_t, name: [*:0]const u8) sys.Error!fd_t {
        return home.openFile(directory_fd, name, .{ .ACCMODE = .WRONLY, .CREAT = true, .APPEND = true }, file_mode);
    }

    pub fn close(log: *StreamLog, allocator: std.mem.Allocator) void {
        if (log.read_fd != -1) sys.close(log.read_fd);
        if (log.write_fd != -1) sys.close(log.write_fd);
        if (log.file_fd != -1) sys.close(log.file_fd);
        if (log.file_name) |name| allocator.free(name);
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

    /// How `readChunk` writes the file.
    pub const Write = struct {
        options: Options = .{},
        /// Monotonic ms (for closing an idle file).
        now_ms: u64,
        /// Wall-clock ms since the epoch (for timestamps).
        epoch_ms: u64 = 0,
        /// Where timestamped lines are assembled; at least `scratch_bytes_min` bytes when `timestamps`.
        scratch: []u8 = &.{},
        /// "out" or "err": the `stream` of JSON lines.
        stream: []const u8 = "out",
    };

    /// One read from the pipe into `buffer`; the bytes go to the file (timestamped and rotated as `write`
    /// says) and the ring before they are returned. `report` says what went wrong with the file, each
    /// problem once until it goes away.
    pub fn readChunk(log: *StreamLog, allocator: std.mem.Allocator, buffer: []u8, write: Write, report: *Report) Chunk {
        const now_ms = write.now_ms;
        const count = sys.read(log.read_fd, buffer) catch |err| switch (err) {
            error.AGAIN => return .empty,
            else => return .{ .failed = err },
        };
        if (count == 0) return .empty; // no writer left (only after close) — nothing to do
        const bytes = buffer[0..count];
        log.bytes_total += count;
        log.lines_total += countNewlines(bytes);
        log.last_data_ms = now_ms;

        if (!log.pipe_grown and count >= 64 * 1024) {
            // The pipe was full: this app writes fast. Once per stream; failure (quota) is harmless.
            log.pipe_grown = true;
            _ = sys.setPipeSize(log.read_fd, pipe_bytes_grown);
        }
        if (log.appendToFile(bytes, write)) {
            log.file_failing = false;
            if (write.options.max_size_bytes > 0 and log.file_bytes > write.options.max_size_bytes) {
                var failure: RotateFailure = undefined;
                if (log.rotate(write.options.max_files, &failure)) {
                    log.rotate_failing = false;
                    report.rotated = true;
                } else |_| {
                    if (!log.rotate_failing) report.rotate_failure = failure;
                    log.rotate_failing = true;
                }
            }
        } else |err| {
            if (!log.file_failing) report.file_error = err;
            log.file_failing = true;
        }
        // The ring allocates its 64 KiB on the first write; without memory the file still has everything.
        log.ring.write(allocator, bytes) catch {};
        return .{ .data = bytes };
    }

    /// Appends `bytes` (with line prefixes when asked) and counts them into `file_bytes`. After a failed
    /// write the file is closed, so its size is read again when it is reopened.
    fn appendToFile(log: *StreamLog, bytes: []const u8, write: Write) sys.Error!void {
        // Where the next line starts depends on the bytes read, whatever becomes of the file.
        const at_line_start = log.at_line_start;
        log.at_line_start = bytes[bytes.len - 1] == '\n';
        if (log.file_fd == -1) {
            const fd = try openFile(log.directory_fd, log.file_name.?);
            const st = sys.fstat(fd) catch |err| {
                sys.close(fd);
                return err;
            };
            log.file_fd = fd;
            log.file_bytes = @intCast(st.size);
        }
        const written = if (write.options.format == .json)
            log.writeJson(bytes, at_line_start, write)
        else
            log.writeText(bytes, at_line_start, write);
        written catch |err| {
            sys.close(log.file_fd);
            log.file_fd = -1;
            return err;
        };
    }

    fn writeText(log: *StreamLog, bytes: []const u8, starts_at_line_start: bool, write: Write) sys.Error!void {
        // A JSON object the format switch left open ends here; the rest of its line is a new text line.
        const at_line_start = starts_at_line_start or log.json.open;
        try log.closeJson(write.scratch);
        if (write.options.timestamps) return log.writeStamped(bytes, at_line_start, write);
        try sys.writeAll(log.file_fd, bytes);
        log.file_bytes += bytes.len;
    }

    /// Writes `bytes` as JSON lines, assembled in `write.scratch`.
    fn writeJson(log: *StreamLog, bytes: []const u8, starts_at_line_start: bool, write: Write) sys.Error!void {
        var sink: FileSink = .init(log, write.scratch);
        // A text line the format switch left open ends here, so the first object starts a line.
        if (!log.json.open and !starts_at_line_start) sink.writer.writeByte('\n') catch return sink.failure();
        log.json.write(&sink.writer, bytes, write.stream, write.epoch_ms) catch return sink.failure();
        sink.writer.flush() catch return sink.failure();
    }

    /// Ends an open JSON object (a switch to text, a rotation): the file's last line stays valid JSON.
    fn closeJson(log: *StreamLog, scratch: []u8) sys.Error!void {
        if (!log.json.open) return;
        var sink: FileSink = .init(log, scratch);
        log.json.close(&sink.writer) catch return sink.failure();
        sink.writer.flush() catch return sink.failure();
    }

    /// Writes `bytes` with a prefix before each line start, assembled in `write.scratch`.
    fn writeStamped(log: *StreamLog, bytes: []const u8, starts_at_line_start: bool, write: Write) sys.Error!void {
        const scratch = write.scratch;
        std.debug.assert(scratch.len >= scratch_bytes_min);
        var prefix_buffer: [timestamp_prefix_bytes_max]u8 = undefined;
        const prefix = timestampPrefix(&prefix_buffer, write.epoch_ms);
        var at_line_start = starts_at_line_start;
        var used: usize = 0;
        var rest = bytes;
        while (rest.len > 0) {
            if (at_line_start) {
                if (scratch.len - used < prefix.len) {
                    try sys.writeAll(log.file_fd, scratch[0..used]);
                    log.file_bytes += used;
                    used = 0;
                }
                @memcpy(scratch[used..][0..prefix.len], prefix);
                used += prefix.len;
                at_line_start = false;
            }
            const line_len = if (std.mem.indexOfScalar(u8, rest, '\n')) |newline| newline + 1 else rest.len;
            const take = @min(line_len, scratch.len - used);
            @memcpy(scratch[used..][0..take], rest[0..take]);
            used += take;
            rest = rest[take..];
            if (take == line_len and scratch[used - 1] == '\n') at_line_start = true;
            if (used == scratch.len) {
                try sys.writeAll(log.file_fd, scratch[0..used]);
                log.file_bytes += used;
                used = 0;
            }
        }
        try sys.writeAll(log.file_fd, scratch[0..used]);
        log.file_bytes += used;
    }

    /// Renames the live file to its next generation, opens a fresh one, then deletes what is past
    /// `max_files` (log_rotation.zig). A failure leaves every byte in some file (before the rename, the live
    /// one keeps growing until a later write rotates it); `failure` says which call failed.
    fn rotate(log: *StreamLog, max_files: u32, failure: *RotateFailure) sys.Error!void {
        const name = log.file_name.?;
        if (log.generations == null) {
            log.generations = rotation.Generations.scan(log.directory_fd, name) catch |err|
                return rotation.fail(failure, .scan, name, err);
        }
        // The generation must end with whole objects; the rest of the line starts a new one.
        // A failed write here is the file's trouble, reported with the next write; the rotation goes on.
        var close_buffer: [16]u8 = undefined;
        if (log.json.open) {
            log.closeJson(&close_buffer) catch {};
            log.at_line_start = true;
        }
        try rotation.retire(log.directory_fd, name, &log.generations.?, failure);
        // From here on the live name is free: the next byte goes to a fresh file, whatever happens.
        sys.close(log.file_fd);
        log.file_fd = -1;
        log.rotations += 1;
        log.file_fd = openFile(log.directory_fd, name) catch |err| return rotation.fail(failure, .open, name, err);
        log.file_bytes = 0;
        _ = try rotation.prune(log.directory_fd, name, &log.generations.?, max_files, failure);
    }
};

/// A `std.Io.Writer` over the stream's log file, buffered in the daemon's scratch; counts `file_bytes`.
const FileSink = struct {
    log: *StreamLog,
    err: ?sys.Error = null,
    writer: std.Io.Writer,

    fn init(log: *StreamLog, buffer: []u8) FileSink {
        return .{ .log = log, .writer = .{ .vtable = &.{ .drain = drain }, .buffer = buffer } };
    }

    fn failure(sink: *const FileSink) sys.Error {
        return sink.err orelse error.IO;
    }

    fn put(sink: *FileSink, bytes: []const u8) std.Io.Writer.Error!void {
        sys.writeAll(sink.log.file_fd, bytes) catch |err| {
            sink.err = err;
            return error.WriteFailed;
        };
        sink.log.file_bytes += bytes.len;
    }

    fn drain(writer: *std.Io.Writer, data: []const []const u8, splat: usize) std.Io.Writer.Error!usize {
        const sink: *FileSink = @alignCast(@fieldParentPtr("writer", writer));
        try sink.put(writer.buffered());
        writer.end = 0;
        if (data.len > 1) {
            try sink.put(data[0]);
            return data[0].len;
        }
        for (0..splat) |_| try sink.put(data[0]);
        return data[0].len * splat;
    }
};

/// "NAME-out.log" or "NAME-err.log" into `buffer`.
/// The newlines in `bytes`, 32 bytes at a time: this runs on every byte an app writes, so it must cost
/// next to nothing beside the read and the file write.
pub fn countNewlines(bytes: []const u8) u64 {
    const lanes = 32;
    const Lane = @Vector(lanes, u8);
    const newlines: Lane = @splat('\n');
    var total: u64 = 0;
    var index: usize = 0;
    while (index + lanes <= bytes.len) : (index += lanes) {
        const chunk: Lane = bytes[index..][0..lanes].*;
        const matches: u32 = @bitCast(chunk == newlines);
        total += @popCount(matches);
    }
    for (bytes[index..]) |byte| total += @intFromBool(byte == '\n');
    return total;
}

pub fn fileName(buffer: []u8, name: []const u8, stream_suffix: []const u8) error{NoSpaceLeft}![]u8 {
    return std.fmt.bufPrint(buffer, "{s}-{s}.log", .{ name, stream_suffix });
}

const testing = std.testing;

test "countNewlines counts every newline, in whole vectors and in the tail" {
    try testing.expectEqual(@as(u64, 0), countNewlines(""));
    try testing.expectEqual(@as(u64, 0), countNewlines("no newline at all"));
    try testing.expectEqual(@as(u64, 2), countNewlines("a\nb\n"));
    var bytes: [100]u8 = undefined;
    for (&bytes, 0..) |*byte, index| byte.* = if (index % 3 == 0) '\n' else 'x';
    // 34 newlines (0, 3, ..., 99): 96 bytes in three vectors, 4 in the tail.
    try testing.expectEqual(@as(u64, 34), countNewlines(&bytes));
    for (0..bytes.len) |start| {
        var expected: u64 = 0;
        for (bytes[start..]) |byte| expected += @intFromBool(byte == '\n');
        try testing.expectEqual(expected, countNewlines(bytes[start..]));
    }
}

test "every byte written to the pipe reaches the file and the ring, across writers" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var name_buffer: [64]u8 = undefined;
    const name = try fileName(&name_buffer, "api", "out");
    try testing.expectEqualStrings("api-out.log", name);

    var log: StreamLog = .{};
    var step: StreamLog.Step = undefined;
    try log.open(testing.allocator, tmp.dir.fd, name, &step);
    defer log.close(testing.allocator);
    // Created at once (for `tail -f`), held open only while data flows.
    try tmp.dir.access("api-out.log", .{});
    try testing.expectEqual(@as(fd_t, -1), log.file_fd);

    const buffer = try testing.allocator.alloc(u8, 256 * 1024);
    defer testing.allocator.free(buffer);
    var report: Report = .{};
    try testing.expectEqual(StreamLog.Chunk.empty, log.readChunk(testing.allocator, buffer, .{ .now_ms = 1000 }, &report));

    // More than the default pipe holds, in pieces, read as it goes.
    var expected: std.ArrayList(u8) = .empty;
    defer expected.deinit(testing.allocator);
    var line: [100]u8 = undefined;
    for (0..3000) |index| {
        const text = try std.fmt.bufPrint(&line, "line {d:0>6} {s}\n", .{ index, "x" ** 80 });
        try expected.appendSlice(testing.allocator, text);
        try sys.writeAll(log.write_fd, text);
        if (index % 500 == 499) {
            while (true) switch (log.readChunk(testing.allocator, buffer, .{ .now_ms = 1000 + index }, &report)) {
                .data => {},
                .empty => break,
                .failed => |err| return err,
            };
        }
    }
    try testing.expectEqual(@as(?sys.Error, null), report.file_error);
    try testing.expect(!report.rotated);
    try testing.expectEqual(@as(u64, expected.items.len), log.bytes_total);
    try testing.expectEqual(@as(u64, 3000), log.lines_total);
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
    try testing.expect(log.readChunk(testing.allocator, buffer, .{ .now_ms = 20_000 }, &report) == .data);
    const rotated = try tmp.dir.readFileAlloc(testing.allocator, "api-out.log", 1 << 20);
    defer testing.allocator.free(rotated);
    try testing.expectEqualStrings("after rotation\n", rotated);
    try tmp.dir.rename("api-out.log.1", "api-out.log");
    const written = try tmp.dir.readFileAlloc(testing.allocator, "api-out.log", 1 << 24);
    defer testing.allocator.free(written);
    try testing.expectEqualSlices(u8, expected.items, written);
}

/// A stream on a fresh `NAME-out.log` in `dir`, for the tests below.
fn openTestLog(log: *StreamLog, dir: std.fs.Dir, name: []const u8) !void {
    var name_buffer: [64]u8 = undefined;
    var step: StreamLog.Step = undefined;
    try log.open(testing.allocator, dir.fd, try fileName(&name_buffer, name, "out"), &step);
}

/// Every generation of `NAME-out.log`, oldest first, then the live file, in one buffer: what `velos logs`
/// reads to show a stream's whole history.
fn readRotated(allocator: std.mem.Allocator, dir: std.fs.Dir, name: []const u8) ![]u8 {
    var all: std.ArrayList(u8) = .empty;
    errdefer all.deinit(allocator);
    var live_buffer: [64]u8 = undefined;
    const live = try fileName(&live_buffer, name, "out");
    const generations = try rotation.Generations.scan(dir.fd, live);
    var generation = generations.oldest;
    while (generation < generations.next) : (generation += 1) {
        var name_buffer: [96]u8 = undefined;
        const bytes = dir.readFileAlloc(allocator, try rotation.generationName(&name_buffer, live, generation), 1 << 24) catch |err| switch (err) {
            error.FileNotFound => continue,
            else => return err,
        };
        defer allocator.free(bytes);
        try all.appendSlice(allocator, bytes);
    }
    const bytes = try dir.readFileAlloc(allocator, live, 1 << 24);
    defer allocator.free(bytes);
    try all.appendSlice(allocator, bytes);
    return all.toOwnedSlice(allocator);
}

test "rotation: no byte lost or duplicated, N files kept, oldest dropped, at most one rotation per write" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var log: StreamLog = .{};
    try openTestLog(&log, tmp.dir, "api");
    defer log.close(testing.allocator);
    const buffer = try testing.allocator.alloc(u8, 256 * 1024);
    defer testing.allocator.free(buffer);

    const options: Options = .{ .max_size_bytes = 1000, .max_files = 3 };
    var expected: std.ArrayList(u8) = .empty;
    defer expected.deinit(testing.allocator);
    var report: Report = .{};
    var rotations: u64 = 0;
    var line: [64]u8 = undefined;
    for (0..400) |index| {
        // Lines of varying length, each read alone: one write per line.
        const text = try std.fmt.bufPrint(&line, "line {d:0>4} {s}\n", .{ index, ("abcdefghij" ** 4)[0 .. index % 40] });
        try expected.appendSlice(testing.allocator, text);
        try sys.writeAll(log.write_fd, text);
        const before = log.rotations;
        try testing.expect(log.readChunk(testing.allocator, buffer, .{ .now_ms = 1, .options = options }, &report) == .data);
        try testing.expect(log.rotations - before <= 1);
        if (report.rotated) rotations += 1;
        report = .{};
        // Between writes the live file is never over the limit.
        try testing.expect(log.file_bytes <= options.max_size_bytes);
    }
    try testing.expectEqual(log.rotations, rotations);
    try testing.expect(rotations > 3);
    // The newest three generations are kept, numbered by rotation; each went just past the limit.
    try testing.expectEqual(rotation.Generations{ .oldest = rotations - 2, .next = rotations + 1 }, log.generations.?);
    var name_buffer: [64]u8 = undefined;
    try testing.expectError(error.FileNotFound, tmp.dir.access(try rotation.generationName(&name_buffer, "api-out.log", rotations - 3), .{}));
    for (rotations - 2..rotations + 1) |generation| {
        const st = try tmp.dir.statFile(try rotation.generationName(&name_buffer, "api-out.log", generation));
        try testing.expect(st.size > options.max_size_bytes and st.size <= options.max_size_bytes + 64);
    }
    // What was kept is exactly the end of what was written.
    const kept = try readRotated(testing.allocator, tmp.dir, "api");
    defer testing.allocator.free(kept);
    try testing.expect(kept.len > 3 * options.max_size_bytes);
    try testing.expect(std.mem.endsWith(u8, expected.items, kept));
    try testing.expect(std.mem.startsWith(u8, kept, "line ")); // a rotation never splits a write

    // A lower limit and fewer files, in place: the next write rotates, keeping one file.
    try sys.writeAll(log.write_fd, "x" ** 50 ++ "\n");
    try testing.expect(log.readChunk(testing.allocator, buffer, .{ .now_ms = 2, .options = .{ .max_size_bytes = 10, .max_files = 1 } }, &report) == .data);
    try testing.expect(report.rotated);
    const newest = try tmp.dir.readFileAlloc(testing.allocator, try rotation.generationName(&name_buffer, "api-out.log", rotations + 1), 1 << 20);
    defer testing.allocator.free(newest);
    try testing.expect(std.mem.endsWith(u8, newest, "x" ** 50 ++ "\n"));
    try testing.expectEqual(@as(u64, 1), log.generations.?.count());
}

test "rotation: a chunk larger than the limit is written whole, then rotated; the live file is reopened" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var log: StreamLog = .{};
    try openTestLog(&log, tmp.dir, "big");
    defer log.close(testing.allocator);
    // Content from before (a previous daemon) counts towards the limit.
    try tmp.dir.writeFile(.{ .sub_path = "big-out.log", .data = "old\n" });
    const buffer = try testing.allocator.alloc(u8, 256 * 1024);
    defer testing.allocator.free(buffer);

    const chunk = "y" ** 300;
    try sys.writeAll(log.write_fd, chunk);
    var report: Report = .{};
    try testing.expect(log.readChunk(testing.allocator, buffer, .{ .now_ms = 1, .options = .{ .max_size_bytes = 100 } }, &report) == .data);
    try testing.expect(report.rotated);
    const rotated = try tmp.dir.readFileAlloc(testing.allocator, "big-out.log.1", 1 << 20); // the first generation
    defer testing.allocator.free(rotated);
    try testing.expectEqualStrings("old\n" ++ chunk, rotated);
    // The fresh file exists at once (for `tail -F`), empty.
    try testing.expectEqual(@as(u64, 0), (try tmp.dir.statFile("big-out.log")).size);
    try testing.expect(log.file_fd != -1);
    // The ring is not affected by rotation.
    var last: std.ArrayList(u8) = .empty;
    defer last.deinit(testing.allocator);
    try log.ring.lastLines(1, &last, testing.allocator);
    try testing.expectEqualStrings(chunk, last.items);

    // A small write does not rotate; the file closed when idle is reopened with its size read again.
    try sys.writeAll(log.write_fd, "z\n");
    report = .{};
    _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 2, .options = .{ .max_size_bytes = 100 } }, &report);
    try testing.expect(!report.rotated);
    log.closeIdleFile(2 + file_idle_close_ms);
    try testing.expectEqual(@as(fd_t, -1), log.file_fd);
    try sys.writeAll(log.write_fd, "w" ** 99);
    _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 3, .options = .{ .max_size_bytes = 100 } }, &report);
    try testing.expect(report.rotated); // 2 + 99 > 100
    try testing.expectEqual(@as(u64, 2), log.rotations);
}

test "rotation: a failure is reported once, loses nothing, and is retried after the next write" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var log: StreamLog = .{};
    try openTestLog(&log, tmp.dir, "ro");
    defer log.close(testing.allocator);
    const buffer = try testing.allocator.alloc(u8, 4096);
    defer testing.allocator.free(buffer);
    const options: Options = .{ .max_size_bytes = 4, .max_files = 2 };

    // A directory where the next generation goes: rename(file, directory) fails (EISDIR), root or not. (Set
    // up after the scan would have counted it: the scan is tested in log_rotation.zig.)
    log.generations = .{ .oldest = 1, .next = 1 };
    try tmp.dir.makePath("ro-out.log.1/inside");
    var report: Report = .{};
    try sys.writeAll(log.write_fd, "first\n");
    _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 1, .options = options }, &report);
    const failure = report.rotate_failure orelse return error.TestExpectedRotateFailure;
    try testing.expect(failure.step == .rename);
    try testing.expectEqualStrings("ro-out.log", failure.path());
    try testing.expect(!report.rotated);
    report = .{};
    try sys.writeAll(log.write_fd, "second\n");
    _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 2, .options = options }, &report);
    try testing.expect(report.rotate_failure == null); // reported once
    try testing.expect(!report.rotated);
    // The obstacle gone, the next write rotates into generation 1.
    try tmp.dir.deleteTree("ro-out.log.1");
    try sys.writeAll(log.write_fd, "third\n");
    _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 3, .options = options }, &report);
    try testing.expect(report.rotated);
    const kept = try readRotated(testing.allocator, tmp.dir, "ro");
    defer testing.allocator.free(kept);
    try testing.expectEqualStrings("first\nsecond\nthird\n", kept);
    try testing.expectEqual(@as(u64, 0), (try tmp.dir.statFile("ro-out.log")).size);

    // An unlink that fails (a directory at the oldest generation, 1) is reported; the rotation is done.
    try testing.expectEqual(rotation.Generations{ .oldest = 1, .next = 2 }, log.generations.?);
    try tmp.dir.deleteFile("ro-out.log.1");
    try tmp.dir.makePath("ro-out.log.1/inside");
    report = .{};
    try sys.writeAll(log.write_fd, "fourth\n");
    _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 4, .options = .{ .max_size_bytes = 4, .max_files = 1 } }, &report);
    const unlink_failure = report.rotate_failure orelse return error.TestExpectedRotateFailure;
    try testing.expect(unlink_failure.step == .unlink);
    try testing.expectEqual(@as(u64, 0), (try tmp.dir.statFile("ro-out.log")).size);
}

test "timestamps: one prefix per line in the file, across reads and scratch flushes; the ring stays raw" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var log: StreamLog = .{};
    try openTestLog(&log, tmp.dir, "ts");
    defer log.close(testing.allocator);
    const buffer = try testing.allocator.alloc(u8, 4096);
    defer testing.allocator.free(buffer);
    // The smallest scratch: lines longer than it are flushed in pieces.
    var scratch: [scratch_bytes_min]u8 = undefined;

    const t1: u64 = 1_700_000_000_123; // 2023-11-14T22:13:20.123Z
    const chunks = [_]struct { bytes: []const u8, epoch_ms: u64 }{
        .{ .bytes = "par", .epoch_ms = t1 },
        .{ .bytes = "tial\nsecond\n", .epoch_ms = t1 + 1 },
        .{ .bytes = "\n", .epoch_ms = t1 + 2 },
        .{ .bytes = "a long line of more than sixty-four bytes, to cross the scratch buffer's end\nlast", .epoch_ms = t1 + 3 },
    };
    var raw: std.ArrayList(u8) = .empty;
    defer raw.deinit(testing.allocator);
    var report: Report = .{};
    for (chunks) |chunk| {
        try sys.writeAll(log.write_fd, chunk.bytes);
        try raw.appendSlice(testing.allocator, chunk.bytes);
        const write: StreamLog.Write = .{ .now_ms = 1, .epoch_ms = chunk.epoch_ms, .options = .{ .timestamps = true }, .scratch = &scratch };
        try testing.expectEqualStrings(chunk.bytes, log.readChunk(testing.allocator, buffer, write, &report).data);
    }
    const expected =
        "2023-11-14T22:13:20.123Z partial\n" ++
        "2023-11-14T22:13:20.124Z second\n" ++
        "2023-11-14T22:13:20.125Z \n" ++
        "2023-11-14T22:13:20.126Z a long line of more than sixty-four bytes, to cross the scratch buffer's end\n" ++
        "2023-11-14T22:13:20.126Z last";
    const written = try tmp.dir.readFileAlloc(testing.allocator, "ts-out.log", 1 << 20);
    defer testing.allocator.free(written);
    try testing.expectEqualStrings(expected, written);
    try testing.expectEqual(@as(u64, expected.len), log.file_bytes);
    try testing.expect(!log.at_line_start);

    var ring_bytes: std.ArrayList(u8) = .empty;
    defer ring_bytes.deinit(testing.allocator);
    try log.ring.lastLines(100, &ring_bytes, testing.allocator);
    try testing.expectEqualStrings(raw.items, ring_bytes.items);

    // Turned off in place: the rest of the line and what follows are written raw.
    try sys.writeAll(log.write_fd, " end\nplain\n");
    _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 1 }, &report);
    const after = try tmp.dir.readFileAlloc(testing.allocator, "ts-out.log", 1 << 20);
    defer testing.allocator.free(after);
    try testing.expectEqualStrings(expected ++ " end\nplain\n", after);
}

test "json format: one object per line across reads; switches to text and back keep every line whole; the ring stays raw" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var log: StreamLog = .{};
    try openTestLog(&log, tmp.dir, "js");
    defer log.close(testing.allocator);
    const buffer = try testing.allocator.alloc(u8, 4096);
    defer testing.allocator.free(buffer);
    var scratch: [scratch_bytes_min]u8 = undefined;
    const t1: u64 = 1_700_000_000_123; // 2023-11-14T22:13:20.123Z
    const chunks = [_]struct { bytes: []const u8, format: Format, epoch_ms: u64 = t1 }{
        .{ .bytes = "say \"hi\"", .format = .json },
        .{ .bytes = "\tnow\nnext ", .format = .json, .epoch_ms = t1 + 1 },
        // Switched to text mid-line: the object is closed, the rest is plain.
        .{ .bytes = "half\nplain\nopen ", .format = .text },
        // Back to JSON mid-line: the text line gets its newline first.
        .{ .bytes = "tail\n", .format = .json, .epoch_ms = t1 + 2 },
    };
    var raw: std.ArrayList(u8) = .empty;
    defer raw.deinit(testing.allocator);
    var report: Report = .{};
    for (chunks) |chunk| {
        try sys.writeAll(log.write_fd, chunk.bytes);
        try raw.appendSlice(testing.allocator, chunk.bytes);
        const write: StreamLog.Write = .{ .now_ms = 1, .epoch_ms = chunk.epoch_ms, .options = .{ .format = chunk.format }, .scratch = &scratch, .stream = "err" };
        try testing.expectEqualStrings(chunk.bytes, log.readChunk(testing.allocator, buffer, write, &report).data);
    }
    const expected =
        "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"stream\":\"err\",\"body\":\"say \\\"hi\\\"\\u0009now\"}\n" ++
        "{\"ts\":\"2023-11-14T22:13:20.124Z\",\"stream\":\"err\",\"body\":\"next \"}\n" ++
        "half\nplain\nopen \n" ++
        "{\"ts\":\"2023-11-14T22:13:20.125Z\",\"stream\":\"err\",\"body\":\"tail\"}\n";
    const written = try tmp.dir.readFileAlloc(testing.allocator, "js-out.log", 1 << 20);
    defer testing.allocator.free(written);
    try testing.expectEqualStrings(expected, written);
    try testing.expectEqual(@as(u64, expected.len), log.file_bytes);
    var ring_bytes: std.ArrayList(u8) = .empty;
    defer ring_bytes.deinit(testing.allocator);
    try log.ring.lastLines(100, &ring_bytes, testing.allocator);
    try testing.expectEqualStrings(raw.items, ring_bytes.items);
}

test "json format: a rotation ends the open object in the old generation" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var log: StreamLog = .{};
    try openTestLog(&log, tmp.dir, "jr");
    defer log.close(testing.allocator);
    const buffer = try testing.allocator.alloc(u8, 4096);
    defer testing.allocator.free(buffer);
    var scratch: [256]u8 = undefined;
    const options: Options = .{ .format = .json, .max_size_bytes = 10 };
    var report: Report = .{};
    for ([_][]const u8{ "first line and more", " of it\n" }) |bytes| {
        try sys.writeAll(log.write_fd, bytes);
        _ = log.readChunk(testing.allocator, buffer, .{ .now_ms = 1, .options = options, .scratch = &scratch }, &report);
    }
    const old = try tmp.dir.readFileAlloc(testing.allocator, "jr-out.log.1", 1 << 20);
    defer testing.allocator.free(old);
    try testing.expectEqualStrings("{\"ts\":\"1970-01-01T00:00:00.000Z\",\"stream\":\"out\",\"body\":\"first line and more\"}\n", old);
    const rest = try tmp.dir.readFileAlloc(testing.allocator, "jr-out.log.2", 1 << 20);
    defer testing.allocator.free(rest);
    try testing.expectEqualStrings("{\"ts\":\"1970-01-01T00:00:00.000Z\",\"stream\":\"out\",\"body\":\" of it\"}\n", rest);
}

test "timestamps are RFC 3339 UTC with milliseconds" {
    var buffer: [timestamp_prefix_bytes_max]u8 = undefined;
    try testing.expectEqualStrings("2023-11-14T22:13:20.123Z ", timestampPrefix(&buffer, 1_700_000_000_123));
    try testing.expectEqualStrings("1970-01-01T00:00:00.000Z ", timestampPrefix(&buffer, 0));
    try testing.expectEqualStrings("2024-02-29T23:59:59.999Z ", timestampPrefix(&buffer, 1_709_251_199_999));
}
