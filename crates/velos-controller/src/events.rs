//! What wakes the loop: events, and the handle that sends them.
use super::*;

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
