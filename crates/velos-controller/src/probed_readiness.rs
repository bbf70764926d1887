//! Readiness for the controller's own passes: `depends_on = { db = "healthy" }` in a watched file or a git
//! commit is judged by what this home's prober found (`health/state.json`), not by probing again.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use velos_core::{ProcessRecord, Status};
use velos_health::{Health, HealthState};

/// Readiness for the controller's own passes (`depends_on = { db = "healthy" }` when a watched file or a
/// git commit is applied): what the prober of this home found, read from its state. The record speaks
/// first, as for apply; a stale state (no prober: a foreground `apply --watch` alone) falls back to the
/// record, as before checks existed.
pub struct ProbedReadiness {
    home: PathBuf,
    /// The state and when it was read: re-read at most every [`STATE_READ_EVERY`] (a wait polls often).
    cached: Option<(Instant, HealthState)>,
    reasons: BTreeMap<String, String>,
}

/// How long a read state is used before reading it again.
const STATE_READ_EVERY: Duration = Duration::from_millis(100);

impl ProbedReadiness {
    pub fn new(home: &Path) -> ProbedReadiness {
        ProbedReadiness { home: home.to_path_buf(), cached: None, reasons: BTreeMap::new() }
    }

    fn state(&mut self) -> &HealthState {
        let fresh = self.cached.as_ref().is_some_and(|(read, _)| read.elapsed() < STATE_READ_EVERY);
        if !fresh {
            self.cached = Some((Instant::now(), HealthState::read(&self.home)));
        }
        &self.cached.get_or_insert_with(|| (Instant::now(), HealthState::default())).1
    }
}

impl velos_reconcile::ReadyCheck for ProbedReadiness {
    fn judge(
        &mut self,
        instance: &velos_config::DesiredApp,
        record: Option<&ProcessRecord>,
        restarts_before: Option<u32>,
    ) -> velos_reconcile::Readiness {
        use velos_reconcile::Readiness;
        let name = instance.spec.name.clone();
        self.reasons.remove(&name);
        let by_record = velos_reconcile::readiness::judge(record, restarts_before);
        let (Some(_), Some(record)) = (&instance.in_place.readiness, record) else { return by_record };
        if !matches!(by_record, Readiness::Ready | Readiness::Starting) || record.status != Status::Running {
            return by_record;
        }
        let now_unix_ms = velos_reconcile::now_unix_ms();
        let pid = record.pid;
        let state = self.state();
        if state.is_stale(now_unix_ms) {
            return by_record;
        }
        let check = state.instance(&name, pid, now_unix_ms).and_then(|instance| instance.readiness);
        let Some(check) = check else { return Readiness::Starting };
        let error = check.last_error.as_deref().unwrap_or("no error recorded");
        match check.health {
            Health::Healthy => Readiness::Ready,
            Health::Unhealthy => {
                let failures = check.consecutive_failures;
                self.reasons.insert(
                    name,
                    format!("readiness {} failed {failures} times in a row: {error}", check.check),
                );
                Readiness::Unhealthy
            }
            Health::Unknown => {
                self.reasons.insert(name, format!("readiness {} has not passed yet", check.check));
                Readiness::Starting
            }
        }
    }

    fn reason(&self, name: &str) -> Option<String> {
        self.reasons.get(name).cloned()
    }
}
