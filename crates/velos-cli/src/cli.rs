//! The command line as typed (clap). Raw values only; commands turn them into requests.
use crate::parse::{parse_assignment, parse_duration, parse_env_entry, parse_signal};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use velos_core::RestartPolicy;

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
    /// Stop an app and forget it: removes it from its velos.toml
    #[command(visible_alias = "rm")]
    Delete(NameArgs),
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
    /// Run N instances of an app (edits its velos.toml, then applies that app)
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
}

/// The file a declarative command reads when none is named.
pub const DEFAULT_FILE: &str = "velos.toml";

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
    /// Take the project from a git repository instead of FILE: a path, file:// or git:// URL; the controller
    /// then follows it
    #[arg(long, value_name = "REPO", conflicts_with = "file")]
    pub git: Option<String>,
    /// With --git: the branch, tag or commit to follow [default: main]
    #[arg(long = "ref", value_name = "REF", requires = "git")]
    pub git_ref: Option<String>,
    /// With --git: the velos.toml inside the repository [default: velos.toml]
    #[arg(long, value_name = "PATH", requires = "git")]
    pub path: Option<String>,
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
    pub name: String,
    /// How many instances: NAME-0 ... NAME-{N-1}, or NAME alone for 1
    #[arg(value_name = "N")]
    pub instances: u32,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The app's name (its [apps.NAME] key)
    pub name: String,
    /// KEY=VALUE, KEY dotted for tables (env.PORT=8081, log.max_size=10M); VALUE is read as TOML when it
    /// is a number, boolean, quoted string, array or inline table, else as a string (kill_timeout=10s)
    #[arg(value_name = "KEY=VALUE", required = true, value_parser = parse_assignment)]
    pub assignments: Vec<(String, toml_edit::Value)>,
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
    #[arg(value_name = "PROJECT", value_parser = parse_project_name)]
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
    /// The app's name
    pub name: String,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The app's name
    pub name: String,
    /// Print the process record as JSON
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
    #[arg(required = true)]
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
    /// Only lines since a time ago (10m, 2h) or an instant (2026-11-30T10:00:00Z); needs log.timestamps
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only lines until a time ago or an instant
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
    #[arg(default_value = "all")]
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

impl StartArgs {
    /// `velos start NAME` alone: the PM2 habit of starting an existing app by name.
    pub fn is_bare_name(&self) -> bool {
        self.args.is_empty()
            && self.name.is_none()
            && self.restart.is_none()
            && self.cwd.is_none()
            && self.env.is_empty()
            && !self.inherit_env
            && self.max_restarts.is_none()
            && self.restart_window.is_none()
            && self.min_uptime.is_none()
            && self.backoff_initial.is_none()
            && self.backoff_max.is_none()
            && self.kill_signal.is_none()
            && self.kill_timeout.is_none()
            && velos_core::validate_name(&self.program).is_ok()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::Path;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("velos").chain(args.iter().copied())).expect("parses")
    }

    fn start(args: &[&str]) -> StartArgs {
        match parse(args).command {
            Command::Start(start) => start,
            other => panic!("not start: {other:?}"),
        }
    }

    #[test]
    fn program_arguments_pass_through_unchanged() {
        let args = start(&["start", "/bin/sh", "-c", "echo hi"]);
        assert_eq!(args.program, "/bin/sh");
        assert_eq!(args.args, ["-c", "echo hi"]);

        let args =
            start(&["start", "--name", "web", "--env", "A=1", "python3", "-m", "http.server", "--name", "x"]);
        assert_eq!(args.name.as_deref(), Some("web"));
        assert_eq!(args.env, [("A".to_string(), "1".to_string())]);
        assert_eq!(args.args, ["-m", "http.server", "--name", "x"], "after the program, nothing is ours");

        // A `--` right after the program is taken as the separator (PM2 habit); later ones are passed on.
        let args = start(&["start", "/bin/sleep", "--", "10"]);
        assert_eq!(args.args, ["10"]);
        let args = start(&["start", "/bin/echo", "a", "--", "b"]);
        assert_eq!(args.args, ["a", "--", "b"]);
        let args = start(&["start", "--", "/bin/echo", "--name"]);
        assert_eq!((args.program.as_str(), args.args.as_slice()), ("/bin/echo", &["--name".to_string()][..]));
    }

    #[test]
    fn start_options() {
        let args = start(&[
            "start",
            "--restart",
            "always",
            "--max-restarts",
            "3",
            "--backoff-initial",
            "10ms",
            "--kill-signal",
            "SIGINT",
            "--kill-timeout",
            "700ms",
            "--cwd",
            "/tmp",
            "-e",
            "K=V",
            "--inherit-env",
            "/bin/true",
        ]);
        assert_eq!(args.restart, Some(RestartPolicy::Always));
        assert_eq!(args.max_restarts, Some(3));
        assert_eq!(args.backoff_initial, Some(Duration::from_millis(10)));
        assert_eq!(args.kill_signal, Some(2));
        assert_eq!(args.kill_timeout, Some(Duration::from_millis(700)));
        assert!(args.inherit_env);
        assert!(!args.is_bare_name());
    }

    #[test]
    fn bare_name() {
        assert!(start(&["start", "api"]).is_bare_name());
        assert!(!start(&["start", "./api"]).is_bare_name());
        assert!(!start(&["start", "api", "--port"]).is_bare_name());
        assert!(!start(&["start", "--name", "api", "api"]).is_bare_name());
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["velos", "start", "--restart", "sometimes", "x"][..],
            &["velos", "start", "--kill-timeout", "5", "x"],
            &["velos", "start", "--kill-signal", "SIGNOPE", "x"],
            &["velos", "start", "--env", "=x", "x"],
            &["velos", "list", "--json", "--ai"],
            &["velos", "daemon", "--detached"],
            &["velos", "start"],
        ] {
            let error = Cli::try_parse_from(args).expect_err("must be refused");
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn declarative_commands_and_their_defaults() {
        match parse(&["apply"]).command {
            Command::Apply(apply) => {
                assert_eq!(apply.file, PathBuf::from("velos.toml"));
                assert!(!apply.json && !apply.wait.no_wait);
                assert_eq!(apply.wait.timeout, Duration::from_secs(60));
            }
            other => panic!("{other:?}"),
        }
        match parse(&["apply", "deploy/velos.toml", "--json", "--no-wait", "--timeout", "1m30s"]).command {
            Command::Apply(apply) => {
                assert_eq!(apply.file, PathBuf::from("deploy/velos.toml"));
                assert!(apply.json && apply.wait.no_wait);
                assert_eq!(apply.wait.timeout, Duration::from_secs(90));
            }
            other => panic!("{other:?}"),
        }
        match parse(&["plan", "--json"]).command {
            Command::Plan(plan) => assert!(plan.json && plan.file == Path::new("velos.toml")),
            other => panic!("{other:?}"),
        }
        match parse(&["diff"]).command {
            Command::Diff(diff) => {
                assert_eq!((diff.file.as_path(), diff.against.as_str()), (Path::new("velos.toml"), "live"))
            }
            other => panic!("{other:?}"),
        }
        match parse(&["diff", "a.toml", "--against", "origin/main", "--json"]).command {
            Command::Diff(diff) => {
                assert!(diff.json && diff.against == "origin/main" && diff.file == Path::new("a.toml"))
            }
            other => panic!("{other:?}"),
        }
        match parse(&["validate", "a.toml", "b.toml"]).command {
            Command::Validate(validate) => {
                assert_eq!(validate.files, [PathBuf::from("a.toml"), PathBuf::from("b.toml")])
            }
            other => panic!("{other:?}"),
        }
        match parse(&["validate"]).command {
            Command::Validate(validate) => assert_eq!(validate.files, [PathBuf::from("velos.toml")]),
            other => panic!("{other:?}"),
        }
        match parse(&["rollback"]).command {
            Command::Rollback(rollback) => assert_eq!((rollback.steps, rollback.project), (1, None)),
            other => panic!("{other:?}"),
        }
        match parse(&["rollback", "3", "--project", "shop", "--no-wait"]).command {
            Command::Rollback(rollback) => {
                assert_eq!((rollback.steps, rollback.project.as_deref()), (3, Some("shop")));
                assert!(rollback.wait.no_wait);
            }
            other => panic!("{other:?}"),
        }
        match parse(&["history", "--project", "shop", "--json"]).command {
            Command::History(history) => assert!(history.json && history.project.as_deref() == Some("shop")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["status", "--json"]).command,
            Command::Status(StatusArgs { json: true, all: false })
        ));
        assert!(matches!(parse(&["schema"]).command, Command::Schema));
    }

    #[test]
    fn edit_commands() {
        match parse(&["scale", "web", "3"]).command {
            Command::Scale(scale) => assert_eq!((scale.name.as_str(), scale.instances), ("web", 3)),
            other => panic!("{other:?}"),
        }
        match parse(&["set", "web", "env.PORT=8081", "kill_timeout=10s", "args=[\"-v\"]"]).command {
            Command::Set(set) => {
                let shown: Vec<(&str, String)> =
                    set.assignments.iter().map(|(key, value)| (key.as_str(), value.to_string())).collect();
                assert_eq!(
                    shown,
                    [
                        ("env.PORT", "8081".to_string()),
                        ("kill_timeout", "\"10s\"".to_string()),
                        ("args", "[\"-v\"]".to_string())
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        match parse(&["unset", "web", "env.DEBUG", "max_memory"]).command {
            Command::Unset(unset) => assert_eq!(unset.keys, ["env.DEBUG", "max_memory"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_declarative_arguments_are_usage_errors() {
        for args in [
            &["velos", "rollback", "0"][..],
            &["velos", "rollback", "-1"],
            &["velos", "scale", "web"],
            &["velos", "scale", "web", "many"],
            &["velos", "set", "web"],
            &["velos", "set", "web", "kill_timeout"],
            &["velos", "set", "web", "=5"],
            &["velos", "unset", "web"],
            &["velos", "apply", "--timeout", "5"],
            &["velos", "diff", "--against"],
        ] {
            let error = Cli::try_parse_from(args).expect_err("must be refused");
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
    }

    fn apply(args: &[&str]) -> ApplyArgs {
        match parse(args).command {
            Command::Apply(apply) => apply,
            other => panic!("not apply: {other:?}"),
        }
    }

    #[test]
    fn apply_from_git_and_in_the_foreground() {
        let args = apply(&["apply", "--git", "/srv/deploy.git", "--ref", "main", "--path", "velos.toml"]);
        assert_eq!(args.git.as_deref(), Some("/srv/deploy.git"));
        assert_eq!((args.git_ref.as_deref(), args.path.as_deref()), (Some("main"), Some("velos.toml")));
        assert!(!args.watch && !args.json);
        assert_eq!(args.file, PathBuf::from("velos.toml"), "FILE keeps its default, unused with --git");

        let args = apply(&["apply", "--git", "file:///srv/deploy.git"]);
        assert_eq!(
            (args.git_ref, args.path),
            (None, None),
            "the defaults are [velos.git]'s: main, velos.toml"
        );

        let args = apply(&["apply", "--git", "git://127.0.0.1/deploy.git", "--json", "--no-wait"]);
        assert!(args.json && args.wait.no_wait);

        let args = apply(&["apply", "deploy/velos.toml", "--watch", "--timeout", "10s"]);
        assert!(args.watch && args.git.is_none());
        assert_eq!(
            (args.file, args.wait.timeout),
            (PathBuf::from("deploy/velos.toml"), Duration::from_secs(10))
        );
        assert!(apply(&["apply", "--watch", "--git", "/srv/deploy.git"]).watch);
    }

    #[test]
    fn sync_hook_controller_and_the_all_flags() {
        match parse(&["sync"]).command {
            Command::Sync(sync) => assert_eq!(sync.project, None),
            other => panic!("{other:?}"),
        }
        match parse(&["sync", "shop"]).command {
            Command::Sync(sync) => assert_eq!(sync.project.as_deref(), Some("shop")),
            other => panic!("{other:?}"),
        }
        match parse(&["hook", "install", "/srv/deploy.git"]).command {
            Command::Hook(HookArgs { command: HookCommand::Install(install) }) => {
                assert_eq!(install.repo, PathBuf::from("/srv/deploy.git"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(&["controller"]).command, Command::Controller));
        match parse(&["list", "--all", "--json"]).command {
            Command::List(list) => assert!(list.all && list.json && !list.ai),
            other => panic!("{other:?}"),
        }
        match parse(&["ls", "--ai"]).command {
            Command::List(list) => assert!(!list.all && list.ai),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["status", "--all"]).command,
            Command::Status(StatusArgs { json: false, all: true })
        ));
    }

    #[test]
    fn bad_gitops_arguments_are_usage_errors() {
        for args in [
            &["velos", "apply", "--ref", "main"][..],
            &["velos", "apply", "--path", "velos.toml"],
            &["velos", "apply", "velos.toml", "--git", "/srv/deploy.git"],
            &["velos", "apply", "--git"],
            &["velos", "apply", "--watch", "--json"],
            &["velos", "sync", "../etc"],
            &["velos", "sync", "a", "b"],
            &["velos", "hook"],
            &["velos", "hook", "install"],
            &["velos", "hook", "remove", "/srv/deploy.git"],
            &["velos", "controller", "extra"],
        ] {
            let error = Cli::try_parse_from(args).expect_err("must be refused");
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn aliases_and_globals() {
        assert!(matches!(parse(&["ls"]).command, Command::List(_)));
        assert!(matches!(parse(&["rm", "web"]).command, Command::Delete(_)));
        let cli = parse(&["list", "--home", "/tmp/v"]);
        assert_eq!(cli.home, Some(PathBuf::from("/tmp/v")));
        match parse(&["logs", "web", "-f", "-n", "5", "--stderr"]).command {
            Command::Logs(logs) => {
                assert!(logs.follow && logs.stderr && logs.lines == 5 && logs.stream == "both")
            }
            other => panic!("{other:?}"),
        }
    }
}
