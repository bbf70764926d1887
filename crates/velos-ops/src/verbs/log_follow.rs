//! `logs --follow`: the daemon's rings, followed (LOG_STREAM), one connection and reader thread per
//! instance and stream, merged into one iterator. A follow can be ended from any thread
//! ([`FollowStopper::stop`], or dropping the [`LogFollow`]): every connection is shut down at once, so a
//! reader blocked in a read returns then and there instead of waiting for the app's next line. REST (one
//! follow per WebSocket client), the dashboard (a follow per selected app) and the CLI all use this one.
use crate::address::resolve;
use crate::context::Ops;
use crate::convert::daemon_error;
use crate::error::OpError;
use crate::verbs::logs::{LogsRequest, StreamChoice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use velos_core::Stream;

/// A reader thread only waits in a read and forwards a chunk: a small stack is plenty, and a follow of
/// 1000 apps (2000 threads) then reserves 128 MiB of address space, not 4 GiB.
const READER_STACK_BYTES: usize = 64 * 1024;

/// A chunk of a followed log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    /// The instance it came from.
    pub name: String,
    pub stream: Stream,
    pub bytes: Vec<u8>,
}

/// Ends a [`LogFollow`] from any thread. Cheap to clone; stopping twice is stopping once.
#[derive(Clone, Default)]
pub struct FollowStopper {
    shared: Arc<StopState>,
}

#[derive(Default)]
struct StopState {
    stopped: AtomicBool,
    /// Each stream's own stop (a socket shutdown).
    stops: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

impl std::fmt::Debug for FollowStopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowStopper").field("stopped", &self.is_stopped()).finish()
    }
}

impl FollowStopper {
    /// Shuts every followed connection down: blocked readers return, the iterator ends.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        let stops = match self.shared.stops.lock() {
            Ok(mut stops) => std::mem::take(&mut *stops),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for stop in stops {
            stop();
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::SeqCst)
    }

    /// Registers one stream's stop; run at once when the follow is already stopped.
    fn add(&self, stop: Box<dyn Fn() + Send + Sync>) {
        match self.shared.stops.lock() {
            Ok(mut stops) if !self.is_stopped() => stops.push(stop),
            _ => stop(),
        }
    }
}

/// The chunks of every followed instance and stream, in the order they arrive, until every stream ends
/// or the follow is stopped. Dropping it stops it.
pub struct LogFollow {
    /// The instances followed.
    pub names: Vec<String>,
    chunks: mpsc::Receiver<Result<LogChunk, OpError>>,
    stopper: FollowStopper,
}

impl LogFollow {
    /// A handle that ends this follow from another thread.
    pub fn stopper(&self) -> FollowStopper {
        self.stopper.clone()
    }
}

impl Iterator for LogFollow {
    type Item = Result<LogChunk, OpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopper.is_stopped() {
            return None;
        }
        self.chunks.recv().ok()
    }
}

impl Drop for LogFollow {
    fn drop(&mut self) {
        self.stopper.stop();
    }
}

impl Ops {
    /// The last `lines` lines of each addressed instance's ring, then each new chunk, for each stream
    /// asked, until the apps are deleted, the daemon stops, or the follow is stopped.
    pub fn logs_follow(&self, request: LogsRequest) -> Result<LogFollow, OpError> {
        let mut backend = self.connect_running()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let names = resolve(&request.name, &live)?.names();
        self.follow_instances(names, request.stream, request.lines)
    }

    /// [`Ops::logs_follow`] of instances already resolved (by their record names), e.g. from a LIST the
    /// caller made. An instance that is gone by now is `not_found`.
    pub fn follow_instances(
        &self,
        names: Vec<String>,
        streams: StreamChoice,
        lines: u32,
    ) -> Result<LogFollow, OpError> {
        let (sender, chunks) = mpsc::channel();
        let stopper = FollowStopper::default();
        // Stops whatever began when a later stream fails to begin.
        let follow = LogFollow { names: names.clone(), chunks, stopper: stopper.clone() };
        let adder = FollowAdder { ops: self.clone(), sender, stopper, streams };
        for name in &names {
            adder.add(name, lines)?;
        }
        Ok(follow)
    }

    /// A follow of no instance yet, that goes on until stopped: add instances with the [`FollowAdder`] (an
    /// exporter adds the apps it sees appear; a deleted app's streams end by themselves).
    pub fn follow_open(&self, streams: StreamChoice) -> (LogFollow, FollowAdder) {
        let (sender, chunks) = mpsc::channel();
        let stopper = FollowStopper::default();
        let follow = LogFollow { names: Vec::new(), chunks, stopper: stopper.clone() };
        (follow, FollowAdder { ops: self.clone(), sender, stopper, streams })
    }
}

/// Adds instances to a [`LogFollow`] made by [`Ops::follow_open`], from any thread.
#[derive(Clone)]
pub struct FollowAdder {
    ops: Ops,
    sender: mpsc::Sender<Result<LogChunk, OpError>>,
    stopper: FollowStopper,
    streams: StreamChoice,
}

impl FollowAdder {
    /// Follows instance `name` too, from its last `lines` lines.
    pub fn add(&self, name: &str, lines: u32) -> Result<(), OpError> {
        for &stream in self.streams.streams() {
            let reader = self
                .ops
                .connect_running()?
                .log_stream(name, stream, lines)
                .map_err(|error| daemon_error(error, Some(name)))?;
            self.stopper.add(reader.stop);
            let reader_thread = Reader {
                chunks: reader.chunks,
                sender: self.sender.clone(),
                stopper: self.stopper.clone(),
                name: name.to_string(),
                stream,
            };
            std::thread::Builder::new()
                .name("velos-log-follow".into())
                .stack_size(READER_STACK_BYTES)
                .spawn(move || reader_thread.run())
                .map_err(|error| OpError::io("could not start a log follow's reader thread", &error))?;
        }
        Ok(())
    }
}

struct Reader {
    chunks: crate::backend::ChunkIter,
    sender: mpsc::Sender<Result<LogChunk, OpError>>,
    stopper: FollowStopper,
    name: String,
    stream: Stream,
}

impl Reader {
    fn run(self) {
        for chunk in self.chunks {
            // After a stop the shut-down socket reads as an error: that is the end, not news.
            if self.stopper.is_stopped() {
                return;
            }
            let chunk = chunk
                .map(|bytes| LogChunk { name: self.name.clone(), stream: self.stream, bytes })
                .map_err(|error| daemon_error(error, Some(&self.name)));
            if self.sender.send(chunk).is_err() {
                return;
            }
        }
    }
}
