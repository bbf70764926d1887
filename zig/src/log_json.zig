//! `log_format = json`: each line an app writes becomes one JSON object on one line of its log file,
//! `{"ts":"2026-11-30T10:41:02.345Z","stream":"out","body":"..."}`, so a log shipper or `jq` reads the file
//! without guessing where the daemon's prefix ends.
//!
//! The encoder is a streaming one: the pipe hands over bytes in arbitrary chunks, so a line (and a UTF-8
//! sequence) may be split between two reads. `Encoder` remembers whether an object is open and the bytes
//! of an unfinished UTF-8 sequence; an object is closed (`"}` and a newline) only when the line's newline
//! arrives. `ts` is the time the line's first byte was read, always present (a structured record without
//! its time is of little use; `log_timestamps` governs the text prefix only).
//!
//! Body escaping: `"` and `\` with a backslash; every control byte (below 0x20, and 0x7f) as `\u00XX`,
//! tab included; valid UTF-8 as is; every invalid byte, and every incomplete sequence, as U+FFFD. So each
//! line of the file is valid JSON and valid UTF-8, whatever the app wrote. No line is cut here: the readers
//! cut at 64 KiB as they do for text, and read a cut object's body up to the cut.
const std = @import("std");

pub const Writer = std.Io.Writer;

const replacement = "\u{FFFD}";

pub const Encoder = struct {
    /// An object is open: its body is being written and its newline has not come yet.
    open: bool = false,
    /// The bytes of a UTF-8 sequence seen so far, and how many it needs in all (0: none pending).
    utf8: [4]u8 = undefined,
    have: u3 = 0,
    need: u3 = 0,

    /// Writes `bytes` (any piece of the stream) as JSON lines to `out`; `stream` is "out" or "err" and
    /// `epoch_ms` the time stamped on each object this chunk opens.
    pub fn write(encoder: *Encoder, out: *Writer, bytes: []const u8, stream: []const u8, epoch_ms: u64) Writer.Error!void {
        // Every object this chunk opens has the same head: formatted once, not once per line.
        var head_buffer: [head_bytes_max]u8 = undefined;
        const head = objectHead(&head_buffer, stream, epoch_ms);
        var index: usize = 0;
        while (index < bytes.len) {
            const byte = bytes[index];
            if (!encoder.open) {
                try out.writeAll(head);
                encoder.open = true;
            }
            if (byte == '\n') {
                try encoder.close(out);
                index += 1;
                continue;
            }
            if (encoder.need == 0) {
                // Most of a line is printable ASCII that needs no escape: copied a run at a time.
                var end = index;
                while (end < bytes.len and isPlain(bytes[end])) end += 1;
                if (end > index) {
                    try out.writeAll(bytes[index..end]);
                    index = end;
                    continue;
                }
            }
            try encoder.body(out, byte);
            index += 1;
        }
    }

    /// Ends an open object here (a rotation or a switch back to text cuts the line): an unfinished UTF-8
    /// sequence becomes U+FFFD. The rest of the line, if any, starts a new object.
    pub fn close(encoder: *Encoder, out: *Writer) Writer.Error!void {
        if (!encoder.open) return;
        // Closed even when the write fails: the next bytes start a new object rather than continue a body.
        encoder.open = false;
        try encoder.flushInvalid(out);
        try out.writeAll("\"}\n");
    }

    fn flushInvalid(encoder: *Encoder, out: *Writer) Writer.Error!void {
        if (encoder.need == 0) return;
        encoder.need = 0;
        encoder.have = 0;
        try out.writeAll(replacement);
    }

    fn body(encoder: *Encoder, out: *Writer, byte: u8) Writer.Error!void {
        if (encoder.need > 0) {
            if (byte & 0xc0 == 0x80) {
                encoder.utf8[encoder.have] = byte;
                encoder.have += 1;
                if (encoder.have < encoder.need) return;
                const sequence = encoder.utf8[0..encoder.have];
                encoder.need = 0;
                encoder.have = 0;
                // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
                if (std.unicode.utf8Decode(sequence)) |_| try out.writeAll(sequence) else |_| try out.writeAll(replacement);
                return;
            }
            // The sequence ended early: it is replaced, and this byte starts afresh.
            try encoder.flushInvalid(out);
        }
        switch (byte) {
            '"' => try out.writeAll("\\\""),
            '\\' => try out.writeAll("\\\\"),
            0x00...0x1f, 0x7f => try out.print("\\u{x:0>4}", .{byte}),
            0x20...0x21, 0x23...0x5b, 0x5d...0x7e => try out.writeByte(byte),
            0x80...0xff => {
                const length = std.unicode.utf8ByteSequenceLength(byte) catch return out.writeAll(replacement);
                encoder.utf8[0] = byte;
                encoder.have = 1;
                encoder.need = @intCast(length);
            },
        }
    }
};

/// `{"ts":"…","stream":"out","body":"` is 56 bytes until the year 10000 (with a stream name of 3).
const head_bytes_max = 96;

/// An object's opening, up to its body, in `buffer`.
fn objectHead(buffer: *[head_bytes_max]u8, stream: []const u8, epoch_ms: u64) []const u8 {
    std.debug.assert(stream.len <= 8);
    var writer: Writer = .fixed(buffer);
    writer.writeAll("{\"ts\":\"") catch unreachable; // fits: see head_bytes_max
    writeTimestamp(&writer, epoch_ms) catch unreachable;
    writer.print("\",\"stream\":\"{s}\",\"body\":\"", .{stream}) catch unreachable;
    return writer.buffered();
}

/// Printable ASCII that stands for itself in a JSON string.
fn isPlain(byte: u8) bool {
    return byte >= 0x20 and byte < 0x7f and byte != '"' and byte != '\\';
}

/// RFC 3339 UTC with milliseconds (the same text as the `log_timestamps` prefix).
pub fn writeTimestamp(writer: *Writer, epoch_ms: u64) Writer.Error!void {
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

const testing = std.testing;

/// The file text for `chunks` written in order by one encoder, at epoch ms 0.
fn encodeChunks(chunks: []const []const u8) ![]u8 {
    var out: Writer.Allocating = .init(testing.allocator);
    errdefer out.deinit();
    var encoder: Encoder = .{};
    for (chunks) |chunk| try encoder.write(&out.writer, chunk, "out", 0);
    return out.toOwnedSlice();
}

fn expectBodies(chunks: []const []const u8, expected_file: []const u8) !void {
    const file = try encodeChunks(chunks);
    defer testing.allocator.free(file);
    try testing.expectEqualStrings(expected_file, file);
    // Every line parses as JSON (the readers' contract), and is valid UTF-8.
    try testing.expect(std.unicode.utf8ValidateSlice(file));
    var lines = std.mem.splitScalar(u8, file, '\n');
    while (lines.next()) |line| {
        if (line.len == 0) continue;
        const parsed = try std.json.parseFromSlice(std.json.Value, testing.allocator, line, .{});
        parsed.deinit();
    }
}

const prefix = "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"stream\":\"out\",\"body\":\"";

test "json lines: quotes, backslash and control bytes escaped; one object per line" {
    try expectBodies(&.{"say \"hi\"\tto C:\\dir\x01\x7f\n"}, prefix ++ "say \\\"hi\\\"\\u0009to C:\\\\dir\\u0001\\u007f\"}\n");
    const parsed = try std.json.parseFromSlice(struct { ts: []const u8, stream: []const u8, body: []const u8 }, testing.allocator, prefix ++ "a\\\"b\\u0009c\"}", .{});
    defer parsed.deinit();
    try testing.expectEqualStrings("a\"b\tc", parsed.value.body);
}

test "json lines: an empty line is an object with an empty body; no newline leaves the object open" {
    try expectBodies(&.{ "\n", "\n" }, prefix ++ "\"}\n" ++ prefix ++ "\"}\n");
    const open = try encodeChunks(&.{"half a line"});
    defer testing.allocator.free(open);
    try testing.expectEqualStrings(prefix ++ "half a line", open);
}

test "json lines: a line split across reads is one object, a UTF-8 sequence split across reads stays whole" {
    try expectBodies(&.{ "caf\xc3", "\xa9 ", "ok\n" }, prefix ++ "caf\u{e9} ok\"}\n");
    try expectBodies(&.{ "\xf0\x9f", "\x98\x80\n" }, prefix ++ "\u{1f600}\"}\n");
}

test "json lines: invalid UTF-8 becomes U+FFFD, byte by byte or sequence by sequence" {
    // A stray continuation byte, a lead byte never allowed, an overlong form, a surrogate, a cut sequence.
    try expectBodies(&.{"a\x80b\xffc\xc0\xafd\xed\xa0\x80e\xe2\x82\n"}, prefix ++ "a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}e\u{fffd}\"}\n");
    // A sequence cut by a plain byte: the plain byte is kept.
    try expectBodies(&.{"\xe2x\n"}, prefix ++ "\u{fffd}x\"}\n");
}

test "json lines: a long line stays one object, whole" {
    const long = "x" ** (100 * 1024);
    const file = try encodeChunks(&.{ long[0 .. 40 * 1024], long[40 * 1024 ..], "\n" });
    defer testing.allocator.free(file);
    try testing.expectEqual(prefix.len + long.len + 3, file.len);
    try testing.expectEqual(@as(usize, 1), std.mem.count(u8, file, "\n"));
}

test "json lines: close ends an open object and the rest of the line starts a new one" {
    var out: Writer.Allocating = .init(testing.allocator);
    defer out.deinit();
    var encoder: Encoder = .{};
    try encoder.write(&out.writer, "before \xe2", "err", 1_700_000_000_123);
    try encoder.close(&out.writer);
    try encoder.close(&out.writer); // nothing open: nothing written
    try encoder.write(&out.writer, "after\n", "err", 1_700_000_000_124);
    try testing.expectEqualStrings(
        "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"stream\":\"err\",\"body\":\"before \u{fffd}\"}\n" ++
            "{\"ts\":\"2023-11-14T22:13:20.124Z\",\"stream\":\"err\",\"body\":\"after\"}\n",
        out.written(),
    );
}

test "json lines: any bytes cut anywhere give one valid JSON object per line, decoding to the text" {
    var prng = std.Random.DefaultPrng.init(0x5eed);
    const random = prng.random();
    const valid = [_][]const u8{ "a", "word ", "\"", "\\", "\t", "\x01", "\x7f", "\u{e9}", "\u{20ac}", "\u{1f600}", "\n" };
    const invalid = [_][]const u8{ "\xff", "\x80", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80" };
    for (0..300) |round| {
        const with_invalid = round % 2 == 1;
        var input: std.ArrayList(u8) = .empty;
        defer input.deinit(testing.allocator);
        for (0..random.uintLessThan(usize, 60)) |_| {
            const piece = if (with_invalid and random.boolean()) invalid[random.uintLessThan(usize, invalid.len)] else valid[random.uintLessThan(usize, valid.len)];
            try input.appendSlice(testing.allocator, piece);
        }
        try input.append(testing.allocator, '\n');
        // The same bytes in random reads.
        var out: Writer.Allocating = .init(testing.allocator);
        defer out.deinit();
        var encoder: Encoder = .{};
        var rest = input.items;
        while (rest.len > 0) {
            const take = 1 + random.uintLessThan(usize, rest.len);
            try encoder.write(&out.writer, rest[0..take], "out", 0);
            rest = rest[take..];
        }
        const file = out.written();
        try testing.expect(std.unicode.utf8ValidateSlice(file));
        try testing.expectEqual(std.mem.count(u8, input.items, "\n"), std.mem.count(u8, file, "\n"));
        var file_lines = std.mem.splitScalar(u8, file[0 .. file.len - 1], '\n');
        var input_lines = std.mem.splitScalar(u8, input.items[0 .. input.items.len - 1], '\n');
        while (file_lines.next()) |line| {
            const text = input_lines.next().?;
            const parsed = try std.json.parseFromSlice(struct { ts: []const u8, stream: []const u8, body: []const u8 }, testing.allocator, line, .{});
            defer parsed.deinit();
            if (!with_invalid) try testing.expectEqualStrings(text, parsed.value.body);
        }
    }
}
