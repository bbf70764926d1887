//! The supervision state machine of one app, pure: time is passed in, nothing here forks, signals or reads a
//! clock. Each entry point (a client request, a child's exit, a deadline, the process group found empty)
//! updates the `Machine` and returns the `Effects` the daemon must carry out, in this order: signal the
//! group, then spawn (reporting back with `spawned` / `spawnFailed`), then remove the record.
//!
//!     stopped/errored ──start──► starting ──exec ok──► running ──exit──► (policy) ──► starting | waiting
//!            ▲                                            │                                 | stopped | errored
//!            └──── group empty ◄── stopping ◄──stop───────┘
//!
//! Restart policy, on an exit the daemon did not ask for:
//! - `never` → stopped; `on_failure` with exit code 0 → stopped; otherwise a restart.
//! - Whatever is left of the old process group is SIGKILLed first (no orphan keeps a port).
//! - The first restart after a run is immediate; further consecutive ones wait `backoff_initial_ms`,
//!   doubling up to `backoff_max_ms` (status `waiting`). A run of at least `min_uptime_ms` resets the backoff.
//!   Whatever the spec, restarts in a row are at least `restart_spacing_ms_min` apart.
//! - More than `max_restarts` restarts within one window of `restart_window_ms` → `errored`, no more
//!   restarts. The window opens at the first restart after a quiet period and closes `restart_window_ms`
//!   later (a tumbling window: O(1) state per app however large `max_restarts` is).
//! - `restarts` counts automatic restarts since the last START/RESTART from a client.
//!
//! Memory limit (`max_memory_bytes`, checked by the daemon on each 1 s sample, decided by `overMemoryLimit`):
//! a running app whose process tree is above it is stopped the usual way (kill signal, SIGKILL after the
//! timeout) and started again once its group is empty, whatever its restart policy. It counts as an
//! automatic restart against the same budget; with the budget spent the app ends `errored` instead.
const std = @import("std");
const assert = std.debug.assert;
const protocol = @import("protocol.zig");

pub const RestartPolicy = protocol.RestartPolicy;
pub const Status = protocol.Status;
pub const Spec = protocol.Spec;

/// A spec with every optional field at its default: the one place Policy's defaults come from.
const spec_defaults: Spec = .{ .name = "", .command = "", .cwd = "" };

/// The parts of a spec that drive supervision.
pub const Policy = struct {
    restart: RestartPolicy = spec_defaults.restart,
    max_restarts: u32 = spec_defaults.max_restarts,
    restart_window_ms: u64 = spec_defaults.restart_window_ms,
    backoff_initial_ms: u64 = spec_defaults.backoff_initial_ms,
    backoff_max_ms: u64 = spec_defaults.backoff_max_ms,
    min_uptime_ms: u64 = spec_defaults.min_uptime_ms,
    kill_signal: u8 = spec_defaults.kill_signal,
    kill_timeout_ms: u64 = spec_defaults.kill_timeout_ms,

    pub fn fromSpec(spec: *const Spec) Policy {
        return .{
            .restart = spec.restart,
            .max_restarts = spec.max_restarts,
            .restart_window_ms = spec.restart_window_ms,
            .backoff_initial_ms = spec.backoff_initial_ms,
            .backoff_max_ms = spec.backoff_max_ms,
            .min_uptime_ms = spec.min_uptime_ms,
            .kill_signal = spec.kill_signal,
            .kill_timeout_ms = spec.kill_timeout_ms,
        };
    }
};

pub const Exit = union(enum) {
    code: u8,
    signal: u8,
};

pub const sigkill: u8 = 9;

/// The least time between two automatic restarts in a row (and the least run that counts as "up" for the
/// backoff's reset): a process that dies at once is restarted at most ~40 times a second, whatever its
/// spec's backoff (a 0 ms backoff in a 500 ms window allowed ~1,400 restarts a second at 46 % of a core).
/// Under the 30 ms a run takes in the restart benchmark, so a first restart stays immediate.
pub const restart_spacing_ms_min = 25;

pub const GroupSignal = struct { pgid: i32, signal: u8 };

/// Why the machine changed state on its own: one diagnostic line each.
pub const Note = union(enum) {
    none,
    /// The main process exited and the policy says it stays down.
    exited_for_good,
    restart_now,
    restart_scheduled_ms: u64,
    /// More than max_restarts within the window.
    gave_up,
    /// The stop's grace period ran out: SIGKILL to the group.
    kill_escalated,
    /// The main process is above `max_memory_bytes`: stopping it, to start it again.
    memory_restart,
    /// Above `max_memory_bytes` with the restart budget spent: stopping it, `errored` once its group is empty.
    memory_gave_up,
};

pub const Effects = struct {
    /// First: send this signal to the whole process group.
    signal_group: ?GroupSignal = null,
    /// Then: fork and exec the app, and report with `spawned` or `spawnFailed`.
    spawn: bool = false,
    /// The spawn is an automatic restart, not asked for by a client: the app's `last_error` (e.g. why the
    /// daemon restarted it) is kept. A client's start clears it.
    automatic: bool = false,
    /// A DELETE finished: the record can go.
    remove: bool = false,
    note: Note = .none,
};

/// What to do once a stop has finished (the group is empty).
pub const AfterStop = enum {
    nothing,
    /// A client's START or RESTART: start, with the counters reset.
    start,
    delete,
    /// An automatic restart (memory limit), already counted: start, counters kept.
    restart,
    /// The restart budget is spent (memory limit): `errored`.
    give_up,
};

pub const Machine = struct {
    status: Status = .stopped,
    /// What the clients asked for last (START → true, STOP → false); persisted, so the daemon starts the app
    /// again after its own restart.
    desired_running: bool = false,
    /// The main process; 0 when none runs.
    pid: i32 = 0,
    /// The process group still to be waited for or signalled (the main process leads it); 0 when none.
    pgid: i32 = 0,
    /// When the current process started (ms, monotonic).
    started_ms: u64 = 0,
    /// `waiting`: when the restart is due. `stopping`: when the group gets SIGKILL.
    deadline_ms: ?u64 = null,
    /// `stopping`: SIGKILL was sent already.
    killed: bool = false,
    after_stop: AfterStop = .nothing,
    /// Automatic restarts since the last client START/RESTART.
    restarts: u32 = 0,
    /// Delay before the next restart; 0 = immediate.
    backoff_ms: u64 = 0,
    /// The current restart window: its opening time and the restarts in it.
    window_start_ms: ?u64 = null,
    window_restarts: u32 = 0,
    /// The last exit of the main process.
    exit: ?Exit = null,

    pub fn invariants(machine: *const Machine) void {
        switch (machine.status) {
            .running => assert(machine.pid > 0 and machine.pgid > 0 and machine.deadline_ms == null),
            .starting => assert(machine.pid == 0 and machine.deadline_ms == null),
            .waiting => assert(machine.pid == 0 and machine.deadline_ms != null),
            .stopping => assert(machine.pgid > 0 and (machine.deadline_ms != null) != machine.killed),
            .stopped, .errored, .completed => assert(machine.pid == 0 and machine.pgid == 0 and machine.deadline_ms == null),
        }
        if (machine.after_stop != .nothing) assert(machine.status == .stopping);
    }

    /// A group poll is needed: stopping, the main process reaped, the group not yet known empty.
    pub fn awaitsEmptyGroup(machine: *const Machine) bool {
        return machine.status == .stopping and machine.pid == 0;
    }

    pub fn isLive(machine: *const Machine) bool {
        return machine.pid != 0;
    }

    fn resetCounters(machine: *Machine) void {
        machine.restarts = 0;
        machine.backoff_ms = 0;
        machine.window_start_ms = null;
        machine.window_restarts = 0;
    }

    fn beginSpawn(machine: *Machine, automatic: bool) Effects {
        machine.status = .starting;
        machine.deadline_ms = null;
        return .{ .spawn = true, .automatic = automatic };
    }

    /// Counts one automatic restart against the budget; false (nothing counted) when it is spent: more
    /// than `max_restarts` within the current window.
    fn countRestart(machine: *Machine, policy: Policy, now_ms: u64) bool {
        const window_open = if (machine.window_start_ms) |start_ms| now_ms -| start_ms < policy.restart_window_ms else false;
        if (!window_open) {
            machine.window_start_ms = now_ms;
            machine.window_restarts = 0;
        }
        if (machine.window_restarts >= policy.max_restarts) return false;
        machine.window_restarts += 1;
        machine.restarts +|= 1;
        return true;
    }

    /// START from a client (or the daemon restoring an app that was running): a running app is left alone.
    pub fn start(machine: *Machine, now_ms: u64) Effects {
        _ = now_ms;
        machine.invariants();
        defer machine.invariants();
        machine.desired_running = true;
        switch (machine.status) {
            .running, .starting => return .{},
            .stopping => {
                assert(machine.after_stop != .delete); // the daemon refuses START of an app being deleted
                machine.after_stop = .start;
                return .{};
            },
            .waiting, .stopped, .errored, .completed => {
                machine.resetCounters();
                return machine.beginSpawn(false);
            },
        }
    }

    /// RESTART from a client: stop (kill signal, grace period), then start a new process.
    pub fn restart(machine: *Machine, policy: Policy, now_ms: u64) Effects {
        machine.invariants();
        switch (machine.status) {
            .running, .starting => {
                var effects = machine.stop(policy, now_ms, .{});
                machine.desired_running = true;
                machine.after_stop = .start;
                effects.note = .none;
                machine.invariants();
                return effects;
            },
            .stopping => {
                assert(machine.after_stop != .delete);
                machine.desired_running = true;
                machine.after_stop = .start;
                return .{};
            },
            .waiting, .stopped, .errored, .completed => return machine.start(now_ms),
        }
    }

    /// A replacing START with `autostart = false`: the new spec takes over and the run state stays. An app
    /// that runs, or is about to (waiting, or stopping to start again), is restarted so the new spec takes
    /// effect; a stopped or errored one, or one a client is stopping, stays as it is.
    pub fn restartIfActive(machine: *Machine, policy: Policy, now_ms: u64) Effects {
        machine.invariants();
        return switch (machine.status) {
            .running, .starting, .waiting => machine.restart(policy, now_ms),
            .stopping => if (machine.after_stop == .start or machine.after_stop == .restart) machine.restart(policy, now_ms) else .{},
            .stopped, .errored, .completed => .{},
        };
    }

    pub const StopOptions = struct {
        /// Daemon shutdown: stop the process but keep `desired_running`, so it comes back with the daemon.
        keep_desired: bool = false,
    };

    /// STOP from a client, or the daemon shutting down: `kill_signal` to the group, SIGKILL after
    /// `kill_timeout_ms`; `stopped` once the group is empty. A pending restart is cancelled.
    pub fn stop(machine: *Machine, policy: Policy, now_ms: u64, options: StopOptions) Effects {
        machine.invariants();
        defer machine.invariants();
        if (!options.keep_desired) machine.desired_running = false;
        switch (machine.after_stop) {
            .start, .restart, .give_up => machine.after_stop = .nothing,
            .nothing, .delete => {},
        }
        switch (machine.status) {
            .running, .starting => {
                assert(machine.pgid > 0);
                machine.status = .stopping;
                machine.killed = false;
                machine.deadline_ms = now_ms +| policy.kill_timeout_ms;
                return .{ .signal_group = .{ .pgid = machine.pgid, .signal = policy.kill_signal } };
            },
            .waiting => {
                machine.deadline_ms = null;
                machine.status = .stopped;
                return .{};
            },
            .stopping => return .{},
            .stopped => return .{},
            .errored, .completed => {
                if (!options.keep_desired) machine.status = .stopped;
                return .{};
            },
        }
    }

    /// DELETE from a client: stop, and remove the record once the group is empty.
    pub fn delete(machine: *Machine, policy: Policy, now_ms: u64) Effects {
        var effects = machine.stop(policy, now_ms, .{});
        if (machine.status == .stopping) {
            machine.after_stop = .delete;
        } else {
            effects.remove = true;
        }
        machine.invariants();
        return effects;
    }

    /// The exec succeeded: `pid` runs, leading its own process group.
    pub fn spawned(machine: *Machine, pid: i32, now_ms: u64) void {
        assert(machine.status == .starting);
        assert(pid > 0);
        machine.status = .running;
        machine.pid = pid;
        machine.pgid = pid;
        machine.started_ms = now_ms;
        machine.invariants();
    }

    /// The program could not be executed: errored at once, no restart loop.
    pub fn spawnFailed(machine: *Machine) void {
        assert(machine.status == .starting);
        machine.status = .errored;
        machine.invariants();
    }

    /// The main process exited (reaped).
    pub fn exited(machine: *Machine, policy: Policy, exit: Exit, now_ms: u64) Effects {
        machine.invariants();
        defer machine.invariants();
        assert(machine.pid > 0);
        machine.pid = 0;
        machine.exit = exit;
        if (machine.status == .stopping) return .{}; // the daemon now polls the group until it is empty
        assert(machine.status == .running);

        // Nothing of the old run may survive it, whether or not a new one starts.
        const effects_kill: ?GroupSignal = .{ .pgid = machine.pgid, .signal = sigkill };
        machine.pgid = 0;

        const wanted = switch (policy.restart) {
            .always => true,
            .on_failure => !(exit == .code and exit.code == 0),
            .never => false,
        };
        if (!wanted) {
            // Finished: kept across daemon restarts and never started again on its own (a job runs once).
            machine.status = .completed;
            return .{ .signal_group = effects_kill, .note = .exited_for_good };
        }

        if (!machine.countRestart(policy, now_ms)) {
            machine.status = .errored;
            return .{ .signal_group = effects_kill, .note = .gave_up };
        }

        // The floor: a run shorter than `restart_spacing_ms_min` never resets the backoff, and a restart
        // in a row never waits less than it, whatever the spec says (0 ms backoff, 0 ms min_uptime).
        if (now_ms -| machine.started_ms >= @max(policy.min_uptime_ms, restart_spacing_ms_min)) machine.backoff_ms = 0;
        const delay_ms = machine.backoff_ms;
        machine.backoff_ms = if (delay_ms == 0)
            @max(policy.backoff_initial_ms, restart_spacing_ms_min)
        else
            @min(delay_ms *| 2, @max(policy.backoff_max_ms, policy.backoff_initial_ms, restart_spacing_ms_min));
        if (delay_ms == 0) {
            var effects = machine.beginSpawn(true);
            effects.signal_group = effects_kill;
            effects.note = .restart_now;
            return effects;
        }
        machine.status = .waiting;
        machine.deadline_ms = now_ms +| delay_ms;
        return .{ .signal_group = effects_kill, .note = .{ .restart_scheduled_ms = delay_ms } };
    }

    /// The deadline passed: a waiting restart is due, or a stop's grace period is over.
    pub fn deadlineReached(machine: *Machine, now_ms: u64) Effects {
        machine.invariants();
        defer machine.invariants();
        const deadline_ms = machine.deadline_ms orelse return .{};
        if (now_ms < deadline_ms) return .{};
        switch (machine.status) {
            .waiting => return machine.beginSpawn(true),
            .stopping => {
                machine.deadline_ms = null;
                machine.killed = true;
                return .{ .signal_group = .{ .pgid = machine.pgid, .signal = sigkill }, .note = .kill_escalated };
            },
            else => unreachable,
        }
    }

    /// While stopping, the main process reaped: the group has no member left.
    pub fn groupEmpty(machine: *Machine, now_ms: u64) Effects {
        machine.invariants();
        defer machine.invariants();
        assert(machine.awaitsEmptyGroup());
        machine.status = .stopped;
        machine.pgid = 0;
        machine.deadline_ms = null;
        machine.killed = false;
        const after = machine.after_stop;
        machine.after_stop = .nothing;
        switch (after) {
            .nothing => return .{},
            .delete => return .{ .remove = true },
            .start => return machine.start(now_ms),
            .restart => return machine.beginSpawn(true),
            .give_up => {
                machine.status = .errored;
                return .{};
            },
        }
    }

    /// The main process is above `max_memory_bytes` (see `overMemoryLimit`): stop it the usual way, then
    /// start it again once its group is empty — an automatic restart, counted against the budget; with the
    /// budget spent it ends `errored` instead. `desired_running` is kept either way.
    pub fn memoryExceeded(machine: *Machine, policy: Policy, now_ms: u64) Effects {
        assert(machine.status == .running);
        const within_budget = machine.countRestart(policy, now_ms);
        var effects = machine.stop(policy, now_ms, .{ .keep_desired = true });
        machine.after_stop = if (within_budget) .restart else .give_up;
        effects.note = if (within_budget) .memory_restart else .memory_gave_up;
        machine.invariants();
        return effects;
    }

    /// Restored from the state file: the app is known, no process runs. One that had finished or given up
    /// keeps that outcome (and is not started again until a client asks).
    pub fn restored(desired_running: bool, saved_outcome: ?protocol.Outcome) Machine {
        const status: Status = if (saved_outcome) |finished| switch (finished) {
            .completed => .completed,
            .errored => .errored,
        } else .stopped;
        return .{ .desired_running = desired_running, .status = status };
    }

    /// What the state file keeps of the status: a finished or given-up run.
    pub fn outcome(machine: *const Machine) ?protocol.Outcome {
        return switch (machine.status) {
            .completed => .completed,
            .errored => .errored,
            else => null,
        };
    }

    /// Whether the daemon starts the app when it restores its table: wanted running and not finished.
    pub fn startsOnRestore(machine: *const Machine) bool {
        return machine.desired_running and machine.outcome() == null;
    }
};

/// Whether a sample of `memory_bytes` (resident, main process) calls for a memory restart: a limit is set
/// (`max_memory_bytes` > 0), the process runs (not already stopping) and it is above the limit.
pub fn overMemoryLimit(status: Status, memory_bytes: u64, max_memory_bytes: u64) bool {
    return max_memory_bytes > 0 and status == .running and memory_bytes > max_memory_bytes;
}

// ---------------------------------------------------------------------------------------------------------

const testing = std.testing;

/// Drives a machine like the daemon does: spawns succeed with increasing pids.
const Harness = struct {
    machine: Machine = .{},
    policy: Policy = .{},
    now_ms: u64 = 1_000_000,
    next_pid: i32 = 100,
    spawns: u32 = 0,
    signals_buffer: [64]GroupSignal = undefined,
    signals: std.ArrayList(GroupSignal) = .empty,

    fn apply(harness: *Harness, effects: Effects) !Effects {
        if (effects.signal_group) |signal| {
            if (harness.signals.capacity == 0) harness.signals = .initBuffer(&harness.signals_buffer);
            try harness.signals.appendBounded(signal);
        }
        if (effects.spawn) {
            harness.spawns += 1;
            harness.machine.spawned(harness.next_pid, harness.now_ms);
            harness.next_pid += 1;
        }
        return effects;
    }

    fn start(harness: *Harness) !Effects {
        return harness.apply(harness.machine.start(harness.now_ms));
    }

    fn exit(harness: *Harness, exit_value: Exit) !Effects {
        return harness.apply(harness.machine.exited(harness.policy, exit_value, harness.now_ms));
    }

    fn advance(harness: *Harness, ms: u64) !Effects {
        harness.now_ms += ms;
        return harness.apply(harness.machine.deadlineReached(harness.now_ms));
    }

    /// Runs the app for `run_ms` then crashes it; returns the delay before the restart (0 = immediate).
    fn crashAfter(harness: *Harness, run_ms: u64) !?u64 {
        harness.now_ms += run_ms;
        const effects = try harness.exit(.{ .code = 1 });
        return switch (effects.note) {
            .restart_now => 0,
            .restart_scheduled_ms => |ms| ms,
            else => null,
        };
    }
};

test "start spawns; a running app is left alone by another start" {
    var harness: Harness = .{};
    const effects = try harness.start();
    try testing.expect(effects.spawn);
    try testing.expectEqual(Status.running, harness.machine.status);
    try testing.expectEqual(@as(i32, 100), harness.machine.pid);
    try testing.expectEqual(@as(i32, 100), harness.machine.pgid);
    try testing.expect(harness.machine.desired_running);
    const again = try harness.start();
    try testing.expect(!again.spawn);
    try testing.expectEqual(@as(u32, 1), harness.spawns);
}

test "restart policy: never, on_failure, always" {
    {
        var harness: Harness = .{ .policy = .{ .restart = .never } };
        _ = try harness.start();
        const effects = try harness.exit(.{ .code = 1 });
        try testing.expectEqual(Status.completed, harness.machine.status);
        try testing.expect(!effects.spawn);
        // The rest of its group is killed all the same.
        try testing.expectEqual(GroupSignal{ .pgid = 100, .signal = sigkill }, effects.signal_group.?);
        try testing.expectEqual(Exit{ .code = 1 }, harness.machine.exit.?);
        try testing.expect(harness.machine.desired_running);
    }
    {
        var harness: Harness = .{ .policy = .{ .restart = .on_failure } };
        _ = try harness.start();
        _ = try harness.exit(.{ .code = 0 });
        try testing.expectEqual(Status.completed, harness.machine.status);
        _ = try harness.start();
        const effects = try harness.exit(.{ .signal = 9 });
        try testing.expect(effects.spawn);
        try testing.expectEqual(Status.running, harness.machine.status);
        _ = try harness.exit(.{ .code = 2 });
        try testing.expectEqual(Status.waiting, harness.machine.status);
    }
    {
        var harness: Harness = .{ .policy = .{ .restart = .always } };
        _ = try harness.start();
        const effects = try harness.exit(.{ .code = 0 });
        try testing.expect(effects.spawn);
        try testing.expectEqual(@as(u32, 1), harness.machine.restarts);
        try testing.expectEqual(@as(i32, 101), harness.machine.pid);
    }
}

test "backoff: first restart immediate, then initial doubling to max, reset by a long run" {
    var harness: Harness = .{ .policy = .{
        .restart = .always,
        .backoff_initial_ms = 100,
        .backoff_max_ms = 1000,
        .min_uptime_ms = 1000,
        .max_restarts = 1000,
        .restart_window_ms = 1_000_000_000,
    } };
    _ = try harness.start();
    const expected = [_]u64{ 0, 100, 200, 400, 800, 1000, 1000 };
    for (expected) |delay_expected| {
        const delay = (try harness.crashAfter(10)).?;
        try testing.expectEqual(delay_expected, delay);
        if (delay > 0) {
            try testing.expectEqual(Status.waiting, harness.machine.status);
            try testing.expectEqual(@as(i32, 0), harness.machine.pid);
            // Not a millisecond early.
            _ = try harness.advance(delay - 1);
            try testing.expectEqual(Status.waiting, harness.machine.status);
            const effects = try harness.advance(1);
            try testing.expect(effects.spawn);
        }
        try testing.expectEqual(Status.running, harness.machine.status);
    }
    try testing.expectEqual(@as(u32, expected.len), harness.machine.restarts);
    // A run of min_uptime resets it: immediate again, then the initial delay.
    try testing.expectEqual(@as(?u64, 0), try harness.crashAfter(1000));
    try testing.expectEqual(@as(?u64, 100), try harness.crashAfter(10));
}

test "every restart first kills what is left of the old group" {
    var harness: Harness = .{ .policy = .{ .restart = .always } };
    _ = try harness.start();
    _ = try harness.crashAfter(5000);
    try testing.expectEqual(@as(usize, 1), harness.signals.items.len);
    try testing.expectEqual(GroupSignal{ .pgid = 100, .signal = sigkill }, harness.signals.items[0]);
    try testing.expectEqual(@as(i32, 101), harness.machine.pgid);
}

test "more than max_restarts within the window → errored, no further restart" {
    var harness: Harness = .{ .policy = .{
        .restart = .always,
        .max_restarts = 3,
        .restart_window_ms = 10_000,
        .backoff_initial_ms = 0,
        .min_uptime_ms = 1,
    } };
    _ = try harness.start();
    for (0..3) |_| try testing.expectEqual(@as(?u64, 0), try harness.crashAfter(100));
    try testing.expectEqual(@as(u32, 3), harness.machine.restarts);
    const effects = try harness.exit(.{ .code = 1 });
    try testing.expectEqual(Note.gave_up, effects.note);
    try testing.expectEqual(Status.errored, harness.machine.status);
    try testing.expect(!effects.spawn);
    try testing.expectEqual(@as(i32, 0), harness.machine.pgid);
    try testing.expectEqual(@as(?u64, null), harness.machine.deadline_ms);
    try testing.expectEqual(@as(u32, 4), harness.spawns);

    // A client START clears the counters and tries again.
    _ = try harness.start();
    try testing.expectEqual(Status.running, harness.machine.status);
    try testing.expectEqual(@as(u32, 0), harness.machine.restarts);
}

test "restarts spread over more than the window never give up" {
    var harness: Harness = .{ .policy = .{
        .restart = .always,
        .max_restarts = 2,
        .restart_window_ms = 1000,
        .min_uptime_ms = 100,
    } };
    _ = try harness.start();
    for (0..20) |_| try testing.expectEqual(@as(?u64, 0), try harness.crashAfter(600));
    try testing.expectEqual(Status.running, harness.machine.status);
    try testing.expectEqual(@as(u32, 20), harness.machine.restarts);
}

test "stop: kill signal to the group, SIGKILL after the timeout, stopped only when the group is empty" {
    var harness: Harness = .{ .policy = .{ .kill_signal = 2, .kill_timeout_ms = 3000 } };
    _ = try harness.start();
    const effects = harness.machine.stop(harness.policy, harness.now_ms, .{});
    try testing.expectEqual(GroupSignal{ .pgid = 100, .signal = 2 }, effects.signal_group.?);
    try testing.expectEqual(Status.stopping, harness.machine.status);
    try testing.expect(!harness.machine.desired_running);

    // The main process exits at once, a grandchild in its group lives on.
    _ = try harness.exit(.{ .signal = 2 });
    try testing.expectEqual(Status.stopping, harness.machine.status);
    try testing.expect(harness.machine.awaitsEmptyGroup());
    try testing.expectEqual(Exit{ .signal = 2 }, harness.machine.exit.?);

    try testing.expectEqual(@as(?GroupSignal, null), (try harness.advance(2999)).signal_group);
    const escalation = try harness.advance(1);
    try testing.expectEqual(GroupSignal{ .pgid = 100, .signal = sigkill }, escalation.signal_group.?);
    try testing.expectEqual(Note.kill_escalated, escalation.note);
    try testing.expectEqual(Status.stopping, harness.machine.status);
    try testing.expectEqual(@as(?u64, null), harness.machine.deadline_ms);

    _ = harness.machine.groupEmpty(harness.now_ms);
    try testing.expectEqual(Status.stopped, harness.machine.status);
    try testing.expectEqual(@as(i32, 0), harness.machine.pgid);
    // No restart: the exit was asked for.
    try testing.expectEqual(@as(u32, 1), harness.spawns);
}

test "stop of a waiting app cancels the pending restart" {
    var harness: Harness = .{ .policy = .{ .restart = .always } };
    _ = try harness.start();
    _ = try harness.crashAfter(10);
    _ = try harness.crashAfter(10);
    try testing.expectEqual(Status.waiting, harness.machine.status);
    _ = harness.machine.stop(harness.policy, harness.now_ms, .{});
    try testing.expectEqual(Status.stopped, harness.machine.status);
    const later = try harness.advance(100_000);
    try testing.expect(!later.spawn);
    try testing.expectEqual(@as(u32, 2), harness.spawns);
}

test "restart = stop then start, with the counter reset" {
    var harness: Harness = .{ .policy = .{ .restart = .always } };
    _ = try harness.start();
    _ = try harness.crashAfter(10);
    try testing.expectEqual(@as(u32, 1), harness.machine.restarts);
    const effects = harness.machine.restart(harness.policy, harness.now_ms);
    try testing.expectEqual(GroupSignal{ .pgid = 101, .signal = 15 }, effects.signal_group.?);
    try testing.expectEqual(Status.stopping, harness.machine.status);
    _ = try harness.exit(.{ .signal = 15 });
    try testing.expectEqual(Status.stopping, harness.machine.status); // no automatic restart while stopping
    const after = try harness.apply(harness.machine.groupEmpty(harness.now_ms));
    try testing.expect(after.spawn);
    try testing.expectEqual(Status.running, harness.machine.status);
    try testing.expectEqual(@as(i32, 102), harness.machine.pid);
    try testing.expectEqual(@as(u32, 0), harness.machine.restarts);
    try testing.expect(harness.machine.desired_running);
}

test "a stop during a restart's stop cancels the start; a start during a stop queues it" {
    var harness: Harness = .{};
    _ = try harness.start();
    _ = harness.machine.restart(harness.policy, harness.now_ms);
    _ = harness.machine.stop(harness.policy, harness.now_ms, .{});
    _ = try harness.exit(.{ .signal = 15 });
    try testing.expect(!(try harness.apply(harness.machine.groupEmpty(harness.now_ms))).spawn);
    try testing.expectEqual(Status.stopped, harness.machine.status);

    _ = try harness.start();
    _ = harness.machine.stop(harness.policy, harness.now_ms, .{});
    _ = try harness.start();
    try testing.expectEqual(AfterStop.start, harness.machine.after_stop);
    _ = try harness.exit(.{ .signal = 15 });
    try testing.expect((try harness.apply(harness.machine.groupEmpty(harness.now_ms))).spawn);
    try testing.expectEqual(Status.running, harness.machine.status);
}

test "delete: removed at once when stopped, after the stop otherwise" {
    var harness: Harness = .{};
    try testing.expect(harness.machine.delete(harness.policy, harness.now_ms).remove);

    _ = try harness.start();
    const effects = harness.machine.delete(harness.policy, harness.now_ms);
    try testing.expect(!effects.remove);
    try testing.expect(effects.signal_group != null);
    try testing.expectEqual(Status.stopping, harness.machine.status);
    _ = try harness.exit(.{ .code = 0 });
    try testing.expect(harness.machine.groupEmpty(harness.now_ms).remove);
}

test "shutdown stop keeps the desired state" {
    var harness: Harness = .{};
    _ = try harness.start();
    _ = harness.machine.stop(harness.policy, harness.now_ms, .{ .keep_desired = true });
    try testing.expect(harness.machine.desired_running);
    try testing.expectEqual(Status.stopping, harness.machine.status);
}

test "spawn failure: errored at once, no restart" {
    var harness: Harness = .{ .policy = .{ .restart = .always } };
    const effects = harness.machine.start(harness.now_ms);
    try testing.expect(effects.spawn);
    harness.machine.spawnFailed();
    try testing.expectEqual(Status.errored, harness.machine.status);
    try testing.expect(!(try harness.advance(60_000)).spawn);
    try testing.expectEqual(@as(?u64, null), harness.machine.deadline_ms);
}

test "overMemoryLimit: only a running process above a set limit" {
    try testing.expect(overMemoryLimit(.running, 600 << 20, 512 << 20));
    try testing.expect(!overMemoryLimit(.running, 512 << 20, 512 << 20)); // at the limit is fine
    try testing.expect(!overMemoryLimit(.running, 600 << 20, 0)); // no limit
    try testing.expect(!overMemoryLimit(.stopping, 600 << 20, 512 << 20)); // already being restarted
    try testing.expect(!overMemoryLimit(.waiting, 600 << 20, 512 << 20));
}

test "memory restart: stop with the kill signal, start again once the group is empty, counted" {
    var harness: Harness = .{ .policy = .{ .restart = .never, .kill_signal = 2, .kill_timeout_ms = 3000 } };
    _ = try harness.start();
    const effects = harness.machine.memoryExceeded(harness.policy, harness.now_ms);
    try testing.expectEqual(Note.memory_restart, effects.note);
    try testing.expectEqual(GroupSignal{ .pgid = 100, .signal = 2 }, effects.signal_group.?);
    try testing.expect(!effects.spawn);
    try testing.expectEqual(Status.stopping, harness.machine.status);
    try testing.expectEqual(@as(u32, 1), harness.machine.restarts);
    try testing.expect(harness.machine.desired_running);

    // It ignores SIGINT: SIGKILL after the timeout, as for any stop.
    const escalation = try harness.advance(3000);
    try testing.expectEqual(GroupSignal{ .pgid = 100, .signal = sigkill }, escalation.signal_group.?);
    _ = try harness.exit(.{ .signal = 9 });
    try testing.expectEqual(Status.stopping, harness.machine.status); // no policy restart while stopping
    const after = try harness.apply(harness.machine.groupEmpty(harness.now_ms));
    try testing.expect(after.spawn);
    try testing.expect(after.automatic); // last_error (why) is kept
    try testing.expectEqual(Status.running, harness.machine.status);
    try testing.expectEqual(@as(i32, 101), harness.machine.pid);
    // Counted, not reset as a client start would.
    try testing.expectEqual(@as(u32, 1), harness.machine.restarts);
}

test "memory restart with the budget spent: errored once the group is empty" {
    var harness: Harness = .{ .policy = .{
        .restart = .always,
        .max_restarts = 2,
        .restart_window_ms = 10_000,
        .backoff_initial_ms = 0,
    } };
    _ = try harness.start();
    for (0..2) |_| {
        try testing.expectEqual(Note.memory_restart, harness.machine.memoryExceeded(harness.policy, harness.now_ms).note);
        _ = try harness.exit(.{ .signal = 15 });
        try testing.expect((try harness.apply(harness.machine.groupEmpty(harness.now_ms))).spawn);
        harness.now_ms += 1000;
    }
    try testing.expectEqual(@as(u32, 2), harness.machine.restarts);
    const effects = harness.machine.memoryExceeded(harness.policy, harness.now_ms);
    try testing.expectEqual(Note.memory_gave_up, effects.note);
    try testing.expectEqual(GroupSignal{ .pgid = 102, .signal = 15 }, effects.signal_group.?);
    _ = try harness.exit(.{ .signal = 15 });
    const after = try harness.apply(harness.machine.groupEmpty(harness.now_ms));
    try testing.expect(!after.spawn);
    try testing.expectEqual(Status.errored, harness.machine.status);
    try testing.expectEqual(@as(u32, 2), harness.machine.restarts);
    try testing.expectEqual(@as(u32, 3), harness.spawns);
    // A client start clears the counters, as after any give-up.
    _ = try harness.start();
    try testing.expectEqual(@as(u32, 0), harness.machine.restarts);
}

test "a client stop during a memory restart wins; a client start during it resets the counters" {
    var harness: Harness = .{};
    _ = try harness.start();
    _ = harness.machine.memoryExceeded(harness.policy, harness.now_ms);
    _ = harness.machine.stop(harness.policy, harness.now_ms, .{});
    _ = try harness.exit(.{ .signal = 15 });
    try testing.expect(!(try harness.apply(harness.machine.groupEmpty(harness.now_ms))).spawn);
    try testing.expectEqual(Status.stopped, harness.machine.status);
    try testing.expect(!harness.machine.desired_running);

    _ = try harness.start();
    _ = harness.machine.memoryExceeded(harness.policy, harness.now_ms);
    try testing.expectEqual(@as(u32, 1), harness.machine.restarts);
    _ = try harness.start();
    try testing.expectEqual(AfterStop.start, harness.machine.after_stop);
    _ = try harness.exit(.{ .signal = 15 });
    const after = try harness.apply(harness.machine.groupEmpty(harness.now_ms));
    try testing.expect(after.spawn and !after.automatic);
    try testing.expectEqual(@as(u32, 0), harness.machine.restarts);
}

test "restartIfActive: a running app restarts, a stopped, errored or stopping one keeps its state" {
    {
        var harness: Harness = .{};
        _ = try harness.start();
        const effects = harness.machine.restartIfActive(harness.policy, harness.now_ms);
        try testing.expectEqual(GroupSignal{ .pgid = 100, .signal = 15 }, effects.signal_group.?);
        try testing.expectEqual(AfterStop.start, harness.machine.after_stop);
    }
    {
        var harness: Harness = .{};
        const effects = harness.machine.restartIfActive(harness.policy, harness.now_ms);
        try testing.expect(!effects.spawn);
        try testing.expectEqual(Status.stopped, harness.machine.status);
        try testing.expect(!harness.machine.desired_running);
    }
    {
        var harness: Harness = .{ .policy = .{ .restart = .always, .max_restarts = 0 } };
        _ = try harness.start();
        try testing.expectEqual(Note.gave_up, (try harness.exit(.{ .code = 1 })).note);
        try testing.expect(!harness.machine.restartIfActive(harness.policy, harness.now_ms).spawn);
        try testing.expectEqual(Status.errored, harness.machine.status);
    }
    {
        var harness: Harness = .{};
        _ = try harness.start();
        _ = harness.machine.stop(harness.policy, harness.now_ms, .{});
        _ = harness.machine.restartIfActive(harness.policy, harness.now_ms);
        try testing.expectEqual(AfterStop.nothing, harness.machine.after_stop);
        try testing.expect(!harness.machine.desired_running);
    }
    {
        var harness: Harness = .{ .policy = .{ .restart = .always } };
        _ = try harness.start();
        _ = try harness.crashAfter(10);
        _ = try harness.crashAfter(10);
        try testing.expectEqual(Status.waiting, harness.machine.status);
        const effects = try harness.apply(harness.machine.restartIfActive(harness.policy, harness.now_ms));
        try testing.expect(effects.spawn);
        try testing.expectEqual(Status.running, harness.machine.status);
    }
}

test "durations at the top of their range saturate instead of overflowing" {
    const huge = std.math.maxInt(u64);
    // kill_timeout = "18446744073709551615ms": a stop's deadline is the end of time, not a panic.
    var stopping: Harness = .{ .policy = .{ .kill_timeout_ms = huge } };
    _ = try stopping.start();
    _ = stopping.machine.stop(stopping.policy, stopping.now_ms, .{});
    try testing.expectEqual(@as(?u64, huge), stopping.machine.deadline_ms);
    try testing.expect((try stopping.advance(1_000_000)).signal_group == null); // never escalates early
    // A huge backoff.initial at the second restart in a row.
    var crashing: Harness = .{ .policy = .{ .restart = .always, .backoff_initial_ms = huge, .backoff_max_ms = huge } };
    _ = try crashing.start();
    try testing.expectEqual(@as(?u64, 0), try crashing.crashAfter(10));
    try testing.expectEqual(@as(?u64, huge), try crashing.crashAfter(10));
    try testing.expectEqual(@as(?u64, huge), crashing.machine.deadline_ms);
    try testing.expectEqual(Status.waiting, crashing.machine.status);
}

test "completed and errored are kept by the state file's outcome and not started on restore" {
    var harness: Harness = .{ .policy = .{ .restart = .on_failure } };
    _ = try harness.start();
    _ = try harness.exit(.{ .code = 0 });
    try testing.expectEqual(@as(?protocol.Outcome, .completed), harness.machine.outcome());
    try testing.expect(harness.machine.desired_running);

    // The daemon restarts: the job is known as completed and is not run again.
    var restored = Machine.restored(true, harness.machine.outcome());
    try testing.expectEqual(Status.completed, restored.status);
    try testing.expect(!restored.startsOnRestore());
    try testing.expect(Machine.restored(true, null).startsOnRestore());
    try testing.expect(!Machine.restored(false, null).startsOnRestore());
    const errored = Machine.restored(true, .errored);
    try testing.expectEqual(Status.errored, errored.status);
    try testing.expect(!errored.startsOnRestore());

    // A shutdown stop keeps it; a client's start runs it again; a client's stop makes it stopped.
    _ = restored.stop(.{}, 0, .{ .keep_desired = true });
    try testing.expectEqual(Status.completed, restored.status);
    try testing.expect(restored.start(0).spawn);
    var stopped = Machine.restored(true, .completed);
    _ = stopped.stop(.{}, 0, .{});
    try testing.expectEqual(Status.stopped, stopped.status);
}

test "a crash loop with no backoff is still spaced by the floor" {
    var harness: Harness = .{ .policy = .{
        .restart = .always,
        .backoff_initial_ms = 0,
        .backoff_max_ms = 0,
        .min_uptime_ms = 0,
        .max_restarts = 1000,
        .restart_window_ms = 500,
    } };
    _ = try harness.start();
    // The first restart is immediate; every one after a run shorter than the floor waits the floor.
    try testing.expectEqual(@as(?u64, 0), try harness.crashAfter(1));
    for (0..50) |_| {
        try testing.expectEqual(@as(?u64, restart_spacing_ms_min), try harness.crashAfter(1));
        _ = try harness.advance(restart_spacing_ms_min);
        try testing.expectEqual(Status.running, harness.machine.status);
    }
    // A run of at least the floor resets it.
    try testing.expectEqual(@as(?u64, 0), try harness.crashAfter(restart_spacing_ms_min));
}
