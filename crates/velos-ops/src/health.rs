//! Health as every face shows it (`list`, `info`, `status`, metrics, REST, MCP): read from the one state the
//! controller's prober writes (`health/state.json`), joined with the live records. A face renders this,
//! never decides: a state that is stale (the controller is down) or that describes another run shows
//! `unknown`, never `healthy`; an app with a check the prober has not reported yet is `unknown` too.
use crate::home::Home;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use velos_core::ProcessRecord;
use velos_health::check::{from_labels, Use};
use velos_health::{CheckState, Health, HealthState, InstanceHealth};

/// One instance with a check: the worst of its checks in one word, and each check's detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppHealth {
    /// `healthy`, `unhealthy`, or `unknown` (not yet probed, or nobody probing).
    pub health: Health,
    #[serde(flatten)]
    pub detail: InstanceHealth,
}

/// The health of each of `records` that carries a check, by instance name, as of `now_unix_ms`.
pub fn health_of(home: &Home, records: &[ProcessRecord], now_unix_ms: u64) -> BTreeMap<String, AppHealth> {
    let checked = |record: &&ProcessRecord| {
        Use::ALL.iter().any(|purpose| record.spec.labels.contains_key(purpose.label()))
    };
    let mut records = records.iter().filter(checked).peekable();
    if records.peek().is_none() {
        return BTreeMap::new(); // no check anywhere: the state file is not even read
    }
    let state = HealthState::read(home.root());
    records
        .map(|record| {
            let detail = state
                .instance(&record.name, record.pid, now_unix_ms)
                .unwrap_or_else(|| not_yet_probed(record));
            (record.name.clone(), AppHealth { health: detail.summary(), detail })
        })
        .collect()
}

/// An instance the prober has not reported: its checks, unknown.
fn not_yet_probed(record: &ProcessRecord) -> InstanceHealth {
    let unknown = |purpose: Use| {
        from_labels(&record.spec.labels, purpose).map(|check| CheckState {
            health: Health::Unknown,
            check: check.summary(purpose),
            last_check_unix_ms: None,
            last_error: None,
            consecutive_failures: 0,
        })
    };
    InstanceHealth {
        pid: record.pid,
        readiness: unknown(Use::Readiness),
        liveness: unknown(Use::Liveness),
        ..InstanceHealth::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::{AppSpec, Status};

    fn record(name: &str, pid: u32, liveness: bool) -> ProcessRecord {
        let mut spec = AppSpec::new(name, "/bin/sleep", "/");
        if liveness {
            let check = velos_health::Check::new(
                velos_health::Probe::Tcp { address: "127.0.0.1:80".into() },
                Use::Liveness,
            );
            spec.labels.insert(Use::Liveness.label().into(), check.to_label());
        }
        ProcessRecord::fresh(spec, Status::Running, pid)
    }

    #[test]
    fn fresh_state_is_shown_and_stale_or_missing_state_is_unknown() {
        let dir = tempfile::tempdir().expect("home");
        let home = Home::new(dir.path()).expect("home");
        let records = [record("web", 7, true), record("plain", 8, false)];
        let now = 1_700_000_000_000;
        let unknown = health_of(&home, &records, now);
        assert_eq!(unknown.keys().collect::<Vec<_>>(), ["web"], "only apps with a check");
        assert_eq!(unknown["web"].health, Health::Unknown, "nobody probed yet");
        assert_eq!(
            unknown["web"].detail.liveness.as_ref().map(|c| c.check.as_str()),
            Some("tcp 127.0.0.1:80")
        );
        let mut written = not_yet_probed(&records[0]);
        if let Some(check) = written.liveness.as_mut() {
            check.health = Health::Healthy;
        }
        written.liveness_restarts = 2;
        let state = HealthState {
            written_unix_ms: now,
            pid: 1,
            instances: BTreeMap::from([("web".to_string(), written)]),
        };
        state.write(dir.path()).expect("write");
        let fresh = health_of(&home, &records, now + 1_000);
        assert_eq!(fresh["web"].health, Health::Healthy);
        assert_eq!(fresh["web"].detail.liveness_restarts, 2);
        let stale = health_of(&home, &records, now + 60_000);
        assert_eq!(stale["web"].health, Health::Unknown, "the controller is down: never healthy");
        assert_eq!(stale["web"].detail.liveness_restarts, 2, "what happened is still told");
    }
}
