//! The one converge pass: list → plan → apply → record. `velos apply`, every edit (`start`, `stop`,
//! `scale`, `set`, ...), `rollback`, `sync` and the controller all run it, so they share one set of rules:
//!
//! - the caller holds the edit lock ([`crate::history::lock_edits`]) from reading the file to the record;
//! - a plan that cannot be made (a name another project owns) applies nothing and is recorded as a failure,
//!   so `status` says so;
//! - a [`Gate`] sees the plan before anything is done and may hold it (the controller with `self_heal` off
//!   only reports drift); a held plan is neither applied nor recorded;
//! - an empty plan of a revision the registry already holds as applied records nothing (running
//!   `velos apply` twice touches nothing, not even the history); anything else is recorded, failures too;
//! - recording is not the apply: a history that cannot be written is returned as data
//!   ([`Converged::unrecorded`]), and what was done stays done.
use crate::apply::{apply_gated, ApplyEvent, ApplyOptions, ApplyReport, Daemon, DaemonError};
use crate::clock::Clock;
use crate::depends::Gates;
use crate::history::{is_recorded, record_apply, record_failure, HistoryEntry, HistoryError};
use crate::plan::{plan, plan_app, Plan, PlanError};
use std::path::Path;
use velos_config::Project;
use velos_core::ProcessRecord;

/// What of the project a pass applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every app: `velos apply`, rollback, the controller.
    Project,
    /// Only the actions on `[apps.APP]`'s instances ([`plan_app`]): an edit of one app leaves other apps'
    /// pending changes in the same file for `velos apply`.
    App(&'a str),
}

/// Whether a planned pass goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Apply,
    /// Neither applied nor recorded.
    Hold,
}

/// Decides, from the plan, the live records and the clock, whether a pass goes on.
pub type GateFn<'g> = dyn FnMut(&Plan, &[ProcessRecord], &dyn Clock) -> Gate + 'g;

/// One pass's inputs.
#[derive(Debug, Clone, Copy)]
pub struct Pass<'a> {
    pub home: &'a Path,
    pub project: &'a Project,
    /// The file's text as read under the lock: what history keeps for rollback.
    pub text: &'a str,
    pub scope: Scope<'a>,
    pub options: ApplyOptions,
}

/// What a pass did.
#[derive(Debug)]
pub struct Converged {
    pub plan: Plan,
    /// Empty when the plan was empty or held.
    pub report: ApplyReport,
    /// The live records the plan was made from.
    pub live: Vec<ProcessRecord>,
    /// The gate held the plan.
    pub held: bool,
    /// The history entry written, if the pass was recorded.
    pub entry: Option<HistoryEntry>,
    /// Why the pass could not be recorded (it was applied all the same).
    pub unrecorded: Option<HistoryError>,
}

/// Why a pass applied nothing.
#[derive(Debug, thiserror::Error)]
pub enum ConvergeError {
    /// LIST failed: nothing was planned or recorded.
    #[error("cannot list the apps: {0}")]
    List(#[source] DaemonError),
    /// No plan could be made; recorded as a failure (unless that failed too: `unrecorded`).
    #[error("{error}")]
    Plan {
        #[source]
        error: PlanError,
        unrecorded: Option<HistoryError>,
    },
}

impl Pass<'_> {
    /// Runs the pass. `gate` sees the plan, the live records it came from and the clock before anything is
    /// done; `progress` each step of the apply.
    pub fn run(
        &self,
        daemon: &mut dyn Daemon,
        clock: &mut dyn Clock,
        gate: &mut GateFn<'_>,
        progress: &mut dyn FnMut(ApplyEvent<'_>),
    ) -> Result<Converged, ConvergeError> {
        self.run_checked(daemon, clock, &mut crate::ByRecord, gate, progress)
    }

    /// [`Pass::run`], judging `depends_on = { x = "healthy" }` with `check` (one that probes readiness
    /// checks) instead of the record alone.
    pub fn run_checked(
        &self,
        daemon: &mut dyn Daemon,
        clock: &mut dyn Clock,
        check: &mut dyn crate::ReadyCheck,
        gate: &mut GateFn<'_>,
        progress: &mut dyn FnMut(ApplyEvent<'_>),
    ) -> Result<Converged, ConvergeError> {
        let live = daemon.list().map_err(ConvergeError::List)?;
        let planned = match self.scope {
            Scope::Project => plan(self.project, &live),
            Scope::App(app) => plan_app(self.project, &live, app),
        };
        let plan = match planned {
            Ok(plan) => plan,
            Err(error) => {
                let unrecorded =
                    record_failure(self.home, self.project, &error.to_string(), clock.unix_ms()).err();
                return Err(ConvergeError::Plan { error, unrecorded });
            }
        };
        let mut converged = Converged {
            plan,
            report: ApplyReport::default(),
            live,
            held: false,
            entry: None,
            unrecorded: None,
        };
        if gate(&converged.plan, &converged.live, &*clock) == Gate::Hold {
            converged.held = true;
            return Ok(converged);
        }
        if !converged.plan.is_empty() {
            let gates = Some(Gates { project: self.project, check });
            converged.report = apply_gated(&converged.plan, daemon, self.options, clock, gates, progress);
        }
        // An unreadable registry is no reason to skip the record: recording says what it cannot do.
        let already = converged.plan.is_empty() && is_recorded(self.home, self.project).unwrap_or(false);
        if !already {
            let recorded = record_apply(
                self.home,
                self.project,
                self.text,
                &converged.plan,
                &converged.report,
                clock.unix_ms(),
            );
            match recorded {
                Ok(entry) => converged.entry = Some(entry),
                Err(error) => converged.unrecorded = Some(error),
            }
        }
        Ok(converged)
    }
}
