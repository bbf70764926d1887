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
        // One thread of the two asks for the marks, before the backlog, so the backlog is marked too.
        if self.stream == Stream::Out {
            if let Some(marks) = self.daemon.log_marks(&self.name) {
                let event = Event::Marks {
                    generation: self.generation,
                    name: self.name.clone(),
                    marks: Arc::new(marks),
                };
                if self.events.send(event).is_err() {
                    return;
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::{Action, DaemonError, LogFollow, Outcome, ProjectSync};
    use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
    use velos_core::ProcessRecord;

    /// What a fake follow yields: a chunk, or `None` to end.
    type Feed = Sender<Option<Vec<u8>>>;

    /// Follows that yield what the test sends them, and end when stopped.
    #[derive(Default)]
    struct FakeDaemon {
        feeds: Mutex<Vec<(String, Stream, Feed)>>,
    }

    struct FakeFollow {
        chunks: Receiver<Option<Vec<u8>>>,
        stop: Sender<Option<Vec<u8>>>,
    }

    impl LogFollow for FakeFollow {
        fn next_chunk(&mut self) -> Option<Result<Vec<u8>, DaemonError>> {
            self.chunks.recv().ok().flatten().map(Ok)
        }

        fn stopper(&self) -> Box<dyn Fn() + Send + Sync> {
            let stop = Mutex::new(self.stop.clone());
            Box::new(move || {
                if let Ok(stop) = stop.lock() {
                    let _ = stop.send(None);
                }
            })
        }
    }

    impl Daemon for FakeDaemon {
        fn list(&self) -> Result<Vec<ProcessRecord>, DaemonError> {
            Ok(Vec::new())
        }
        fn projects(&self, _: &[ProcessRecord]) -> Result<Vec<ProjectSync>, DaemonError> {
            Ok(Vec::new())
        }
        fn follow(&self, name: &str, stream: Stream, _: u32) -> Result<Box<dyn LogFollow>, DaemonError> {
            let (sender, chunks) = channel();
            self.feeds.lock().expect("feeds").push((name.to_string(), stream, sender.clone()));
            Ok(Box::new(FakeFollow { chunks, stop: sender }))
        }
        fn run(&self, _: &Action) -> Result<Outcome, DaemonError> {
            Err(DaemonError::Down { message: "fake".into(), hint: None })
        }
    }

    fn wait(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn feeds(daemon: &FakeDaemon) -> Vec<(String, Stream)> {
        let feeds = daemon.feeds.lock().expect("feeds");
        feeds.iter().map(|(name, stream, _)| (name.clone(), *stream)).collect()
    }

    #[test]
    fn follows_both_streams_of_exactly_the_wanted_apps() {
        let daemon = Arc::new(FakeDaemon::default());
        let (sender, events) = sync_channel(16);
        let mut followers = Followers::new(daemon.clone(), sender, Duration::from_secs(60));
        followers.sync(&["web".to_string()], 0, 10);
        wait("two follows", || feeds(&daemon).len() == 2);
        let out = daemon
            .feeds
            .lock()
            .expect("feeds")
            .iter()
            .find(|feed| feed.1 == Stream::Out)
            .map(|feed| feed.2.clone());
        out.expect("an out follow").send(Some(b"hello\n".to_vec())).expect("send");
        match events.recv_timeout(Duration::from_secs(5)) {
            Ok(Event::Log { name, stream, chunk, generation }) => {
                assert_eq!(
                    (name.as_str(), stream, chunk.as_slice(), generation),
                    ("web", Stream::Out, &b"hello\n"[..], 0)
                );
            }
            other => panic!("expected a log chunk, got {other:?}"),
        }
        // The same wish again starts nothing new.
        followers.sync(&["web".to_string()], 0, 10);
        assert_eq!(feeds(&daemon).len(), 2);
        // Not wanted any more: both threads end.
        let ended = followers.active.get("web").map(|follow| Arc::clone(&follow.ended)).expect("followed");
        followers.sync(&[], 0, 10);
        assert!(followers.active.is_empty());
        wait("both threads to end", || ended.load(Ordering::SeqCst) == 2);
    }

    #[test]
    fn a_new_generation_follows_again_from_the_start() {
        let daemon = Arc::new(FakeDaemon::default());
        let (sender, _events) = sync_channel(16);
        let mut followers = Followers::new(daemon.clone(), sender, Duration::from_secs(60));
        followers.sync(&["web".to_string()], 0, 10);
        wait("two follows", || feeds(&daemon).len() == 2);
        followers.sync(&["web".to_string()], 1, 10);
        wait("two more follows", || feeds(&daemon).len() == 4);
    }

    #[test]
    fn an_ended_follow_is_begun_again_at_most_once_per_interval() {
        let daemon = Arc::new(FakeDaemon::default());
        let (sender, _events) = sync_channel(16);
        let mut followers = Followers::new(daemon.clone(), sender, Duration::from_millis(50));
        followers.sync(&["web".to_string()], 0, 10);
        wait("two follows", || feeds(&daemon).len() == 2);
        for feed in daemon.feeds.lock().expect("feeds").iter() {
            let _ = feed.2.send(None); // the daemon ended both streams (the app was deleted)
        }
        wait("both ended", || {
            followers.active.get("web").is_some_and(|follow| follow.ended.load(Ordering::SeqCst) == 2)
        });
        followers.sync(&["web".to_string()], 0, 10);
        assert_eq!(feeds(&daemon).len(), 2, "not at once");
        std::thread::sleep(Duration::from_millis(60));
        followers.sync(&["web".to_string()], 0, 10);
        wait("followed again", || feeds(&daemon).len() == 4);
    }
}
