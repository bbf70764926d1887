//! The arguments of each command, as typed: raw values, turned into requests by the commands.
use crate::commands::completions::{app_names, project_names};
use crate::parse::{parse_assignment, parse_duration, parse_env_entry, parse_scale, parse_signal};
use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCandidates;
use std::path::PathBuf;
use std::time::Duration;
use velos_core::RestartPolicy;
use velos_ops::Scale;

use super::DEFAULT_FILE;

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Do not wait for the apps to run after the actions (stops and deletes are always waited for)
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting after this long: the apps not running by then are reported
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The velos.toml to apply
    #[arg(value_name = "FILE", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// Print {"plan": ..., "report": ...} as JSON instead of the plan and progress
    #[arg(long, conflicts_with = "watch")]
    pub json: bool,
    /// Keep following FILE (or --git) here, in the foreground: each save is applied, drift undone
    #[arg(long)]
    pub watch: bool,
    /// Take the project from a git repository instead of FILE: a path, a file://, git:// or https:// URL, or
    /// an ssh address; the controller then follows it
    #[arg(long, value_name = "REPO", conflicts_with = "file")]
    pub git: Option<String>,
    /// With --git: the branch, tag or commit to follow [default: main]
    #[arg(long = "ref", value_name = "REF", requires = "git")]
    pub git_ref: Option<String>,
    /// With --git: the velos.toml inside the repository [default: velos.toml]
    #[arg(long, value_name = "PATH", requires = "git")]
    pub path: Option<String>,
    /// Apply FILE although its project follows git: the project is taken off git (velos status then shows
    /// FILE as its source)
    #[arg(long, conflicts_with = "git")]
    pub force_local: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The velos.toml to plan
    #[arg(value_name = "FILE", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The velos.toml as it would be applied
    #[arg(value_name = "FILE", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// What to compare with: `live` (the host), another file, or a git revision of FILE (HEAD, origin/main)
    #[arg(long, value_name = "FILE|GIT_REV|live", default_value = "live")]
    pub against: String,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The files to check
    #[arg(value_name = "FILE", default_value = DEFAULT_FILE)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this project's applies
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,
    /// Print the entries as JSON (without the file texts)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// How many revisions back: 1 is the one before the current [default: 1]
    #[arg(value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: u32,
    /// The project [default: that of ./velos.toml, else the only one applied on this host]
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// The app's name (its [apps.NAME] key)
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,
    /// How many instances: N (NAME-0 ... NAME-{N-1}, or NAME alone for 1), +N more, -N fewer
    #[arg(value_name = "N|+N|-N", allow_hyphen_values = true, value_parser = parse_scale)]
    pub instances: Scale,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The app's name (its [apps.NAME] key)
    pub name: String,
    /// KEY=VALUE, KEY dotted for tables (env.PORT=8081, log.max_size=10M); VALUE is read as TOML when it
    /// is a number, boolean, quoted string, array or inline table, else as a string (kill_timeout=10s)
    #[arg(value_name = "KEY=VALUE", required = true, value_parser = parse_assignment)]
    pub assignments: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// The app's name (its [apps.NAME] key)
    pub name: String,
    /// The keys to remove, dotted for tables (env.DEBUG)
    #[arg(value_name = "KEY", required = true)]
    pub keys: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print a JSON array: project, source, revision, state, message, last_apply
    #[arg(long)]
    pub json: bool,
    /// Include the project of the apps Velos runs for itself (velos-system)
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this project [default: every project the controller follows]
    #[arg(value_name = "PROJECT", value_parser = parse_project_name, add = ArgValueCandidates::new(project_names))]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write a post-receive hook into REPO (bare or not) that runs `velos sync` after each push
    Install(HookInstallArgs),
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// The repository the host follows
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Run the daemon in this process until it is stopped (for systemd and containers)
    #[arg(long)]
    pub foreground: bool,
    /// Start a new session first (used when velos starts the daemon in the background)
    #[arg(long, hide = true, requires = "foreground")]
    pub detached: bool,
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// The app's name (all its instances), or `all`; restart and reload also take one instance (NAME-0)
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The project (velos status lists them)
    #[arg(value_name = "PROJECT", value_parser = parse_project_name)]
    pub project: String,
    /// Stop and delete its apps even if some are running
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The app's name (all its instances), one instance (NAME-0), or `all`
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,
    /// Print the process record as JSON (with `schedule` when the app has cron_restart or watch)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print a JSON array (name, pid, status, restarts, cpu, memory, uptime_ms, ...)
    #[arg(long, conflicts_with = "ai")]
    pub json: bool,
    /// Print compact JSON for agents: n=name s=status c=cpu m=memory r=restarts u=uptime(s) p=pid
    #[arg(long)]
    pub ai: bool,
    /// Include the apps Velos runs for itself (velos-controller)
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LogsArgs {
    #[command(subcommand)]
    pub command: Option<crate::commands::logs_mine::LogsCommand>,
    /// An app (all its instances), one instance (api-0), or all
    #[arg(required = true, add = ArgValueCandidates::new(app_names))]
    pub name: Option<String>,
    /// How many lines in all, from the log files (rotated ones included)
    #[arg(long, short = 'n', default_value_t = 20)]
    pub lines: u32,
    /// Keep printing new output until Ctrl-C
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Which output: out, err or both (merged in time order)
    #[arg(long, value_name = "STREAM", default_value = "both", value_parser = ["out", "err", "both"])]
    pub stream: String,
    /// The same as --stream err
    #[arg(long, hide = true)]
    pub stderr: bool,
    /// Start each line with the time it was written (RFC 3339 UTC, as --since and --until take it)
    #[arg(long, short = 't')]
    pub timestamps: bool,
    /// Only lines since a time ago (10m, 2h) or an instant (2026-11-30T10:00:00Z); with --summary, the
    /// window's start [default: the last apply or restart]
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only lines until a time ago or an instant; with --summary, the window's end
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only lines containing this text
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// Only lines at this level or above: trace, debug, info, warn, error, fatal
    #[arg(long)]
    pub level: Option<String>,
    /// One JSON object per line {ts, app, instance, stream, severity_text, severity_number, template_id, body}
    #[arg(long)]
    pub json: bool,
    /// Show every line: do not fold repeats of a message into one "(repeated N×)" line
    #[arg(long)]
    pub no_collapse: bool,
    /// What the logs say, in a few hundred tokens: levels, top and new templates, anomalies, last error
    #[arg(long, conflicts_with_all = ["templates", "follow"])]
    pub summary: bool,
    /// Tokens the summary may cost
    #[arg(long, default_value_t = 400, requires = "summary")]
    pub budget: u32,
    /// Every template of the app's logs, with counts and an example
    #[arg(long, conflicts_with = "follow")]
    pub templates: bool,
}

/// `velos flush [APP]`.
#[derive(Debug, Args)]
pub struct FlushArgs {
    /// An app, one instance, or all [default: all]
    #[arg(default_value = "all", add = ArgValueCandidates::new(app_names))]
    pub name: String,
}

/// `velos start [OPTIONS] PROGRAM [ARGS]...`: options go before the program; everything after it is
/// passed to the program unchanged.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// App name [default: the program's file stem]
    #[arg(long)]
    pub name: Option<String>,
    /// When to restart the program after it exits: always, on-failure, never [default: on-failure]
    #[arg(long, value_name = "POLICY", value_parser = parse_restart)]
    pub restart: Option<RestartPolicy>,
    /// Directory the program runs in [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Set a variable (repeatable); KEY alone copies its value from here
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE", value_parser = parse_env_arg)]
    pub env: Vec<(String, String)>,
    /// Pass this shell's whole environment (default: PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_ALL, TZ)
    #[arg(long)]
    pub inherit_env: bool,
    /// More restarts than this within --restart-window: errored [default: 10]
    #[arg(long, value_name = "N")]
    pub max_restarts: Option<u32>,
    /// The window --max-restarts counts in [default: 60s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub restart_window: Option<Duration>,
    /// A run at least this long resets the backoff [default: 1s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min_uptime: Option<Duration>,
    /// Delay before the second restart in a row, doubling up to --backoff-max [default: 100ms]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub backoff_initial: Option<Duration>,
    /// Longest delay between restarts [default: 5s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub backoff_max: Option<Duration>,
    /// Signal sent to the app's process group on stop [default: SIGTERM]
    #[arg(long, value_name = "SIGNAL", value_parser = parse_signal)]
    pub kill_signal: Option<u8>,
    /// Then SIGKILL after this long [default: 5s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub kill_timeout: Option<Duration>,

    /// The program (looked up in PATH unless it contains a '/'), or the name of an existing app
    #[arg(value_name = "PROGRAM")]
    pub program: String,
    /// Arguments passed to the program
    #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

fn parse_env_arg(text: &str) -> Result<(String, String), String> {
    parse_env_entry(text, |key| std::env::var(key).ok())
}

fn parse_restart(text: &str) -> Result<RestartPolicy, String> {
    text.parse()
}

/// A project name as velos.toml allows it (`sync ../x` is refused before anything is sent).
fn parse_project_name(text: &str) -> Result<String, String> {
    velos_core::validate_name(text)
        .map(|()| text.to_string())
        .map_err(|error| error.to_string().replace("the app name", "the project name"))
}

#[derive(Debug, Args)]
pub struct MonitArgs {
    /// How often to refresh the table (one LIST of every app each time)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1s")]
    pub interval: Duration,
    /// No colours (also when NO_COLOR is set)
    #[arg(long)]
    pub no_color: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct StartupArgs {
    /// The service manager [default: systemd on Linux, launchd on macOS]
    #[arg(value_enum)]
    pub init: Option<InitArg>,
    /// Your own service manager (systemctl --user, a LaunchAgent) instead of the system's: no root needed
    #[arg(long)]
    pub user: bool,
    /// Only print the unit; install nothing
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Args)]
pub struct UnstartupArgs {
    /// The service manager [default: systemd on Linux, launchd on macOS]
    #[arg(value_enum)]
    pub init: Option<InitArg>,
    /// The unit of `velos startup --user`
    #[arg(long)]
    pub user: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum InitArg {
    Systemd,
    Launchd,
}
