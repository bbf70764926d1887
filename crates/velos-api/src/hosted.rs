//! The API and exports the controller runs for the projects it follows (`[velos.api]`, `[velos.otlp]`):
//! velos-controller's [`Services`], made of the same server `velos serve` runs — same router, same guard,
//! same token file and rules. One server per address, shared by every project that names it; a server is
//! stopped once no followed project names its address any more.
use crate::{bind, BoundServer, Listen, ServeError, ServeOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::thread::JoinHandle;
use velos_config::{ApiSettings, ControllerSettings};
use velos_controller::{ServiceProblem, Services};

/// One address served, and the `Host` names it answers to besides its own.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ServerKey {
    listen: Listen,
    allow_hosts: Vec<String>,
}

/// A server on its own thread, stopped by a message.
struct Running {
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(server: BoundServer) -> std::io::Result<Running> {
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("velos-api".into()).spawn(move || {
            let what = server.started().url.clone();
            if let Err(error) = server.run(async {
                let _ = stopped.await;
            }) {
                eprintln!("velos controller: the API on {what} stopped: {error}");
            }
        })?;
        Ok(Running { shutdown: Some(shutdown), thread: Some(thread) })
    }

    fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The controller's [`Services`].
pub struct HostedServices {
    home: PathBuf,
    /// What each followed target asks for.
    wanted: BTreeMap<String, ControllerSettings>,
    servers: BTreeMap<ServerKey, Running>,
    /// Why an address asked for is not served (tried again at every look).
    refused: BTreeMap<ServerKey, ServiceProblem>,
    #[cfg(feature = "otlp")]
    exports: crate::hosted_otlp::Exports,
}

impl HostedServices {
    pub fn new(home: PathBuf) -> HostedServices {
        HostedServices {
            #[cfg(feature = "otlp")]
            exports: crate::hosted_otlp::Exports::new(home.clone()),
            home,
            wanted: BTreeMap::new(),
            servers: BTreeMap::new(),
            refused: BTreeMap::new(),
        }
    }

    fn keys(api: &ApiSettings) -> Vec<ServerKey> {
        let tcp = api.listen.map(Listen::Tcp);
        let unix = api.unix.clone().map(Listen::Unix);
        [tcp, unix]
            .into_iter()
            .flatten()
            .map(|listen| ServerKey { listen, allow_hosts: api.allow_hosts.clone() })
            .collect()
    }

    /// Starts the servers asked for and not running; stops those nobody asks for.
    fn sync_servers(&mut self) {
        let desired: BTreeSet<ServerKey> =
            self.wanted.values().filter_map(|settings| settings.api.as_ref()).flat_map(Self::keys).collect();
        self.servers.retain(|key, _| desired.contains(key));
        self.refused.clear();
        for key in desired {
            if self.servers.contains_key(&key) {
                continue;
            }
            let options = ServeOptions {
                home: self.home.clone(),
                listen: key.listen.clone(),
                allow_hosts: key.allow_hosts.clone(),
                #[cfg(feature = "otlp")]
                otlp: None,
            };
            let started = bind(options).map_err(|error| problem(&key.listen, &error)).and_then(|server| {
                let url = server.started().url.clone();
                Running::start(server).map_err(|error| ServiceProblem {
                    message: format!("[velos.api] could not start a thread to serve {url}: {error}"),
                    hint: None,
                })
            });
            match started {
                Ok(running) => {
                    self.servers.insert(key, running);
                }
                Err(problem) => {
                    self.refused.insert(key, problem);
                }
            }
        }
    }
}

impl Services for HostedServices {
    fn sync(&mut self, key: &str, settings: Option<&ControllerSettings>) -> Result<(), ServiceProblem> {
        match settings {
            Some(settings) => self.wanted.insert(key.to_string(), settings.clone()),
            None => self.wanted.remove(key),
        };
        self.sync_servers();
        #[cfg(feature = "otlp")]
        let exported = self.exports.sync(&self.wanted, key);
        // Built without the exporter: say so rather than ignore the table.
        #[cfg(not(feature = "otlp"))]
        let exported = match settings.and_then(|settings| settings.otlp.as_ref()) {
            Some(_) => Err(ServiceProblem {
                message: "[velos.otlp] is not exported: this velos was built without the `otlp` feature"
                    .into(),
                hint: Some("use a velos built with the default features".into()),
            }),
            None => Ok(()),
        };
        let api = settings.and_then(|settings| settings.api.as_ref());
        let refused = api.into_iter().flat_map(Self::keys).find_map(|key| self.refused.get(&key).cloned());
        match (refused, exported) {
            (Some(problem), _) | (None, Err(problem)) => Err(problem),
            (None, Ok(())) => Ok(()),
        }
    }
}

/// A [`ServeError`] as `velos status` says it, with the next step.
fn problem(listen: &Listen, error: &ServeError) -> ServiceProblem {
    let what = match listen {
        Listen::Tcp(address) => address.to_string(),
        Listen::Unix(path) => path.display().to_string(),
    };
    let hint = match error {
        ServeError::NoTokenOffLoopback { path, .. } => Some(format!(
            "put a token in {} (`velos serve --print-token` shows the format; delete the file to have new ones made), or listen on 127.0.0.1",
            path.display()
        )),
        ServeError::Bind { .. } | ServeError::SocketInUse { .. } => {
            Some("name another address in [velos.api], or stop what holds this one".into())
        }
        ServeError::NotASocket { .. } => Some("name another path in [velos.api] unix".into()),
        ServeError::Token(_) => Some("velos serve --print-token says what is wrong with the token file".into()),
        _ => None,
    };
    let mut message = format!("[velos.api] {what} is not served: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ServiceProblem { message, hint }
}
