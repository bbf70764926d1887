//! The daemon's diagnostics: one line per event worth knowing, on stderr (daemon.log for a detached daemon),
//! each with an ISO-8601 UTC timestamp; lines about one app's runs within a budget, so a crash loop cannot
//! flood the file.
const std = @import("std");
const sys = @import("sys.zig");
const logs = @import("logs.zig");
const App = @import("app_table.zig").App;

pub fn diag(comptime format: []const u8, args: anytype) void {
    var buffer: [2048]u8 = undefined;
    var writer: std.Io.Writer = .fixed(&buffer);
    writeTimestamp(&writer, sys.realtimeMs()) catch {};
    writer.print(" velos: " ++ format ++ "\n", args) catch {
        // Cut: end the line anyway.
        buffer[buffer.len - 1] = '\n';
        writer.end = buffer.len;
    };
    sys.writeAll(2, writer.buffered()) catch {};
}

const writeTimestamp = logs.writeTimestamp;

/// Lines about one app's runs (started, exited, restart scheduled) per window, so a crash loop cannot
/// fill daemon.log (~40 restarts a second at the restart floor would be ~120 lines a second).
const app_diag_lines_max = 20;
const app_diag_window_ms = 60_000;

/// A diagnostic line about `app`'s runs, within its budget of `app_diag_lines_max` a window; what is left out
/// is counted and said once the next window opens.
pub fn appDiag(app: *App, comptime format: []const u8, args: anytype) void {
    const now_ms = sys.monotonicMs();
    if (app.diag_lines == 0 or now_ms -| app.diag_window_start_ms >= app_diag_window_ms) {
        if (app.diag_suppressed > 0) {
            diag("app {s}: {d} lines about its runs were left out in {d} s (a crash loop?)", .{ app.spec.name, app.diag_suppressed, (now_ms -| app.diag_window_start_ms) / 1000 });
        }
        app.diag_window_start_ms = now_ms;
        app.diag_lines = 0;
        app.diag_suppressed = 0;
    }
    if (app.diag_lines >= app_diag_lines_max) {
        app.diag_suppressed +|= 1;
        return;
    }
    app.diag_lines += 1;
    const last = if (app.diag_lines == app_diag_lines_max) " (more lines about this app's runs are left out for up to 60 s)" else "";
    diag("app {s}: " ++ format ++ "{s}", .{app.spec.name} ++ args ++ .{last});
}

test "timestamps are ISO-8601 UTC with milliseconds" {
    var buffer: [64]u8 = undefined;
    var writer: std.Io.Writer = .fixed(&buffer);
    try writeTimestamp(&writer, 1_700_000_000_123);
    try std.testing.expectEqualStrings("2023-11-14T22:13:20.123Z", writer.buffered());
}
