//! Supervision, by concern: the pure per-app state machine (machine.zig), the app table (app_table.zig) and
//! the START decision (start_decision.zig). This file names them for the rest of the daemon, so a caller
//! imports one module.
const machine = @import("machine.zig");
const app_table = @import("app_table.zig");
const start_decision = @import("start_decision.zig");

pub const RestartPolicy = machine.RestartPolicy;
pub const Status = machine.Status;
pub const Spec = machine.Spec;
pub const Policy = machine.Policy;
pub const Exit = machine.Exit;
pub const sigkill = machine.sigkill;
pub const restart_spacing_ms_min = machine.restart_spacing_ms_min;
pub const GroupSignal = machine.GroupSignal;
pub const Note = machine.Note;
pub const Effects = machine.Effects;
pub const AfterStop = machine.AfterStop;
pub const Machine = machine.Machine;
pub const overMemoryLimit = machine.overMemoryLimit;

pub const apps_max = app_table.apps_max;
pub const App = app_table.App;
pub const Table = app_table.Table;

pub const StartDecision = start_decision.StartDecision;
pub const ConflictReason = start_decision.ConflictReason;
pub const decideStart = start_decision.decideStart;

test {
    _ = machine;
    _ = app_table;
    _ = start_decision;
}
