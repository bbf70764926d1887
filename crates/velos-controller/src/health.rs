//! The health prober: a thread of `velos controller` that runs every app's readiness and liveness checks
//! continuously, learned from one LIST (the `velos.readiness` / `velos.liveness` labels), writes what it
//! finds to `$VELOS_HOME/health/state.json`, and restarts an app whose liveness check failed
//! `failure_threshold` times in a row (through the daemon's RESTART, counted and recorded so `velos info`
//! says "restarted by liveness").
//!
//! The daemon's event loop never probes; this thread does, one probe at a time, each bounded by its
//! timeout. It sleeps until the next probe is due (at most [`LOOK_MAX`], so a newly applied check is found
//! within a second).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use velos_core::{ProcessRecord, Status, Stream};
use velos_health::check::{from_labels, Use};
use velos_health::{CheckState, Health, HealthState, InstanceHealth, LogStart, Prober, Target};
use velos_reconcile::clock::Clock;

/// How much of an instance's recent output a `log` check looks back at when the prober first meets it.
const LOG_TAIL_BYTES: u64 = 64 * 1024;
/// The longest the prober sleeps between two LISTs.
pub const LOOK_MAX: Duration = Duration::from_secs(1);
/// The shortest: a probe due sooner still waits this long (bounds the loop's cost).
const LOOK_MIN: Duration = Duration::from_millis(10);

/// What the prober needs from the daemon.
pub trait HealthDaemon {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, String>;
    /// RESTART `name`, if it still has `spec_hash` (never a newer spec someone applied meanwhile).
    fn restart(&mut self, name: &str, spec_hash: &str) -> Result<(), String>;
}

impl HealthDaemon for velos_client::Client {
    fn list(&mut self) -> Result<Vec<ProcessRecord>, String> {
        velos_client::Client::list(self).map_err(|error| error.to_string())
    }

    fn restart(&mut self, name: &str, spec_hash: &str) -> Result<(), String> {
        velos_client::Client::restart(self, name, Some(spec_hash))
            .map(drop)
            .map_err(|error| error.to_string())
    }
}

/// The probers of one instance, for the run (pid) they probe.
struct Probed {
    pid: u32,
    readiness: Option<Prober>,
    liveness: Option<Prober>,
}

pub struct HealthProber {
    home: PathBuf,
    clock: Box<dyn Clock>,
    probed: BTreeMap<String, Probed>,
    state: HealthState,
    /// One line on stderr per liveness restart (the controller's log).
    verbose: bool,
}

impl HealthProber {
    /// A prober for `home`; the liveness restarts counted by an earlier prober are kept.
    pub fn new(home: &Path, clock: Box<dyn Clock>, verbose: bool) -> HealthProber {
        let mut state = HealthState::read(home);
        state.pid = std::process::id();
        HealthProber { home: home.to_path_buf(), clock, probed: BTreeMap::new(), state, verbose }
    }

    pub fn state(&self) -> &HealthState {
        &self.state
    }

    /// One look: LIST, run the probes that are due, restart what failed liveness, write the state when it
    /// changed (or at the heartbeat). Returns how long to sleep before the next look; `Err` when LIST
    /// failed (nothing is written then: the state goes stale, and readers show unknown).
    pub fn tick(&mut self, daemon: &mut dyn HealthDaemon) -> Result<Duration, String> {
        let records = daemon.list()?;
        let before = self.state.instances.clone();
        let mut instances = BTreeMap::new();
        for record in &records {
            if let Some(instance) = self.look_at(record, daemon) {
                instances.insert(record.name.clone(), instance);
            }
        }
        self.probed.retain(|name, _| instances.contains_key(name));
        self.state.instances = instances;
        let now_unix_ms = self.clock.unix_ms();
        let heartbeat =
            now_unix_ms.saturating_sub(self.state.written_unix_ms) >= velos_health::state::HEARTBEAT_MS;
        if self.state.instances != before || heartbeat {
            self.state.written_unix_ms = now_unix_ms;
            if let Err(error) = self.state.write(&self.home) {
                eprintln!(
                    "velos controller: cannot write {}: {error}",
                    HealthState::path(&self.home).display()
                );
            }
        }
        Ok(self.next_look())
    }

    /// Probes one instance if it has checks (and runs); its state, or None when it has no check.
    fn look_at(&mut self, record: &ProcessRecord, daemon: &mut dyn HealthDaemon) -> Option<InstanceHealth> {
        let readiness = from_labels(&record.spec.labels, Use::Readiness);
        let liveness = from_labels(&record.spec.labels, Use::Liveness);
        if readiness.is_none() && liveness.is_none() {
            return None;
        }
        let mut instance = self.state.instances.get(&record.name).cloned().unwrap_or_default();
        instance.pid = record.pid;
        if record.status != Status::Running {
            // Nothing to probe. The probers stay (a log check's cursor goes on where it was): the next run
            // has another pid, which starts their thresholds over.
            instance.readiness = readiness.map(|check| unknown(check.summary(Use::Readiness)));
            instance.liveness = liveness.map(|check| unknown(check.summary(Use::Liveness)));
            return Some(instance);
        }
        let now = self.clock.now();
        let began = now.checked_sub(Duration::from_millis(record.uptime_ms)).unwrap_or(now);
        let target = target(&self.home, record);
        let probed = self.probed.entry(record.name.clone()).or_insert_with(|| Probed {
            pid: record.pid,
            readiness: None,
            liveness: None,
        });
        if probed.pid != record.pid {
            probed.pid = record.pid;
            for prober in [&mut probed.readiness, &mut probed.liveness].into_iter().flatten() {
                prober.restart(began);
            }
        }
        let clock = &self.clock;
        let now_unix = || clock.unix_ms();
        instance.readiness =
            poll(&mut probed.readiness, readiness, Use::Readiness, &target, began, clock.as_ref(), now_unix);
        instance.liveness =
            poll(&mut probed.liveness, liveness, Use::Liveness, &target, began, clock.as_ref(), now_unix);
        let failed = instance.liveness.as_ref().is_some_and(|check| check.health == Health::Unhealthy);
        if failed {
            self.restart(record, &mut instance, daemon);
        }
        Some(instance)
    }

    /// Restarts `record` for its failed liveness check, and records it.
    fn restart(
        &mut self,
        record: &ProcessRecord,
        instance: &mut InstanceHealth,
        daemon: &mut dyn HealthDaemon,
    ) {
        let why = instance
            .liveness
            .as_ref()
            .map(|check| {
                format!(
                    "liveness {} failed {} times in a row: {}",
                    check.check,
                    check.consecutive_failures,
                    check.last_error.as_deref().unwrap_or("no error recorded")
                )
            })
            .unwrap_or_default();
        match daemon.restart(&record.name, &record.spec.spec_hash) {
            Ok(()) => {
                instance.liveness_restarts = instance.liveness_restarts.saturating_add(1);
                instance.last_liveness_restart_unix_ms = Some(self.clock.unix_ms());
                // The next run is a new one: thresholds start over now (and again when its pid is seen),
                // while a log check reads on from where it was, never the old run's lines again.
                let now = self.clock.now();
                if let Some(probed) = self.probed.get_mut(&record.name) {
                    for prober in [&mut probed.readiness, &mut probed.liveness].into_iter().flatten() {
                        prober.restart(now);
                    }
                }
                if self.verbose {
                    eprintln!("velos controller: restarted {}: {why}", record.name);
                }
            }
            Err(error) => eprintln!("velos controller: could not restart {} ({why}): {error}", record.name),
        }
    }

    /// Until the first probe due, within [`LOOK_MIN`] .. [`LOOK_MAX`].
    fn next_look(&self) -> Duration {
        let now = self.clock.now();
        let due = self
            .probed
            .values()
            .flat_map(|probed| [&probed.readiness, &probed.liveness])
            .flatten()
            .map(|prober| prober.tracker().next_due().saturating_duration_since(now))
            .min()
            .unwrap_or(LOOK_MAX);
        due.clamp(LOOK_MIN, LOOK_MAX)
    }
}

/// Runs `check`'s probe when due (a changed check gets a new prober) and says what it found.
fn poll(
    prober: &mut Option<Prober>,
    check: Option<velos_health::Check>,
    purpose: Use,
    target: &Target,
    began: Instant,
    clock: &dyn Clock,
    now_unix: impl Fn() -> u64,
) -> Option<CheckState> {
    let Some(check) = check else {
        *prober = None;
        return None;
    };
    if prober.as_ref().is_none_or(|prober| *prober.check() != check) {
        *prober = Prober::new(check.clone(), target, began).ok();
    }
    let summary = check.summary(purpose);
    let Some(prober) = prober else {
        return Some(CheckState { last_error: Some("the check cannot run".into()), ..unknown(summary) });
    };
    let probes_before = prober.tracker().probes();
    let health = prober.poll(target, &|| clock.now());
    let tracker = prober.tracker();
    Some(CheckState {
        health,
        check: summary,
        last_check_unix_ms: (tracker.probes() > probes_before).then(now_unix),
        last_error: tracker.last_error().map(str::to_string),
        consecutive_failures: tracker.consecutive_failures(),
    })
}

fn unknown(check: String) -> CheckState {
    CheckState {
        health: Health::Unknown,
        check,
        last_check_unix_ms: None,
        last_error: None,
        consecutive_failures: 0,
    }
}

/// Where the instance runs and writes its logs, for `exec` and `log` probes.
fn target(home: &Path, record: &ProcessRecord) -> Target {
    let logs = home.join("logs");
    Target {
        cwd: record.spec.cwd.clone(),
        env: record.spec.env.clone(),
        log_files: [Stream::Out, Stream::Err]
            .map(|stream| logs.join(stream.log_file_name(&record.name)))
            .to_vec(),
        // The prober may meet the app long after it started (the controller came later): its start-up line
        // is in the recent output, not after it.
        log_start: LogStart::Tail(LOG_TAIL_BYTES),
    }
}

/// Starts the prober thread of the controller of `home`: it connects to the daemon (again after a
/// failure) and looks until the process ends.
pub fn spawn_prober(home: &Path, verbose: bool) -> std::io::Result<std::thread::JoinHandle<()>> {
    let home = home.to_path_buf();
    std::thread::Builder::new().name("velos-health".into()).spawn(move || {
        let mut prober = HealthProber::new(&home, Box::new(velos_reconcile::clock::SystemClock), verbose);
        let mut client: Option<velos_client::Client> = None;
        loop {
            if client.is_none() {
                client = velos_client::Client::connect(&home).ok();
            }
            let looked = client.as_mut().map(|daemon| prober.tick(daemon));
            let pause = match looked {
                Some(Ok(pause)) => pause,
                // Not connected, or the connection broke (a restarted daemon): connect afresh next time.
                Some(Err(_)) | None => {
                    client = None;
                    LOOK_MAX
                }
            };
            std::thread::sleep(pause);
        }
    })
}
