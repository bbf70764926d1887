//! A bounded ring of the most recent bytes of one log stream (stdout or stderr of one app), for LOG_READ and
//! the backlog of LOG_STREAM. Writing past the capacity overwrites the oldest bytes. The storage is
//! allocated on the first write, so an app that never prints costs no resident memory for its rings.
const std = @import("std");
const assert = std.debug.assert;

/// PROTOCOL.md "Logs": the last 64 KiB per stream.
pub const capacity_bytes_default: u32 = 64 * 1024;
/// Shown before a line whose start is no longer in the ring (PROTOCOL.md "Logs").
pub const cut_marker = "[velos: line cut] ";

pub const Ring = struct {
    capacity_bytes: u32 = capacity_bytes_default,
    /// Empty until the first write, then exactly `capacity_bytes` long.
    storage: []u8 = &.{},
    /// Where the next byte goes.
    head: u32 = 0,
    /// Bytes retained, at most `capacity_bytes`; they end just before `head`.
    len: u32 = 0,
    /// Every byte ever written, retained or overwritten.
    bytes_written_total: u64 = 0,
    /// Whether the oldest retained byte begins a line: true until wraparound drops a byte that was not the
    /// end of a line, so `lastLines` knows to drop the partial line at the start.
    oldest_starts_line: bool = true,

    pub fn init(capacity_bytes: u32) Ring {
        assert(capacity_bytes > 0);
        return .{ .capacity_bytes = capacity_bytes };
    }

    pub fn deinit(self: *Ring, allocator: std.mem.Allocator) void {
        allocator.free(self.storage);
        self.* = undefined;
    }

    fn invariants(self: *const Ring) void {
        assert(self.capacity_bytes > 0);
        assert(self.storage.len == 0 or self.storage.len == self.capacity_bytes);
        assert(self.len <= self.storage.len);
        assert(self.head < self.capacity_bytes);
        assert(self.len <= self.bytes_written_total);
        assert(self.oldest_starts_line or self.len < self.bytes_written_total);
    }

    /// The byte at `index` counted from the oldest retained one.
    fn at(self: *const Ring, index: u32) u8 {
        assert(index < self.len);
        return self.storage[(self.oldestIndex() + index) % self.capacity_bytes];
    }

    fn oldestIndex(self: *const Ring) u32 {
        return (self.head + self.capacity_bytes - self.len) % self.capacity_bytes;
    }

    /// Appends `bytes`, overwriting the oldest ones past the capacity. Fails only on the first write, when the
    /// storage is allocated.
    pub fn write(self: *Ring, allocator: std.mem.Allocator, bytes: []const u8) error{OutOfMemory}!void {
        self.invariants();
        defer self.invariants();
        if (bytes.len == 0) return;
        if (self.storage.len == 0) self.storage = try allocator.alloc(u8, self.capacity_bytes);
        const capacity: usize = self.capacity_bytes;

        if (bytes.len >= capacity) {
            // Only the tail of `bytes` survives; the last dropped byte decides whether it begins a line.
            const dropped_last: ?u8 = if (bytes.len > capacity)
                bytes[bytes.len - capacity - 1]
            else if (self.len > 0)
                self.at(self.len - 1)
            else
                null;
            if (dropped_last) |b| self.oldest_starts_line = b == '\n';
            @memcpy(self.storage, bytes[bytes.len - capacity ..]);
            self.head = 0;
            self.len = self.capacity_bytes;
        } else {
            const len_new: usize = self.len + bytes.len;
            if (len_new > capacity) {
                const dropped: u32 = @intCast(len_new - capacity);
                self.oldest_starts_line = self.at(dropped - 1) == '\n';
            }
            const first = @min(bytes.len, capacity - self.head);
            @memcpy(self.storage[self.head..][0..first], bytes[0..first]);
            @memcpy(self.storage[0 .. bytes.len - first], bytes[first..]);
            self.head = @intCast((self.head + bytes.len) % capacity);
            self.len = @intCast(@min(len_new, capacity));
        }
        self.bytes_written_total += bytes.len;
    }

    /// Appends to `out`, oldest first, the last `lines` lines retained: complete lines and a trailing line
    /// without its newline yet. A line whose start was overwritten (longer than what the ring holds, or
    /// partly pushed out by newer lines) is shown as what is left of it after `cut_marker`, never dropped: a
    /// 100 KiB line without a newline reads as the marker and its last 64 KiB.
    pub fn lastLines(self: *const Ring, lines: u32, out: *std.ArrayList(u8), allocator: std.mem.Allocator) error{OutOfMemory}!void {
        self.invariants();
        if (lines == 0 or self.len == 0) return;
        // Walk back from the end counting line starts. The final newline ends the last line, it does not
        // start a new one.
        var end_scan: u32 = self.len;
        if (self.at(self.len - 1) == '\n') end_scan -= 1;
        var start: u32 = 0;
        var found: u32 = 0;
        var index = end_scan;
        const whole = while (index > 0) : (index -= 1) {
            if (self.at(index - 1) == '\n') {
                found += 1;
                if (found == lines) {
                    start = index;
                    break false;
                }
            }
        } else true;
        if (whole and !self.oldest_starts_line) {
            // The walk reached the oldest byte, which is inside a line: that line is one of those asked for.
            // Only its newline left: nothing of its content to show.
            if (self.at(0) == '\n') {
                start = 1;
            } else {
                try out.appendSlice(allocator, cut_marker);
            }
        }
        try self.appendRange(start, self.len, out, allocator);
    }

    /// Appends the retained bytes `[from, to)` (counted from the oldest) in order.
    fn appendRange(self: *const Ring, from: u32, to: u32, out: *std.ArrayList(u8), allocator: std.mem.Allocator) error{OutOfMemory}!void {
        assert(from <= to and to <= self.len);
        if (from == to) return;
        const begin = (self.oldestIndex() + from) % self.capacity_bytes;
        const count = to - from;
        const first = @min(count, self.capacity_bytes - begin);
        try out.ensureUnusedCapacity(allocator, count);
        out.appendSliceAssumeCapacity(self.storage[begin..][0..first]);
        out.appendSliceAssumeCapacity(self.storage[0 .. count - first]);
    }
};

const testing = std.testing;

fn expectLastLines(ring: *const Ring, lines: u32, expected: []const u8) !void {
    var out: std.ArrayList(u8) = .empty;
    defer out.deinit(testing.allocator);
    try ring.lastLines(lines, &out, testing.allocator);
    try testing.expectEqualStrings(expected, out.items);
}

test "no storage until the first write; empty ring reads as nothing" {
    var ring: Ring = .{};
    defer ring.deinit(testing.allocator);
    try testing.expectEqual(@as(usize, 0), ring.storage.len);
    try ring.write(testing.allocator, "");
    try testing.expectEqual(@as(usize, 0), ring.storage.len);
    try expectLastLines(&ring, 10, "");
    try ring.write(testing.allocator, "x");
    try testing.expectEqual(@as(usize, capacity_bytes_default), ring.storage.len);
}

test "lastLines without wraparound: complete and trailing lines" {
    var ring: Ring = .init(64);
    defer ring.deinit(testing.allocator);
    try ring.write(testing.allocator, "one\ntwo\nthr");
    try ring.write(testing.allocator, "ee\nfour");
    try expectLastLines(&ring, 0, "");
    try expectLastLines(&ring, 1, "four");
    try expectLastLines(&ring, 2, "three\nfour");
    try expectLastLines(&ring, 4, "one\ntwo\nthree\nfour");
    try expectLastLines(&ring, 100, "one\ntwo\nthree\nfour");
    try ring.write(testing.allocator, "\n");
    try expectLastLines(&ring, 1, "four\n");
    try expectLastLines(&ring, 3, "two\nthree\nfour\n");
    try testing.expectEqual(@as(u64, 19), ring.bytes_written_total);
    // Empty lines count as lines.
    try ring.write(testing.allocator, "\n\n");
    try expectLastLines(&ring, 2, "\n\n");
    try expectLastLines(&ring, 3, "four\n\n\n");
}

test "wraparound drops the cut line at the start" {
    var ring: Ring = .init(16);
    defer ring.deinit(testing.allocator);
    try ring.write(testing.allocator, "aaaa\nbbbb\ncccc\n"); // 15 bytes
    try ring.write(testing.allocator, "dd\n"); // 18 bytes: "aa" overwritten
    try testing.expectEqual(@as(u32, 16), ring.len);
    try testing.expect(!ring.oldest_starts_line);
    try expectLastLines(&ring, 10, cut_marker ++ "aa\nbbbb\ncccc\ndd\n");
    try expectLastLines(&ring, 4, cut_marker ++ "aa\nbbbb\ncccc\ndd\n");
    try expectLastLines(&ring, 3, "bbbb\ncccc\ndd\n");
    try expectLastLines(&ring, 2, "cccc\ndd\n");
    try ring.write(testing.allocator, "e"); // "aaa" dropped
    try testing.expectEqual(@as(u64, 19), ring.bytes_written_total);
    try expectLastLines(&ring, 10, cut_marker ++ "a\nbbbb\ncccc\ndd\ne");
    try ring.write(testing.allocator, "f"); // "aaaa" dropped: the cut line's "\n" is all that is left of it
    try testing.expect(!ring.oldest_starts_line);
    try expectLastLines(&ring, 10, "bbbb\ncccc\ndd\nef");
    try ring.write(testing.allocator, "g"); // "aaaa\n" dropped: "bbbb" starts exactly at the oldest byte
    try testing.expect(ring.oldest_starts_line);
    try expectLastLines(&ring, 10, "bbbb\ncccc\ndd\nefg");
    try expectLastLines(&ring, 1, "efg");
}

test "lines exactly at the capacity boundary" {
    var ring: Ring = .init(8);
    defer ring.deinit(testing.allocator);
    try ring.write(testing.allocator, "1234567\n"); // exactly full, nothing dropped
    try testing.expect(ring.oldest_starts_line);
    try expectLastLines(&ring, 5, "1234567\n");
    try ring.write(testing.allocator, "abcdefg\n"); // the whole first line dropped, nothing cut
    try testing.expect(ring.oldest_starts_line);
    try expectLastLines(&ring, 5, "abcdefg\n");
    try ring.write(testing.allocator, "xy"); // "ab" dropped
    try testing.expect(!ring.oldest_starts_line);
    try expectLastLines(&ring, 5, cut_marker ++ "cdefg\nxy");
    try expectLastLines(&ring, 1, "xy");
    try ring.write(testing.allocator, "z\n"); // "abcd" dropped; retained "efg\nxyz\n"
    try expectLastLines(&ring, 5, cut_marker ++ "efg\nxyz\n");
    try expectLastLines(&ring, 1, "xyz\n");
    try ring.write(testing.allocator, "0123"); // "abcdefg\n" dropped exactly: retained "xyz\n0123"
    try testing.expect(ring.oldest_starts_line);
    try expectLastLines(&ring, 5, "xyz\n0123");
    try expectLastLines(&ring, 1, "0123");
    try testing.expectEqual(@as(u64, 24), ring.bytes_written_total);
}

test "a single write larger than the capacity keeps its tail" {
    var ring: Ring = .init(8);
    defer ring.deinit(testing.allocator);
    try ring.write(testing.allocator, "x");
    try ring.write(testing.allocator, "0123\n56\n89\nbc"); // 13 bytes, last 8 = "56\n89\nbc", dropped '\n'
    try testing.expectEqual(@as(u32, 8), ring.len);
    try testing.expect(ring.oldest_starts_line);
    try expectLastLines(&ring, 10, "56\n89\nbc");
    try ring.write(testing.allocator, "0123456789"); // last 8 = "23456789", dropped '1'
    try testing.expect(!ring.oldest_starts_line);
    // One cut line and nothing else: its tail, marked.
    try expectLastLines(&ring, 10, cut_marker ++ "23456789");
    try expectLastLines(&ring, 1, cut_marker ++ "23456789");
    try testing.expectEqual(@as(u64, 24), ring.bytes_written_total);
    // A write of exactly the capacity: the previous newest byte ('9') is the last dropped.
    try ring.write(testing.allocator, "ab\ncd\nef");
    try testing.expect(!ring.oldest_starts_line);
    try expectLastLines(&ring, 10, cut_marker ++ "ab\ncd\nef");
    try expectLastLines(&ring, 2, "cd\nef");
    try ring.write(testing.allocator, "\n");
    try ring.write(testing.allocator, "gh\nij\nkl"); // previous newest is '\n': a clean start
    try testing.expect(ring.oldest_starts_line);
    try expectLastLines(&ring, 10, "gh\nij\nkl");
}

test "many small writes across many wraparounds match a reference" {
    var prng = std.Random.DefaultPrng.init(42);
    const random = prng.random();
    var ring: Ring = .init(37);
    defer ring.deinit(testing.allocator);
    var all: std.ArrayList(u8) = .empty;
    defer all.deinit(testing.allocator);
    for (0..2000) |_| {
        var chunk: [50]u8 = undefined;
        const len = random.uintAtMost(usize, chunk.len);
        for (chunk[0..len]) |*b| b.* = if (random.uintLessThan(u8, 5) == 0) '\n' else 'a' + random.uintLessThan(u8, 26);
        try ring.write(testing.allocator, chunk[0..len]);
        try all.appendSlice(testing.allocator, chunk[0..len]);

        const lines = random.uintAtMost(u32, 6);
        var expected = try referenceLastLines(all.items, 37, lines);
        defer expected.deinit(testing.allocator);
        try expectLastLines(&ring, lines, expected.items);
    }
    try testing.expectEqual(@as(u64, all.items.len), ring.bytes_written_total);
}

/// The obvious, slow version of `lastLines` over the whole history.
fn referenceLastLines(all: []const u8, capacity: usize, lines: u32) !std.ArrayList(u8) {
    var result: std.ArrayList(u8) = .empty;
    errdefer result.deinit(testing.allocator);
    const begin = all.len -| capacity;
    var retained = all[begin..];
    // The first piece is the tail of a cut line; one that is only its newline shows nothing.
    var cut = begin > 0 and all[begin - 1] != '\n';
    if (cut and retained.len > 0 and retained[0] == '\n') {
        retained = retained[1..];
        cut = false;
    }
    var pieces: std.ArrayList([]const u8) = .empty;
    defer pieces.deinit(testing.allocator);
    var rest = retained;
    while (rest.len > 0) {
        const end = if (std.mem.indexOfScalar(u8, rest, '\n')) |i| i + 1 else rest.len;
        try pieces.append(testing.allocator, rest[0..end]);
        rest = rest[end..];
    }
    const keep = @min(lines, pieces.items.len);
    if (cut and keep == pieces.items.len and keep > 0) try result.appendSlice(testing.allocator, cut_marker);
    for (pieces.items[pieces.items.len - keep ..]) |piece| try result.appendSlice(testing.allocator, piece);
    return result;
}
