//! `velos mcp` and `velos proposals` as typed.
use super::WaitArgs;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Start the daemon when a tool needs it and it is not running (by default a tool says it is down)
    #[arg(long)]
    pub start_daemon: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProposalsCommand {
    /// The pending proposals (with --all, also the approved, rejected and stale ones), oldest first
    #[command(visible_alias = "ls")]
    List {
        #[arg(long)]
        all: bool,
        /// Print them as JSON
        #[arg(long)]
        json: bool,
    },
    /// One proposal: who, why, against which revision, its diff and plan
    Show {
        id: String,
        /// Print only the diff, with the file's path in its repository, ready for `git apply`
        #[arg(long, conflicts_with = "json")]
        patch: bool,
        #[arg(long)]
        json: bool,
    },
    /// Apply a pending proposal: re-checked against the file as it is now, then applied like `velos apply`
    Approve {
        id: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Decline a proposal; the agent can read the reason back
    Reject {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}
