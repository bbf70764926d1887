//! The controller (`velos controller`, `velos apply --watch`): a level-triggered loop that keeps the host
//! converged on each followed project's desired state, as a Kubernetes controller does.
//!
//! **Triggers only say "look again".** A debounced file save, the git poll timer, the resync timer, a
//! `sync` on `controller.sock` (the git hook, `velos apply`) all end the same way: the project is due, and
//! its reconcile re-reads everything — fetch the source, parse, list the live apps, plan, then apply (or
//! only report drift when `self_heal = false` and the revision is the one already applied), record history
//! and write status. Nothing depends on why the loop woke, so a lost event costs one resync at most.
//!
//! **Status on every path**, with an error class (see [`ErrorClass`]): a fetch or parse error leaves the
//! apps as they are (the last good revision keeps running, and drift from it is still undone) and says
//! `error` with the message; the next good revision recovers.
//!
//! **One at a time.** One thread reconciles, one project after another, so one project is never reconciled
//! twice at once in a process; across processes the controller holds `controller/<project>.lock` for as
//! long as it follows the project ([`record::lock_project`]).
//!
//! Time comes from a [`Clock`], so tests drive the timers without sleeping; the loop blocks on its
//! channel until the next deadline and never polls.
mod git;
mod hook;
pub mod revision;
mod socket;
mod source;
mod system;
mod watch;

pub use git::{checkout_dir, repository_name, GitSource, SOURCES_DIR};
pub use hook::{install_hook, CHAINED_HOOK, HOOK_LOG, HOOK_MARKER};
pub use socket::{listen, request_sync, SyncListener, CONTROLLER_SOCKET};
pub use source::{load, parse, set_revision, ErrorClass, Fetched, FileSource, Source, SourceError};
pub use system::{
    controller_wanted, fetch_git_project, file_target, git_from_args, is_tracked, register_target,
    registered_targets, system_project_text, tracking, unregister_target, write_system_project,
    CONTROLLER_APP, SYSTEM_FILE, SYSTEM_LABEL, SYSTEM_PROJECT, TARGETS_DIR,
};
pub use velos_reconcile::followed::{
    is_followed, live_records, load_for_status, lock_project, overlay, read_records, remove_record,
    unregistered_status, write_record, ControllerRecord, ProjectLock, CONTROLLER_DIR,
};
pub use watch::FileWatch;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use velos_config::{ControllerSettings, Project};
use velos_core::{ProcessRecord, Status};
use velos_reconcile::clock::{Clock, SystemClock};
use velos_reconcile::history::{lock_edits, read_projects, LastResult, EDIT_LOCK_FILE};
use velos_reconcile::{ActionKind, Plan};
use velos_reconcile::{ApplyOptions, Daemon, DaemonError};
use velos_reconcile::{ConvergeError, Gate, Pass, Scope};
use velos_reconcile::{SyncState, PENDING_NAMED_MAX};

/// The longest the loop blocks without looking at its timers (they are recomputed on every event anyway).
pub const WAIT_MAX: Duration = Duration::from_secs(30);
/// A file is applied this long after the last event naming it (editors write in several steps).
pub const DEBOUNCE_DEFAULT: Duration = Duration::from_millis(100);
/// The first retry after a transient error; doubled at each failure in a row, up to the resync period.
pub const RETRY_MIN_DEFAULT: Duration = Duration::from_secs(1);

pub use velos_reconcile::clock::TestClock;

// ---- triggers ------------------------------------------------------------------------------------------

/// What wakes the loop. None says more than "look again".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Look at this project (`None`: at every project) now.
    Sync(Option<String>),
    /// A watched file was written, renamed or removed: look at its project once it is quiet.
    FileChanged(PathBuf),
    /// Only recompute the timers (a test moved its clock).
    Wake,
    /// Stop the loop.
    Shutdown,
}

/// The sending side of the loop's channel: the file watch, the socket and tests hold one.
#[derive(Debug, Clone)]
pub struct Handle {
    sender: Sender<Event>,
}

impl Handle {
    /// Sends `event`; false when the loop is gone.
    pub fn send(&self, event: Event) -> bool {
        self.sender.send(event).is_ok()
    }

    pub fn sync(&self, project: Option<&str>) -> bool {
        self.send(Event::Sync(project.map(str::to_string)))
    }

    pub fn wake(&self) -> bool {
        self.send(Event::Wake)
    }

    pub fn shutdown(&self) -> bool {
        self.send(Event::Shutdown)
    }
}

/// The loop's channel: give the [`Handle`] to whoever triggers, the receiver to [`Controller::run`].
pub fn channel() -> (Handle, Receiver<Event>) {
    let (sender, receiver) = std::sync::mpsc::channel();
    (Handle { sender }, receiver)
}

// ---- what is followed ----------------------------------------------------------------------------------

/// One thing the controller follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub source: TargetSource,
    /// For a git target, its settings. For a file, the file's own `[velos]` wins at every look (it is
    /// desired state too), except that `watch = true` here forces the watch on (`velos apply --watch`).
    pub settings: ControllerSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetSource {
    /// A velos.toml on this host; if it has `[velos.git]`, the project comes from that repository.
    File { path: PathBuf },
    /// A repository given on the command line (`velos apply --git`).
    Git { git: velos_config::GitSource },
}

impl Target {
    /// `velos apply --watch FILE`: the file, watched whatever its `[velos]` says.
    pub fn watched_file(path: &Path) -> Target {
        let mut target = file_target(path);
        target.settings.watch = true;
        target
    }

    /// `velos apply --git REPO`.
    pub fn git(git: velos_config::GitSource, settings: ControllerSettings) -> Target {
        Target { source: TargetSource::Git { git }, settings }
    }

    /// `file:/srv/shop/velos.toml` or `git:REPO@REF:PATH`: identifies the target in the registry.
    pub fn key(&self) -> String {
        match &self.source {
            TargetSource::File { path } => format!("file:{}", path.display()),
            TargetSource::Git { git } => format!("git:{}", git.describe()),
        }
    }

    /// The project name status uses before the source could ever be parsed: what velos-config would
    /// default to (the file's folder, or the repository's name / the folder of `path` in it).
    pub fn fallback_project(&self) -> String {
        match &self.source {
            TargetSource::File { path } => {
                let folder = path.parent().and_then(Path::file_name).map(|name| name.to_string_lossy());
                repository_name(&folder.unwrap_or_default())
            }
            TargetSource::Git { git } => match git.path.rsplit_once('/') {
                Some((folder, _)) => repository_name(folder),
                None => repository_name(&git.repo),
            },
        }
    }
}

/// The targets of a controller.
#[derive(Debug, Clone)]
pub enum Targets {
    /// These, for the controller's life (`velos apply --watch`, tests).
    Fixed(Vec<Target>),
    /// Those registered under `$VELOS_HOME/controller/targets/`, re-read at each pass (`velos controller`,
    /// the system app): `velos apply` registers a target, then sends `sync`.
    Registered,
}

// ---- the controller ------------------------------------------------------------------------------------

/// Connects to the daemon, once per reconcile (a daemon restarted in between is simply found again).
pub type DaemonFactory = Box<dyn FnMut() -> Result<Box<dyn Daemon>, DaemonError> + Send>;

/// The factory for the real daemon of `home`, started if it is not running (`velos_exe daemon`).
pub fn client_factory(home: PathBuf, velos_exe: PathBuf) -> DaemonFactory {
    Box::new(move || {
        let client = velos_client::connect_or_start(&home, &velos_exe)?;
        Ok(Box::new(client) as Box<dyn Daemon>)
    })
}

/// How the controller behaves; the defaults are the product's.
#[derive(Debug, Clone, Copy)]
pub struct ControllerOptions {
    /// How an apply waits for its apps.
    pub apply: ApplyOptions,
    pub debounce: Duration,
    pub retry_min: Duration,
    /// One line on stderr per reconcile that acts or fails (the system app's log).
    pub verbose: bool,
}

impl Default for ControllerOptions {
    fn default() -> ControllerOptions {
        ControllerOptions {
            apply: ApplyOptions::default(),
            debounce: DEBOUNCE_DEFAULT,
            retry_min: RETRY_MIN_DEFAULT,
            verbose: false,
        }
    }
}

/// Why the controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("cannot create {}: {source}", path.display())]
    Home {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot watch files: {0}")]
    Watch(#[from] notify::Error),
    #[error("cannot listen on {}: {source}", path.display())]
    Socket {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One followed target and what the controller knows of it.
struct TargetState {
    target: Target,
    /// The git source in use, by [`velos_config::GitSource::describe`] (rebuilt when the file points
    /// elsewhere). A file source is rebuilt at each look: it holds nothing.
    git: Option<(String, GitSource)>,
    /// The project name at the last successful parse.
    project: Option<String>,
    /// The project this target holds the lock of and writes the record of (its name, or before the
    /// first successful parse, [`Target::fallback_project`]).
    owner: Option<String>,
    /// The last revision that parsed and planned: what drift is undone against while the source is bad.
    last_good: Option<(String, Project)>,
    /// The revision last applied successfully; `None` until known (then read from the registry once).
    applied: Option<Option<String>>,
    /// The settings at the last look.
    settings: ControllerSettings,
    /// The file to watch (its folder is watched), when the settings ask for it.
    watch_file: Option<PathBuf>,
    dirty: bool,
    debounce_at: Option<Instant>,
    next_at: Instant,
    /// Transient failures in a row.
    failures: u32,
    last_apply_unix_ms: Option<u64>,
}

impl TargetState {
    fn new(target: Target, now: Instant) -> TargetState {
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
        }
    }

    fn is_due(&self, now: Instant) -> bool {
        match self.debounce_at {
            Some(at) => self.dirty || at <= now,
            None => self.dirty || self.next_at <= now,
        }
    }

    fn wake_at(&self) -> Instant {
        self.debounce_at.unwrap_or(self.next_at)
    }

    /// The period of the next look: the resync, or the poll if sooner.
    fn interval(&self) -> Duration {
        let poll = self.settings.git.as_ref().map_or(u64::MAX, |git| git.poll_ms);
        Duration::from_millis(self.settings.resync_ms.min(poll).max(velos_config::INTERVAL_MIN_MS))
    }

    fn project_name(&self) -> String {
        self.project.clone().unwrap_or_else(|| self.target.fallback_project())
    }
}

/// What one look found to be desired.
struct Desired {
    fetched: Fetched,
    project: Project,
    /// `/srv/shop/velos.toml` or `git REPO@REF:PATH`.
    source: String,
}

/// Why a reconcile ended without converging.
struct Failure {
    class: ErrorClass,
    message: String,
    /// Where the desired state was to come from.
    source: String,
}

/// How a reconcile that got as far as a plan ended.
struct Converged {
    state: SyncState,
    message: String,
    class: Option<ErrorClass>,
}

/// The loop. Build it with [`Controller::new`], then [`Controller::run`] (or, in tests, drive it step by
/// step with [`Controller::handle`] and [`Controller::run_due`]).
pub struct Controller {
    home: PathBuf,
    mode: Targets,
    targets: BTreeMap<String, TargetState>,
    daemon: DaemonFactory,
    clock: Box<dyn Clock>,
    options: ControllerOptions,
    watch: Option<FileWatch>,
    /// The projects this controller follows: each one's lock, and the key of the target it follows it for.
    locks: BTreeMap<String, (ProjectLock, String)>,
    listener: Option<SyncListener>,
    pid: u32,
}

impl Controller {
    /// A controller for `targets`. With a `handle`, it watches files (events go to that handle's channel);
    /// without one, file saves are only seen at the next resync.
    pub fn new(
        home: &Path,
        targets: Targets,
        daemon: DaemonFactory,
        clock: Box<dyn Clock>,
        options: ControllerOptions,
        handle: Option<&Handle>,
    ) -> Result<Controller, ControllerError> {
        std::fs::create_dir_all(home.join(CONTROLLER_DIR))
            .map_err(|source| ControllerError::Home { path: home.join(CONTROLLER_DIR), source })?;
        let watch = handle.map(|handle| FileWatch::new(handle.clone())).transpose()?;
        let mut controller = Controller {
            home: home.to_path_buf(),
            mode: targets,
            targets: BTreeMap::new(),
            daemon,
            clock,
            options,
            watch,
            locks: BTreeMap::new(),
            listener: None,
            pid: std::process::id(),
        };
        controller.refresh_targets();
        controller.update_watch();
        Ok(controller)
    }

    /// Listens on `controller.sock` for `sync` requests. False when another controller listens there
    /// already (this one then only hears its own triggers).
    pub fn listen(&mut self, handle: &Handle) -> Result<bool, ControllerError> {
        let path = self.home.join(CONTROLLER_SOCKET);
        self.listener =
            listen(&self.home, handle.clone()).map_err(|source| ControllerError::Socket { path, source })?;
        Ok(self.listener.is_some())
    }

    /// The keys of the targets followed now.
    pub fn target_keys(&self) -> Vec<String> {
        self.targets.keys().cloned().collect()
    }

    /// The folders the file watch covers now.
    pub fn watched_folders(&self) -> Vec<PathBuf> {
        self.watch.as_ref().map(|watch| watch.folders().iter().cloned().collect()).unwrap_or_default()
    }

    /// Runs until [`Event::Shutdown`]: reconcile what is due, then block until the next event or deadline.
    pub fn run(mut self, events: Receiver<Event>) {
        loop {
            self.run_due();
            let timeout = self
                .next_wake()
                .map_or(WAIT_MAX, |at| at.saturating_duration_since(self.clock.now()))
                .min(WAIT_MAX);
            match events.recv_timeout(timeout) {
                Ok(Event::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(event) => {
                    self.handle(event);
                    // Take whatever else is queued before reconciling: a burst becomes one look.
                    while let Ok(event) = events.try_recv() {
                        if event == Event::Shutdown {
                            return;
                        }
                        self.handle(event);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Takes one event into account (marks targets due, or debounces a file save). Reconciles nothing.
    pub fn handle(&mut self, event: Event) {
        let now = self.clock.now();
        match event {
            Event::Sync(None) => self.targets.values_mut().for_each(|state| state.dirty = true),
            Event::Sync(Some(project)) => {
                for state in self.targets.values_mut() {
                    // A target never parsed may be that project: look at it too.
                    if state.project.as_deref().is_none_or(|known| known == project) {
                        state.dirty = true;
                    }
                }
            }
            Event::FileChanged(path) => {
                for state in self.targets.values_mut() {
                    if state.watch_file.as_deref() == Some(path.as_path()) {
                        state.debounce_at = Some(now + self.options.debounce);
                    }
                }
            }
            Event::Wake | Event::Shutdown => {}
        }
    }

    /// When the loop must next look, if any target is followed.
    pub fn next_wake(&self) -> Option<Instant> {
        self.targets.values().map(TargetState::wake_at).min()
    }

    /// Reconciles every target that is due now (asked for, debounced, or its timer expired), one after
    /// another, then sets the file watch to what the targets want.
    pub fn run_due(&mut self) {
        self.refresh_targets();
        let now = self.clock.now();
        let due: Vec<String> =
            self.targets.iter().filter(|(_, state)| state.is_due(now)).map(|(key, _)| key.clone()).collect();
        for key in due {
            let Some(mut state) = self.targets.remove(&key) else { continue };
            if self.reconcile(&mut state) {
                self.targets.insert(key, state);
            }
        }
        self.update_watch();
    }

    /// Reconciles every target now, whatever its timers say.
    pub fn reconcile_all(&mut self) {
        self.handle(Event::Sync(None));
        self.run_due();
    }

    fn log(&self, message: &str) {
        if self.options.verbose {
            eprintln!("velos controller: {message}");
        }
    }

    fn refresh_targets(&mut self) {
        let wanted: Vec<Target> = match &self.mode {
            Targets::Fixed(targets) => targets.clone(),
            Targets::Registered => registered_targets(&self.home),
        };
        let now = self.clock.now();
        let keys: BTreeSet<String> = wanted.iter().map(Target::key).collect();
        let gone: Vec<String> = self.targets.keys().filter(|key| !keys.contains(*key)).cloned().collect();
        for key in gone {
            if let Some(mut state) = self.targets.remove(&key) {
                self.release(&mut state);
            }
        }
        for target in wanted {
            match self.targets.get_mut(&target.key()) {
                Some(state) => state.target = target, // settings may have changed: taken at the next look
                None => {
                    self.targets.insert(target.key(), TargetState::new(target, now));
                }
            }
        }
    }

    /// Stops following `state`'s project: its lock and its record go.
    fn release(&mut self, state: &mut TargetState) {
        if let Some(owner) = state.owner.take() {
            if self.locks.remove(&owner).is_some() {
                let _ = remove_record(&self.home, &owner);
            }
        }
    }

    fn update_watch(&mut self) {
        let files: BTreeSet<PathBuf> =
            self.targets.values().filter_map(|state| state.watch_file.clone()).collect();
        let Some(watch) = self.watch.as_mut() else { return };
        for (folder, error) in watch.set(&files) {
            if self.options.verbose {
                eprintln!("velos controller: cannot watch {}: {error}", folder.display());
            }
        }
    }

    /// One reconcile of one target. Returns false when the target is to be dropped (its file no longer
    /// asks for the controller).
    fn reconcile(&mut self, state: &mut TargetState) -> bool {
        // The next look is timed from the start of this one: a resync period means "at least this often",
        // whatever the pass took, and a clock moved while a pass runs (a test's) is never lost.
        let started = self.clock.now();
        state.dirty = false;
        state.debounce_at = None;
        let outcome = match self.desired(state) {
            Ok(None) => {
                // A registered file that no longer asks for the controller: stop following it.
                self.log(&format!("{}: no longer asks for the controller", state.target.key()));
                let _ = unregister_target(&self.home, &state.target);
                self.release(state);
                return false;
            }
            Ok(Some(desired)) => self.converge(state, desired),
            Err(failure) => self.fail(state, failure),
        };
        let interval = state.interval();
        let delay = match outcome {
            Some(ErrorClass::Transient) => {
                state.failures = state.failures.saturating_add(1);
                let backoff =
                    self.options.retry_min.saturating_mul(1 << state.failures.min(16).saturating_sub(1));
                backoff.min(interval)
            }
            _ => {
                state.failures = 0;
                interval
            }
        };
        state.next_at = started + delay;
        true
    }

    /// Fetches and parses the target's desired state. `Ok(None)`: a registered file that no longer wants a
    /// controller.
    fn desired(&mut self, state: &mut TargetState) -> Result<Option<Desired>, Failure> {
        let git = match &state.target.source {
            TargetSource::Git { git } => {
                state.settings =
                    ControllerSettings { git: Some(git.clone()), ..state.target.settings.clone() };
                git.clone()
            }
            TargetSource::File { path } => {
                let mut file = FileSource::new(path);
                let described = file.describe();
                let failure = |error: SourceError| Failure {
                    class: error.class(),
                    message: error.to_string(),
                    source: described.clone(),
                };
                let (fetched, project) = load(&mut file).map_err(failure)?;
                let mut settings =
                    project.controller.clone().unwrap_or_else(|| state.target.settings.clone());
                settings.watch |= state.target.settings.watch;
                if matches!(self.mode, Targets::Registered) && !settings.wants_controller() {
                    return Ok(None);
                }
                state.watch_file = settings.watch.then(|| file.parse_path());
                state.settings = settings.clone();
                match settings.git {
                    None => {
                        state.git = None;
                        return Ok(Some(Desired { fetched, project, source: described }));
                    }
                    Some(git) => git,
                }
            }
        };
        let key = git.describe();
        if state.git.as_ref().is_none_or(|(known, _)| *known != key) {
            state.git = Some((key.clone(), GitSource::new(&self.home, &git)));
        }
        let Some((_, source)) = state.git.as_mut() else {
            return Err(Failure { class: ErrorClass::Transient, message: "no source".into(), source: key });
        };
        let described = source.describe();
        let (fetched, project) = load(source).map_err(|error| Failure {
            class: error.class(),
            message: error.to_string(),
            source: described.clone(),
        })?;
        Ok(Some(Desired { fetched, project, source: described }))
    }

    /// Makes `state` the one that follows `project`: takes the project's lock (kept from one look to the
    /// next), and lets go of the project it followed under another name (a renamed project, or the
    /// fallback name of a first look that failed). False when another controller, or another target of
    /// this one, follows `project`: then this target stands by.
    fn claim(&mut self, state: &mut TargetState, project: &str) -> bool {
        let key = state.target.key();
        match self.locks.get(project) {
            Some((_, holder)) if *holder == key => {}
            Some(_) => return false,
            None => match lock_project(&self.home, project) {
                Ok(Some(lock)) => {
                    self.locks.insert(project.to_string(), (lock, key));
                }
                Ok(None) | Err(_) => return false,
            },
        }
        if state.owner.as_deref() != Some(project) {
            self.release(state);
            state.owner = Some(project.to_string());
        }
        true
    }

    /// The revision last applied successfully to `project`: known, or read from the registry once.
    /// The revision last applied successfully, from the registry. An unreadable registry is an error, not
    /// "never applied": taking it for a new revision would apply drift that `self_heal = false` only reports.
    fn applied_revision(&self, state: &mut TargetState, project: &Project) -> Result<Option<String>, String> {
        if let Some(applied) = &state.applied {
            return Ok(applied.clone());
        }
        let records =
            read_projects(&self.home).map_err(|error| format!("cannot read what was applied: {error}"))?;
        let applied = records
            .into_iter()
            .find(|record| record.project == project.name && record.last_result == LastResult::Ok)
            .map(|record| record.revision);
        state.applied = Some(applied.clone());
        Ok(applied)
    }

    fn write(&self, state: &TargetState, source: &str, desired: Option<&str>, converged: &Converged) {
        self.write_at(state, source, desired, converged, self.clock.unix_ms());
    }

    fn write_at(
        &self,
        state: &TargetState,
        source: &str,
        desired: Option<&str>,
        converged: &Converged,
        unix_ms: u64,
    ) {
        let Some(project) = state.owner.clone() else {
            return; // another controller's project: its status is not ours to write
        };
        let record = ControllerRecord {
            project,
            source: source.to_string(),
            revision: state.applied.clone().flatten().unwrap_or_default(),
            desired_revision: desired.map(str::to_string),
            state: converged.state,
            message: converged.message.clone(),
            error_class: converged.class,
            self_heal: state.settings.self_heal,
            updated_unix_ms: unix_ms,
            last_apply_unix_ms: state.last_apply_unix_ms,
            pid: self.pid,
        };
        if let Err(error) = write_record(&self.home, &record) {
            self.log(&format!("cannot write the status of {}: {error}", record.project));
        }
    }

    /// The source could not be read or parsed: say so, keep the apps, and still undo drift from the last
    /// good revision when self-heal is on.
    fn fail(&mut self, state: &mut TargetState, failure: Failure) -> Option<ErrorClass> {
        let project = state.project_name();
        self.log(&format!("{project}: {} ({})", failure.message, failure.class.as_str()));
        if !self.claim(state, &project) {
            return Some(ErrorClass::Waiting);
        }
        let mut message = failure.message.clone();
        if let Some((text, last_good)) = state.last_good.clone() {
            message.push_str(&format!(
                "; still running {}",
                velos_reconcile::short_revision(&last_good.revision)
            ));
            if state.settings.self_heal {
                let fetched = Fetched { text, revision: last_good.revision.clone(), origin: String::new() };
                let healed = self.plan_and_act(state, &fetched, &last_good, &failure.source, false);
                match healed {
                    Ok(converged) if !converged.message.is_empty() => {
                        message.push_str(&format!(" ({})", converged.message));
                    }
                    Err(healing) => message.push_str(&format!(" ({})", healing.message)),
                    Ok(_) => {}
                }
            }
        }
        let converged = Converged { state: SyncState::Error, message, class: Some(failure.class) };
        self.write(state, &failure.source, None, &converged);
        Some(failure.class)
    }

    fn converge(&mut self, state: &mut TargetState, desired: Desired) -> Option<ErrorClass> {
        let Desired { fetched, project, source } = desired;
        if !self.claim(state, &project.name) {
            self.log(&format!("{}: another controller follows it; standing by", project.name));
            return Some(ErrorClass::Waiting);
        }
        if state.project.as_deref() != Some(project.name.as_str()) {
            // First look, or the file now declares another project: what was applied is not known.
            state.project = Some(project.name.clone());
            state.applied = None;
            state.last_good = None;
        }
        let converged = match self.plan_and_act(state, &fetched, &project, &source, true) {
            Ok(converged) => {
                state.last_good = Some((fetched.text.clone(), project.clone()));
                converged
            }
            Err(failure) => {
                Converged { state: SyncState::Error, message: failure.message, class: Some(failure.class) }
            }
        };
        self.write(state, &source, Some(&project.revision), &converged);
        converged.class
    }

    /// The one converge pass ([`Pass`]), gated: nothing to do when the revision was applied and the host
    /// runs it; only a report of the drift when `self_heal` is off; else `progressing` is written, a git
    /// checkout brought to the commit, and the plan applied and recorded. `report` false: healing from the
    /// last good revision while the source is in error (no `progressing` record; the caller writes the
    /// error).
    fn plan_and_act(
        &mut self,
        state: &mut TargetState,
        fetched: &Fetched,
        project: &Project,
        source: &str,
        report: bool,
    ) -> Result<Converged, Failure> {
        let transient =
            |message: String| Failure { class: ErrorClass::Transient, message, source: source.to_string() };
        // From the list to the record, as a velos command does: a `velos apply` or an edit of the same
        // file (which the watch sees too) is waited for, never interleaved with. What was applied is then
        // read again from the registry: that command may have applied this very revision.
        let _edits = match lock_edits(&self.home) {
            Ok(lock) => Some(lock),
            Err(error) => {
                self.log(&format!("cannot take {EDIT_LOCK_FILE} ({error}); going on without it"));
                None
            }
        };
        state.applied = None;
        let applied = self.applied_revision(state, project).map_err(transient)?;
        let revision_changed = applied.as_deref() != Some(project.revision.as_str());
        let short = velos_reconcile::short_revision(&project.revision);
        let mut daemon =
            (self.daemon)().map_err(|error| transient(format!("cannot reach the daemon: {error}")))?;
        // The pass owns the clock while it runs; the gate writes status with the time it is given.
        let mut clock = std::mem::replace(&mut self.clock, Box::new(SystemClock));
        let mut held: Option<Result<Converged, Failure>> = None;
        let pass = Pass {
            home: &self.home,
            project,
            text: &fetched.text,
            scope: Scope::Project,
            options: self.options.apply,
        };
        let this = &*self;
        let passed = pass.run(
            daemon.as_mut(),
            clock.as_mut(),
            &mut |plan, live, clock| {
                if plan.is_empty() && !revision_changed {
                    held =
                        Some(Ok(Converged { state: SyncState::Synced, message: String::new(), class: None }));
                    return Gate::Hold;
                }
                if !plan.is_empty() && !revision_changed && !state.settings.self_heal {
                    let message = format!("self_heal is off: {}", drift_message(plan, live));
                    held = Some(Ok(Converged { state: SyncState::OutOfSync, message, class: None }));
                    return Gate::Hold;
                }
                if report && !plan.is_empty() {
                    let progressing = Converged {
                        state: SyncState::Progressing,
                        message: format!("applying {short}: {}", plan.describe_actions().join(", ")),
                        class: None,
                    };
                    this.write_at(state, source, Some(&project.revision), &progressing, clock.unix_ms());
                }
                if let Some((_, git)) = state.git.as_mut().filter(|_| fetched.revision.starts_with("git:")) {
                    if let Err(error) = git.materialize(fetched) {
                        held = Some(Err(transient(error.to_string())));
                        return Gate::Hold;
                    }
                }
                if !plan.is_empty() {
                    let what = if revision_changed {
                        format!("applying {short}")
                    } else {
                        format!("undoing drift: {}", drift_message(plan, live))
                    };
                    this.log(&format!("{}: {what}", project.name));
                }
                Gate::Apply
            },
            &mut |_| {},
        );
        let now_ms = clock.unix_ms();
        self.clock = clock;
        drop(daemon);
        let converged = match passed {
            Ok(converged) => converged,
            Err(ConvergeError::List(error)) => {
                return Err(transient(format!("cannot list the apps: {error}")))
            }
            Err(ConvergeError::Plan { error, .. }) => {
                return Err(Failure {
                    class: ErrorClass::Terminal,
                    message: error.to_string(),
                    source: source.to_string(),
                })
            }
        };
        if let Some(held) = held {
            return held;
        }
        if let Some(error) = &converged.unrecorded {
            self.log(&format!("{}: cannot record the apply: {error}", project.name));
        }
        state.last_apply_unix_ms = Some(now_ms);
        if converged.report.ok() {
            state.applied = Some(Some(project.revision.clone()));
            let message = if revision_changed {
                String::new()
            } else {
                format!("undid drift: {}", converged.plan.describe_actions().join(", "))
            };
            Ok(Converged { state: SyncState::Synced, message, class: None })
        } else {
            let summary = converged.report.summary();
            self.log(&format!("{}: apply of {short} failed: {summary}", project.name));
            Err(transient(format!("apply of {short} failed: {summary}")))
        }
    }
}

/// `web: spec changed behind Velos's back; api: missing`: why the host differs from the file, from the plan
/// of a revision already applied (so every difference is drift).
pub fn drift_message(plan: &Plan, live: &[ProcessRecord]) -> String {
    let status_of = |name: &str| {
        live.iter().find(|record| record.name == name).map_or(Status::Unknown, |record| record.status)
    };
    let mut parts: Vec<String> = plan
        .actions
        .iter()
        .map(|action| {
            let name = &action.name;
            match &action.kind {
                ActionKind::Create { .. } => format!("{name}: missing"),
                ActionKind::Replace { .. } => format!("{name}: spec changed behind Velos's back"),
                ActionKind::UpdateInPlace { changes, .. } => {
                    let fields: Vec<&str> = changes.iter().map(|change| change.field.as_str()).collect();
                    format!("{name}: {} changed behind Velos's back", fields.join(", "))
                }
                ActionKind::Start => format!("{name}: {} (wanted running)", status_of(name).as_str()),
                ActionKind::Stop => format!("{name}: {} (wanted stopped)", status_of(name).as_str()),
                ActionKind::Delete => format!("{name}: not in the file"),
            }
        })
        .collect();
    if parts.len() > PENDING_NAMED_MAX {
        let more = parts.len() - PENDING_NAMED_MAX;
        parts.truncate(PENDING_NAMED_MAX);
        parts.push(format!("and {more} more"));
    }
    parts.join("; ")
}

/// `velos controller` / `velos apply --watch`: runs the loop with the system clock, the file watch and the
/// `controller.sock` listener (if no other controller listens) until the process ends.
pub fn run_controller(
    home: &Path,
    targets: Targets,
    daemon: DaemonFactory,
    options: ControllerOptions,
) -> Result<(), ControllerError> {
    let (handle, events) = channel();
    let mut controller =
        Controller::new(home, targets, daemon, Box::new(SystemClock), options, Some(&handle))?;
    if !controller.listen(&handle)? && options.verbose {
        eprintln!(
            "velos controller: another controller listens on {}",
            home.join(CONTROLLER_SOCKET).display()
        );
    }
    controller.run(events);
    Ok(())
}
