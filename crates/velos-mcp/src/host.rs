//! The one place the MCP face reaches the host: the daemon (a new connection per call, never started
//! unless `--start-daemon`), the registry of projects, the history, the proposals. Calls here block; the
//! server runs them on tokio's blocking pool ([`blocking`]).
use std::path::{Path, PathBuf};
use velos_client::{Client, ClientError};
use velos_config::{AgentPolicy, Project};
use velos_core::ProcessRecord;
use velos_proposals::ProposalError;

/// Where the host is and how to reach it.
#[derive(Debug, Clone)]
pub struct Host {
    pub home: PathBuf,
    pub velos_exe: PathBuf,
    pub start_daemon: bool,
}

/// A tool that could not do its job: what happened and what the agent (or its human) can do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// `error: …` and `hint: …` lines: the tool error's text.
    pub fn render(&self) -> String {
        match &self.hint {
            Some(hint) => format!("error: {}\nhint: {hint}", self.message),
            None => format!("error: {}", self.message),
        }
    }
}

impl From<ProposalError> for Failure {
    fn from(error: ProposalError) -> Failure {
        let hint = match &error {
            ProposalError::Stale { .. } => Some("call propose_patch again: it reads the file as it is now".into()),
            ProposalError::UnknownProject { known, .. } => {
                Some(format!("known projects: {} (project_status lists them)", known.join(", ")))
            }
            ProposalError::NotFound { .. } | ProposalError::NotPending { .. } => {
                Some("propose_patch makes a new proposal; a human lists them with `velos proposals list`".into())
            }
            ProposalError::FollowsGit { id, .. } => Some(format!(
                "the change belongs in a commit: a human runs `velos proposals show {id} --patch` and commits it"
            )),
            ProposalError::Daemon(_) => Some(daemon_hint().into()),
            _ => None,
        };
        let message = match &error {
            ProposalError::Config(config) => config.render().trim_end().to_string(),
            _ => error.to_string(),
        };
        Failure { message, hint }
    }
}

fn daemon_hint() -> &'static str {
    "a human starts it (`velos daemon`, or any `velos apply`), or runs `velos mcp --start-daemon`"
}

impl Host {
    /// A new connection for this call. A daemon that is down is a clear failure, unless `--start-daemon`.
    pub fn client(&self) -> Result<Client, Failure> {
        let result = if self.start_daemon {
            velos_client::connect_or_start(&self.home, &self.velos_exe)
        } else {
            Client::connect(&self.home)
        };
        result.map_err(|error| match error {
            ClientError::DaemonNotRunning { .. } => Failure::new(error.to_string()).hint(daemon_hint()),
            other => Failure::new(format!("cannot reach the Velos daemon: {other}")).hint(daemon_hint()),
        })
    }

    /// Every live record, sorted by name.
    pub fn live(&self) -> Result<Vec<ProcessRecord>, Failure> {
        self.client()?.list().map_err(daemon_failure)
    }

    /// The applied project `name`: its file, its text and what it says now.
    pub fn project(&self, name: &str) -> Result<(PathBuf, String, Project), Failure> {
        let file = velos_proposals::project_file(&self.home, name)?;
        let (source, project) = velos_config::load_source(&file)
            .map_err(|error| Failure::new(error.render().trim_end().to_string()))?;
        Ok((file, source, project))
    }

    /// The names of the projects applied on this host.
    pub fn project_names(&self) -> Vec<String> {
        velos_reconcile::history::read_projects(&self.home)
            .map(|records| records.into_iter().map(|record| record.project).collect())
            .unwrap_or_default()
    }

    /// The agent policy of each applied project (a file that cannot be read grants nothing).
    pub fn policies(&self) -> Vec<(String, AgentPolicy)> {
        let records = velos_reconcile::history::read_projects(&self.home).unwrap_or_default();
        records
            .into_iter()
            .map(|record| {
                let source = std::fs::read_to_string(&record.file).unwrap_or_default();
                (record.project, AgentPolicy::of_source(&source))
            })
            .collect()
    }

    pub fn home(&self) -> &Path {
        &self.home
    }
}

/// A daemon error on a request, with the app it was about.
pub fn daemon_failure(error: ClientError) -> Failure {
    match error {
        ClientError::DaemonNotRunning { .. } => Failure::new(error.to_string()).hint(daemon_hint()),
        other => Failure::new(other.to_string()),
    }
}

/// The records an app name means: the app itself, or each instance of an app with `instances` (by the
/// `app` label), so `web` covers `web-0`, `web-1`.
pub fn records_named<'r>(records: &'r [ProcessRecord], name: &str) -> Vec<&'r ProcessRecord> {
    let exact: Vec<&ProcessRecord> = records.iter().filter(|record| record.name == name).collect();
    if !exact.is_empty() {
        return exact;
    }
    records.iter().filter(|record| record.spec.labels.get("app").is_some_and(|app| app == name)).collect()
}

/// "no app named x", with the closest names.
pub fn no_such_app(records: &[ProcessRecord], name: &str) -> Failure {
    let mut names: Vec<&str> = records.iter().map(|record| record.name.as_str()).collect();
    names.sort_unstable();
    let close: Vec<&str> =
        names.iter().copied().filter(|candidate| similar_name(candidate, name)).take(3).collect();
    let hint = if close.is_empty() {
        "list_apps shows the apps".to_string()
    } else {
        format!("did you mean {}? list_apps shows the apps", close.join(", "))
    };
    Failure::new(format!("no app named `{name}`")).hint(hint)
}

fn similar_name(candidate: &str, name: &str) -> bool {
    let (candidate, name) = (candidate.to_ascii_lowercase(), name.to_ascii_lowercase());
    candidate.starts_with(&name) || name.starts_with(&candidate) || edit_distance(&candidate, &name) <= 2
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push((previous[j] + cost).min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Runs a blocking call on tokio's blocking pool (the daemon client and the file system block).
pub async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|error| Err(Failure::new(format!("the call failed: {error}"))))
}
