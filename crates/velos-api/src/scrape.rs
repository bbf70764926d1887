//! The facts one `/metrics` scrape (and `velos metrics`) shows: the daemon's LIST, each project's status
//! and what its recorded applies say. Blocking: run it on the blocking pool.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use velos_config::Project;
use velos_core::ProcessRecord;
use velos_metrics::{ProjectSample, Snapshot};
use velos_reconcile::{HistoryEntry, ProjectRecord, ProjectStatus, SyncState};

/// Why the snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(transparent)]
    Daemon(#[from] velos_client::ClientError),
    #[error(transparent)]
    History(#[from] velos_reconcile::HistoryError),
}

/// What one recorded apply says, read once: history files never change after they are written, so each
/// is parsed once per server, not on every scrape.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub seq: u64,
    pub project: String,
    pub ok: bool,
    duration_seconds: Option<f64>,
}

/// The parsed history files by path; files removed by history pruning are dropped from it.
#[derive(Debug, Default)]
pub struct HistoryCache {
    entries: Mutex<HashMap<PathBuf, Recorded>>,
}

impl HistoryCache {
    /// Every recorded apply still in the history folder, in sequence order.
    pub fn read(&self, home: &Path) -> Result<Vec<Recorded>, ScrapeError> {
        let dir = home.join(velos_reconcile::history::HISTORY_DIR);
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(source) => {
                let context = "cannot read";
                return Err(velos_reconcile::HistoryError::Io { context, path: dir, source }.into());
            }
        };
        let mut paths: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
            .collect();
        paths.sort();
        let mut cache = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|path, _| paths.binary_search(path).is_ok());
        for path in &paths {
            if cache.contains_key(path) {
                continue;
            }
            // A file that does not parse (being replaced, or not ours) is skipped, not fatal to the scrape.
            let Ok(text) = std::fs::read(path) else { continue };
            let Ok(entry) = serde_json::from_slice::<HistoryEntry>(&text) else { continue };
            let duration_seconds = entry
                .report
                .get("duration_ms")
                .and_then(serde_json::Value::as_f64)
                .map(|milliseconds| milliseconds / 1000.0);
            cache.insert(
                path.clone(),
                Recorded { seq: entry.seq, project: entry.project.clone(), ok: entry.ok(), duration_seconds },
            );
        }
        Ok(paths.iter().filter_map(|path| cache.get(path).cloned()).collect())
    }
}

/// Each project's file as loaded, by path, with the file's identity when it was read: parsing and
/// resolving a 1000-app file takes ~10 ms, planning against the LIST ~1.5 ms, so a scrape re-reads a file
/// only when it changed. Projects applied from git are loaded every time (their revision is the checkout's
/// HEAD, which can move without the file changing).
#[derive(Debug, Default)]
pub struct ProjectCache {
    loaded: Mutex<HashMap<PathBuf, (FileStamp, Loaded)>>,
    planned: Mutex<Planned>,
}

/// The last scrape's plans: when neither the LIST (names, states, restarts, specs) nor a project's file
/// changed, its status and drift are the same, and planning 1000 apps again (~1.5 ms) is skipped. A
/// `progressing` status is never kept: it turns into synced by time alone (an app's min_uptime passing).
#[derive(Debug, Default)]
struct Planned {
    live: Vec<(String, velos_core::Status, u32, velos_core::AppSpec)>,
    by_project: HashMap<String, (Loaded, String, ProjectStatus, u64)>,
}

fn live_key(
    records: &[ProcessRecord],
) -> impl Iterator<Item = (&String, velos_core::Status, u32, &velos_core::AppSpec)> {
    records.iter().map(|record| (&record.name, record.status, record.restarts, &record.spec))
}

/// A project's file as loaded, or why it could not be.
type Loaded = Arc<Result<Project, String>>;

/// What tells a file changed: size, modification time, inode.
type FileStamp = (u64, i64, i64, u64);

fn stamp(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt as _;
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.mtime(), metadata.mtime_nsec(), metadata.ino()))
}

impl ProjectCache {
    fn load(&self, record: &ProjectRecord) -> Loaded {
        let load = || Arc::new(velos_reconcile::followed::load_for_status(record));
        let Some(stamp) = stamp(&record.file).filter(|_| !record.revision.starts_with("git:")) else {
            return load();
        };
        let mut cache = self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((seen, loaded)) = cache.get(&record.file) {
            if *seen == stamp {
                return loaded.clone();
            }
        }
        let loaded = load();
        cache.insert(record.file.clone(), (stamp, loaded.clone()));
        loaded
    }
}

impl ProjectCache {
    /// The status of `record`'s project against `live` (before the controller overlay), and its drift.
    fn status(&self, record: &ProjectRecord, live: &[ProcessRecord]) -> (ProjectStatus, u64) {
        let loaded = self.load(record);
        let mut planned = self.planned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((seen, revision, status, drift)) = planned.by_project.get(&record.project) {
            // The same Arc: the file was not re-read (the memo holds it, so its address is not reused).
            if Arc::ptr_eq(seen, &loaded) && *revision == record.revision {
                return (status.clone(), *drift);
            }
        }
        let status =
            velos_reconcile::project_status(record, loaded.as_ref().as_ref().map_err(String::as_str), live);
        // Synced means nothing is pending; otherwise count the apps the plan would touch.
        let drift = match (status.state, loaded.as_ref()) {
            (SyncState::Synced, _) | (_, Err(_)) => 0,
            (_, Ok(project)) => drift_apps(project, live),
        };
        if status.state != SyncState::Progressing {
            let memo = (loaded.clone(), record.revision.clone(), status.clone(), drift);
            planned.by_project.insert(record.project.clone(), memo);
        }
        (status, drift)
    }

    /// Forgets the plans when the LIST differs from the last one in anything a plan reads.
    fn observe(&self, live: &[ProcessRecord]) {
        let mut planned = self.planned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let same = planned.live.len() == live.len()
            && planned
                .live
                .iter()
                .map(|(name, status, restarts, spec)| (name, *status, *restarts, spec))
                .eq(live_key(live));
        if !same {
            planned.live = live
                .iter()
                .map(|record| (record.name.clone(), record.status, record.restarts, record.spec.clone()))
                .collect();
            planned.by_project.clear();
        }
    }
}

/// What the server keeps between scrapes: parsed files that have not changed. Never a value shown.
#[derive(Debug, Default)]
pub struct Caches {
    pub history: HistoryCache,
    pub projects: ProjectCache,
}

/// Takes the snapshot: one LIST (never starting a daemon), each project's status against it, the
/// recorded applies.
pub fn snapshot(home: &Path, caches: &Caches) -> Result<Snapshot, ScrapeError> {
    let records: Vec<ProcessRecord> = velos_client::Client::connect(home)?.list()?;
    let now_unix_ms = velos_reconcile::now_unix_ms();
    let mut projects: BTreeMap<String, ProjectSample> = BTreeMap::new();
    for (status, drift_apps) in project_statuses(home, caches, &records)? {
        let synced = status.state == SyncState::Synced;
        projects.insert(status.project.clone(), sample(&status.project, synced, drift_apps));
    }
    for recorded in caches.history.read(home)? {
        let sample = projects.entry(recorded.project.clone()).or_insert_with(|| ProjectSample {
            project: recorded.project.clone(),
            ..ProjectSample::default()
        });
        if recorded.ok {
            sample.reconciles_ok += 1;
        } else {
            sample.reconciles_failed += 1;
        }
        sample.reconcile_durations_seconds.extend(recorded.duration_seconds);
    }
    let health = health_samples(home, &records, now_unix_ms);
    Ok(Snapshot { records, projects: projects.into_values().collect(), now_unix_ms, health })
}

/// Each instance with a check, as velos-ops reads the prober's state (stale is unknown: no gauge).
fn health_samples(
    home: &Path,
    records: &[ProcessRecord],
    now_unix_ms: u64,
) -> BTreeMap<String, velos_metrics::HealthSample> {
    let Ok(home) = velos_ops::Home::new(home) else { return BTreeMap::new() };
    let known = |check: &Option<velos_health::CheckState>| {
        check.as_ref().and_then(|check| match check.health {
            velos_health::Health::Healthy => Some(true),
            velos_health::Health::Unhealthy => Some(false),
            velos_health::Health::Unknown => None,
        })
    };
    velos_ops::health_of(&home, records, now_unix_ms)
        .into_iter()
        .map(|(name, app)| {
            let sample = velos_metrics::HealthSample {
                readiness: known(&app.detail.readiness),
                liveness: known(&app.detail.liveness),
                liveness_restarts: u64::from(app.detail.liveness_restarts),
            };
            (name, sample)
        })
        .collect()
}

/// Every project's status against `records` (as `velos status` words it, the controller's view laid over
/// it) and its drift: from the caches, so a poll that finds nothing changed costs no parse and no plan.
pub fn project_statuses(
    home: &Path,
    caches: &Caches,
    records: &[ProcessRecord],
) -> Result<Vec<(ProjectStatus, u64)>, ScrapeError> {
    let mut controllers = velos_reconcile::followed::live_records(home);
    caches.projects.observe(records);
    let mut statuses = Vec::new();
    for record in velos_reconcile::history::read_projects(home)? {
        let (status, drift_apps) = caches.projects.status(&record, records);
        let status = velos_reconcile::followed::overlay(status, controllers.remove(&record.project).as_ref());
        statuses.push((status, drift_apps));
    }
    statuses.extend(
        controllers
            .values()
            .map(|controller| (velos_reconcile::followed::unregistered_status(controller), 0)),
    );
    Ok(statuses)
}

fn sample(project: &str, synced: bool, drift_apps: u64) -> ProjectSample {
    ProjectSample { project: project.to_string(), synced, drift_apps, ..ProjectSample::default() }
}

/// Apps with a pending action in the plan of `project` against `live`.
fn drift_apps(project: &Project, live: &[ProcessRecord]) -> u64 {
    let Ok(plan) = velos_reconcile::plan(project, live) else { return 0 };
    let mut names: Vec<&str> = plan.actions.iter().map(|action| action.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len() as u64
}
