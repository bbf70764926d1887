//! The loop: targets refreshed, due ones reconciled one after another, then a block until the next event or
//! deadline.
use super::*;

/// The loop. Build it with [`Controller::new`], then [`Controller::run`] (or, in tests, drive it step by
/// step with [`Controller::handle`] and [`Controller::run_due`]).
pub struct Controller {
    pub(crate) home: PathBuf,
    pub(crate) mode: Targets,
    pub(crate) targets: BTreeMap<String, TargetState>,
    pub(crate) daemon: DaemonFactory,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) options: ControllerOptions,
    pub(crate) watch: Option<FileWatch>,
    /// The projects this controller follows: each one's lock, and the key of the target it follows it for.
    pub(crate) locks: BTreeMap<String, (ProjectLock, String)>,
    pub(crate) listener: Option<SyncListener>,
    pub(crate) pid: u32,
    /// The API and exports the targets ask for, when this process can run them.
    pub(crate) services: Option<Box<dyn Services>>,
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
            services: None,
        };
        controller.refresh_targets();
        controller.update_watch();
        Ok(controller)
    }

    /// Runs what the targets' `[velos.api]` and `[velos.otlp]` ask for with `services`.
    pub fn with_services(mut self, services: Box<dyn Services>) -> Controller {
        self.services = Some(services);
        self
    }

    /// Tells the services what target `key` asks for now; the problem, if part of it cannot run.
    pub(crate) fn sync_services(
        &mut self,
        key: &str,
        settings: Option<&ControllerSettings>,
    ) -> Option<ServiceProblem> {
        let problem = self.services.as_mut()?.sync(key, settings).err();
        if let Some(problem) = &problem {
            self.log(&format!("{key}: {}", problem.message));
        }
        problem
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

    pub(crate) fn log(&self, message: &str) {
        if self.options.verbose {
            eprintln!("velos controller: {message}");
        }
    }

    pub(crate) fn refresh_targets(&mut self) {
        let wanted: Vec<Target> = match &self.mode {
            Targets::Fixed(targets) => targets.clone(),
            Targets::Registered => registered_targets(&self.home),
        };
        let now = self.clock.now();
        let keys: BTreeSet<String> = wanted.iter().map(Target::key).collect();
        let gone: Vec<String> = self.targets.keys().filter(|key| !keys.contains(*key)).cloned().collect();
        for key in gone {
            if let Some(mut state) = self.targets.remove(&key) {
                self.sync_services(&key, None);
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
    pub(crate) fn release(&mut self, state: &mut TargetState) {
        if let Some(owner) = state.owner.take() {
            if self.locks.remove(&owner).is_some() {
                let _ = remove_record(&self.home, &owner);
            }
        }
    }

    pub(crate) fn update_watch(&mut self) {
        let files: BTreeSet<PathBuf> =
            self.targets.values().filter_map(|state| state.watch_file.clone()).collect();
        let Some(watch) = self.watch.as_mut() else { return };
        for (folder, error) in watch.set(&files) {
            if self.options.verbose {
                eprintln!("velos controller: cannot watch {}: {error}", folder.display());
            }
        }
    }
}
