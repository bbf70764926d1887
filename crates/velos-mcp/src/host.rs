//! The MCP face's view of the host: the operations layer (velos-ops, every verb), plus the policy and the
//! files a tool reads. The daemon is reached per call and never started unless `--start-daemon`. Calls
//! here block; the server runs them on tokio's blocking pool ([`blocking`]).
use std::path::{Path, PathBuf};
use velos_config::{AgentPolicy, Project};
use velos_core::ProcessRecord;
use velos_ops::{InfoRequest, ListRequest, OpError, OpErrorKind, Ops, PingRequest};

/// Where the host is and how to reach it.
#[derive(Debug, Clone)]
pub struct Host {
    pub ops: Ops,
    pub velos_exe: PathBuf,
    pub start_daemon: bool,
}

/// A tool that could not do its job: what happened and what the agent (or its human) can do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error's kind (`not_found`, `daemon_not_running`, ...), as velos-ops names it.
    pub kind: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure { kind: OpErrorKind::InvalidInput.as_str().into(), message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// `error (kind): …` and `hint: …` lines: the tool error's text.
    pub fn render(&self) -> String {
        let head = format!("error ({}): {}", self.kind, self.message);
        match &self.hint {
            Some(hint) => format!("{head}\nhint: {hint}"),
            None => head,
        }
    }
}

impl From<OpError> for Failure {
    fn from(error: OpError) -> Failure {
        let mut message = error.message.clone();
        for diagnostic in &error.diagnostics {
            message.push('\n');
            message.push_str(&diagnostic.short());
            if let Some(help) = &diagnostic.help {
                message.push_str(&format!(" (help: {help})"));
            }
        }
        let hint = match error.kind {
            // The CLI's wording names `velos` commands a human runs; say so to the agent.
            OpErrorKind::DaemonNotRunning => Some(format!(
                "{} — or restart the MCP server as `velos mcp --start-daemon`",
                error.hint_text().unwrap_or("a human starts it with `velos daemon`")
            )),
            _ => error.hint_text().map(str::to_string),
        };
        Failure { kind: error.kind.as_str().into(), message, hint }
    }
}

impl Host {
    /// With `--start-daemon`, starts the daemon when none runs; otherwise reads find it or say it is down.
    fn ensure_daemon(&self) -> Result<(), Failure> {
        if self.start_daemon {
            velos_client::connect_or_start(self.ops.home().root(), &self.velos_exe).map_err(|error| {
                Failure {
                    kind: OpErrorKind::DaemonUnreachable.as_str().into(),
                    message: error.to_string(),
                    hint: None,
                }
            })?;
        }
        Ok(())
    }

    /// A write tool's guard: the daemon must run already (the write verbs of velos-ops would start it, and
    /// an agent must not start it by surprise) unless `--start-daemon`.
    pub fn require_daemon(&self) -> Result<(), Failure> {
        self.ensure_daemon()?;
        self.ops.ping(PingRequest {})?;
        Ok(())
    }

    /// Every app (not Velos's own), sorted by name.
    pub fn live(&self) -> Result<Vec<ProcessRecord>, Failure> {
        self.ensure_daemon()?;
        Ok(self.ops.list(ListRequest { all: false })?.apps)
    }

    /// [`Host::live`] with the health of each app that has a check.
    pub fn listed(&self) -> Result<velos_ops::ListOutcome, Failure> {
        self.ensure_daemon()?;
        Ok(self.ops.list(ListRequest { all: false })?)
    }

    /// The instances `name` means (an app, one instance), with their log files; `not_found` with close
    /// names otherwise.
    pub fn info(&self, name: &str) -> Result<Vec<velos_ops::AppInfo>, Failure> {
        self.ensure_daemon()?;
        Ok(self.ops.info(InfoRequest { name: name.to_string() })?.apps)
    }

    /// The applied project `name`: its file, its text and what it says now.
    pub fn project(&self, name: &str) -> Result<(PathBuf, String, Project), Failure> {
        let file = velos_proposals::project_file(self.home(), name).map_err(velos_ops::proposal_error)?;
        let (source, project) = velos_config::load_source(&file)
            .map_err(|error| Failure::new(error.render().trim_end().to_string()))?;
        Ok((file, source, project))
    }

    /// The agent policy of each applied project (a file that cannot be read grants nothing).
    pub fn policies(&self) -> Vec<(String, AgentPolicy)> {
        let records = velos_reconcile::history::read_projects(self.home()).unwrap_or_default();
        records
            .into_iter()
            .map(|record| {
                let source = std::fs::read_to_string(&record.file).unwrap_or_default();
                (record.project, AgentPolicy::of_source(&source))
            })
            .collect()
    }

    pub fn home(&self) -> &Path {
        self.ops.home().root()
    }
}

/// Runs a blocking call on tokio's blocking pool (velos-ops and the file system block).
pub async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|error| Err(Failure::new(format!("the call ended without an answer: {error}"))))
}
