//! The one question every wait asks of a started instance — "is it ready yet?" — behind a trait, so that
//! apply's waits (a rolling update between instances, `depends_on` conditions, the final wait) ask it the
//! same way whether the answer comes from the record alone ([`ByRecord`]: running for `min_uptime`) or
//! from health checks that probe the app (velos-ops supplies those: this crate does no IO).
use crate::readiness::{self, Readiness};
use velos_config::DesiredApp;
use velos_core::ProcessRecord;

/// Judges one instance during a wait. Called again on every look until the answer is settled
/// ([`Readiness::is_settled`]); an implementation may keep state between looks (probe thresholds).
pub trait ReadyCheck {
    /// `instance`: what the project wants; `record`: the live record (None: the daemon does not know it);
    /// `restarts_before`: the restarts counted when the wait began, as [`readiness::judge`] takes them.
    fn judge(
        &mut self,
        instance: &DesiredApp,
        record: Option<&ProcessRecord>,
        restarts_before: Option<u32>,
    ) -> Readiness;

    /// Why instance `name` is as last judged, when this check knows better than the record (a probe's
    /// last error: `readiness http http://…/health failed 3 times: HTTP 503`). None: the record says it
    /// ([`readiness::reason`]).
    fn reason(&self, _name: &str) -> Option<String> {
        None
    }
}

/// Readiness from the live record alone: [`readiness::judge`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ByRecord;

impl ReadyCheck for ByRecord {
    fn judge(
        &mut self,
        _instance: &DesiredApp,
        record: Option<&ProcessRecord>,
        restarts_before: Option<u32>,
    ) -> Readiness {
        readiness::judge(record, restarts_before)
    }
}
