//! The golden frames of schemas/ipc/ (the cross-language contract; the Rust tests read the same files):
//! requests are decoded with `protocol.parseRequest` and checked field by field, and also re-encoded with
//! `msgpack.Encoder` to catch a hand-written byte that happens to decode; replies are encoded with
//! protocol.zig's writers and must be byte-identical; the bad headers must give the exact error.
//!
//! File format: `#` starts a comment to the end of the line; everything else is whitespace-separated hex byte
//! pairs. The tests run from the repository root (build.zig sets the cwd).
const std = @import("std");
const testing = std.testing;
const msgpack = @import("msgpack.zig");
const frame = @import("frame.zig");
const protocol = @import("protocol.zig");
const Encoder = msgpack.Encoder;

const golden_dir = "schemas/ipc";
/// No golden frame is anywhere near this; a bigger file is a mistake.
const golden_file_bytes_max = 64 * 1024;

/// Every vector in schemas/ipc/, each tested below; `every golden file is tested` keeps this list honest.
const golden_names = [_][]const u8{
    "ping_request",        "start_request",            "start_by_name_request", "log_read_request",
    "ping_reply",          "list_reply",               "error_reply",           "log_reply",
    "stream_end_reply",    "bad_magic",                "bad_version",           "too_large",
    "truncated_header",    "start_inplace_request",    "info_inplace_reply",    "ping_tracking_reply",
    "info_counters_reply", "start_log_format_request",
};

const Golden = struct {
    name: []const u8,
    bytes: []u8,
    /// The hex file's line of each byte, for mismatch reports.
    lines: []u32,

    fn deinit(self: Golden) void {
        testing.allocator.free(self.bytes);
        testing.allocator.free(self.lines);
    }

    /// The payload after a valid header whose length must be exactly the rest of the file.
    fn payload(self: Golden) ![]const u8 {
        const header = (try frame.decodeHeader(self.bytes)) orelse {
            std.debug.print("{s}.hex: shorter than a header\n", .{self.name});
            return error.TestUnexpectedResult;
        };
        const rest = self.bytes[frame.header_len..];
        if (header.payload_len != rest.len) {
            std.debug.print("{s}.hex: the header says {d} payload bytes, the file holds {d}\n", .{
                self.name, header.payload_len, rest.len,
            });
            return error.TestUnexpectedResult;
        }
        return rest;
    }

    /// Fails with the first differing byte, its line in the hex file, and both sides around it.
    fn expectEqualBytes(self: Golden, actual: []const u8) !void {
        const expected = self.bytes;
        const first_difference = std.mem.indexOfDiff(u8, expected, actual) orelse return;
        const line = if (first_difference < self.lines.len) self.lines[first_difference] else self.lines[self.lines.len - 1];
        std.debug.print("{s}.hex: byte {d} (line {d}) differs; golden {d} bytes, encoded {d} bytes\n", .{
            self.name, first_difference, line, expected.len, actual.len,
        });
        const from = first_difference -| 8;
        std.debug.print("  golden  [{d}..]: {x}\n", .{ from, expected[from..@min(expected.len, first_difference + 16)] });
        std.debug.print("  encoded [{d}..]: {x}\n", .{ from, actual[from..@min(actual.len, first_difference + 16)] });
        return error.TestExpectedEqual;
    }
};

fn loadGolden(name: []const u8) !Golden {
    var path_buffer: [128]u8 = undefined;
    const path = try std.fmt.bufPrint(&path_buffer, "{s}/{s}.hex", .{ golden_dir, name });
    const text = std.fs.cwd().readFileAlloc(testing.allocator, path, golden_file_bytes_max) catch |err| {
        std.debug.print("cannot read {s} (cwd must be the repository root): {s}\n", .{ path, @errorName(err) });
        return err;
    };
    defer testing.allocator.free(text);

    var bytes: std.ArrayList(u8) = .empty;
    errdefer bytes.deinit(testing.allocator);
    var lines: std.ArrayList(u32) = .empty;
    errdefer lines.deinit(testing.allocator);
    var line_iterator = std.mem.splitScalar(u8, text, '\n');
    var line_number: u32 = 0;
    while (line_iterator.next()) |line_with_comment| {
        line_number += 1;
        const line = line_with_comment[0 .. std.mem.indexOfScalar(u8, line_with_comment, '#') orelse line_with_comment.len];
        var tokens = std.mem.tokenizeAny(u8, line, " \t\r");
        while (tokens.next()) |token| {
            const byte = if (token.len == 2) std.fmt.parseInt(u8, token, 16) catch null else null;
            if (byte == null) {
                std.debug.print("{s}:{d}: \"{s}\" is not a hex byte pair\n", .{ path, line_number, token });
                return error.TestUnexpectedResult;
            }
            try bytes.append(testing.allocator, byte.?);
            try lines.append(testing.allocator, line_number);
        }
    }
    const owned_bytes = try bytes.toOwnedSlice(testing.allocator);
    errdefer testing.allocator.free(owned_bytes);
    return .{ .name = name, .bytes = owned_bytes, .lines = try lines.toOwnedSlice(testing.allocator) };
}

/// A frame built by `build(encoder)`, checked byte for byte against the golden file.
fn expectGoldenFrame(golden: Golden, comptime build: fn (Encoder) Encoder.Error!void) !void {
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    const start = try frame.beginFrame(&out, testing.allocator);
    try build(.init(&out, testing.allocator));
    frame.endFrame(&out, start);
    try golden.expectEqualBytes(out.items);
}

fn parseGoldenRequest(arena: std.mem.Allocator, golden: Golden) !protocol.Request {
    const parsed = try protocol.parseRequest(arena, try golden.payload());
    return switch (parsed) {
        .request => |request| request,
        .bad_request => |bad| {
            std.debug.print("{s}.hex: bad_request: {s}\n", .{ golden.name, bad.message });
            return error.TestUnexpectedResult;
        },
    };
}

/// The spec of start_request and of list_reply's record, exactly as schemas/ipc/README.md lists it.
const golden_spec: protocol.Spec = .{
    .name = "web",
    .command = "/bin/sleep",
    .args = &.{"3600"},
    .cwd = "/srv/web",
    .env = &.{ "PATH=/usr/bin:/bin", "PORT=8080" },
    .restart = .always,
    .max_restarts = 5,
    .restart_window_ms = 60000,
    .backoff_initial_ms = 100,
    .backoff_max_ms = 5000,
    .min_uptime_ms = 1000,
    .kill_signal = 15,
    .kill_timeout_ms = 3000,
    .spec_hash = "9f2c4e1a7b3d5f60",
    .labels = &.{ .{ .key = "app", .value = "web" }, .{ .key = "project", .value = "demo" } },
};

/// SPEC_INPLACE of schemas/ipc/README.md: SPEC with the four in-place keys off their defaults.
const golden_inplace_spec: protocol.Spec = blk: {
    var spec = golden_spec;
    spec.max_memory_bytes = 8589934592;
    spec.log_max_size_bytes = 20971520;
    spec.log_max_files = 3;
    spec.log_timestamps = true;
    break :blk spec;
};

/// Request envelope `{id, op, args: <map of args_count entries>}`.
fn encodeRequestHead(enc: Encoder, id: u32, op: protocol.Op, args_count: u32) Encoder.Error!void {
    try enc.mapHeader(3);
    try enc.str("id");
    try enc.uint(id);
    try enc.str("op");
    try enc.uint(@intFromEnum(op));
    try enc.str("args");
    try enc.mapHeader(args_count);
}

test "golden ping_request" {
    const golden = try loadGolden("ping_request");
    defer golden.deinit();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const request = try parseGoldenRequest(arena_state.allocator(), golden);
    try testing.expectEqual(@as(u32, 1), request.id);
    try testing.expectEqual(protocol.Args.ping, request.args);
    try expectGoldenFrame(golden, struct {
        fn build(enc: Encoder) Encoder.Error!void {
            try encodeRequestHead(enc, 1, .ping, 0);
        }
    }.build);
}

test "golden start_request" {
    const golden = try loadGolden("start_request");
    defer golden.deinit();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const request = try parseGoldenRequest(arena_state.allocator(), golden);
    try testing.expectEqual(@as(u32, 7), request.id);
    const start = request.args.start;
    try testing.expectEqualStrings("web", start.name);
    try testing.expectEqual(false, start.replace);
    try testing.expectEqual(@as(?[]const u8, null), start.expected_hash);
    const spec = start.spec.?;
    // Field by field first, so a failure names the field; then eql for anything missed.
    try testing.expectEqualStrings("web", spec.name);
    try testing.expectEqualStrings("/bin/sleep", spec.command);
    try testing.expectEqual(@as(usize, 1), spec.args.len);
    try testing.expectEqualStrings("3600", spec.args[0]);
    try testing.expectEqualStrings("/srv/web", spec.cwd);
    try testing.expectEqual(@as(usize, 2), spec.env.len);
    try testing.expectEqualStrings("PATH=/usr/bin:/bin", spec.env[0]);
    try testing.expectEqualStrings("PORT=8080", spec.env[1]);
    try testing.expectEqual(protocol.RestartPolicy.always, spec.restart);
    try testing.expectEqual(@as(u32, 5), spec.max_restarts);
    try testing.expectEqual(@as(u64, 60000), spec.restart_window_ms);
    try testing.expectEqual(@as(u64, 100), spec.backoff_initial_ms);
    try testing.expectEqual(@as(u64, 5000), spec.backoff_max_ms);
    try testing.expectEqual(@as(u64, 1000), spec.min_uptime_ms);
    try testing.expectEqual(@as(u8, 15), spec.kill_signal);
    try testing.expectEqual(@as(u64, 3000), spec.kill_timeout_ms);
    try testing.expectEqualStrings("9f2c4e1a7b3d5f60", spec.spec_hash);
    try testing.expectEqual(@as(usize, 2), spec.labels.len);
    try testing.expectEqualStrings("app", spec.labels[0].key);
    try testing.expectEqualStrings("web", spec.labels[0].value);
    try testing.expectEqualStrings("project", spec.labels[1].key);
    try testing.expectEqualStrings("demo", spec.labels[1].value);
    try testing.expect(spec.eql(golden_spec));

    // The Rust encoder's order: the spec's keys as encodeSpec writes them, then replace.
    try expectGoldenFrame(golden, struct {
        fn build(enc: Encoder) Encoder.Error!void {
            try encodeRequestHead(enc, 7, .process_start, 16);
            var spec_bytes: std.ArrayList(u8) = .empty;
            defer spec_bytes.deinit(testing.allocator);
            try protocol.encodeSpec(.init(&spec_bytes, testing.allocator), golden_spec);
            // Reuse encodeSpec's entries without its 15-entry map header (0x8f).
            std.debug.assert(spec_bytes.items[0] == 0x8f);
            try enc.out.appendSlice(enc.allocator, spec_bytes.items[1..]);
            try enc.str("replace");
            try enc.boolean(false);
        }
    }.build);
}

test "golden start_inplace_request" {
    const golden = try loadGolden("start_inplace_request");
    defer golden.deinit();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const request = try parseGoldenRequest(arena_state.allocator(), golden);
    try testing.expectEqual(@as(u32, 10), request.id);
    const start = request.args.start;
    try testing.expectEqualStrings("web", start.name);
    try testing.expectEqual(false, start.replace);
    try testing.expectEqual(false, start.autostart);
    try testing.expectEqual(@as(?[]const u8, null), start.expected_hash);
    const spec = start.spec.?;
    try testing.expectEqual(@as(u64, 8589934592), spec.max_memory_bytes);
    try testing.expectEqual(@as(u64, 20971520), spec.log_max_size_bytes);
    try testing.expectEqual(@as(u32, 3), spec.log_max_files);
    try testing.expectEqual(true, spec.log_timestamps);
    try testing.expect(spec.eql(golden_inplace_spec));
    // Only the in-place keys differ from start_request's spec: an update in place.
    try testing.expect(!spec.eql(golden_spec));
    try testing.expect(spec.eqlRestartRelevant(golden_spec));

    // The Rust encoder's order: the spec's keys as encodeSpec writes them, then replace, then autostart.
    try expectGoldenFrame(golden, struct {
        fn build(enc: Encoder) Encoder.Error!void {
            try encodeRequestHead(enc, 10, .process_start, 21);
            var spec_bytes: std.ArrayList(u8) = .empty;
            defer spec_bytes.deinit(testing.allocator);
            try protocol.encodeSpec(.init(&spec_bytes, testing.allocator), golden_inplace_spec);
            // Reuse encodeSpec's entries without its 19-entry map16 header (de 00 13).
            std.debug.assert(std.mem.eql(u8, spec_bytes.items[0..3], &.{ 0xde, 0x00, 0x13 }));
            try enc.out.appendSlice(enc.allocator, spec_bytes.items[3..]);
            try enc.str("replace");
            try enc.boolean(false);
            try enc.str("autostart");
            try enc.boolean(false);
        }
    }.build);
}

test "golden start_log_format_request" {
    const golden = try loadGolden("start_log_format_request");
    defer golden.deinit();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const request = try parseGoldenRequest(arena_state.allocator(), golden);
    try testing.expectEqual(@as(u32, 11), request.id);
    const spec = request.args.start.spec.?;
    try testing.expectEqual(protocol.LogFormat.json, spec.log_format);
    var expected = golden_spec;
    expected.log_format = .json;
    try testing.expect(spec.eql(expected));
    // Only an in-place key differs from start_request's spec: an update in place.
    try testing.expect(!spec.eql(golden_spec));
    try testing.expect(spec.eqlRestartRelevant(golden_spec));

    try expectGoldenFrame(golden, struct {
        fn build(enc: Encoder) Encoder.Error!void {
            try encodeRequestHead(enc, 11, .process_start, 17);
            var json_spec = golden_spec;
            json_spec.log_format = .json;
            var spec_bytes: std.ArrayList(u8) = .empty;
            defer spec_bytes.deinit(testing.allocator);
            try protocol.encodeSpec(.init(&spec_bytes, testing.allocator), json_spec);
            // Reuse encodeSpec's entries without its 16-entry map16 header (de 00 10).
            std.debug.assert(std.mem.eql(u8, spec_bytes.items[0..3], &.{ 0xde, 0x00, 0x10 }));
            try enc.out.appendSlice(enc.allocator, spec_bytes.items[3..]);
            try enc.str("replace");
            try enc.boolean(false);
        }
    }.build);
}

test "golden info_inplace_reply" {
    const golden = try loadGolden("info_inplace_reply");
    defer golden.deinit();
    const record: protocol.Record = .{
        .name = "web",
        .pid = 31337,
        .status = .running,
        .restarts = 1,
        .cpu = 1.5,
        .memory = 10485760,
        .uptime_ms = 65000,
        .exit_code = null,
        .exit_signal = 15,
        .last_error = "restarted by the daemon: memory 9000 MiB above max_memory 8192 MiB",
        .spec = &golden_inplace_spec,
    };
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writeRecord(&out, testing.allocator, 11, record);
    try golden.expectEqualBytes(out.items);
}

test "golden info_counters_reply" {
    const golden = try loadGolden("info_counters_reply");
    defer golden.deinit();
    const record: protocol.Record = .{
        .name = "web",
        .pid = 31337,
        .status = .running,
        .restarts = 2,
        .cpu = 1.5,
        .memory = 10485760,
        .uptime_ms = 65000,
        .exit_code = 1,
        .exit_signal = null,
        .last_error = null,
        .spec = &golden_spec,
        .cpu_time_ms = 2250,
        .log_out_lines = 3000,
        .log_out_bytes = 300000,
        .log_err_lines = 2,
        .log_err_bytes = 70,
    };
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writeRecord(&out, testing.allocator, 12, record);
    try golden.expectEqualBytes(out.items);
}

test "golden start_by_name_request" {
    const golden = try loadGolden("start_by_name_request");
    defer golden.deinit();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const request = try parseGoldenRequest(arena_state.allocator(), golden);
    try testing.expectEqual(@as(u32, 8), request.id);
    const start = request.args.start;
    try testing.expectEqualStrings("web", start.name);
    try testing.expect(start.spec == null);
    try testing.expect(start.expected_hash == null);
    try testing.expectEqual(false, start.replace);
    try expectGoldenFrame(golden, struct {
        fn build(enc: Encoder) Encoder.Error!void {
            try encodeRequestHead(enc, 8, .process_start, 1);
            try enc.str("name");
            try enc.str("web");
        }
    }.build);
}

test "golden log_read_request" {
    const golden = try loadGolden("log_read_request");
    defer golden.deinit();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const request = try parseGoldenRequest(arena_state.allocator(), golden);
    try testing.expectEqual(@as(u32, 9), request.id);
    const log = request.args.log_read;
    try testing.expectEqualStrings("web", log.name);
    try testing.expectEqual(protocol.Stream.err, log.stream);
    try testing.expectEqual(@as(u32, 20), log.lines);
    try expectGoldenFrame(golden, struct {
        fn build(enc: Encoder) Encoder.Error!void {
            try encodeRequestHead(enc, 9, .log_read, 3);
            try enc.str("name");
            try enc.str("web");
            try enc.str("stream");
            try enc.str("err");
            try enc.str("lines");
            try enc.uint(20);
        }
    }.build);
}

test "golden ping_reply" {
    const golden = try loadGolden("ping_reply");
    defer golden.deinit();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writePing(&out, testing.allocator, 1, .{ .pid = 4242, .version = "0.1.0", .uptime_ms = 1500, .apps = 3 });
    try golden.expectEqualBytes(out.items);
}

test "golden ping_tracking_reply" {
    const golden = try loadGolden("ping_tracking_reply");
    defer golden.deinit();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writePing(&out, testing.allocator, 2, .{ .pid = 4242, .version = "0.1.0", .uptime_ms = 1500, .apps = 3, .tracking = "procfs" });
    try golden.expectEqualBytes(out.items);
}

test "golden list_reply" {
    const golden = try loadGolden("list_reply");
    defer golden.deinit();
    const record: protocol.Record = .{
        .name = "web",
        .pid = 31337,
        .status = .running,
        .restarts = 2,
        .cpu = 1.5,
        .memory = 10485760,
        .uptime_ms = 65000,
        .exit_code = 1,
        .exit_signal = null,
        .last_error = null,
        .spec = &golden_spec,
    };
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writeRecords(&out, testing.allocator, 5, &.{record});
    try golden.expectEqualBytes(out.items);

    // The same through the generic writer the daemon may use.
    out.clearRetainingCapacity();
    try protocol.writeOk(&out, testing.allocator, 5, protocol.encodeRecords, @as([]const protocol.Record, &.{record}));
    try golden.expectEqualBytes(out.items);
}

test "golden error_reply" {
    const golden = try loadGolden("error_reply");
    defer golden.deinit();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writeError(&out, testing.allocator, 7, "not_found", "no app named \"api\"");
    try golden.expectEqualBytes(out.items);
}

test "golden log_reply" {
    const golden = try loadGolden("log_reply");
    defer golden.deinit();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writeLogData(&out, testing.allocator, 9, "hello\nworld\n");
    try golden.expectEqualBytes(out.items);
}

test "golden stream_end_reply" {
    const golden = try loadGolden("stream_end_reply");
    defer golden.deinit();
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try protocol.writeEnd(&out, testing.allocator, 9);
    try golden.expectEqualBytes(out.items);
}

test "golden bad headers" {
    const cases = [_]struct { name: []const u8, expected: frame.Error }{
        .{ .name = "bad_magic", .expected = error.BadMagic },
        .{ .name = "bad_version", .expected = error.BadVersion },
        .{ .name = "too_large", .expected = error.TooLarge },
    };
    for (cases) |case| {
        const golden = try loadGolden(case.name);
        defer golden.deinit();
        try testing.expectEqual(@as(usize, frame.header_len), golden.bytes.len);
        try testing.expectError(case.expected, frame.decodeHeader(golden.bytes));
    }
    const truncated = try loadGolden("truncated_header");
    defer truncated.deinit();
    try testing.expectEqual(@as(usize, 5), truncated.bytes.len);
    try testing.expectEqual(@as(?frame.Header, null), try frame.decodeHeader(truncated.bytes));
}

test "every golden file is tested and listed in the README" {
    var dir = try std.fs.cwd().openDir(golden_dir, .{ .iterate = true });
    defer dir.close();
    const readme = try dir.readFileAlloc(testing.allocator, "README.md", golden_file_bytes_max);
    defer testing.allocator.free(readme);
    var count: usize = 0;
    var iterator = dir.iterate();
    while (try iterator.next()) |entry| {
        if (!std.mem.endsWith(u8, entry.name, ".hex")) continue;
        count += 1;
        const name = entry.name[0 .. entry.name.len - ".hex".len];
        const known = for (golden_names) |golden_name| {
            if (std.mem.eql(u8, golden_name, name)) break true;
        } else false;
        if (!known) {
            std.debug.print("{s}/{s} has no test in golden_test.zig\n", .{ golden_dir, entry.name });
            return error.TestUnexpectedResult;
        }
        if (std.mem.indexOf(u8, readme, entry.name) == null) {
            std.debug.print("{s}/README.md does not describe {s}\n", .{ golden_dir, entry.name });
            return error.TestUnexpectedResult;
        }
    }
    try testing.expectEqual(golden_names.len, count);
}
