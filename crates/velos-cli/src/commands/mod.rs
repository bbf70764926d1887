//! One module per command group: each turns its arguments into a velos-ops request, calls the verb, and
//! renders the outcome. The decisions are the ops layer's.
mod agents;
mod apply;
mod apps;
pub mod completions;
mod daemon;
mod logs;
pub mod logs_mine;
mod monit;
mod progress;
mod projects;
mod read;
pub mod serve;
mod startup;

pub use agents::mcp;
pub use daemon::daemon_foreground;

use crate::cli::{Command, HookArgs, HookCommand, WaitArgs};
use crate::error::CliError;
use std::io::{IsTerminal, Write};
use velos_ops::{Ops, WaitOptions};

/// How a command that did not fail ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0.
    Success,
    /// 2: `velos diff` found changes.
    Changes,
}

/// What every command needs.
pub struct Context {
    pub ops: Ops,
}

/// Colour on stdout: a terminal, and `NO_COLOR` unset or empty.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// `--no-wait` and `--timeout` as the ops layer takes them.
pub fn wait_options(wait: &WaitArgs) -> WaitOptions {
    WaitOptions {
        wait: !wait.no_wait,
        timeout_ms: u64::try_from(wait.timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

pub fn run(command: Command, context: &Context, out: &mut dyn Write) -> Result<Exit, CliError> {
    let done = |result: Result<(), CliError>| result.map(|()| Exit::Success);
    match command {
        Command::Daemon(args) => done(daemon::daemon(context, &args, out)),
        Command::Ping(args) => done(read::ping(context, &args, out)),
        Command::Kill => done(daemon::kill(context, out)),
        Command::Save => done(daemon::save(context, out)),
        Command::Monit(args) => done(monit::monit(context, &args)),
        Command::Completions(args) => done(completions::completions(&args, out)),
        Command::Startup(args) => done(startup::startup(context, &args, out)),
        Command::Unstartup(args) => done(startup::unstartup(context, &args, out)),
        Command::Resurrect => done(daemon::resurrect(context, out)),
        Command::Start(args) => done(apps::start(context, args, out)),
        Command::Stop(args) => done(apps::stop(context, &args.name, out)),
        Command::Restart(args) => done(apps::restart(context, &args.name, out)),
        Command::Reload(args) => done(apps::reload(context, &args.name, out)),
        Command::Delete(args) => done(apps::delete(context, &args.name, out)),
        Command::Scale(args) => done(apps::scale(context, &args, out)),
        Command::Set(args) => done(apps::set(context, &args, out)),
        Command::Unset(args) => done(apps::unset(context, &args, out)),
        Command::Info(args) => done(read::info(context, &args, out)),
        Command::List(args) => done(read::list(context, &args, out)),
        Command::Logs(args) => done(logs::logs(context, &args, out)),
        Command::Flush(args) => done(logs::flush(context, &args, out)),
        Command::Apply(args) => done(apply::apply(context, &args, out)),
        Command::Plan(args) => done(apply::plan(context, &args, out)),
        Command::Diff(args) => apply::diff(context, &args, out),
        Command::Validate(args) => done(apply::validate(context, &args, out)),
        Command::Rollback(args) => done(apply::rollback(context, &args, out)),
        Command::Schema => done(apply::schema(out)),
        Command::Status(args) => done(projects::status(context, &args, out)),
        Command::History(args) => done(projects::history(context, &args, out)),
        Command::Forget(args) => done(projects::forget(context, &args, out)),
        Command::Sync(args) => done(projects::sync(context, &args, out)),
        Command::Hook(HookArgs { command: HookCommand::Install(args) }) => {
            done(projects::hook_install(context, &args, out))
        }
        Command::Controller => done(projects::controller(context)),
        Command::Serve(args) => done(serve::serve(context, &args, out)),
        Command::Metrics(args) => done(serve::metrics(context, &args, out)),
        Command::Mcp(args) => done(agents::mcp(context, &args)),
        Command::Proposals { command } => done(agents::proposals(context, &command, out)),
    }
}
