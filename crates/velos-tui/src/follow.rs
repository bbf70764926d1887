//! The log follows the dashboard wants, kept equal to [`crate::App::follows`]: one thread per stream
//! of each followed app, each blocked on the daemon's `LOG_STREAM` (the daemon pushes output; nothing
//! polls files), stopped by closing its connection.
use crate::app::Event;
use crate::daemon::Daemon;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use velos_core::Stream;

/// A follow thread blocks in a read; this is plenty for it.
const THREAD_STACK_BYTES: usize = 128 * 1024;

type Stopper = Box<dyn Fn() + Send + Sync>;

/// One stream's thread, seen from outside.
#[derive(Default)]
struct Handle {
    stopped: AtomicBool,
    stopper: Mutex<Option<Stopper>>,
}

impl Handle {
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Ok(mut slot) = self.stopper.lock() {
            if let Some(stop) = slot.take() {
                stop();
            }
        }
    }
}

struct Follow {
    handles: [Arc<Handle>; 2],
    /// Threads of this follow that have ended (the app was deleted, the daemon stopped, an error).
    ended: Arc<AtomicUsize>,
}

pub struct Followers {
    daemon: Arc<dyn Daemon>,
    events: SyncSender<Event>,
    generation: u64,
    active: HashMap<String, Follow>,
    /// Ended follows are begun again at most this often, so a failing one cannot spin.
    retry_interval: Duration,
    retried_at: Instant,
}

impl Followers {
    pub fn new(daemon: Arc<dyn Daemon>, events: SyncSender<Event>, retry_interval: Duration) -> Followers {
        Followers {
            daemon,
            events,
            generation: 0,
            active: HashMap::new(),
            retry_interval,
            retried_at: Instant::now(),
        }
    }

    /// Follows exactly `wanted` for `generation`: everything anew when the generation changed, else
    /// starts the missing, stops the unwanted, and (at most once per retry interval) restarts the ended.
    pub fn sync(&mut self, wanted: &[String], generation: u64, backlog_lines: u32) {
        if generation != self.generation {
            self.stop_all();
            self.generation = generation;
        }
        self.active.retain(|name, follow| {
            let keep = wanted.contains(name);
            if !keep {
                follow.handles.iter().for_each(|handle| handle.stop());
            }
            keep
        });
        if self.retried_at.elapsed() >= self.retry_interval {
            self.retried_at = Instant::now();
            self.active.retain(|_, follow| follow.ended.load(Ordering::SeqCst) < 2);
        }
        for name in wanted {
            if !self.active.contains_key(name) {
                let follow = self.begin(name, backlog_lines);
                self.active.insert(name.clone(), follow);
            }
        }
    }

    pub fn stop_all(&mut self) {
        for (_, follow) in self.active.drain() {
            follow.handles.iter().for_each(|handle| handle.stop());
        }
    }

    fn begin(&self, name: &str, backlog_lines: u32) -> Follow {
        let ended = Arc::new(AtomicUsize::new(0));
        let handles = [Stream::Out, Stream::Err].map(|stream| {
            let handle = Arc::new(Handle::default());
            let thread = Thread {
                daemon: Arc::clone(&self.daemon),
                events: self.events.clone(),
                handle: Arc::clone(&handle),
                ended: Arc::clone(&ended),
                name: name.to_string(),
                stream,
                generation: self.generation,
                backlog_lines,
            };
            let spawned = std::thread::Builder::new()
                .name("velos-monit-log".into())
                .stack_size(THREAD_STACK_BYTES)
                .spawn(move || thread.run());
            if spawned.is_err() {
                ended.fetch_add(1, Ordering::SeqCst);
            }
            handle
        });
        Follow { handles, ended }
    }
}

impl Drop for Followers {
    fn drop(&mut self) {
        self.stop_all();
    }
}

struct Thread {
    daemon: Arc<dyn Daemon>,
    events: SyncSender<Event>,
    handle: Arc<Handle>,
    ended: Arc<AtomicUsize>,
    name: String,
    stream: Stream,
    generation: u64,
    backlog_lines: u32,
}

impl Thread {
    fn run(self) {
        self.follow();
        self.ended.fetch_add(1, Ordering::SeqCst);
    }

    fn follow(&self) {
        let Ok(mut follow) = self.daemon.follow(&self.name, self.stream, self.backlog_lines) else {
            return;
        };
        match self.handle.stopper.lock() {
            Ok(mut slot) if !self.handle.stopped.load(Ordering::SeqCst) => *slot = Some(follow.stopper()),
            // Stopped while connecting: nobody will stop it later, so end here.
            _ => return,
        }
        while let Some(Ok(chunk)) = follow.next_chunk() {
            if self.handle.stopped.load(Ordering::SeqCst) {
                return;
            }
            let event = Event::Log {
                generation: self.generation,
                name: self.name.clone(),
                stream: self.stream,
                chunk,
            };
            if self.events.send(event).is_err() {
                return;
            }
        }
    }
}
