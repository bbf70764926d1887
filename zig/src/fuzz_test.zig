//! Mutation fuzzing of everything a client's bytes reach before a request is acted on: the frame header
//! (frame.zig), MessagePack (msgpack.zig), request parsing (protocol.zig), and the state-file decoder. Seeds
//! are the golden frames of schemas/ipc/*.hex (every file there, so a new one seeds the fuzzer too); each
//! iteration mutates one (bit flips, byte changes, insertions, deletions, truncation, splices of two seeds,
//! lengths and counts set to extremes) and feeds the result to each decoder.
//!
//! What must hold, whatever the bytes: no panic, no safety check tripped (tests run in Debug), no leak, and
//! no decode allocating more than `msgpack.treeBytesMax` of its input plus a fixed parse overhead.
//!
//! `zig build test` runs `iterations_default` (a few seconds); `make fuzz` runs millions with a seed of
//! its choosing: VELOS_FUZZ_ITERATIONS and VELOS_FUZZ_SEED. A failure prints the seed and iteration, and the
//! input in hex, to replay it.
const std = @import("std");
const frame = @import("frame.zig");
const msgpack = @import("msgpack.zig");
const protocol = @import("protocol.zig");

const testing = std.testing;

const iterations_default = 20_000;
const seed_default: u64 = 0x5645_4c4f_5346_555a; // "VELOSFUZ"
/// What request parsing may allocate beyond the tree: field names of list items ("args[12]"), the copies of
/// `args`/`env` slices and the diagnostic, for at most 256 args and 1024 env entries.
const parse_overhead_bytes = 256 * 1024;

fn envNumber(name: []const u8, default: u64) u64 {
    const text = std.process.getEnvVarOwned(testing.allocator, name) catch return default;
    defer testing.allocator.free(text);
    return std.fmt.parseInt(u64, text, 0) catch default;
}

/// Every `schemas/ipc/*.hex`, as bytes (the same format golden_test.zig reads).
fn loadSeeds(allocator: std.mem.Allocator) ![]const []const u8 {
    var dir = try std.fs.cwd().openDir("schemas/ipc", .{ .iterate = true });
    defer dir.close();
    var seeds: std.ArrayList([]const u8) = .empty;
    var iterator = dir.iterate();
    while (try iterator.next()) |entry| {
        if (!std.mem.endsWith(u8, entry.name, ".hex")) continue;
        const text = try dir.readFileAlloc(allocator, entry.name, 1 << 20);
        var bytes: std.ArrayList(u8) = .empty;
        var lines = std.mem.splitScalar(u8, text, '\n');
        while (lines.next()) |line_with_comment| {
            const line = line_with_comment[0 .. std.mem.indexOfScalar(u8, line_with_comment, '#') orelse line_with_comment.len];
            var tokens = std.mem.tokenizeAny(u8, line, " \t\r");
            while (tokens.next()) |token| try bytes.append(allocator, try std.fmt.parseInt(u8, token, 16));
        }
        try seeds.append(allocator, bytes.items);
    }
    try testing.expect(seeds.items.len >= 10);
    return seeds.items;
}

/// One mutation of `seed` (or a splice with `other`) into `out`.
fn mutate(random: std.Random, seed: []const u8, other: []const u8, out: *std.ArrayList(u8), allocator: std.mem.Allocator) !void {
    out.clearRetainingCapacity();
    try out.appendSlice(allocator, seed);
    const rounds = 1 + random.uintLessThan(u8, 4);
    for (0..rounds) |_| {
        const items = out.items;
        switch (random.uintLessThan(u8, 8)) {
            0 => if (items.len > 0) {
                items[random.uintLessThan(usize, items.len)] ^= @as(u8, 1) << random.int(u3);
            },
            1 => if (items.len > 0) {
                items[random.uintLessThan(usize, items.len)] = random.int(u8);
            },
            2 => try out.insert(allocator, random.uintAtMost(usize, items.len), random.int(u8)),
            3 => if (items.len > 0) {
                _ = out.orderedRemove(random.uintLessThan(usize, items.len));
            },
            4 => out.shrinkRetainingCapacity(random.uintAtMost(usize, items.len)),
            5 => {
                // Splice: our head, the other's tail.
                const cut = random.uintAtMost(usize, items.len);
                const from = random.uintAtMost(usize, other.len);
                out.shrinkRetainingCapacity(cut);
                try out.appendSlice(allocator, other[from..]);
            },
            6 => if (items.len >= 5) {
                // A length or count prefix set to an extreme: 16/32-bit big-endian (msgpack) at a random spot.
                const at = random.uintLessThan(usize, items.len - 4);
                const extreme = [_]u32{ 0, 1, 0x7f, 0xffff, 0x1_0000, 0x00ff_ffff, 0xffff_ffff };
                std.mem.writeInt(u32, items[at..][0..4], extreme[random.uintLessThan(usize, extreme.len)], .big);
            },
            7 => if (items.len >= 7) {
                // The frame header's little-endian length.
                const lengths = [_]u32{ 0, 1, @intCast(items.len - 7), frame.frame_bytes_max, frame.frame_bytes_max + 1, 0xffff_ffff };
                std.mem.writeInt(u32, items[3..7], lengths[random.uintLessThan(usize, lengths.len)], .little);
            },
            else => unreachable,
        }
    }
}

/// An allocator that fails the test when more than `limit` bytes are asked of it in total.
const Budget = struct {
    child: std.mem.Allocator,
    asked: usize = 0,
    limit: usize,

    fn allocator(self: *Budget) std.mem.Allocator {
        return .{ .ptr = self, .vtable = &.{ .alloc = alloc, .resize = resize, .remap = remap, .free = free } };
    }

    fn alloc(context: *anyopaque, len: usize, alignment: std.mem.Alignment, return_address: usize) ?[*]u8 {
        const self: *Budget = @ptrCast(@alignCast(context));
        self.asked += len;
        if (self.asked > self.limit) return null;
        return self.child.rawAlloc(len, alignment, return_address);
    }

    fn resize(context: *anyopaque, memory: []u8, alignment: std.mem.Alignment, new_len: usize, return_address: usize) bool {
        const self: *Budget = @ptrCast(@alignCast(context));
        if (new_len > memory.len) {
            self.asked += new_len - memory.len;
            if (self.asked > self.limit) return false;
        }
        return self.child.rawResize(memory, alignment, new_len, return_address);
    }

    fn remap(context: *anyopaque, memory: []u8, alignment: std.mem.Alignment, new_len: usize, return_address: usize) ?[*]u8 {
        const self: *Budget = @ptrCast(@alignCast(context));
        if (new_len > memory.len) {
            self.asked += new_len - memory.len;
            if (self.asked > self.limit) return null;
        }
        return self.child.rawRemap(memory, alignment, new_len, return_address);
    }

    fn free(context: *anyopaque, memory: []u8, alignment: std.mem.Alignment, return_address: usize) void {
        const self: *Budget = @ptrCast(@alignCast(context));
        self.child.rawFree(memory, alignment, return_address);
    }
};

/// Feeds `bytes` to every decoder; only error values may come back.
fn feed(bytes: []const u8) !void {
    const payload = blk: {
        const header = frame.decodeHeader(bytes) catch break :blk bytes;
        const h = header orelse break :blk bytes;
        const end = @min(bytes.len, frame.header_len + @as(usize, h.payload_len));
        break :blk bytes[frame.header_len..end];
    };
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    // The bound the daemon relies on: a request costs at most treeBytesMax of its size, plus parsing.
    var budget: Budget = .{ .child = arena_state.allocator(), .limit = msgpack.treeBytesMax(payload.len) + parse_overhead_bytes };
    if (protocol.parseRequest(budget.allocator(), payload)) |parsed| switch (parsed) {
        .request, .bad_request => {},
    } else |err| switch (err) {
        error.BadFrame => {},
        // Only a budget overrun makes the arena fail here: the bound was broken.
        error.OutOfMemory => return error.TestDecodeOverBudget,
    }
    _ = protocol.decodeState(arena_state.allocator(), payload) catch {};
}

test "fuzz: mutated golden frames never crash a decoder or pass its memory bound" {
    var seeds_arena = std.heap.ArenaAllocator.init(testing.allocator);
    defer seeds_arena.deinit();
    const seeds = try loadSeeds(seeds_arena.allocator());
    const iterations = envNumber("VELOS_FUZZ_ITERATIONS", iterations_default);
    const seed = envNumber("VELOS_FUZZ_SEED", seed_default);
    var prng = std.Random.DefaultPrng.init(seed);
    const random = prng.random();
    var input: std.ArrayList(u8) = .empty;
    defer input.deinit(testing.allocator);
    // The seeds themselves first.
    for (seeds) |bytes| try feed(bytes);
    var iteration: u64 = 0;
    while (iteration < iterations) : (iteration += 1) {
        const from = seeds[random.uintLessThan(usize, seeds.len)];
        const other = seeds[random.uintLessThan(usize, seeds.len)];
        try mutate(random, from, other, &input, testing.allocator);
        feed(input.items) catch |err| {
            std.debug.print("fuzz: seed 0x{x} iteration {d}: {s}\ninput: {x}\n", .{ seed, iteration, @errorName(err), input.items });
            return err;
        };
    }
}
