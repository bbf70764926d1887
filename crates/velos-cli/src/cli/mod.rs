//! The command line as typed (clap). Raw values only; commands turn them into requests.
mod agents;
mod args;

pub use agents::*;
pub use args::*;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Velos: keeps processes alive, collects their logs, shows what they cost.
#[derive(Debug, Parser)]
#[command(name = "velos", version, max_term_width = 110)]
pub struct Cli {
    /// The state directory: socket, logs, process table [default: ~/.velos]
    #[arg(long, global = true, env = "VELOS_HOME", value_name = "DIR", hide_env_values = true)]
    pub home: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the daemon in the background (or run it here with --foreground)
    Daemon(DaemonArgs),
    /// Check that the daemon answers: pid, version, uptime, app count
    Ping(JsonArgs),
    /// Stop every app, then the daemon
    Kill,
    /// Start a program as a new app of the default project ($VELOS_HOME/velos.toml), or an app by name
    Start(StartArgs),
    /// Stop an app and keep it stopped: writes state = "stopped" into its velos.toml (it stays listed)
    Stop(NameArgs),
    /// Restart an app with a new process (an action: its velos.toml does not change)
    Restart(NameArgs),
    /// Restart an app's instances one batch at a time, each ready before the next (by its rollout)
    Reload(NameArgs),
    /// Stop an app and forget it: removes it from its velos.toml
    #[command(visible_alias = "rm")]
    Delete(NameArgs),
    /// Forget a project: its apps stopped and deleted, the controller no longer following it
    Forget(ForgetArgs),
    /// Start the daemon, which brings back the apps it saved (after a reboot, or velos kill)
    Resurrect,
    /// Show one app in detail
    Info(InfoArgs),
    /// List the apps
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Print an app's last lines from its log files (both streams), follow them, or summarize them
    Logs(LogsArgs),
    /// Empty apps' log files and delete their rotated files
    Flush(FlushArgs),
    /// Write the daemon's process table to disk now
    Save,
    /// A live dashboard: apps, logs, details, and actions on the selection (never starts the daemon)
    Monit(MonitArgs),
    /// Print the shell code that completes velos commands, app and project names: see README
    Completions(CompletionsArgs),
    /// Start this VELOS_HOME's daemon at boot: install a systemd unit (or launchd job) and enable it
    Startup(StartupArgs),
    /// Remove what `velos startup` installed (the daemon keeps running until `velos kill`)
    Unstartup(UnstartupArgs),

    /// Make the host run what a velos.toml says: print the plan, carry it out, wait until the apps run
    Apply(ApplyArgs),
    /// Print what `velos apply` would change, without changing anything
    Plan(PlanArgs),
    /// Compare a velos.toml with the host, another file or a git revision (exit 0: same, 2: changes, 1: error)
    Diff(DiffArgs),
    /// Check velos.toml files; problems are reported with file:line:column
    Validate(ValidateArgs),
    /// Per project applied on this host: its source, revision, synced / progressing / out of sync / error
    Status(StatusArgs),
    /// The applies recorded on this host, oldest first
    History(HistoryArgs),
    /// Write an earlier revision of a project back to its file, then apply it
    Rollback(RollbackArgs),
    /// Print the JSON Schema of velos.toml
    Schema,
    /// Run N instances of an app, or N more (+N) or fewer (-N) (edits its velos.toml, then applies that app)
    Scale(ScaleArgs),
    /// Set keys of an app (edits its velos.toml, then applies that app): velos set web env.PORT=8081
    Set(SetArgs),
    /// Remove keys of an app (edits its velos.toml, then applies that app): velos unset web env.DEBUG
    Unset(UnsetArgs),

    /// Ask the controller to look at its projects now (without one running, sync them here, once)
    Sync(SyncArgs),
    /// Git hooks: `velos hook install REPO` makes each push to REPO run `velos sync`
    Hook(HookArgs),
    /// Run the controller here: follow the projects that ask for it (what the velos-controller app runs)
    Controller,
    /// Serve the REST + WebSocket API (loopback; bearer tokens in $VELOS_HOME/api.token)
    Serve(crate::commands::serve::ServeArgs),
    /// Print the Prometheus metrics that /metrics serves, once
    Metrics(crate::commands::serve::MetricsArgs),

    /// Serve MCP (Model Context Protocol) on stdin/stdout, for AI agents (docs/MCP.md)
    Mcp(McpArgs),
    /// Config changes proposed by AI agents: list, show, approve, reject
    Proposals {
        #[command(subcommand)]
        command: ProposalsCommand,
    },
}

/// The file a declarative command reads when none is named.
pub const DEFAULT_FILE: &str = "velos.toml";

#[cfg(test)]
mod tests;
