//! One look at one target: fetch, parse, claim the project, then the one converge pass (gated), and the
//! status written on every path. Also `run_controller`, the loop with the system clock.
use super::*;

impl Controller {
    /// One reconcile of one target. Returns false when the target is to be dropped (its file no longer
    /// asks for the controller).
    pub(crate) fn reconcile(&mut self, state: &mut TargetState) -> bool {
        // The next look is timed from the start of this one: a resync period means "at least this often",
        // whatever the pass took, and a clock moved while a pass runs (a test's) is never lost.
        let started = self.clock.now();
        state.dirty = false;
        state.debounce_at = None;
        let outcome = match self.desired(state) {
            Ok(None) => {
                // A registered file that no longer asks for the controller: stop following it.
                self.log(&format!("{}: no longer asks for the controller", state.target.key()));
                self.sync_services(&state.target.key(), None);
                let _ = unregister_target(&self.home, &state.target);
                self.release(state);
                return false;
            }
            Ok(Some(desired)) => {
                let settings = state.settings.clone();
                state.service_problem = self.sync_services(&state.target.key(), Some(&settings));
                self.converge(state, desired)
            }
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
    pub(crate) fn desired(&mut self, state: &mut TargetState) -> Result<Option<Desired>, Failure> {
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
                    hint: error.hint(),
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
            return Err(Failure {
                class: ErrorClass::Transient,
                message: "no source".into(),
                hint: None,
                source: key,
            });
        };
        let described = source.describe();
        let (fetched, project) = load(source).map_err(|error| Failure {
            class: error.class(),
            message: error.to_string(),
            hint: error.hint(),
            source: described.clone(),
        })?;
        Ok(Some(Desired { fetched, project, source: described }))
    }

    /// Makes `state` the one that follows `project`: takes the project's lock (kept from one look to the
    /// next), and lets go of the project it followed under another name (a renamed project, or the
    /// fallback name of a first look that failed). False when another controller, or another target of
    /// this one, follows `project`: then this target stands by.
    pub(crate) fn claim(&mut self, state: &mut TargetState, project: &str) -> bool {
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
    pub(crate) fn applied_revision(
        &self,
        state: &mut TargetState,
        project: &Project,
    ) -> Result<Option<String>, String> {
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

    pub(crate) fn write(
        &self,
        state: &TargetState,
        source: &str,
        desired: Option<&str>,
        converged: &Converged,
    ) {
        self.write_at(state, source, desired, converged, self.clock.unix_ms());
    }

    pub(crate) fn write_at(
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
        let (sync_state, message, class, hint) =
            with_service_problem(converged, state.service_problem.as_ref());
        let record = ControllerRecord {
            project,
            source: source.to_string(),
            revision: state.applied.clone().flatten().unwrap_or_default(),
            desired_revision: desired.map(str::to_string),
            state: sync_state,
            message,
            error_class: class,
            hint,
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
    pub(crate) fn fail(&mut self, state: &mut TargetState, failure: Failure) -> Option<ErrorClass> {
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
        let converged =
            Converged { state: SyncState::Error, message, class: Some(failure.class), hint: failure.hint };
        self.write(state, &failure.source, None, &converged);
        Some(failure.class)
    }

    pub(crate) fn converge(&mut self, state: &mut TargetState, desired: Desired) -> Option<ErrorClass> {
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
                // A revision that did not become ready (or is held back) is no one's last good one.
                if converged.state == SyncState::Synced {
                    state.last_good = Some((fetched.text.clone(), project.clone()));
                }
                converged
            }
            Err(failure) => Converged {
                state: SyncState::Error,
                message: failure.message,
                class: Some(failure.class),
                hint: failure.hint,
            },
        };
        self.write(state, &source, Some(&project.revision), &converged);
        converged.class
    }

    /// The one converge pass ([`Pass`]), gated: nothing to do when the revision was applied and the host
    /// runs it; only a report of the drift when `self_heal` is off; else `progressing` is written, a git
    /// checkout brought to the commit, and the plan applied and recorded. `report` false: healing from the
    /// last good revision while the source is in error (no `progressing` record; the caller writes the
    /// error).
    pub(crate) fn plan_and_act(
        &mut self,
        state: &mut TargetState,
        fetched: &Fetched,
        project: &Project,
        source: &str,
        report: bool,
    ) -> Result<Converged, Failure> {
        let transient = |message: String| Failure {
            class: ErrorClass::Transient,
            message,
            hint: None,
            source: source.to_string(),
        };
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
        if report {
            // A revision on_failure rolled back (or stopped) is not applied again until another comes.
            if let Some(held) = self.held(project) {
                return Ok(held);
            }
        }
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
        // `depends_on = { db = "healthy" }`: judged by what this controller's prober finds.
        let mut readiness = crate::ProbedReadiness::new(&self.home);
        let passed = pass.run_checked(
            daemon.as_mut(),
            clock.as_mut(),
            &mut readiness,
            &mut |plan, live, clock| {
                if plan.is_empty() && !revision_changed {
                    held = Some(Ok(Converged {
                        state: SyncState::Synced,
                        message: String::new(),
                        class: None,
                        hint: None,
                    }));
                    return Gate::Hold;
                }
                if !plan.is_empty() && !revision_changed && !state.settings.self_heal {
                    let message = format!("self_heal is off: {}", drift_message(plan, live));
                    held =
                        Some(Ok(Converged { state: SyncState::OutOfSync, message, class: None, hint: None }));
                    return Gate::Hold;
                }
                if report && !plan.is_empty() {
                    let progressing = Converged {
                        state: SyncState::Progressing,
                        message: format!("applying {short}: {}", plan.describe_actions().join(", ")),
                        class: None,
                        hint: None,
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
        // A new revision applied: did it work? Only asked when `on_failure` has something to do about it
        // (not for a heal from the last good revision): waiting blocks this loop — a save or a push that
        // comes meanwhile waits too — while with the default `on_failure` `velos status` judges the apps'
        // readiness from their records at every look anyway.
        let settled = match &passed {
            Ok(converged)
                if held.is_none()
                    && report
                    && project.on_failure != velos_config::OnFailure::Report
                    && revision_changed
                    && !converged.plan.is_empty()
                    && converged.report.actions_done() =>
            {
                Some(self.settle(project, converged, daemon.as_mut(), clock.as_mut()))
            }
            _ => None,
        };
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
                    hint: None,
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
        if let Some(settled) = settled {
            // Judged (and remedied) even when the pass's own wait found an app not running: a crash loop
            // can fail that wait before the readiness wait would have.
            state.applied = Some(Some(project.revision.clone()));
            return Ok(settled);
        }
        if converged.report.ok() {
            state.applied = Some(Some(project.revision.clone()));
            let message = if revision_changed {
                String::new()
            } else {
                format!("undid drift: {}", converged.plan.describe_actions().join(", "))
            };
            Ok(Converged { state: SyncState::Synced, message, class: None, hint: None })
        } else {
            let summary = converged.report.summary();
            self.log(&format!("{}: apply of {short} failed: {summary}", project.name));
            Err(transient(format!("apply of {short} failed: {summary}")))
        }
    }
}

/// The status to write: `converged`, unless what `[velos.api]` / `[velos.otlp]` ask for cannot run — a
/// terminal error of the project's file even when its apps are synced (another save is needed to fix it).
/// While an apply is under way that is what status says; the problem shows at the end of the look.
fn with_service_problem(
    converged: &Converged,
    problem: Option<&ServiceProblem>,
) -> (SyncState, String, Option<ErrorClass>, Option<String>) {
    let plain = (converged.state, converged.message.clone(), converged.class, converged.hint.clone());
    match problem {
        None => plain,
        Some(_) if converged.state == SyncState::Progressing => plain,
        Some(problem) if converged.state == SyncState::Error => {
            let message = format!("{}; {}", converged.message, problem.message);
            (SyncState::Error, message, converged.class, converged.hint.clone().or(problem.hint.clone()))
        }
        Some(problem) => {
            (SyncState::Error, problem.message.clone(), Some(ErrorClass::Terminal), problem.hint.clone())
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
    run_controller_with(home, targets, daemon, options, None)
}

/// [`run_controller`], running what the projects' `[velos.api]` and `[velos.otlp]` ask for with
/// `services` (the system controller does; a foreground `velos apply --watch` does not).
pub fn run_controller_with(
    home: &Path,
    targets: Targets,
    daemon: DaemonFactory,
    options: ControllerOptions,
    services: Option<Box<dyn Services>>,
) -> Result<(), ControllerError> {
    let (handle, events) = channel();
    // `controller.sock` is the system controller's while anything is registered: a foreground loop
    // (`velos apply --watch`) never takes it, even while that controller restarts.
    let foreground = matches!(targets, Targets::Fixed(_));
    let mut controller =
        Controller::new(home, targets, daemon, Box::new(SystemClock), options, Some(&handle))?;
    if let Some(services) = services {
        controller = controller.with_services(services);
    }
    let listening = !(foreground && controller_wanted(home)) && controller.listen(&handle)?;
    if !foreground {
        // The supervised controller probes; a foreground loop (`apply --watch`) leaves it to that one, so no
        // app is ever restarted twice for one liveness failure.
        if let Err(error) = crate::health::spawn_prober(home, options.verbose) {
            eprintln!("velos controller: cannot start the health prober: {error}");
        }
    }
    if !listening && options.verbose {
        let holder =
            read_records(home).into_iter().find(|record| is_followed(home, &record.project)).map_or_else(
                || CONTROLLER_APP.to_string(),
                |record| format!("{CONTROLLER_APP} (pid {})", record.pid),
            );
        eprintln!(
            "velos controller: {} belongs to {holder}: velos sync and the git hook reach it, not this loop",
            home.join(CONTROLLER_SOCKET).display()
        );
    }
    controller.run(events);
    Ok(())
}
