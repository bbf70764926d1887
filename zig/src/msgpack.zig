//! The MessagePack subset of docs/PROTOCOL.md, on byte slices (no IO, no file descriptors).
//!
//! Decoding: `decode(arena, bytes)` turns exactly one value spanning all of `bytes` into a `Value` tree.
//! Strings and bins borrow from `bytes`; arrays and maps are allocated from `arena` (free the arena, not the
//! tree). Input is untrusted: nesting is limited to `depth_max`, and a declared length is checked against the
//! bytes that remain BEFORE anything is allocated, so a short payload can never make us allocate much. Every
//! element takes at least one input byte but costs `@sizeOf(Value)` (24) bytes in the tree, so a frame of
//! nils alone could still cost 24 times its size (a 16 MiB frame, 400 MiB): the tree is also held to
//! `treeBytesMax(bytes.len)`, 4 bytes per input byte plus 1 MiB, checked before each allocation. Real
//! messages are mostly strings, which are borrowed, and stay far below it.
//!
//! Encoding: `Encoder` appends to an `std.ArrayList(u8)`, always in the smallest form (integers, strings, bins,
//! arrays, maps), floats always as float64 (`0xcb`), as the protocol requires of both codecs.
const std = @import("std");
const assert = std.debug.assert;
const msgpack = @This();

/// Nesting deeper than this is refused: the decoder recurses, and no message of ours nests past 5.
pub const depth_max: u32 = 32;

pub const DecodeError = error{
    /// The bytes end inside a value, or a declared length is larger than the bytes that remain.
    Truncated,
    /// `0xc1` (never used), ext and fixext types, which the protocol does not use.
    InvalidType,
    /// Arrays and maps nested deeper than `depth_max`.
    TooDeep,
    /// One value was decoded but bytes remain after it.
    TrailingBytes,
    /// The arrays and maps would take more than `treeBytesMax` of the input's size.
    OverBudget,
    OutOfMemory,
};

pub const Value = union(enum) {
    nil,
    boolean: bool,
    /// Decoded from negative fixint and int 8/16/32/64 (whatever its sign).
    int: i64,
    /// Decoded from positive fixint and uint 8/16/32/64.
    uint: u64,
    /// Decoded from float64, and from float32 widened.
    float: f64,
    str: []const u8,
    bin: []const u8,
    array: []const Value,
    map: []const Entry,

    /// The value of the first entry whose key is the string `key`; null when `self` is not a map or has no
    /// such key. Keys that are not strings are skipped.
    pub fn mapGet(self: Value, key: []const u8) ?Value {
        if (self != .map) return null;
        for (self.map) |entry| {
            if (entry.key == .str and std.mem.eql(u8, entry.key.str, key)) return entry.value;
        }
        return null;
    }

    /// Any integer that fits in a u64 (a non-negative `int` counts: decoders accept any integer width).
    pub fn asU64(self: Value) ?u64 {
        return switch (self) {
            .uint => |v| v,
            .int => |v| if (v >= 0) @intCast(v) else null,
            else => null,
        };
    }

    /// Any integer that fits in an i64.
    pub fn asI64(self: Value) ?i64 {
        return switch (self) {
            .int => |v| v,
            .uint => |v| std.math.cast(i64, v),
            else => null,
        };
    }

    pub fn asStr(self: Value) ?[]const u8 {
        return if (self == .str) self.str else null;
    }

    pub fn asBin(self: Value) ?[]const u8 {
        return if (self == .bin) self.bin else null;
    }

    pub fn asBool(self: Value) ?bool {
        return if (self == .boolean) self.boolean else null;
    }

    /// A float, or any integer converted (a float field may be written as an integer by a lax encoder).
    pub fn asF64(self: Value) ?f64 {
        return switch (self) {
            .float => |v| v,
            .int => |v| @floatFromInt(v),
            .uint => |v| @floatFromInt(v),
            else => null,
        };
    }

    pub fn asArray(self: Value) ?[]const Value {
        return if (self == .array) self.array else null;
    }

    pub fn asMap(self: Value) ?[]const Entry {
        return if (self == .map) self.map else null;
    }

    /// Equality of meaning: integers by value whatever their width or sign form (int8 5 equals uint 5),
    /// floats by value (so NaN is never equal), containers element by element in order.
    pub fn eql(a: Value, b: Value) bool {
        if (a == .int or a == .uint) {
            if (b != .int and b != .uint) return false;
            if (a.asI64()) |x| return if (b.asI64()) |y| x == y else false;
            return b.asI64() == null and a.uint == b.uint; // both above i64's range
        }
        if (std.meta.activeTag(a) != std.meta.activeTag(b)) return false;
        return switch (a) {
            .int, .uint => unreachable,
            .nil => true,
            .boolean => |v| v == b.boolean,
            .float => |v| v == b.float,
            .str => |v| std.mem.eql(u8, v, b.str),
            .bin => |v| std.mem.eql(u8, v, b.bin),
            .array => |items| {
                if (items.len != b.array.len) return false;
                for (items, b.array) |x, y| if (!x.eql(y)) return false;
                return true;
            },
            .map => |entries| {
                if (entries.len != b.map.len) return false;
                for (entries, b.map) |x, y| {
                    if (!x.key.eql(y.key) or !x.value.eql(y.value)) return false;
                }
                return true;
            },
        };
    }
};

pub const Entry = struct { key: Value, value: Value };

/// The most a decoded tree of `input_bytes` may allocate (see the file comment).
pub fn treeBytesMax(input_bytes: usize) usize {
    return 4 * input_bytes + 1024 * 1024;
}

/// Decodes exactly one value that must span all of `bytes`. See the file comment for ownership and limits.
pub fn decode(arena: std.mem.Allocator, bytes: []const u8) DecodeError!Value {
    return decodeBounded(arena, bytes, treeBytesMax(bytes.len));
}

/// `decode` with another bound on the tree: the state file, our own and already bounded in size, may hold
/// thousands of small maps (24 bytes of tree per input byte at worst, so never more than 24 × its size).
pub fn decodeBounded(arena: std.mem.Allocator, bytes: []const u8, tree_bytes_max: usize) DecodeError!Value {
    var decoder: Decoder = .{ .arena = arena, .bytes = bytes, .budget_bytes = tree_bytes_max };
    const value = try decoder.value(0);
    if (decoder.pos != bytes.len) return error.TrailingBytes;
    return value;
}

const Decoder = struct {
    arena: std.mem.Allocator,
    bytes: []const u8,
    pos: usize = 0,
    /// What the tree may still allocate.
    budget_bytes: usize,

    fn spend(self: *Decoder, comptime T: type, count: usize) DecodeError!void {
        const cost = std.math.mul(usize, @sizeOf(T), count) catch return error.OverBudget;
        if (cost > self.budget_bytes) return error.OverBudget;
        self.budget_bytes -= cost;
    }

    fn remaining(self: *const Decoder) usize {
        return self.bytes.len - self.pos;
    }

    fn take(self: *Decoder, len: usize) DecodeError![]const u8 {
        if (len > self.remaining()) return error.Truncated;
        const slice = self.bytes[self.pos..][0..len];
        self.pos += len;
        return slice;
    }

    fn int(self: *Decoder, comptime T: type) DecodeError!T {
        const slice = try self.take(@sizeOf(T));
        return std.mem.readInt(T, slice[0..@sizeOf(T)], .big);
    }

    fn value(self: *Decoder, depth: u32) DecodeError!Value {
        const tag = (try self.take(1))[0];
        return switch (tag) {
            0x00...0x7f => .{ .uint = tag },
            0x80...0x8f => self.map(tag & 0x0f, depth),
            0x90...0x9f => self.array(tag & 0x0f, depth),
            0xa0...0xbf => .{ .str = try self.take(tag & 0x1f) },
            0xc0 => .nil,
            0xc1 => error.InvalidType,
            0xc2 => .{ .boolean = false },
            0xc3 => .{ .boolean = true },
            0xc4 => .{ .bin = try self.take(try self.int(u8)) },
            0xc5 => .{ .bin = try self.take(try self.int(u16)) },
            0xc6 => .{ .bin = try self.take(try self.int(u32)) },
            // ext 8/16/32: not in the protocol's subset.
            0xc7, 0xc8, 0xc9 => error.InvalidType,
            0xca => .{ .float = @as(f32, @bitCast(try self.int(u32))) },
            0xcb => .{ .float = @bitCast(try self.int(u64)) },
            0xcc => .{ .uint = try self.int(u8) },
            0xcd => .{ .uint = try self.int(u16) },
            0xce => .{ .uint = try self.int(u32) },
            0xcf => .{ .uint = try self.int(u64) },
            0xd0 => .{ .int = try self.int(i8) },
            0xd1 => .{ .int = try self.int(i16) },
            0xd2 => .{ .int = try self.int(i32) },
            0xd3 => .{ .int = try self.int(i64) },
            // fixext 1/2/4/8/16: not in the subset.
            0xd4...0xd8 => error.InvalidType,
            0xd9 => .{ .str = try self.take(try self.int(u8)) },
            0xda => .{ .str = try self.take(try self.int(u16)) },
            0xdb => .{ .str = try self.take(try self.int(u32)) },
            0xdc => self.array(try self.int(u16), depth),
            0xdd => self.array(try self.int(u32), depth),
            0xde => self.map(try self.int(u16), depth),
            0xdf => self.map(try self.int(u32), depth),
            0xe0...0xff => .{ .int = @as(i8, @bitCast(tag)) },
        };
    }

    fn array(self: *Decoder, len: u32, depth: u32) DecodeError!Value {
        if (depth + 1 > depth_max) return error.TooDeep;
        // Every element takes at least one byte: refuse a length the input cannot hold before allocating.
        if (len > self.remaining()) return error.Truncated;
        try self.spend(Value, len);
        const items = try self.arena.alloc(Value, len);
        for (items) |*item| item.* = try self.value(depth + 1);
        return .{ .array = items };
    }

    fn map(self: *Decoder, len: u32, depth: u32) DecodeError!Value {
        if (depth + 1 > depth_max) return error.TooDeep;
        // Every entry takes at least two bytes (key and value).
        if (@as(u64, len) * 2 > self.remaining()) return error.Truncated;
        try self.spend(Entry, len);
        const entries = try self.arena.alloc(Entry, len);
        for (entries) |*entry| {
            entry.key = try self.value(depth + 1);
            entry.value = try self.value(depth + 1);
        }
        return .{ .map = entries };
    }
};

/// Appends MessagePack to `out`, always in the smallest form. Small and copied by value: methods take it by
/// value so a `const` encoder works.
pub const Encoder = struct {
    out: *std.ArrayList(u8),
    allocator: std.mem.Allocator,

    pub const Error = error{OutOfMemory};

    pub fn init(out: *std.ArrayList(u8), allocator: std.mem.Allocator) Encoder {
        return .{ .out = out, .allocator = allocator };
    }

    fn byte(self: Encoder, b: u8) Error!void {
        try self.out.append(self.allocator, b);
    }

    fn tagged(self: Encoder, tag: u8, comptime T: type, v: T) Error!void {
        var buffer: [1 + @sizeOf(T)]u8 = undefined;
        buffer[0] = tag;
        std.mem.writeInt(T, buffer[1..], v, .big);
        try self.out.appendSlice(self.allocator, &buffer);
    }

    pub fn nil(self: Encoder) Error!void {
        try self.byte(0xc0);
    }

    pub fn boolean(self: Encoder, v: bool) Error!void {
        try self.byte(if (v) 0xc3 else 0xc2);
    }

    pub fn uint(self: Encoder, v: u64) Error!void {
        if (v <= 0x7f) return self.byte(@intCast(v));
        if (v <= std.math.maxInt(u8)) return self.tagged(0xcc, u8, @intCast(v));
        if (v <= std.math.maxInt(u16)) return self.tagged(0xcd, u16, @intCast(v));
        if (v <= std.math.maxInt(u32)) return self.tagged(0xce, u32, @intCast(v));
        return self.tagged(0xcf, u64, v);
    }

    /// Non-negative values use the positive (uint) forms, as every msgpack encoder does.
    pub fn int(self: Encoder, v: i64) Error!void {
        if (v >= 0) return self.uint(@intCast(v));
        if (v >= -32) return self.byte(@bitCast(@as(i8, @intCast(v))));
        if (v >= std.math.minInt(i8)) return self.tagged(0xd0, i8, @intCast(v));
        if (v >= std.math.minInt(i16)) return self.tagged(0xd1, i16, @intCast(v));
        if (v >= std.math.minInt(i32)) return self.tagged(0xd2, i32, @intCast(v));
        return self.tagged(0xd3, i64, v);
    }

    pub fn float64(self: Encoder, v: f64) Error!void {
        try self.tagged(0xcb, u64, @bitCast(v));
    }

    pub fn str(self: Encoder, s: []const u8) Error!void {
        const len = lengthU32(s.len);
        if (len <= 31) {
            try self.byte(0xa0 | @as(u8, @intCast(len)));
        } else if (len <= std.math.maxInt(u8)) {
            try self.tagged(0xd9, u8, @intCast(len));
        } else if (len <= std.math.maxInt(u16)) {
            try self.tagged(0xda, u16, @intCast(len));
        } else {
            try self.tagged(0xdb, u32, len);
        }
        try self.out.appendSlice(self.allocator, s);
    }

    pub fn bin(self: Encoder, b: []const u8) Error!void {
        const len = lengthU32(b.len);
        if (len <= std.math.maxInt(u8)) {
            try self.tagged(0xc4, u8, @intCast(len));
        } else if (len <= std.math.maxInt(u16)) {
            try self.tagged(0xc5, u16, @intCast(len));
        } else {
            try self.tagged(0xc6, u32, len);
        }
        try self.out.appendSlice(self.allocator, b);
    }

    /// Followed by exactly `len` values.
    pub fn arrayHeader(self: Encoder, len: u32) Error!void {
        if (len <= 15) return self.byte(0x90 | @as(u8, @intCast(len)));
        if (len <= std.math.maxInt(u16)) return self.tagged(0xdc, u16, @intCast(len));
        return self.tagged(0xdd, u32, len);
    }

    /// Followed by exactly `len` key/value pairs.
    pub fn mapHeader(self: Encoder, len: u32) Error!void {
        if (len <= 15) return self.byte(0x80 | @as(u8, @intCast(len)));
        if (len <= std.math.maxInt(u16)) return self.tagged(0xde, u16, @intCast(len));
        return self.tagged(0xdf, u32, len);
    }

    /// Any decoded value, back to bytes (smallest forms, so a non-canonical input may not round-trip
    /// byte for byte).
    pub fn value(self: Encoder, v: Value) Error!void {
        switch (v) {
            .nil => try self.nil(),
            .boolean => |b| try self.boolean(b),
            .int => |i| try self.int(i),
            .uint => |u| try self.uint(u),
            .float => |f| try self.float64(f),
            .str => |s| try self.str(s),
            .bin => |b| try self.bin(b),
            .array => |items| {
                try self.arrayHeader(lengthU32(items.len));
                for (items) |item| try self.value(item);
            },
            .map => |entries| {
                try self.mapHeader(lengthU32(entries.len));
                for (entries) |entry| {
                    try self.value(entry.key);
                    try self.value(entry.value);
                }
            },
        }
    }

    fn lengthU32(len: usize) u32 {
        // Everything we encode came from a bounded frame, a bounded ring or our own table: a length over
        // 4 GiB is a bug of ours, not bad input.
        assert(len <= std.math.maxInt(u32));
        return @intCast(len);
    }
};

// ---------------------------------------------------------------------------------------------- tests

const testing = std.testing;

fn expectEncoded(expected: []const u8, comptime encodeFn: anytype, args: anytype) !void {
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    const enc: Encoder = .init(&out, testing.allocator);
    try @call(.auto, encodeFn, .{enc} ++ args);
    try testing.expectEqualSlices(u8, expected, out.items);
}

/// A per-test arena: decoded trees are freed all at once by `deinit`.
const TestArena = struct {
    state: std.heap.ArenaAllocator,

    fn init() TestArena {
        return .{ .state = .init(testing.allocator) };
    }

    fn deinit(self: *TestArena) void {
        self.state.deinit();
    }

    /// Without the tree bound (tested on its own below): these tests are about the encoding.
    fn decode(self: *TestArena, bytes: []const u8) DecodeError!Value {
        return msgpack.decodeBounded(self.state.allocator(), bytes, std.math.maxInt(usize));
    }
};

test "uint: smallest form at every boundary, both directions" {
    var arena: TestArena = .init();
    defer arena.deinit();
    const cases = [_]struct { v: u64, bytes: []const u8 }{
        .{ .v = 0, .bytes = &.{0x00} },
        .{ .v = 127, .bytes = &.{0x7f} },
        .{ .v = 128, .bytes = &.{ 0xcc, 0x80 } },
        .{ .v = 255, .bytes = &.{ 0xcc, 0xff } },
        .{ .v = 256, .bytes = &.{ 0xcd, 0x01, 0x00 } },
        .{ .v = 65535, .bytes = &.{ 0xcd, 0xff, 0xff } },
        .{ .v = 65536, .bytes = &.{ 0xce, 0x00, 0x01, 0x00, 0x00 } },
        .{ .v = 0xffff_ffff, .bytes = &.{ 0xce, 0xff, 0xff, 0xff, 0xff } },
        .{ .v = 0x1_0000_0000, .bytes = &.{ 0xcf, 0, 0, 0, 1, 0, 0, 0, 0 } },
        .{ .v = std.math.maxInt(u64), .bytes = &.{ 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
    };
    for (cases) |case| {
        try expectEncoded(case.bytes, Encoder.uint, .{case.v});
        const decoded = try arena.decode(case.bytes);
        try testing.expectEqual(Value{ .uint = case.v }, decoded);
        try testing.expectEqual(case.v, decoded.asU64().?);
    }
}

test "int: smallest form at every boundary, both directions" {
    var arena: TestArena = .init();
    defer arena.deinit();
    const cases = [_]struct { v: i64, bytes: []const u8 }{
        .{ .v = -1, .bytes = &.{0xff} },
        .{ .v = -32, .bytes = &.{0xe0} },
        .{ .v = -33, .bytes = &.{ 0xd0, 0xdf } },
        .{ .v = -128, .bytes = &.{ 0xd0, 0x80 } },
        .{ .v = -129, .bytes = &.{ 0xd1, 0xff, 0x7f } },
        .{ .v = -32768, .bytes = &.{ 0xd1, 0x80, 0x00 } },
        .{ .v = -32769, .bytes = &.{ 0xd2, 0xff, 0xff, 0x7f, 0xff } },
        .{ .v = std.math.minInt(i32), .bytes = &.{ 0xd2, 0x80, 0, 0, 0 } },
        .{ .v = @as(i64, std.math.minInt(i32)) - 1, .bytes = &.{ 0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff } },
        .{ .v = std.math.minInt(i64), .bytes = &.{ 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 } },
    };
    for (cases) |case| {
        try expectEncoded(case.bytes, Encoder.int, .{case.v});
        const decoded = try arena.decode(case.bytes);
        try testing.expectEqual(Value{ .int = case.v }, decoded);
        try testing.expectEqual(case.v, decoded.asI64().?);
        try testing.expectEqual(@as(?u64, null), decoded.asU64());
    }
    // Non-negative ints take the positive forms.
    try expectEncoded(&.{0x00}, Encoder.int, .{@as(i64, 0)});
    try expectEncoded(&.{0x7f}, Encoder.int, .{@as(i64, 127)});
    try expectEncoded(&.{ 0xcc, 0x80 }, Encoder.int, .{@as(i64, 128)});
    try expectEncoded(&.{ 0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, Encoder.int, .{@as(i64, std.math.maxInt(i64))});
}

test "decoders accept any integer width for an integer field" {
    var arena: TestArena = .init();
    defer arena.deinit();
    // int8 holding 5, uint64 holding 5, int64 holding 7: all usable as u64 and i64.
    try testing.expectEqual(@as(u64, 5), (try arena.decode(&.{ 0xd0, 0x05 })).asU64().?);
    try testing.expectEqual(@as(u64, 5), (try arena.decode(&.{ 0xcf, 0, 0, 0, 0, 0, 0, 0, 5 })).asU64().?);
    try testing.expectEqual(@as(i64, 7), (try arena.decode(&.{ 0xd3, 0, 0, 0, 0, 0, 0, 0, 7 })).asI64().?);
    // A uint over i64's range is not an i64.
    try testing.expectEqual(@as(?i64, null), (try arena.decode(&.{ 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 })).asI64());
    try testing.expectEqual(@as(f64, 5), (try arena.decode(&.{ 0xd0, 0x05 })).asF64().?);
    try testing.expectEqual(@as(f64, -3), (try arena.decode(&.{0xfd})).asF64().?);
}

test "nil, bool, float64, float32" {
    var arena: TestArena = .init();
    defer arena.deinit();
    try expectEncoded(&.{0xc0}, Encoder.nil, .{});
    try expectEncoded(&.{0xc2}, Encoder.boolean, .{false});
    try expectEncoded(&.{0xc3}, Encoder.boolean, .{true});
    try expectEncoded(&.{ 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 }, Encoder.float64, .{@as(f64, 1.5)});
    try expectEncoded(&.{ 0xcb, 0, 0, 0, 0, 0, 0, 0, 0 }, Encoder.float64, .{@as(f64, 0)});
    try testing.expectEqual(Value.nil, try arena.decode(&.{0xc0}));
    try testing.expectEqual(false, (try arena.decode(&.{0xc2})).asBool().?);
    try testing.expectEqual(true, (try arena.decode(&.{0xc3})).asBool().?);
    try testing.expectEqual(@as(f64, 1.5), (try arena.decode(&.{ 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 })).asF64().?);
    try testing.expectEqual(@as(f64, -2.25), (try arena.decode(&.{ 0xcb, 0xc0, 0x02, 0, 0, 0, 0, 0, 0 })).float);
    // float32 1.5 = 0x3fc00000, widened.
    try testing.expectEqual(@as(f64, 1.5), (try arena.decode(&.{ 0xca, 0x3f, 0xc0, 0, 0 })).asF64().?);
    try testing.expectEqual(@as(?f64, null), (try arena.decode(&.{0xc0})).asF64());
    try testing.expectEqual(@as(?bool, null), (try arena.decode(&.{0x01})).asBool());
}

fn filled(comptime len: usize) [len]u8 {
    var bytes: [len]u8 = undefined;
    for (&bytes, 0..) |*b, i| b.* = 'a' + @as(u8, @intCast(i % 26));
    return bytes;
}

test "str: fixstr, str8, str16, str32 boundaries, both directions" {
    var arena: TestArena = .init();
    defer arena.deinit();
    const Case = struct { len: usize, header: []const u8 };
    const cases = [_]Case{
        .{ .len = 0, .header = &.{0xa0} },
        .{ .len = 31, .header = &.{0xbf} },
        .{ .len = 32, .header = &.{ 0xd9, 32 } },
        .{ .len = 255, .header = &.{ 0xd9, 0xff } },
        .{ .len = 256, .header = &.{ 0xda, 0x01, 0x00 } },
        .{ .len = 65535, .header = &.{ 0xda, 0xff, 0xff } },
        .{ .len = 65536, .header = &.{ 0xdb, 0x00, 0x01, 0x00, 0x00 } },
    };
    const text = filled(65536);
    for (cases) |case| {
        const s = text[0..case.len];
        var out: std.ArrayList(u8) = .empty;
        defer out.deinit(testing.allocator);
        const enc: Encoder = .init(&out, testing.allocator);
        try enc.str(s);
        try testing.expectEqualSlices(u8, case.header, out.items[0..case.header.len]);
        try testing.expectEqualSlices(u8, s, out.items[case.header.len..]);
        const decoded = try arena.decode(out.items);
        try testing.expectEqualSlices(u8, s, decoded.asStr().?);
        // Borrowed from the input, not copied.
        if (case.len > 0) try testing.expect(decoded.str.ptr == out.items.ptr + case.header.len);
    }
}

test "bin: bin8, bin16, bin32 boundaries, both directions" {
    var arena: TestArena = .init();
    defer arena.deinit();
    const Case = struct { len: usize, header: []const u8 };
    const cases = [_]Case{
        .{ .len = 0, .header = &.{ 0xc4, 0 } },
        .{ .len = 255, .header = &.{ 0xc4, 0xff } },
        .{ .len = 256, .header = &.{ 0xc5, 0x01, 0x00 } },
        .{ .len = 65535, .header = &.{ 0xc5, 0xff, 0xff } },
        .{ .len = 65536, .header = &.{ 0xc6, 0x00, 0x01, 0x00, 0x00 } },
    };
    const data = filled(65536);
    for (cases) |case| {
        var out: std.ArrayList(u8) = .empty;
        defer out.deinit(testing.allocator);
        const enc: Encoder = .init(&out, testing.allocator);
        try enc.bin(data[0..case.len]);
        try testing.expectEqualSlices(u8, case.header, out.items[0..case.header.len]);
        const decoded = try arena.decode(out.items);
        try testing.expectEqualSlices(u8, data[0..case.len], decoded.asBin().?);
        try testing.expectEqual(@as(?[]const u8, null), decoded.asStr());
    }
}

test "array and map headers: fix, 16, 32 boundaries" {
    var arena: TestArena = .init();
    defer arena.deinit();
    try expectEncoded(&.{0x90}, Encoder.arrayHeader, .{@as(u32, 0)});
    try expectEncoded(&.{0x9f}, Encoder.arrayHeader, .{@as(u32, 15)});
    try expectEncoded(&.{ 0xdc, 0x00, 0x10 }, Encoder.arrayHeader, .{@as(u32, 16)});
    try expectEncoded(&.{ 0xdc, 0xff, 0xff }, Encoder.arrayHeader, .{@as(u32, 65535)});
    try expectEncoded(&.{ 0xdd, 0x00, 0x01, 0x00, 0x00 }, Encoder.arrayHeader, .{@as(u32, 65536)});
    try expectEncoded(&.{0x80}, Encoder.mapHeader, .{@as(u32, 0)});
    try expectEncoded(&.{0x8f}, Encoder.mapHeader, .{@as(u32, 15)});
    try expectEncoded(&.{ 0xde, 0x00, 0x10 }, Encoder.mapHeader, .{@as(u32, 16)});
    try expectEncoded(&.{ 0xde, 0xff, 0xff }, Encoder.mapHeader, .{@as(u32, 65535)});
    try expectEncoded(&.{ 0xdf, 0x00, 0x01, 0x00, 0x00 }, Encoder.mapHeader, .{@as(u32, 65536)});

    // Decode each header width with real contents: 16 and 65536 nils; 16 and 65536 entries of 0 → nil.
    for ([_]u32{ 0, 15, 16, 65535, 65536 }) |len| {
        var out: std.ArrayList(u8) = .empty;
        defer out.deinit(testing.allocator);
        const enc: Encoder = .init(&out, testing.allocator);
        try enc.arrayHeader(len);
        for (0..len) |_| try enc.nil();
        const array = (try arena.decode(out.items)).asArray().?;
        try testing.expectEqual(len, array.len);
        for (array) |item| try testing.expectEqual(Value.nil, item);

        out.clearRetainingCapacity();
        try enc.mapHeader(len);
        for (0..len) |_| {
            try enc.uint(0);
            try enc.nil();
        }
        const map = (try arena.decode(out.items)).asMap().?;
        try testing.expectEqual(len, map.len);
    }
}

test "nested values round-trip through the generic encoder; mapGet" {
    var arena: TestArena = .init();
    defer arena.deinit();
    const allocator = arena.state.allocator();
    const inner = try allocator.dupe(Value, &.{ .{ .uint = 1 }, .{ .int = -2 }, .{ .str = "x" }, .nil });
    const entries = try allocator.dupe(Entry, &.{
        .{ .key = .{ .str = "a" }, .value = .{ .array = inner } },
        .{ .key = .{ .str = "b" }, .value = .{ .float = 0.25 } },
        .{ .key = .{ .uint = 3 }, .value = .{ .boolean = true } },
        .{ .key = .{ .str = "b" }, .value = .{ .bin = "shadowed" } },
    });
    const original: Value = .{ .map = entries };
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try Encoder.init(&out, testing.allocator).value(original);
    const decoded = try arena.decode(out.items);
    try testing.expect(original.eql(decoded));
    try testing.expectEqual(@as(f64, 0.25), decoded.mapGet("b").?.asF64().?); // the first "b" wins
    try testing.expectEqual(@as(usize, 4), decoded.mapGet("a").?.asArray().?.len);
    try testing.expectEqual(@as(?Value, null), decoded.mapGet("c"));
    try testing.expectEqual(@as(?Value, null), (Value{ .uint = 1 }).mapGet("a"));
}

test "eql: integers by value across forms, containers in order" {
    try testing.expect((Value{ .int = 5 }).eql(.{ .uint = 5 }));
    try testing.expect((Value{ .uint = 5 }).eql(.{ .int = 5 }));
    try testing.expect(!(Value{ .int = -1 }).eql(.{ .uint = std.math.maxInt(u64) }));
    try testing.expect((Value{ .uint = std.math.maxInt(u64) }).eql(.{ .uint = std.math.maxInt(u64) }));
    try testing.expect(!(Value{ .uint = std.math.maxInt(u64) }).eql(.{ .uint = std.math.maxInt(u64) - 1 }));
    try testing.expect(!(Value{ .uint = 1 }).eql(.{ .float = 1 }));
    try testing.expect(!(Value{ .str = "a" }).eql(.{ .bin = "a" }));
    try testing.expect(!(Value{ .float = std.math.nan(f64) }).eql(.{ .float = std.math.nan(f64) }));
    const ab = [_]Value{ .{ .uint = 1 }, .{ .uint = 2 } };
    const ba = [_]Value{ .{ .uint = 2 }, .{ .uint = 1 } };
    try testing.expect(!(Value{ .array = &ab }).eql(.{ .array = &ba }));
}

test "malformed input: each error" {
    var arena: TestArena = .init();
    defer arena.deinit();
    // Empty input and every truncated fixed-width form.
    try testing.expectError(error.Truncated, arena.decode(&.{}));
    for ([_]u8{ 0xc4, 0xc5, 0xc6, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf }) |tag| {
        try testing.expectError(error.Truncated, arena.decode(&.{tag}));
    }
    try testing.expectError(error.Truncated, arena.decode(&.{ 0xcd, 0x01 }));
    try testing.expectError(error.Truncated, arena.decode(&.{ 0xa3, 'a', 'b' }));
    try testing.expectError(error.Truncated, arena.decode(&.{ 0x92, 0x01 }));
    try testing.expectError(error.Truncated, arena.decode(&.{ 0x81, 0xa1, 'k' }));
    // Declared lengths far beyond the input are refused before allocating (the arena would fail at 4 GiB
    // anyway; a failing allocator proves nothing is allocated).
    const no_alloc = testing.failing_allocator;
    try testing.expectError(error.Truncated, decode(no_alloc, &.{ 0xdd, 0xff, 0xff, 0xff, 0xff }));
    try testing.expectError(error.Truncated, decode(no_alloc, &.{ 0xdf, 0xff, 0xff, 0xff, 0xff }));
    try testing.expectError(error.Truncated, decode(no_alloc, &.{ 0xdb, 0xff, 0xff, 0xff, 0xff }));
    try testing.expectError(error.Truncated, decode(no_alloc, &.{ 0xc6, 0xff, 0xff, 0xff, 0xff }));
    // A map of 2 entries needs 4 bytes at least.
    try testing.expectError(error.Truncated, decode(no_alloc, &.{ 0x82, 0x01, 0x02, 0x03 }));

    try testing.expectError(error.InvalidType, arena.decode(&.{0xc1}));
    for ([_]u8{ 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8 }) |tag| {
        try testing.expectError(error.InvalidType, arena.decode(&.{ tag, 0x01, 0x01, 0x01, 0x01 }));
    }

    try testing.expectError(error.TrailingBytes, arena.decode(&.{ 0x01, 0x02 }));
    try testing.expectError(error.TrailingBytes, arena.decode(&.{ 0x80, 0xc0 }));

    // Depth: 32 nested arrays decode, 33 do not.
    var nested: [depth_max + 1]u8 = undefined;
    @memset(nested[0..depth_max], 0x91);
    nested[depth_max] = 0x90; // the 33rd array, empty
    try testing.expectError(error.TooDeep, arena.decode(&nested));
    nested[depth_max - 1] = 0x90;
    _ = try arena.decode(nested[0..depth_max]);
    var nested_maps: [depth_max * 2 + 1]u8 = undefined;
    for (0..depth_max + 1) |i| {
        if (i < depth_max) {
            nested_maps[2 * i] = 0x81;
            nested_maps[2 * i + 1] = 0x00;
        }
    }
    nested_maps[depth_max * 2] = 0x80;
    try testing.expectError(error.TooDeep, arena.decode(&nested_maps));

    // Out of memory is passed through, not turned into a format error.
    try testing.expectError(error.OutOfMemory, decode(no_alloc, &.{ 0x91, 0x01 }));
}

test "fuzz: random and mutated bytes never crash" {
    var prng = std.Random.DefaultPrng.init(0x5645_0001);
    const random = prng.random();
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();

    // A valid seed message to mutate, so the fuzzer gets past the first byte often.
    var seed: std.ArrayList(u8) = .empty;
    defer seed.deinit(testing.allocator);
    const enc: Encoder = .init(&seed, testing.allocator);
    try enc.mapHeader(3);
    try enc.str("id");
    try enc.uint(300);
    try enc.str("args");
    try enc.arrayHeader(2);
    try enc.float64(-1.5);
    try enc.bin("xyz");
    try enc.str("n");
    try enc.int(-70000);

    var buffer: [96]u8 = undefined;
    var decoded_count: usize = 0;
    for (0..20_000) |round| {
        const bytes: []u8 = if (round % 2 == 0) blk: {
            const len = random.uintLessThan(usize, buffer.len);
            random.bytes(buffer[0..len]);
            break :blk buffer[0..len];
        } else blk: {
            @memcpy(buffer[0..seed.items.len], seed.items);
            const flips = 1 + random.uintLessThan(usize, 4);
            for (0..flips) |_| buffer[random.uintLessThan(usize, seed.items.len)] = random.int(u8);
            const len = random.uintAtMost(usize, seed.items.len);
            break :blk buffer[0..len];
        };
        if (decode(arena_state.allocator(), bytes)) |value| {
            decoded_count += 1;
            // Whatever decodes re-encodes and decodes to the same value.
            var again: std.ArrayList(u8) = .empty;
            defer again.deinit(testing.allocator);
            try Encoder.init(&again, testing.allocator).value(value);
            const value_again = try decode(arena_state.allocator(), again.items);
            try testing.expect(containsNan(value) or value.eql(value_again));
        } else |err| switch (err) {
            error.Truncated, error.InvalidType, error.TooDeep, error.TrailingBytes, error.OverBudget => {},
            error.OutOfMemory => return err,
        }
        _ = arena_state.reset(.retain_capacity);
    }
    try testing.expect(decoded_count > 100);
}

fn containsNan(v: Value) bool {
    return switch (v) {
        .float => |f| std.math.isNan(f),
        .array => |items| for (items) |item| {
            if (containsNan(item)) break true;
        } else false,
        .map => |entries| for (entries) |entry| {
            if (containsNan(entry.key) or containsNan(entry.value)) break true;
        } else false,
        else => false,
    };
}

test "decode: a frame of nils costs at most treeBytesMax, refused before allocating" {
    // 16 MiB of nils in one array32: 24 bytes of tree per input byte would be 400 MiB.
    const count: u32 = 16 * 1024 * 1024 - 5;
    const bytes = try testing.allocator.alloc(u8, 5 + count);
    defer testing.allocator.free(bytes);
    bytes[0] = 0xdd;
    std.mem.writeInt(u32, bytes[1..5], count, .big);
    @memset(bytes[5..], 0xc0);
    // A failing allocator proves nothing is allocated for the refused array.
    try testing.expectError(error.OverBudget, decode(testing.failing_allocator, bytes));

    // Nested small arrays add up against the same budget.
    var counting = std.heap.ArenaAllocator.init(testing.allocator);
    defer counting.deinit();
    const nested = try testing.allocator.alloc(u8, 3 + 65535);
    defer testing.allocator.free(nested);
    nested[0] = 0xdc;
    std.mem.writeInt(u16, nested[1..3], 65535, .big);
    @memset(nested[3..], 0x90); // 65535 empty arrays: 24 bytes each, 1.5 MiB, over 4 × 64 KiB + 1 MiB
    try testing.expectError(error.OverBudget, decode(counting.allocator(), nested));

    // A real request is nowhere near it.
    var arena: TestArena = .init();
    defer arena.deinit();
    const ok = [_]u8{ 0x93, 0xc0, 0xc0, 0xc0 };
    try testing.expectEqual(@as(usize, 3), (try arena.decode(&ok)).array.len);
}
