//! The facts one `/metrics` scrape (and `velos metrics`) shows: the daemon's LIST, each project's status
//! and what its recorded applies say. Blocking: run it on the blocking pool.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use velos_core::ProcessRecord;
use velos_metrics::{ProjectSample, Snapshot};
use velos_reconcile::{HistoryEntry, SyncState};

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

/// Takes the snapshot: one LIST (never starting a daemon), the projects' status, the recorded applies.
pub fn snapshot(home: &Path, history: &HistoryCache) -> Result<Snapshot, ScrapeError> {
    let records: Vec<ProcessRecord> = velos_client::Client::connect(home)?.list()?;
    let now_unix_ms = velos_reconcile::now_unix_ms();
    let statuses = velos_reconcile::status(home, &records)?;
    let mut projects: BTreeMap<String, ProjectSample> = statuses
        .iter()
        .map(|status| {
            let sample = ProjectSample {
                project: status.project.clone(),
                synced: status.state == SyncState::Synced,
                drift_apps: drift_apps(home, &status.project, &records),
                ..ProjectSample::default()
            };
            (status.project.clone(), sample)
        })
        .collect();
    for recorded in history.read(home)? {
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
    Ok(Snapshot { records, projects: projects.into_values().collect(), now_unix_ms })
}

/// Apps of `project` with a pending action: planned from its file against the same LIST.
fn drift_apps(home: &Path, project: &str, live: &[ProcessRecord]) -> u64 {
    let Ok(registry) = velos_reconcile::history::read_projects(home) else { return 0 };
    let Some(record) = registry.iter().find(|record| record.project == project) else { return 0 };
    let Ok(loaded) = velos_reconcile::controller::load_for_status(record) else { return 0 };
    let Ok(plan) = velos_reconcile::plan(&loaded, live) else { return 0 };
    let mut names: Vec<&str> = plan.actions.iter().map(|action| action.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len() as u64
}
