//! The domain types of docs/PROTOCOL.md: op codes, the words of the protocol (restart policy, status,
//! stream), the limits on what a client may send (the one range of each number, shared with `velos
//! validate`), the app spec and the process record. No encoding here: request.zig reads them, reply.zig and
//! state_codec.zig write them.
const std = @import("std");
const Allocator = std.mem.Allocator;

pub const Op = enum(u8) {
    process_start = 0x01,
    process_stop = 0x02,
    process_restart = 0x03,
    process_delete = 0x04,
    process_list = 0x05,
    process_info = 0x06,
    log_read = 0x10,
    log_stream = 0x11,
    metrics_get = 0x20,
    events = 0x21,
    ping = 0x30,
    shutdown = 0x31,
    save = 0x40,
    _,
};

pub const RestartPolicy = enum {
    always,
    on_failure,
    never,

    pub fn wireName(self: RestartPolicy) []const u8 {
        return switch (self) {
            .always => "always",
            .on_failure => "on-failure",
            .never => "never",
        };
    }

    pub fn fromWire(text: []const u8) ?RestartPolicy {
        inline for (comptime std.enums.values(RestartPolicy)) |policy| {
            if (std.mem.eql(u8, text, policy.wireName())) return policy;
        }
        return null;
    }
};

/// How lines reach the log file (`log_format`; on the wire: the tag names). Absent means `text`.
pub const LogFormat = enum { text, json };

/// On the wire: the tag names themselves.
pub const Status = enum {
    starting,
    running,
    stopping,
    stopped,
    waiting,
    errored,
    /// The main process exited and the restart policy says it stays down (`never`, or `on-failure` with
    /// exit code 0): a job that ran. Kept across daemon restarts.
    completed,

    pub fn wireName(self: Status) []const u8 {
        return @tagName(self);
    }
};

/// On the wire: "out" and "err".
pub const Stream = enum {
    out,
    err,

    pub fn wireName(self: Stream) []const u8 {
        return @tagName(self);
    }
};

pub const Label = struct { key: []const u8, value: []const u8 };

// Limits on what a client may send. PROTOCOL.md fixes the name rule; the counts and sizes are ours, chosen
// so one request costs at most a few MiB to hold while no real app spec comes near them.
pub const name_bytes_max = 64;
pub const string_bytes_max = 4096;
pub const args_count_max = 256;
pub const env_count_max = 1024;
pub const labels_count_max = 64;
pub const lines_max: u32 = 100_000;

/// The range of each number in a spec: the same in `velos validate` (crates/velos-core/src/limits.rs), the
/// JSON schema and docs/CONFIG.md. Bounded so that no deadline, backoff or window arithmetic on them can
/// overflow a u64 of milliseconds, whatever a client sends.
pub const Limit = struct {
    min: u64,
    max: u64,

    pub fn contains(limit: Limit, value: u64) bool {
        return value >= limit.min and value <= limit.max;
    }
};
const second_ms: u64 = 1000;
const hour_ms: u64 = 3600 * second_ms;
const day_ms: u64 = 24 * hour_ms;
pub const limits = struct {
    pub const max_restarts: Limit = .{ .min = 0, .max = 1000 };
    pub const restart_window_ms: Limit = .{ .min = second_ms, .max = day_ms };
    pub const backoff_ms: Limit = .{ .min = 0, .max = hour_ms };
    pub const min_uptime_ms: Limit = .{ .min = 0, .max = hour_ms };
    pub const kill_timeout_ms: Limit = .{ .min = 0, .max = hour_ms };
    pub const kill_signal: Limit = .{ .min = 1, .max = 31 };
    pub const max_memory_bytes: Limit = .{ .min = 1, .max = 64 << 40 };
    /// 0 (never rotate) is also accepted on the wire.
    pub const log_max_size_bytes: Limit = .{ .min = 1 << 10, .max = 1 << 40 };
    pub const log_max_files: Limit = .{ .min = 1, .max = 1000 };
};
pub const max_restarts_max: u32 = limits.max_restarts.max;
pub const log_max_files_default: u32 = 5;
/// Rotation is on by default: 10 MiB × 5 files per stream.
pub const log_max_size_bytes_default: u64 = 10 << 20;
pub const log_max_files_max: u32 = limits.log_max_files.max;
pub const kill_signal_max: u8 = limits.kill_signal.max;

/// The error codes of PROTOCOL.md, the only ones `writeError` accepts.
pub const error_codes = [_][]const u8{
    "bad_frame",    "bad_request", "not_found",     "exists",   "conflict",
    "spawn_failed", "limit",       "shutting_down", "internal",
};

pub const Spec = struct {
    name: []const u8,
    command: []const u8,
    args: []const []const u8 = &.{},
    cwd: []const u8,
    env: []const []const u8 = &.{},
    restart: RestartPolicy = .on_failure,
    max_restarts: u32 = 10,
    restart_window_ms: u64 = 60_000,
    backoff_initial_ms: u64 = 100,
    backoff_max_ms: u64 = 5_000,
    min_uptime_ms: u64 = 1_000,
    kill_signal: u8 = 15,
    kill_timeout_ms: u64 = 5_000,
    spec_hash: []const u8 = "",
    /// Sorted by key, keys unique (parsing sorts them).
    labels: []const Label = &.{},
    // In-place keys: changing them alone updates the record without a restart (see `eqlRestartRelevant`).
    // Encoders omit each one while it has its default.
    /// Resident bytes of the main process above which the daemon restarts it; 0 = no limit.
    max_memory_bytes: u64 = 0,
    /// A log file that grows past this is rotated; 0 = never rotate.
    log_max_size_bytes: u64 = log_max_size_bytes_default,
    /// Rotated files kept: the newest `log_max_files` generations (logs.zig, "Rotation").
    log_max_files: u32 = log_max_files_default,
    /// Each line written to the log file starts with an RFC 3339 UTC timestamp and a space.
    log_timestamps: bool = false,
    /// Plain text, or one JSON object per line (log_json.zig).
    log_format: LogFormat = .text,

    /// A deep copy: every slice is owned by `allocator`; free it with `deinit`.
    pub fn clone(self: Spec, allocator: Allocator) error{OutOfMemory}!Spec {
        var copy = self;
        // Empty slices until each copy is made, so `deinit` frees exactly what was allocated.
        copy.name = "";
        copy.command = "";
        copy.args = &.{};
        copy.cwd = "";
        copy.env = &.{};
        copy.spec_hash = "";
        copy.labels = &.{};
        errdefer copy.deinit(allocator);
        copy.name = try allocator.dupe(u8, self.name);
        copy.command = try allocator.dupe(u8, self.command);
        copy.cwd = try allocator.dupe(u8, self.cwd);
        copy.spec_hash = try allocator.dupe(u8, self.spec_hash);
        {
            const args = try allocator.alloc([]const u8, self.args.len);
            @memset(args, "");
            copy.args = args;
            for (args, self.args) |*arg, source| arg.* = try allocator.dupe(u8, source);
        }
        {
            const env = try allocator.alloc([]const u8, self.env.len);
            @memset(env, "");
            copy.env = env;
            for (env, self.env) |*entry, source| entry.* = try allocator.dupe(u8, source);
        }
        {
            const labels = try allocator.alloc(Label, self.labels.len);
            @memset(labels, .{ .key = "", .value = "" });
            copy.labels = labels;
            for (labels, self.labels) |*label, source| {
                label.key = try allocator.dupe(u8, source.key);
                label.value = try allocator.dupe(u8, source.value);
            }
        }
        return copy;
    }

    /// Frees what `clone` allocated. Only for a Spec made by `clone`.
    pub fn deinit(self: *Spec, allocator: Allocator) void {
        allocator.free(self.name);
        allocator.free(self.command);
        allocator.free(self.cwd);
        allocator.free(self.spec_hash);
        for (self.args) |arg| allocator.free(arg);
        allocator.free(self.args);
        for (self.env) |entry| allocator.free(entry);
        allocator.free(self.env);
        for (self.labels) |label| {
            allocator.free(label.key);
            allocator.free(label.value);
        }
        allocator.free(self.labels);
        self.* = undefined;
    }

    /// Every field equal: the test that makes PROCESS_START idempotent.
    pub fn eql(a: Spec, b: Spec) bool {
        if (!a.eqlRestartRelevant(b)) return false;
        if (a.labels.len != b.labels.len) return false;
        for (a.labels, b.labels) |x, y| {
            if (!std.mem.eql(u8, x.key, y.key) or !std.mem.eql(u8, x.value, y.value)) return false;
        }
        if (a.max_memory_bytes != b.max_memory_bytes) return false;
        if (a.log_max_size_bytes != b.log_max_size_bytes) return false;
        if (a.log_max_files != b.log_max_files) return false;
        if (a.log_timestamps != b.log_timestamps) return false;
        if (a.log_format != b.log_format) return false;
        return true;
    }

    /// Equal in every field a running process depends on: all but `labels` and the in-place keys
    /// (`max_memory_bytes`, `log_max_size_bytes`, `log_max_files`, `log_timestamps`). Two specs equal here
    /// but not in `eql` differ only in what PROCESS_START updates in place, without a restart.
    pub fn eqlRestartRelevant(a: Spec, b: Spec) bool {
        const eqlStr = std.mem.eql;
        if (!eqlStr(u8, a.name, b.name)) return false;
        if (!eqlStr(u8, a.command, b.command)) return false;
        if (!eqlStrings(a.args, b.args)) return false;
        if (!eqlStr(u8, a.cwd, b.cwd)) return false;
        if (!eqlStrings(a.env, b.env)) return false;
        if (a.restart != b.restart) return false;
        if (a.max_restarts != b.max_restarts) return false;
        if (a.restart_window_ms != b.restart_window_ms) return false;
        if (a.backoff_initial_ms != b.backoff_initial_ms) return false;
        if (a.backoff_max_ms != b.backoff_max_ms) return false;
        if (a.min_uptime_ms != b.min_uptime_ms) return false;
        if (a.kill_signal != b.kill_signal) return false;
        if (a.kill_timeout_ms != b.kill_timeout_ms) return false;
        if (!eqlStr(u8, a.spec_hash, b.spec_hash)) return false;
        return true;
    }

    fn eqlStrings(a: []const []const u8, b: []const []const u8) bool {
        if (a.len != b.len) return false;
        for (a, b) |x, y| if (!std.mem.eql(u8, x, y)) return false;
        return true;
    }
};

/// `[A-Za-z0-9._-]{1,64}`, not starting with `.` (names become log file names: no `/`, no `..`, no hidden
/// files).
pub fn isValidName(name: []const u8) bool {
    if (name.len == 0 or name.len > name_bytes_max) return false;
    if (name[0] == '.') return false;
    for (name) |c| switch (c) {
        'A'...'Z', 'a'...'z', '0'...'9', '.', '_', '-' => {},
        else => return false,
    };
    return true;
}

pub const Record = struct {
    name: []const u8,
    pid: u32,
    status: Status,
    restarts: u32,
    cpu: f64,
    memory: u64,
    uptime_ms: u64,
    exit_code: ?i32,
    exit_signal: ?u8,
    last_error: ?[]const u8,
    spec: *const Spec,
    /// CPU time of the app's processes since the daemon started, over all its runs: a counter for
    /// `velos_process_cpu_seconds_total`. Encoded only when not 0 (so the golden records stay as they were).
    cpu_time_ms: u64 = 0,
    /// Lines (newlines) and bytes the app wrote to each stream since the daemon registered it, over all
    /// its runs (counters for `velos_log_lines_total` / `velos_log_bytes_total`). Each encoded after
    /// `cpu_time_ms`, and only when not 0.
    log_out_lines: u64 = 0,
    log_out_bytes: u64 = 0,
    log_err_lines: u64 = 0,
    log_err_bytes: u64 = 0,
};

/// PING's data.
pub const Ping = struct {
    pid: u32,
    version: []const u8,
    uptime_ms: u64,
    apps: u32,
    /// How the daemon knows an app's processes ("procfs"; "process-group" without /proc); omitted when null.
    tracking: ?[]const u8 = null,
};

// ------------------------------------------------------------------------------------------------- tests

const testing = std.testing;

/// A spec with a value in every field, for the tests of spec.zig, request.zig, reply.zig and state_codec.zig.
pub fn testSpec() Spec {
    return .{
        .name = "web",
        .command = "/bin/sleep",
        .args = &.{"3600"},
        .cwd = "/srv/web",
        .env = &.{ "PATH=/usr/bin:/bin", "PORT=8080" },
        .restart = .always,
        .max_restarts = 5,
        .kill_timeout_ms = 3000,
        .spec_hash = "9f2c4e1a7b3d5f60",
        .labels = &.{ .{ .key = "app", .value = "web" }, .{ .key = "project", .value = "demo" } },
    };
}

test "Spec: clone is deep, deinit frees it all, eql sees every field" {
    const original = testSpec();
    var copy = try original.clone(testing.allocator);
    defer copy.deinit(testing.allocator);
    try testing.expect(copy.eql(original));
    try testing.expect(copy.name.ptr != original.name.ptr);
    try testing.expect(copy.args[0].ptr != original.args[0].ptr);
    try testing.expect(copy.labels[1].value.ptr != original.labels[1].value.ptr);

    // Each field, changed alone, makes the specs differ.
    inline for (@typeInfo(Spec).@"struct".fields) |field| {
        var changed = original;
        switch (field.type) {
            []const u8 => @field(changed, field.name) = "other",
            []const []const u8 => @field(changed, field.name) = &.{"other=1"},
            []const Label => @field(changed, field.name) = &.{.{ .key = "app", .value = "api" }},
            RestartPolicy => @field(changed, field.name) = .never,
            LogFormat => @field(changed, field.name) = .json,
            u8, u32, u64 => @field(changed, field.name) += 1,
            bool => @field(changed, field.name) = !@field(changed, field.name),
            else => @compileError("a Spec field eql does not know: " ++ field.name),
        }
        try testing.expect(!changed.eql(original));
        // Restart-relevant: every field but labels and the in-place keys.
        const in_place = comptime for ([_][]const u8{ "labels", "max_memory_bytes", "log_max_size_bytes", "log_max_files", "log_timestamps", "log_format" }) |key| {
            if (std.mem.eql(u8, key, field.name)) break true;
        } else false;
        try testing.expectEqual(in_place, changed.eqlRestartRelevant(original));
    }

    // Out of memory at every allocation leaks nothing.
    try testing.checkAllAllocationFailures(testing.allocator, struct {
        fn run(allocator: Allocator) !void {
            var spec = try testSpec().clone(allocator);
            spec.deinit(allocator);
        }
    }.run, .{});
}
