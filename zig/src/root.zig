//! Root of the Velos Zig core: the C ABI exports (see zig/include/velos_core.h) and the test index.
//! SKELETON: the daemon helper replaces the body of velos_daemon_run with the real loop (daemon.zig).
const std = @import("std");

pub const version = "0.1.0";

pub const Status = enum(i32) {
    ok = 0,
    already_running = 1,
    home_unusable = 2,
    socket_failed = 3,
    invalid_argument = 4,
    internal = 5,
};

pub const daemon_detach: u32 = 1;

pub const DaemonResult = extern struct {
    holder_pid: i32,
    message_len: u32,
    message: [512]u8,
};

export fn velos_daemon_run(home: ?[*]const u8, home_len: usize, flags: u32, result: ?*DaemonResult) i32 {
    _ = home;
    _ = home_len;
    _ = flags;
    _ = result;
    return @intFromEnum(Status.internal);
}

export fn velos_core_version() [*:0]const u8 {
    return version;
}

test {
    std.testing.refAllDecls(@This());
    // Pure modules (codec helper).
    _ = @import("msgpack.zig");
    _ = @import("frame.zig");
    _ = @import("protocol.zig");
    _ = @import("ring.zig");
    _ = @import("procfs.zig");
    _ = @import("golden_test.zig");
    // Daemon modules (daemon helper) are added below.
}
