//! The 7-byte frame header of docs/PROTOCOL.md, on byte slices:
//!
//!     byte 0-1  "VE" magic      byte 2  protocol version (1)      byte 3-6  payload length, u32 little-endian
//!
//! Reading: `decodeHeader(bytes)` returns null while fewer than `header_len` bytes have arrived (a normal
//! state for a stream reader, not an error), else the payload length or why the frame is refused.
//! Writing: `beginFrame` appends a placeholder header and returns where it starts; the caller appends the
//! payload; `endFrame` writes the payload's length into the placeholder.
const std = @import("std");
const assert = std.debug.assert;

pub const header_len = 7;
pub const magic = [2]u8{ 'V', 'E' };
pub const version: u8 = 1;
/// The largest payload either side accepts (PROTOCOL.md `frame_bytes_max`).
pub const frame_bytes_max: u32 = 16 * 1024 * 1024;

pub const Header = struct { payload_len: u32 };

pub const Error = error{
    /// Bytes 0-1 are not "VE": not a Velos client, or the stream lost its framing.
    BadMagic,
    /// A protocol version this build does not speak.
    BadVersion,
    /// The announced payload is over `frame_bytes_max`.
    TooLarge,
};

/// Checks in wire order (magic, version, length), so the first thing wrong is the one reported.
pub fn decodeHeader(bytes: []const u8) Error!?Header {
    if (bytes.len < header_len) return null;
    if (bytes[0] != magic[0] or bytes[1] != magic[1]) return error.BadMagic;
    if (bytes[2] != version) return error.BadVersion;
    const payload_len = std.mem.readInt(u32, bytes[3..7], .little);
    if (payload_len > frame_bytes_max) return error.TooLarge;
    return .{ .payload_len = payload_len };
}

/// Appends a header whose length is filled in by `endFrame(out, start)`; returns `start`.
pub fn beginFrame(out: *std.ArrayList(u8), allocator: std.mem.Allocator) error{OutOfMemory}!usize {
    const start = out.items.len;
    try out.appendSlice(allocator, &(magic ++ [_]u8{ version, 0, 0, 0, 0 }));
    return start;
}

/// The bytes appended after the header that begins at `start`.
pub fn payloadLen(out: *const std.ArrayList(u8), start: usize) usize {
    assert(out.items.len >= start + header_len);
    return out.items.len - start - header_len;
}

/// Writes the length of everything appended since `beginFrame` returned `start`. The caller keeps frames
/// under `frame_bytes_max` (see `payloadLen`; protocol.zig's replies do); a peer refuses a larger one.
pub fn endFrame(out: *std.ArrayList(u8), start: usize) void {
    assert(std.mem.eql(u8, out.items[start..][0..3], &(magic ++ [_]u8{version})));
    const payload_len = payloadLen(out, start);
    assert(payload_len <= std.math.maxInt(u32));
    std.mem.writeInt(u32, out.items[start + 3 ..][0..4], @intCast(payload_len), .little);
}

const testing = std.testing;

test "decodeHeader: fewer than 7 bytes is not an error" {
    try testing.expectEqual(@as(?Header, null), try decodeHeader(""));
    try testing.expectEqual(@as(?Header, null), try decodeHeader("VE\x01\x00\x00\x00"));
    // Even garbage: nothing is judged until the whole header is there.
    try testing.expectEqual(@as(?Header, null), try decodeHeader("XX"));
}

test "decodeHeader: lengths, little-endian, up to and over the limit" {
    try testing.expectEqual(Header{ .payload_len = 0 }, (try decodeHeader("VE\x01\x00\x00\x00\x00")).?);
    try testing.expectEqual(Header{ .payload_len = 0x0201 }, (try decodeHeader("VE\x01\x01\x02\x00\x00")).?);
    try testing.expectEqual(Header{ .payload_len = 0x00ab_cdef }, (try decodeHeader("VE\x01\xef\xcd\xab\x00")).?);
    try testing.expectEqual(Header{ .payload_len = frame_bytes_max }, (try decodeHeader("VE\x01\x00\x00\x00\x01")).?);
    try testing.expectError(error.TooLarge, decodeHeader("VE\x01\x01\x00\x00\x01"));
    try testing.expectError(error.TooLarge, decodeHeader("VE\x01\xff\xff\xff\xff"));
    // Bytes after the header (the payload) are not the header's business.
    try testing.expectEqual(Header{ .payload_len = 1 }, (try decodeHeader("VE\x01\x01\x00\x00\x00\xc0")).?);
}

test "decodeHeader: magic, then version, then length" {
    try testing.expectError(error.BadMagic, decodeHeader("VF\x01\x00\x00\x00\x00"));
    try testing.expectError(error.BadMagic, decodeHeader("GET / H"));
    try testing.expectError(error.BadMagic, decodeHeader("XE\x02\xff\xff\xff\xff"));
    try testing.expectError(error.BadVersion, decodeHeader("VE\x00\x00\x00\x00\x00"));
    try testing.expectError(error.BadVersion, decodeHeader("VE\x02\xff\xff\xff\xff"));
}

test "beginFrame/endFrame: header and length of what was appended, after earlier frames" {
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try out.appendSlice(testing.allocator, "earlier");
    const start = try beginFrame(&out, testing.allocator);
    try testing.expectEqual(@as(usize, 7), start);
    try testing.expectEqual(@as(usize, 0), payloadLen(&out, start));
    try out.appendNTimes(testing.allocator, 0xc0, 300);
    endFrame(&out, start);
    try testing.expectEqualSlices(u8, "earlier", out.items[0..7]);
    try testing.expectEqualSlices(u8, &.{ 0x56, 0x45, 0x01, 0x2c, 0x01, 0x00, 0x00 }, out.items[7..14]);
    const header = (try decodeHeader(out.items[start..])).?;
    try testing.expectEqual(@as(u32, 300), header.payload_len);

    const empty_start = try beginFrame(&out, testing.allocator);
    endFrame(&out, empty_start);
    try testing.expectEqual(Header{ .payload_len = 0 }, (try decodeHeader(out.items[empty_start..])).?);
}
