//! Proposals: changes of a project's velos.toml that an AI agent asks for and a human decides on — the
//! review loop of GitOps, for agents (docs/MCP.md).
//!
//! - [`prepare`] turns a patch (an RFC 7396 merge patch, or the whole file as TOML) into what a reviewer
//!   reads: the unified diff of velos.toml, the plan against the host, and the problems found. It writes
//!   nothing.
//! - [`Store`] keeps proposals under `$VELOS_HOME/proposals/`, one JSON file each, written atomically, and
//!   an append-only log of every agent action.
//! - [`check`] says whether a proposal still applies to its file as it is now (the ops layer's `approve`
//!   then writes and converges it through the one edit path, and [`approved`] records it); [`reject`]
//!   closes one.
mod decide;
mod prepare;
mod propose;
mod store;
mod view;

pub use decide::{approved, check, reject, Ready};
pub use prepare::{prepare, unified_diff, Prepared};
pub use propose::{project_file, propose, ProposeRequest};
pub use store::{valid_id, AgentAction, Store, PENDING_MAX, PROPOSALS_DIR};
pub use view::{current, current_one, patch_for_commit};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One proposed change of one project's velos.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Proposal {
    /// `p-` and 8 hex digits: what `velos proposals approve ID` takes.
    pub id: String,
    pub project: String,
    /// The project's velos.toml (absolute), as the registry of applied projects names it.
    pub file: PathBuf,
    /// Who proposed it: the MCP client's name (`claude-code`, ...).
    pub proposer: String,
    pub created_unix_ms: u64,
    /// The revision of the file the patch was made against (`file:…`); approving needs the same one.
    pub base_revision: String,
    /// Why, in the agent's words.
    pub reason: String,
    /// The patch as received: a JSON merge patch (object) or the whole file (string).
    pub patch: serde_json::Value,
    /// Unified diff of velos.toml, `a/velos.toml` to `b/velos.toml`.
    pub diff: String,
    /// What applying it would do to the host when proposed, as `velos plan` prints it.
    pub plan: String,
    /// Whether the patched file is a valid velos.toml whose plan can be made.
    pub valid: bool,
    /// The problems found in the patched file (`file:line:column: message`), empty when valid.
    pub diagnostics: Vec<Problem>,
    pub state: State,
    /// Set when approved or rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

/// One problem of a patched file, at a place in the patched text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// 1-based, in the patched text (0 when the problem has no place, e.g. a patch that cannot apply).
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Where a proposal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for a human.
    Pending,
    /// Applied.
    Approved,
    Rejected,
    /// The file changed since it was proposed: it cannot be approved; the agent proposes again.
    Stale,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Stale => "stale",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Who closed a proposal, when, and with what result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// `cli` (a human at `velos proposals`), or the MCP client that applied it under `apply = true`.
    pub by: String,
    pub time_unix_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The history entry of the apply (`velos history`), when approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_seq: Option<u64>,
}

/// Everything that can go wrong with proposals.
#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    #[error("{context} {}: {source}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a proposal: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no proposal {id}")]
    NotFound { id: String },
    #[error("no project named `{name}` has been applied on this host")]
    UnknownProject { name: String, known: Vec<String> },
    #[error("proposal {id} is {state}, not pending")]
    NotPending { id: String, state: State },
    #[error("proposal {id} is stale: {} changed since it was proposed ({base} → {current})", file.display())]
    Stale { id: String, file: PathBuf, base: String, current: String },
    #[error(
        "project `{project}` follows git ({source_description}), so proposal {id} cannot be applied here"
    )]
    FollowsGit { id: String, project: String, source_description: String },
    #[error("there are {PENDING_MAX} pending proposals already")]
    TooManyPending,
    #[error(transparent)]
    Config(#[from] velos_config::ConfigError),
    #[error(transparent)]
    History(#[from] velos_reconcile::HistoryError),
}
