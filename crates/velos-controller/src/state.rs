//! What the loop keeps per target between looks, and what one look found.
use super::*;

/// One followed target and what the controller knows of it.
pub(crate) struct TargetState {
    pub(crate) target: Target,
    /// The git source in use, by [`velos_config::GitSource::describe`] (rebuilt when the file points
    /// elsewhere). A file source is rebuilt at each look: it holds nothing.
    pub(crate) git: Option<(String, GitSource)>,
    /// The project name at the last successful parse.
    pub(crate) project: Option<String>,
    /// The project this target holds the lock of and writes the record of (its name, or before the
    /// first successful parse, [`Target::fallback_project`]).
    pub(crate) owner: Option<String>,
    /// The last revision that parsed and planned: what drift is undone against while the source is bad.
    pub(crate) last_good: Option<(String, Project)>,
    /// The revision last applied successfully; `None` until known (then read from the registry once).
    pub(crate) applied: Option<Option<String>>,
    /// The settings at the last look.
    pub(crate) settings: ControllerSettings,
    /// The file to watch (its folder is watched), when the settings ask for it.
    pub(crate) watch_file: Option<PathBuf>,
    pub(crate) dirty: bool,
    pub(crate) debounce_at: Option<Instant>,
    pub(crate) next_at: Instant,
    /// Transient failures in a row.
    pub(crate) failures: u32,
    pub(crate) last_apply_unix_ms: Option<u64>,
    /// Why what `[velos.api]` / `[velos.otlp]` ask for does not run, at the last look.
    pub(crate) service_problem: Option<ServiceProblem>,
}

impl TargetState {
    pub(crate) fn new(target: Target, now: Instant) -> TargetState {
        let settings = target.settings.clone();
        let watch_file = match &target.source {
            TargetSource::File { path } if settings.watch => Some(path.clone()),
            _ => None,
        };
        TargetState {
            target,
            git: None,
            project: None,
            owner: None,
            last_good: None,
            applied: None,
            settings,
            watch_file,
            dirty: true,
            debounce_at: None,
            next_at: now,
            failures: 0,
            last_apply_unix_ms: None,
            service_problem: None,
        }
    }

    pub(crate) fn is_due(&self, now: Instant) -> bool {
        match self.debounce_at {
            Some(at) => self.dirty || at <= now,
            None => self.dirty || self.next_at <= now,
        }
    }

    pub(crate) fn wake_at(&self) -> Instant {
        self.debounce_at.unwrap_or(self.next_at)
    }

    /// The period of the next look: the resync, or the poll if sooner.
    pub(crate) fn interval(&self) -> Duration {
        let poll = self.settings.git.as_ref().map_or(u64::MAX, |git| git.poll_ms);
        Duration::from_millis(self.settings.resync_ms.min(poll).max(velos_config::INTERVAL_MIN_MS))
    }

    pub(crate) fn project_name(&self) -> String {
        self.project.clone().unwrap_or_else(|| self.target.fallback_project())
    }
}

/// What one look found to be desired.
pub(crate) struct Desired {
    pub(crate) fetched: Fetched,
    pub(crate) project: Project,
    /// `/srv/shop/velos.toml` or `git REPO@REF:PATH`.
    pub(crate) source: String,
}

/// Why a reconcile ended without converging.
pub(crate) struct Failure {
    pub(crate) class: ErrorClass,
    pub(crate) message: String,
    /// The next step for the user, when the error has one.
    pub(crate) hint: Option<String>,
    /// Where the desired state was to come from.
    pub(crate) source: String,
}

/// How a reconcile that got as far as a plan ended.
pub(crate) struct Converged {
    pub(crate) state: SyncState,
    pub(crate) message: String,
    pub(crate) class: Option<ErrorClass>,
    pub(crate) hint: Option<String>,
}
