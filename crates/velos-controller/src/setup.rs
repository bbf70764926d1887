//! How a controller is built: its daemon connections, its options, its errors.
use super::*;

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
