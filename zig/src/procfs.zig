//! What the daemon reads from /proc (Linux): a process's state, parent, group, CPU time, start time and
//! resident size, from /proc/PID/stat. `parseStat` is pure; `readStat` is the one function here that touches
//! the file system. On other systems everything compiles, `readStat` returns error.Unsupported, and the
//! daemon falls back to what its own OS layer offers.
//!
//! The start time (field 22, clock ticks since boot) together with the pid identifies one process for its
//! whole life: the daemon records both so it never signals a recycled pid.
const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;

pub const Stat = struct {
    /// R, S, D, Z (zombie), T, t, X, I …
    state: u8,
    ppid: i32,
    pgrp: i32,
    /// CPU time in user and kernel mode, in clock ticks (`clockTicksPerSecond`).
    utime_ticks: u64,
    stime_ticks: u64,
    /// Clock ticks after boot when the process started.
    start_time_ticks: u64,
    /// Resident pages (`pageSizeBytes` each).
    rss_pages: u64,
    /// Threads in the process (each may have forked children of its own).
    threads: u32 = 1,
};

pub const ParseError = error{
    /// Not the format of /proc/PID/stat: no ')', too few fields, or a field that is not a number.
    Malformed,
};

pub const ReadError = ParseError || error{
    /// No /proc on this OS.
    Unsupported,
    /// The process does not exist (never did, exited and was reaped, or `pid` is not positive).
    ProcessGone,
    /// /proc is mounted with hidepid, or the process belongs to another user under a restrictive policy.
    AccessDenied,
    /// The stat line filled the whole buffer; give a bigger one (1 KiB is plenty for any real line).
    BufferTooSmall,
    /// EMFILE: this process has too many open files.
    ProcessFdQuotaExceeded,
    /// ENFILE: the system has too many open files.
    SystemFdQuotaExceeded,
    SystemResources,
    Unexpected,
};

/// The fields after `pid (comm) `, counted from 0 (`state`): see proc_pid_stat(5), which counts from 1 with
/// pid = 1, comm = 2, state = 3.
const field_ppid = 1;
const field_pgrp = 2;
const field_utime = 11;
const field_stime = 12;
const field_threads = 17;
const field_start_time = 19;
const field_rss = 21;

/// Parses the text of /proc/PID/stat. The comm field may hold spaces and ')' (a program can name itself
/// `my (weird) app`), so the fields are read after the LAST ')'.
pub fn parseStat(text: []const u8) ParseError!Stat {
    const comm_end = std.mem.lastIndexOfScalar(u8, text, ')') orelse return error.Malformed;
    if (std.mem.indexOfScalar(u8, text[0..comm_end], '(') == null) return error.Malformed;
    var fields = std.mem.tokenizeAny(u8, text[comm_end + 1 ..], " \n");
    var stat: Stat = undefined;
    var index: u32 = 0;
    while (index <= field_rss) : (index += 1) {
        const field = fields.next() orelse return error.Malformed;
        switch (index) {
            0 => {
                if (field.len != 1) return error.Malformed;
                stat.state = field[0];
            },
            field_ppid => stat.ppid = try parseNumber(i32, field),
            field_pgrp => stat.pgrp = try parseNumber(i32, field),
            field_utime => stat.utime_ticks = try parseNumber(u64, field),
            field_stime => stat.stime_ticks = try parseNumber(u64, field),
            field_threads => stat.threads = try parseNumber(u32, field),
            field_start_time => stat.start_time_ticks = try parseNumber(u64, field),
            // The kernel prints rss as a signed long; it is never negative, but a negative one would mean
            // "nothing resident", not a malformed line.
            field_rss => stat.rss_pages = @intCast(@max(0, try parseNumber(i64, field))),
            else => {},
        }
    }
    return stat;
}

fn parseNumber(comptime T: type, field: []const u8) ParseError!T {
    return std.fmt.parseInt(T, field, 10) catch error.Malformed;
}

/// Reads and parses /proc/PID/stat into `buffer` (no allocation).
pub fn readStat(pid: i32, buffer: []u8) ReadError!Stat {
    if (builtin.os.tag != .linux) return error.Unsupported;
    if (pid <= 0) return error.ProcessGone;
    var path_buffer: [32]u8 = undefined;
    const path = std.fmt.bufPrint(&path_buffer, "/proc/{d}/stat", .{pid}) catch unreachable;
    const file = std.fs.openFileAbsolute(path, .{}) catch |err| return switch (err) {
        error.FileNotFound, error.ProcessNotFound => error.ProcessGone,
        error.AccessDenied, error.PermissionDenied => error.AccessDenied,
        error.ProcessFdQuotaExceeded => error.ProcessFdQuotaExceeded,
        error.SystemFdQuotaExceeded => error.SystemFdQuotaExceeded,
        error.SystemResources => error.SystemResources,
        else => error.Unexpected,
    };
    defer file.close();
    const len = file.readAll(buffer) catch |err| return switch (err) {
        // ESRCH: the process was reaped between open and read.
        error.ProcessNotFound => error.ProcessGone,
        error.AccessDenied => error.AccessDenied,
        error.SystemResources => error.SystemResources,
        else => error.Unexpected,
    };
    if (len == buffer.len) return error.BufferTooSmall;
    if (len == 0) return error.ProcessGone;
    return parseStat(buffer[0..len]);
}

/// The pids in /proc/PID/task/TID/children (the children that thread forked), space-separated, read into
/// `buffer`; null when the file cannot be read (the thread is gone, or the kernel lacks
/// CONFIG_PROC_CHILDREN). A list that fills the buffer is cut at the last complete pid.
pub fn readChildren(pid: i32, tid: i32, buffer: []u8) ?[]const u8 {
    if (builtin.os.tag != .linux) return null;
    var path_buffer: [64]u8 = undefined;
    const path = std.fmt.bufPrint(&path_buffer, "/proc/{d}/task/{d}/children", .{ pid, tid }) catch unreachable;
    const file = std.fs.openFileAbsolute(path, .{}) catch return null;
    defer file.close();
    const len = file.readAll(buffer) catch return null;
    if (len < buffer.len) return buffer[0..len];
    const last_space = std.mem.lastIndexOfScalar(u8, buffer, ' ') orelse return buffer[0..0];
    return buffer[0..last_space];
}

/// USER_HZ, the unit of the tick fields (100 on every mainstream Linux; read from the aux vector anyway).
pub fn clockTicksPerSecond() u64 {
    if (builtin.os.tag == .linux) {
        const ticks = std.os.linux.getauxval(std.elf.AT_CLKTCK);
        if (ticks > 0) return ticks;
    }
    return 100;
}

pub fn pageSizeBytes() u64 {
    return std.heap.pageSize();
}

/// CPU use of one process as a percentage of one core between two samples (100 = one core busy the whole
/// interval; a multithreaded process can go over 100).
pub const CpuSampler = struct {
    /// utime + stime at the previous sample.
    last_ticks: u64 = 0,
    /// When the previous sample was taken (any monotonic clock, in ms).
    last_time_ms: u64 = 0,
    /// Whether there is a previous sample; the first one has nothing to compare with and reports 0.
    primed: bool = false,
    /// The last result, repeated when two samples fall in the same millisecond.
    last_percent: f64 = 0,

    /// The ticks `ticks_total` adds to the previous sample: 0 for a first sample or counters that went
    /// backwards (what `sample` does not measure either). Call before `sample`.
    pub fn delta(self: *const CpuSampler, ticks_total: u64) u64 {
        if (!self.primed or ticks_total < self.last_ticks) return 0;
        return ticks_total - self.last_ticks;
    }

    /// `ticks_total` is utime + stime of the process; `now_ms` from a monotonic clock.
    pub fn sample(self: *CpuSampler, ticks_total: u64, now_ms: u64) f64 {
        return self.sampleWithRate(ticks_total, now_ms, clockTicksPerSecond());
    }

    /// `sample` with the tick rate given, so tests do not depend on the machine.
    pub fn sampleWithRate(self: *CpuSampler, ticks_total: u64, now_ms: u64, ticks_per_second: u64) f64 {
        assert(ticks_per_second > 0);
        defer {
            self.last_ticks = ticks_total;
            self.last_time_ms = now_ms;
        }
        // A first sample, or counters that went backwards (a new process under the same sampler, or a
        // clock that is not monotonic): no interval to measure.
        if (!self.primed or ticks_total < self.last_ticks or now_ms < self.last_time_ms) {
            self.primed = true;
            self.last_percent = 0;
            return 0;
        }
        const elapsed_ms = now_ms - self.last_time_ms;
        if (elapsed_ms == 0) return self.last_percent;
        const ticks = ticks_total - self.last_ticks;
        const busy_ms = @as(f64, @floatFromInt(ticks)) * 1000.0 / @as(f64, @floatFromInt(ticks_per_second));
        self.last_percent = busy_ms * 100.0 / @as(f64, @floatFromInt(elapsed_ms));
        return self.last_percent;
    }
};

const testing = std.testing;

test "CpuSampler.delta: what a sample adds, never across a reset" {
    var sampler: CpuSampler = .{};
    try testing.expectEqual(@as(u64, 0), sampler.delta(500));
    _ = sampler.sampleWithRate(500, 1000, 100);
    try testing.expectEqual(@as(u64, 30), sampler.delta(530));
    _ = sampler.sampleWithRate(530, 2000, 100);
    // A new process under the same sampler: its counters start lower.
    try testing.expectEqual(@as(u64, 0), sampler.delta(10));
}

test "parseStat: a plain line" {
    const line = "4242 (sleep) S 1 4242 4242 0 -1 4194304 97 0 0 0 3 5 0 0 20 0 1 0 123456 5488640 181 " ++
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    const stat = try parseStat(line);
    try testing.expectEqual(Stat{
        .state = 'S',
        .ppid = 1,
        .pgrp = 4242,
        .utime_ticks = 3,
        .stime_ticks = 5,
        .start_time_ticks = 123456,
        .rss_pages = 181,
    }, stat);
}

test "parseStat: comm with spaces and parentheses is read up to the last ')'" {
    const line = "77 (my (weird) app) R 76 70 70 34816 70 4194560 1000 0 0 0 250 125 0 0 20 0 4 0 987654321 " ++
        "10000000 2560 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
    const stat = try parseStat(line);
    try testing.expectEqual(@as(u8, 'R'), stat.state);
    try testing.expectEqual(@as(i32, 76), stat.ppid);
    try testing.expectEqual(@as(i32, 70), stat.pgrp);
    try testing.expectEqual(@as(u64, 250), stat.utime_ticks);
    try testing.expectEqual(@as(u64, 125), stat.stime_ticks);
    try testing.expectEqual(@as(u64, 987654321), stat.start_time_ticks);
    try testing.expectEqual(@as(u64, 2560), stat.rss_pages);
    try testing.expectEqual(@as(u32, 4), stat.threads);

    // A comm that looks like fields: ") S 1 2" inside the name must not be taken for them.
    const tricky = "9 (x) S 1 2 3) Z 5 6 0 0 0 0 0 0 0 0 11 12 0 0 20 0 1 0 77 0 8";
    const tricky_stat = try parseStat(tricky);
    try testing.expectEqual(@as(u8, 'Z'), tricky_stat.state);
    try testing.expectEqual(@as(i32, 5), tricky_stat.ppid);
    try testing.expectEqual(@as(u64, 77), tricky_stat.start_time_ticks);
    try testing.expectEqual(@as(u64, 8), tricky_stat.rss_pages);
}

test "parseStat: malformed lines are errors, not crashes" {
    try testing.expectError(error.Malformed, parseStat(""));
    try testing.expectError(error.Malformed, parseStat("1 (a S 1 2"));
    try testing.expectError(error.Malformed, parseStat("1 a) S 1 2"));
    try testing.expectError(error.Malformed, parseStat("1 (a) S 1 2 3"));
    try testing.expectError(error.Malformed, parseStat("1 (a) SS 1 1 0 0 0 0 0 0 0 0 3 5 0 0 0 0 0 0 9 0 7"));
    try testing.expectError(error.Malformed, parseStat("1 (a) S x 1 0 0 0 0 0 0 0 0 3 5 0 0 0 0 0 0 9 0 7"));
    try testing.expectError(error.Malformed, parseStat("1 (a) S 1 1 0 0 0 0 0 0 0 0 -3 5 0 0 0 0 0 0 9 0 7"));
    // One field short of rss.
    try testing.expectError(error.Malformed, parseStat("1 (a) S 1 1 0 0 0 0 0 0 0 0 3 5 0 0 0 0 0 0 9 0"));
    // Exactly enough fields (up to rss) is fine; a negative rss reads as 0.
    const short = try parseStat("1 (a) S 1 1 0 0 0 0 0 0 0 0 3 5 0 0 0 0 0 0 9 0 -7");
    try testing.expectEqual(@as(u64, 0), short.rss_pages);
    try testing.expectEqual(@as(u64, 9), short.start_time_ticks);
}

test "readStat: this test process" {
    if (builtin.os.tag != .linux) {
        var buffer: [16]u8 = undefined;
        try testing.expectError(error.Unsupported, readStat(1, &buffer));
        return error.SkipZigTest;
    }
    const pid = std.os.linux.getpid();
    var buffer: [1024]u8 = undefined;
    const stat = try readStat(pid, &buffer);
    try testing.expectEqual(@as(u8, 'R'), stat.state); // it is running: it is reading its own stat
    try testing.expectEqual(std.os.linux.getppid(), stat.ppid);
    try testing.expect(stat.pgrp > 0);
    try testing.expect(stat.start_time_ticks > 0);
    try testing.expect(stat.rss_pages > 0);
    // The same process read twice has the same start time: the identity the daemon relies on.
    try testing.expectEqual(stat.start_time_ticks, (try readStat(pid, &buffer)).start_time_ticks);

    var tiny: [8]u8 = undefined;
    try testing.expectError(error.BufferTooSmall, readStat(pid, &tiny));
    try testing.expectError(error.ProcessGone, readStat(0, &buffer));
    try testing.expectError(error.ProcessGone, readStat(-1, &buffer));
    // pid_max is at most 2^22 on Linux: this pid cannot exist.
    try testing.expectError(error.ProcessGone, readStat(std.math.maxInt(i32), &buffer));
}

test "readChildren: this process's child is listed under the thread that forked it" {
    if (builtin.os.tag != .linux) return error.SkipZigTest;
    const pid = std.os.linux.fork();
    if (pid == 0) {
        std.Thread.sleep(10 * std.time.ns_per_s);
        std.os.linux.exit(0);
    }
    const child: i32 = @intCast(pid);
    defer {
        _ = std.os.linux.kill(child, 9);
        var status: u32 = 0;
        _ = std.os.linux.waitpid(child, &status, 0);
    }
    const self = std.os.linux.getpid();
    var buffer: [4096]u8 = undefined;
    const text = readChildren(self, std.os.linux.gettid(), &buffer) orelse return error.SkipZigTest; // no CONFIG_PROC_CHILDREN
    var found = false;
    var pids = std.mem.tokenizeScalar(u8, text, ' ');
    while (pids.next()) |field| {
        if (std.fmt.parseInt(i32, std.mem.trim(u8, field, "\n"), 10) catch 0 == child) found = true;
    }
    try testing.expect(found);
    try testing.expectEqual(@as(?[]const u8, null), readChildren(std.math.maxInt(i32), 1, &buffer));
}

test "clock ticks and page size are sane" {
    const ticks = clockTicksPerSecond();
    try testing.expect(ticks >= 10 and ticks <= 10_000);
    try testing.expect(std.math.isPowerOfTwo(pageSizeBytes()));
    try testing.expect(pageSizeBytes() >= 4096);
}

test "CpuSampler: percent of one core between samples" {
    var sampler: CpuSampler = .{};
    try testing.expectEqual(@as(f64, 0), sampler.sampleWithRate(1000, 50_000, 100)); // first: nothing to compare
    try testing.expectEqual(@as(f64, 50), sampler.sampleWithRate(1050, 51_000, 100)); // 0.5 s busy in 1 s
    try testing.expectEqual(@as(f64, 200), sampler.sampleWithRate(1250, 52_000, 100)); // two cores
    try testing.expectEqual(@as(f64, 200), sampler.sampleWithRate(1250, 52_000, 100)); // same ms: unchanged
    try testing.expectEqual(@as(f64, 0), sampler.sampleWithRate(1250, 53_000, 100)); // idle
    try testing.expectEqual(@as(f64, 10), sampler.sampleWithRate(1500, 63_000, 250)); // 250 ticks = 1 s of 10 s
    // Ticks going backwards (another process): start over.
    try testing.expectEqual(@as(f64, 0), sampler.sampleWithRate(3, 64_000, 100));
    try testing.expectEqual(@as(f64, 1.5), sampler.sampleWithRate(6, 66_000, 100));
    // The default rate path runs.
    var real: CpuSampler = .{};
    try testing.expectEqual(@as(f64, 0), real.sample(10, 1));
    try testing.expect(real.sample(10 + clockTicksPerSecond(), 1001) == 100);
}
