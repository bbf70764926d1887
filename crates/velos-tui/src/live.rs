//! The [`Daemon`] the dashboard uses for real: every read and action is a call of the operations layer
//! (velos-ops), as the CLI's verbs are, log follows included (the layer's follow can be stopped, and a
//! dashboard changes the app it follows many times).
use crate::daemon::{Action, Daemon, DaemonError, LogFollow, Outcome, ProjectSync};
use velos_controller::SYSTEM_PROJECT;
use velos_core::{ProcessRecord, Stream};
use velos_ops::{
    ApplyRequest, ApplySource, FollowStopper, ListRequest, OpError, OpErrorKind, Ops, PlanRequest,
    RestartRequest, Scale, ScaleRequest, StartRequest, StopRequest, StreamChoice, WaitOptions,
};
use velos_reconcile::history::read_projects;

pub struct OpsDaemon {
    ops: Ops,
}

impl OpsDaemon {
    pub fn new(ops: Ops) -> OpsDaemon {
        OpsDaemon { ops }
    }

    /// The velos.toml of a project applied on this host (what plan and apply read).
    fn project_file(&self, project: &str) -> Result<std::path::PathBuf, DaemonError> {
        let records = read_projects(self.ops.home().root())
            .map_err(|error| DaemonError::Failed { message: error.to_string(), hint: None })?;
        records.into_iter().find(|record| record.project == project).map(|record| record.file).ok_or_else(
            || DaemonError::Failed {
                message: format!("project {project} was never applied on this host"),
                hint: Some("velos status lists the projects".into()),
            },
        )
    }
}

/// A read that finds no daemon is the dashboard's "down" state; anything else is a failure to show.
fn from_op(error: OpError) -> DaemonError {
    let hint = error.hint_text().map(str::to_string);
    match error.kind {
        OpErrorKind::DaemonNotRunning | OpErrorKind::DaemonUnreachable => {
            DaemonError::Down { message: error.message, hint }
        }
        _ => DaemonError::Failed { message: error.message, hint },
    }
}

impl Daemon for OpsDaemon {
    fn list(&self) -> Result<Vec<ProcessRecord>, DaemonError> {
        Ok(self.ops.list(ListRequest::default()).map_err(from_op)?.apps)
    }

    /// From the records just listed, not another LIST: `velos status` without asking the daemon again.
    fn projects(&self, live: &[ProcessRecord]) -> Result<Vec<ProjectSync>, DaemonError> {
        let statuses = velos_reconcile::status(self.ops.home().root(), live)
            .map_err(|error| DaemonError::Failed { message: error.to_string(), hint: None })?;
        Ok(statuses
            .into_iter()
            .filter(|status| status.project != SYSTEM_PROJECT)
            .map(|status| ProjectSync {
                project: status.project,
                state: status.state.as_str().to_string(),
                message: status.message,
            })
            .collect())
    }

    /// velos-ops' one judgement (the prober's state, stale read as unknown), once per refresh.
    fn health(&self, live: &[ProcessRecord]) -> std::collections::BTreeMap<String, String> {
        let now_ms = velos_reconcile::now_unix_ms();
        velos_ops::health_of(self.ops.home(), live, now_ms)
            .into_iter()
            .map(|(name, health)| (name, health.health.to_string()))
            .collect()
    }

    /// Read once per follow: a failure (no logs yet, a damaged model) leaves the lines unmarked.
    fn log_marks(&self, app: &str) -> Option<velos_ops::LogMarks> {
        self.ops.log_marks(app).ok()
    }

    fn follow(&self, name: &str, stream: Stream, lines: u32) -> Result<Box<dyn LogFollow>, DaemonError> {
        let streams = match stream {
            Stream::Out => StreamChoice::Out,
            Stream::Err => StreamChoice::Err,
        };
        let follow = self.ops.follow_instances(vec![name.to_string()], streams, lines).map_err(from_op)?;
        let stopper = follow.stopper();
        Ok(Box::new(OpsFollow { follow, stopper }))
    }

    fn run(&self, action: &Action) -> Result<Outcome, DaemonError> {
        match action {
            Action::Restart { name } => {
                let outcome = self.ops.restart(RestartRequest { name: name.clone() }).map_err(from_op)?;
                let lines: Vec<String> = outcome
                    .restarted
                    .iter()
                    .map(|restarted| match &restarted.exit {
                        Some(exit) => format!("restarted {}; it has exited since ({exit})", restarted.name),
                        None => format!(
                            "restarted {} (pid {} -> {})",
                            restarted.name, restarted.pid_before, restarted.pid
                        ),
                    })
                    .collect();
                Ok(Outcome { summary: lines.join("; "), lines })
            }
            Action::Stop { app } => {
                self.ops.stop(StopRequest { name: app.clone() }).map_err(from_op)?;
                Ok(one_line(format!("stopped {app} (its velos.toml says stopped)")))
            }
            Action::Start { app } => {
                let caller_dir = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("/"));
                let request = StartRequest {
                    target: app.clone(),
                    args: Vec::new(),
                    options: Default::default(),
                    caller_dir,
                    caller_env: Default::default(),
                    wait: WaitOptions::default(),
                };
                self.ops.start(request).map_err(from_op)?;
                Ok(one_line(format!("started {app}")))
            }
            Action::Scale { app, instances } => {
                let request = ScaleRequest {
                    app: app.clone(),
                    scale: Scale::To(*instances),
                    wait: WaitOptions::default(),
                };
                self.ops.scale(request).map_err(from_op)?;
                Ok(one_line(format!("{app} runs {instances} instance(s)")))
            }
            Action::Plan { project } => {
                let file = self.project_file(project)?;
                let outcome = self.ops.plan(PlanRequest { file }).map_err(from_op)?;
                let text = velos_reconcile::render(&outcome.plan, false);
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                lines.extend(outcome.warnings.iter().map(|warning| format!("warning: {}", warning.message)));
                let summary = lines.first().cloned().unwrap_or_default();
                Ok(Outcome { summary, lines })
            }
            Action::Apply { project } => {
                let path = self.project_file(project)?;
                let request = ApplyRequest {
                    source: ApplySource::File { path },
                    wait: WaitOptions::default(),
                    force_local: false,
                };
                let outcome = self.ops.apply(request).map_err(from_op)?;
                let mut text = velos_reconcile::render(&outcome.plan, false);
                text.push_str(&velos_reconcile::render_report(&outcome.report, false));
                let lines: Vec<String> = text.lines().map(str::to_string).collect();
                Ok(Outcome { summary: format!("applied project {}", outcome.project), lines })
            }
        }
    }
}

fn one_line(summary: String) -> Outcome {
    Outcome { lines: vec![summary.clone()], summary }
}

struct OpsFollow {
    follow: velos_ops::LogFollow,
    stopper: FollowStopper,
}

impl LogFollow for OpsFollow {
    fn next_chunk(&mut self) -> Option<Result<Vec<u8>, DaemonError>> {
        self.follow.next().map(|chunk| chunk.map(|chunk| chunk.bytes).map_err(from_op))
    }

    fn stopper(&self) -> Box<dyn Fn() + Send + Sync> {
        let stopper = self.stopper.clone();
        Box::new(move || stopper.stop())
    }
}
