//! The runner's loop: LIST, set the watch and the cron timers, restart what is due, write the status.
use super::status::{write_schedule_status, AppScheduleStatus, ScheduleStatus, ScheduledRestart, Trigger};
use super::wanted::{scheduled_apps, ScheduledApp};
use super::watcher::{FolderWatch, WATCHED_FOLDERS_MAX};
use super::Signal;
use chrono::{DateTime, Local, SecondsFormat};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use velos_client::Client;
use velos_core::Status;
use velos_schedule::WatchSpec;

/// How often the runner LISTs the daemon to learn the schedules (and how stale a changed one may be).
pub const LIST_EVERY: Duration = Duration::from_secs(2);
/// A watch path that could not be watched is tried again this often.
const RETRY_EVERY: Duration = Duration::from_secs(10);
/// Beyond an instance's kill timeout, how long its restart may take to show a new process.
const RESTART_GRACE: Duration = Duration::from_secs(30);

/// Starts the runner on its own thread. The sender stops it ([`Signal::Stop`]); the file watch holds one
/// too, so dropping it alone does not.
pub fn spawn_schedules(
    home: &Path,
    verbose: bool,
) -> notify::Result<(Sender<Signal>, std::thread::JoinHandle<()>)> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let runner = ScheduleRunner::new(home, verbose, sender.clone(), receiver)?;
    let thread = std::thread::Builder::new()
        .name("velos-schedules".into())
        .spawn(move || runner.run())
        .map_err(notify::Error::io)?;
    Ok((sender, thread))
}

pub struct ScheduleRunner {
    home: PathBuf,
    verbose: bool,
    watch: FolderWatch,
    receiver: Receiver<Signal>,
    apps: BTreeMap<String, ScheduledApp>,
    /// Per app: the expression and its next fire time.
    crons: BTreeMap<String, (String, DateTime<Local>)>,
    /// Per app with a change seen: when the restart is due (the burst quiet for `debounce`), and the
    /// first file changed.
    pending: BTreeMap<String, (Instant, PathBuf)>,
    status: ScheduleStatus,
    written: Option<ScheduleStatus>,
    last_retry: Instant,
}

impl ScheduleRunner {
    pub fn new(
        home: &Path,
        verbose: bool,
        sender: Sender<Signal>,
        receiver: Receiver<Signal>,
    ) -> notify::Result<ScheduleRunner> {
        Ok(ScheduleRunner {
            home: home.to_path_buf(),
            verbose,
            watch: FolderWatch::new(sender, home, WATCHED_FOLDERS_MAX)?,
            receiver,
            apps: BTreeMap::new(),
            crons: BTreeMap::new(),
            pending: BTreeMap::new(),
            status: ScheduleStatus { pid: std::process::id(), ..ScheduleStatus::default() },
            written: None,
            last_retry: Instant::now(),
        })
    }

    /// Runs until [`Signal::Stop`].
    pub fn run(mut self) {
        let mut next_list = Instant::now();
        loop {
            if Instant::now() >= next_list {
                self.refresh();
                next_list = Instant::now() + LIST_EVERY;
            }
            self.fire_crons(Local::now());
            self.fire_watches(Instant::now());
            self.write_status();
            let wait = self.next_wake(next_list).saturating_duration_since(Instant::now());
            match self.receiver.recv_timeout(wait) {
                Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(signal) => {
                    self.take(signal);
                    while let Ok(signal) = self.receiver.try_recv() {
                        if signal == Signal::Stop {
                            return;
                        }
                        self.take(signal);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn log(&self, message: &str) {
        if self.verbose {
            eprintln!("velos controller: {message}");
        }
    }

    /// The earliest of the next LIST, a debounce deadline and a cron time (wall clock, re-read then).
    fn next_wake(&self, next_list: Instant) -> Instant {
        let now = Instant::now();
        let wall = Local::now();
        let crons = self.crons.values().map(|(_, at)| now + (*at - wall).to_std().unwrap_or(Duration::ZERO));
        let debounces = self.pending.values().map(|(at, _)| *at);
        crons.chain(debounces).fold(next_list, Instant::min)
    }

    fn take(&mut self, signal: Signal) {
        match signal {
            Signal::Changed { app, path } => {
                self.watch.changed(&app, &path);
                let Some(watch) = self.apps.get(&app).and_then(|app| app.watch.as_ref()) else { return };
                let due = Instant::now() + Duration::from_millis(watch.debounce_ms);
                let entry = self.pending.entry(app).or_insert((due, path));
                entry.0 = due;
            }
            Signal::Folder(folder) => self.watch.add_folder(&folder),
            Signal::Stop => {}
        }
    }

    /// One LIST: the schedules as the labels say now. A daemon that does not answer changes nothing.
    fn refresh(&mut self) {
        let records = match Client::connect(&self.home).and_then(|mut client| client.list()) {
            Ok(records) => records,
            Err(error) => {
                self.log(&format!("schedules: cannot list the apps: {error}"));
                return;
            }
        };
        self.apps = scheduled_apps(&records);
        let now = Local::now();
        self.crons.retain(|app, _| self.apps.get(app).is_some_and(|scheduled| scheduled.cron.is_some()));
        for (name, app) in &self.apps {
            let Some((text, cron)) = &app.cron else { continue };
            if self.crons.get(name).is_some_and(|(known, _)| known == text) {
                continue;
            }
            match cron.next_after(&now) {
                Some(at) => {
                    self.crons.insert(name.clone(), (text.clone(), at));
                }
                None => {
                    self.crons.remove(name);
                }
            }
        }
        let watches: BTreeMap<String, (WatchSpec, String)> = self
            .apps
            .iter()
            .filter_map(|(name, app)| app.watch.clone().map(|watch| (name.clone(), (watch, app.cwd.clone()))))
            .collect();
        self.pending.retain(|app, _| watches.contains_key(app));
        let retry = self.last_retry.elapsed() >= RETRY_EVERY;
        if retry {
            self.last_retry = Instant::now();
        }
        self.watch.set(&watches, retry);
    }

    fn fire_crons(&mut self, now: DateTime<Local>) {
        let due: Vec<(String, String)> = self
            .crons
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(app, (text, _))| (app.clone(), text.clone()))
            .collect();
        for (app, text) in due {
            if let Some((_, at)) = self.crons.get_mut(&app) {
                match self.apps.get(&app).and_then(|scheduled| scheduled.cron.as_ref()) {
                    Some((_, cron)) => match cron.next_after(&now) {
                        Some(next) => *at = next,
                        None => {
                            self.crons.remove(&app);
                        }
                    },
                    None => continue,
                }
            }
            self.restart(&app, Trigger::CronRestart, text);
        }
    }

    fn fire_watches(&mut self, now: Instant) {
        let due: Vec<(String, PathBuf)> = self
            .pending
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(app, (_, path))| (app.clone(), path.clone()))
            .collect();
        for (app, path) in due {
            self.pending.remove(&app);
            let reason = match self.apps.get(&app) {
                Some(scheduled) => {
                    let shown = path.strip_prefix(&scheduled.cwd).unwrap_or(&path);
                    format!("{} changed", shown.display())
                }
                None => continue,
            };
            self.restart(&app, Trigger::Watch, reason);
        }
    }

    /// Restarts `app`'s instances one after another and records it.
    fn restart(&mut self, app: &str, by: Trigger, reason: String) {
        let Some(scheduled) = self.apps.get(app).cloned() else { return };
        let at = Local::now().to_rfc3339_opts(SecondsFormat::Secs, false);
        let result = restart_instances(&self.home, &scheduled);
        match &result {
            Ok(0) => self.log(&format!("{app}: {} ({reason}): nothing to restart (stopped)", by.as_str())),
            Ok(count) => {
                self.log(&format!("{app}: restarted by {} ({reason}), {count} instance(s)", by.as_str()))
            }
            Err(error) => self.log(&format!("{app}: restart by {} ({reason}) failed: {error}", by.as_str())),
        }
        let entry = self.status.apps.entry(app.to_string()).or_default();
        if result == Ok(0) {
            entry.skipped += 1;
            return;
        }
        match by {
            Trigger::CronRestart => entry.cron_restarts += 1,
            Trigger::Watch => entry.watch_restarts += 1,
        }
        entry.last_restart = Some(ScheduledRestart { by, at, reason, error: result.err() });
    }

    fn write_status(&mut self) {
        let mut apps: BTreeMap<String, AppScheduleStatus> = BTreeMap::new();
        for name in self.apps.keys() {
            let mut app = self.status.apps.get(name).cloned().unwrap_or_default();
            app.next_cron =
                self.crons.get(name).map(|(_, at)| at.to_rfc3339_opts(SecondsFormat::Secs, false));
            app.watched_folders = self.watch.count(name);
            let problems = self.watch.problems(name).to_vec();
            for problem in problems.iter().filter(|problem| !app.watch_problems.contains(problem)) {
                self.log(&format!("{name}: watch: {problem}"));
            }
            app.watch_problems = problems;
            app.pending = self.pending.contains_key(name);
            apps.insert(name.clone(), app);
        }
        self.status.apps = apps;
        if self.written.as_ref() == Some(&self.status) {
            return;
        }
        match write_schedule_status(&self.home, &self.status) {
            Ok(()) => self.written = Some(self.status.clone()),
            Err(error) => self.log(&format!("schedules: cannot write their status: {error}")),
        }
    }
}

/// Restarts each instance that is not stopped, waiting for each to run a new process (or come to rest)
/// before the next, so an app with several instances keeps serving. Returns how many were restarted.
fn restart_instances(home: &Path, app: &ScheduledApp) -> Result<usize, String> {
    let instances: Vec<_> = app.instances.iter().filter(|instance| instance.restartable()).collect();
    if instances.is_empty() {
        return Ok(0);
    }
    let mut client = Client::connect(home).map_err(|error| error.to_string())?;
    let mut restarted = 0;
    for instance in &instances {
        let before = client.info(&instance.name).map_err(|error| format!("{}: {error}", instance.name))?;
        if matches!(before.status, Status::Stopped | Status::Stopping) {
            continue; // stopped since the LIST: the user's stop wins
        }
        client
            .restart(&instance.name, Some(&instance.spec_hash))
            .map_err(|error| format!("{}: {error}", instance.name))?;
        let deadline = Instant::now() + Duration::from_millis(before.spec.kill_timeout_ms) + RESTART_GRACE;
        client
            .wait_for(
                &instance.name,
                |record| {
                    (record.status == Status::Running && record.pid != 0 && record.pid != before.pid)
                        || record.status.is_at_rest()
                },
                deadline,
            )
            .map_err(|error| format!("{}: {error}", instance.name))?;
        restarted += 1;
    }
    Ok(restarted)
}
