//! The status `velos_daemon_run` returns across the C ABI (zig/include/velos_core.h), in a file of its own
//! so the daemon can name it without importing the C ABI's root.
pub const Status = enum(i32) {
    ok = 0,
    already_running = 1,
    home_unusable = 2,
    socket_failed = 3,
    invalid_argument = 4,
    internal = 5,
};
