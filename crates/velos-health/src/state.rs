//! `$VELOS_HOME/health/state.json`: what the controller's prober last found of each instance with a check.
//! One writer (the prober), many readers (`velos list`, `info`, `status`, metrics, REST, MCP through
//! velos-ops). Written atomically (temp file, rename), at least every [`HEARTBEAT`]; a reader that finds it
//! older than [`STALE_AFTER`] (the controller is down) must show every check as unknown, never as healthy.
use crate::tracker::Health;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `health/` under `$VELOS_HOME`.
pub const HEALTH_DIR: &str = "health";
/// The state file in it.
pub const STATE_FILE: &str = "state.json";
/// The prober writes the file at least this often, changed or not.
pub const HEARTBEAT_MS: u64 = 2_000;
/// A state not written for this long is stale: the prober is not running.
pub const STALE_AFTER_MS: u64 = 10_000;
/// The largest state file a reader reads (100 apps are about 50 KiB).
const STATE_BYTES_MAX: u64 = 16 << 20;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthState {
    /// When the prober wrote it (ms since the Unix epoch).
    pub written_unix_ms: u64,
    /// The prober's process.
    pub pid: u32,
    /// By instance name.
    pub instances: BTreeMap<String, InstanceHealth>,
}

/// One instance with a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InstanceHealth {
    /// The run probed (a new pid starts the thresholds over).
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<CheckState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<CheckState>,
    /// Restarts the prober asked for because liveness failed, ever (kept across prober restarts).
    #[serde(default)]
    pub liveness_restarts: u32,
    /// When the last of them was (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_liveness_restart_unix_ms: Option<u64>,
}

/// One check of one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckState {
    /// `unknown`, `healthy`, `unhealthy`.
    pub health: Health,
    /// The check, as a plan shows it: `http http://127.0.0.1:8000/health every 500ms`.
    pub check: String,
    /// When the last probe ended (ms since the Unix epoch), if one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check_unix_ms: Option<u64>,
    /// The last failed probe's error, if one failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
}

impl InstanceHealth {
    /// The instance's health in one word, the worst of its checks: unhealthy when one is, healthy when
    /// every one is, else unknown.
    pub fn summary(&self) -> Health {
        let checks: Vec<Health> =
            [&self.readiness, &self.liveness].into_iter().flatten().map(|c| c.health).collect();
        if checks.contains(&Health::Unhealthy) {
            Health::Unhealthy
        } else if !checks.is_empty() && checks.iter().all(|health| *health == Health::Healthy) {
            Health::Healthy
        } else {
            Health::Unknown
        }
    }
}

impl HealthState {
    /// `home/health/state.json`.
    pub fn path(home: &Path) -> PathBuf {
        home.join(HEALTH_DIR).join(STATE_FILE)
    }

    /// The state as written, or empty when there is none or it cannot be read (a reader shows unknown).
    pub fn read(home: &Path) -> HealthState {
        use std::io::Read as _;
        let Ok(file) = std::fs::File::open(HealthState::path(home)) else { return HealthState::default() };
        let mut text = String::new();
        if file.take(STATE_BYTES_MAX).read_to_string(&mut text).is_err() {
            return HealthState::default();
        }
        serde_json::from_str(&text).unwrap_or_default()
    }

    /// Writes it atomically: a temp file in the same folder, then a rename. No fsync: the state is
    /// rebuilt within one interval after a crash, and the prober writes every few seconds.
    pub fn write(&self, home: &Path) -> std::io::Result<()> {
        let path = HealthState::path(home);
        let folder = home.join(HEALTH_DIR);
        std::fs::create_dir_all(&folder)?;
        let temporary = folder.join(format!(".{STATE_FILE}.{}", std::process::id()));
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, &path)
    }

    /// Whether the prober stopped writing (or never wrote): then nothing in it may be shown as healthy.
    pub fn is_stale(&self, now_unix_ms: u64) -> bool {
        self.written_unix_ms == 0 || now_unix_ms.saturating_sub(self.written_unix_ms) > STALE_AFTER_MS
    }

    /// The instance `name` as a reader should show it at `now_unix_ms`: its checks' health turned to
    /// unknown when the state is stale or it describes another run than `pid` (the app restarted since
    /// it was probed). None when the prober does not know it.
    pub fn instance(&self, name: &str, pid: u32, now_unix_ms: u64) -> Option<InstanceHealth> {
        let mut instance = self.instances.get(name)?.clone();
        if self.is_stale(now_unix_ms) || instance.pid != pid {
            for check in [&mut instance.readiness, &mut instance.liveness].into_iter().flatten() {
                check.health = Health::Unknown;
            }
        }
        Some(instance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(written_unix_ms: u64) -> HealthState {
        let check = CheckState {
            health: Health::Healthy,
            check: "tcp 127.0.0.1:80".into(),
            last_check_unix_ms: Some(written_unix_ms),
            last_error: None,
            consecutive_failures: 0,
        };
        let web = InstanceHealth { pid: 42, liveness: Some(check), ..InstanceHealth::default() };
        HealthState { written_unix_ms, pid: 1, instances: BTreeMap::from([("web".to_string(), web)]) }
    }

    #[test]
    fn written_atomically_and_read_back() {
        let home = tempfile::tempdir().expect("home");
        assert_eq!(HealthState::read(home.path()), HealthState::default(), "none yet");
        let written = state(1_700_000_000_000);
        written.write(home.path()).expect("write");
        assert_eq!(HealthState::read(home.path()), written);
        let leftovers: Vec<_> = std::fs::read_dir(home.path().join(HEALTH_DIR)).expect("dir").collect();
        assert_eq!(leftovers.len(), 1, "no temp file left");
        std::fs::write(HealthState::path(home.path()), "{ truncated").expect("corrupt");
        assert_eq!(HealthState::read(home.path()), HealthState::default(), "unreadable reads as none");
    }

    #[test]
    fn a_stale_state_or_another_run_shows_unknown_never_healthy() {
        let now = 1_700_000_000_000;
        let fresh = state(now - 1_000);
        let health = |state: &HealthState, pid, now| {
            state.instance("web", pid, now).and_then(|web| web.liveness).map(|check| check.health)
        };
        assert_eq!(health(&fresh, 42, now), Some(Health::Healthy));
        assert_eq!(health(&fresh, 43, now), Some(Health::Unknown), "restarted since");
        assert_eq!(health(&fresh, 42, now + STALE_AFTER_MS), Some(Health::Unknown), "controller down");
        assert_eq!(health(&HealthState::default(), 42, now), None);
        assert!(HealthState::default().is_stale(now));
        let mut web = fresh.instance("web", 42, now).expect("web");
        assert_eq!(web.summary(), Health::Healthy);
        web.readiness =
            Some(CheckState { health: Health::Unknown, ..web.liveness.clone().expect("liveness") });
        assert_eq!(web.summary(), Health::Unknown, "one check not yet known");
        web.readiness =
            Some(CheckState { health: Health::Unhealthy, ..web.liveness.clone().expect("liveness") });
        assert_eq!(web.summary(), Health::Unhealthy);
        assert_eq!(InstanceHealth::default().summary(), Health::Unknown);
    }
}
