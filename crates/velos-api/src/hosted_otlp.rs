//! The exports the controller runs for `[velos.otlp]`: one per distinct collector and settings, on a
//! thread of its own (the loop of `velos serve --otlp-endpoint`), stopped when no followed file asks for
//! it any more.
use crate::otlp::{export, target, Exporter, OtlpOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;
use velos_config::{ControllerSettings, OtlpSettings};
use velos_controller::ServiceProblem;

struct Running {
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) struct Exports {
    home: PathBuf,
    running: BTreeMap<OtlpOptions, Running>,
}

fn options(settings: &OtlpSettings) -> OtlpOptions {
    OtlpOptions {
        endpoint: settings.endpoint.clone(),
        interval: Duration::from_millis(settings.interval_ms),
        headers: settings.headers.iter().map(|(name, value)| (name.clone(), value.clone())).collect(),
    }
}

impl Exports {
    pub(crate) fn new(home: PathBuf) -> Exports {
        Exports { home, running: BTreeMap::new() }
    }

    /// Runs exactly the exports `wanted` asks for; the problem of target `key`'s, if it cannot run.
    pub(crate) fn sync(
        &mut self,
        wanted: &BTreeMap<String, ControllerSettings>,
        key: &str,
    ) -> Result<(), ServiceProblem> {
        let desired: BTreeSet<OtlpOptions> =
            wanted.values().filter_map(|settings| settings.otlp.as_ref()).map(options).collect();
        self.running.retain(|options, _| desired.contains(options));
        let mut problems = BTreeMap::new();
        for options in desired {
            if self.running.contains_key(&options) {
                continue;
            }
            match self.start(&options) {
                Ok(running) => {
                    self.running.insert(options, running);
                }
                Err(problem) => {
                    problems.insert(options, problem);
                }
            }
        }
        let mine = wanted.get(key).and_then(|settings| settings.otlp.as_ref()).map(options);
        match mine.and_then(|options| problems.remove(&options)) {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    fn start(&self, options: &OtlpOptions) -> Result<Running, ServiceProblem> {
        let problem = |message: String| ServiceProblem {
            message: format!("[velos.otlp] {message}"),
            hint: Some("check [velos.otlp] endpoint: http://HOST:PORT of a collector".into()),
        };
        let home = velos_ops::Home::new(self.home.clone()).map_err(|error| problem(error.message))?;
        let exporter = Exporter {
            home: self.home.clone(),
            ops: velos_ops::Ops::new(home),
            caches: Default::default(),
            target: target(&options.endpoint).map_err(problem)?,
            options: options.clone(),
            who: "velos controller",
        };
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(4)
            .build()
            .map_err(|error| problem(format!("could not start its runtime: {error}")))?;
        let thread = std::thread::Builder::new()
            .name("velos-otlp".into())
            .spawn(move || {
                runtime.block_on(async {
                    tokio::select! {
                        () = export(exporter) => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|error| problem(format!("could not start its thread: {error}")))?;
        Ok(Running { shutdown: Some(shutdown), thread: Some(thread) })
    }
}
