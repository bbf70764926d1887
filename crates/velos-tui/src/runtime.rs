//! The thin effectful shell around [`App`]: the terminal, a refresh thread (one `PROCESS_LIST` per
//! interval), the input thread, the log follows, and actions carried out on their own threads. The
//! drawing thread only waits for events, updates the state and redraws.
use crate::app::{App, Effect, Event};
use crate::daemon::{Daemon, DaemonError};
use crate::follow::Followers;
use crate::osc52;
use ratatui::crossterm::event::{self as terminal_event, Event as TerminalEvent};
use ratatui::DefaultTerminal;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The refresh interval unless `--interval` says otherwise.
pub const INTERVAL_DEFAULT: Duration = Duration::from_secs(1);
/// The shortest refresh accepted: below it the dashboard would cost the daemon more than it shows.
pub const INTERVAL_MIN: Duration = Duration::from_millis(100);
/// Projects' sync states are re-read every this many refreshes (each re-reads and re-plans the files).
pub const PROJECTS_EVERY_TICKS: u32 = 5;
/// At most one redraw per this long, however fast output arrives (~30 frames a second).
const FRAME_MIN: Duration = Duration::from_millis(33);
/// Events waiting for the drawing thread; a follow that gets ahead waits (and the daemon, which never
/// waits for a slow reader, drops it; it is followed again on a later refresh).
const EVENTS_QUEUED_MAX: usize = 4096;

#[derive(Debug, Clone)]
pub struct Options {
    pub home: PathBuf,
    pub interval: Duration,
    pub colour: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not set up the terminal")]
    Terminal(#[source] std::io::Error),
    #[error("could not start a thread of the dashboard")]
    Thread(#[source] std::io::Error),
}

/// Runs the dashboard until the user quits. Restores the terminal on every path.
pub fn run(daemon: Arc<dyn Daemon>, options: Options) -> Result<(), RunError> {
    let mut terminal = ratatui::try_init().map_err(RunError::Terminal)?;
    let result = event_loop(&mut terminal, daemon, &options);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    daemon: Arc<dyn Daemon>,
    options: &Options,
) -> Result<(), RunError> {
    let (sender, events) = sync_channel(EVENTS_QUEUED_MAX);
    let running = Arc::new(AtomicBool::new(true));
    spawn("velos-monit-input", read_input(sender.clone(), Arc::clone(&running)))?;
    spawn(
        "velos-monit-refresh",
        refresh(Arc::clone(&daemon), sender.clone(), options.interval, Arc::clone(&running)),
    )?;
    let mut app = App::new(options.home.display().to_string(), options.interval, options.colour);
    let size = terminal.size().map_err(RunError::Terminal)?;
    app.update(Event::Resize { width: size.width, height: size.height });
    let mut followers = Followers::new(Arc::clone(&daemon), sender.clone(), options.interval);
    let result = drive(terminal, &mut app, &events, &mut followers, &daemon, &sender);
    running.store(false, Ordering::SeqCst);
    followers.stop_all();
    result
}

fn drive(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    events: &Receiver<Event>,
    followers: &mut Followers,
    daemon: &Arc<dyn Daemon>,
    sender: &SyncSender<Event>,
) -> Result<(), RunError> {
    let mut drawn_at = Instant::now();
    terminal.draw(|frame| crate::render(app, frame)).map_err(RunError::Terminal)?;
    loop {
        // Sleep until something happens, then take everything that came within one frame.
        let Ok(first) = events.recv() else { return Ok(()) };
        let mut next = Some(first);
        let frame_due = drawn_at + FRAME_MIN;
        while let Some(event) = next.take() {
            match app.update(event) {
                Some(Effect::Quit) => return Ok(()),
                Some(effect) => carry_out(effect, daemon, sender)?,
                None => {}
            }
            next = match events.try_recv() {
                Ok(event) => Some(event),
                Err(_) => match events.recv_timeout(frame_due.saturating_duration_since(Instant::now())) {
                    Ok(event) => Some(event),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Ok(()),
                },
            };
        }
        followers.sync(&app.follows(), app.log_generation, app.backlog_lines());
        terminal.draw(|frame| crate::render(app, frame)).map_err(RunError::Terminal)?;
        drawn_at = Instant::now();
    }
}

fn carry_out(effect: Effect, daemon: &Arc<dyn Daemon>, sender: &SyncSender<Event>) -> Result<(), RunError> {
    match effect {
        Effect::Run(action) => {
            let (daemon, sender) = (Arc::clone(daemon), sender.clone());
            spawn("velos-monit-action", move || {
                let result = daemon.run(&action);
                let _ = sender.send(Event::Done { action, result });
            })
        }
        Effect::Copy(text) => {
            // Between two draws the terminal is ours; a failed write only means no copy.
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(osc52::sequence(&text).as_bytes()).and_then(|()| stdout.flush());
            Ok(())
        }
        Effect::Quit => Ok(()),
    }
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> Result<(), RunError> {
    std::thread::Builder::new().name(name.into()).spawn(work).map(drop).map_err(RunError::Thread)
}

fn read_input(sender: SyncSender<Event>, running: Arc<AtomicBool>) -> impl FnOnce() + Send + 'static {
    move || {
        while running.load(Ordering::SeqCst) {
            let event = match terminal_event::read() {
                Ok(TerminalEvent::Key(key)) => Event::Key(key),
                Ok(TerminalEvent::Resize(width, height)) => Event::Resize { width, height },
                Ok(_) => continue,
                Err(_) => return,
            };
            if sender.send(event).is_err() {
                return;
            }
        }
    }
}

/// One `PROCESS_LIST` per interval, timed from the start of the previous one; the projects' sync
/// states every [`PROJECTS_EVERY_TICKS`] refreshes.
fn refresh(
    daemon: Arc<dyn Daemon>,
    sender: SyncSender<Event>,
    interval: Duration,
    running: Arc<AtomicBool>,
) -> impl FnOnce() + Send + 'static {
    move || {
        let mut tick: u32 = 0;
        while running.load(Ordering::SeqCst) {
            let began = Instant::now();
            let events = match daemon.list() {
                Ok(records) => {
                    let projects =
                        tick.is_multiple_of(PROJECTS_EVERY_TICKS).then(|| daemon.projects(&records));
                    tick = tick.wrapping_add(1);
                    let health = Event::Health(daemon.health(&records));
                    let mut events = vec![Event::Listed(records), health];
                    events.extend(projects.and_then(Result::ok).map(Event::Projects));
                    events
                }
                Err(error) => {
                    tick = 0; // back up: read the projects at once
                    let (message, hint) = match error {
                        DaemonError::Down { message, hint } => (message, hint),
                        DaemonError::Failed { message, hint } => (message, hint),
                    };
                    vec![Event::Down { message, hint }]
                }
            };
            for event in events {
                if sender.send(event).is_err() {
                    return;
                }
            }
            std::thread::sleep(interval.saturating_sub(began.elapsed()));
        }
    }
}
