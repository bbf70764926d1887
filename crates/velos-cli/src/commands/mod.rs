//! One module per command group. Each parses nothing and decides little: it calls the client and the
//! libraries, waits where the command promises an end state, and renders.
mod daemon;

pub use daemon::daemon_foreground;
mod declarative;
mod edit;
mod gitops;
mod list;
mod logs;
pub mod logs_mine;
mod process;

use crate::cli::{Command, HookArgs, HookCommand};
use crate::error::CliError;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use velos_client::{connect_or_start, Client, ClientError};

/// The lock every write of desired state holds, from reading a file to recording the apply, so two velos
/// commands (or a command and the controller) never interleave their read-edit-write.
pub use velos_reconcile::history::EDIT_LOCK_FILE;

/// How a command that did not fail ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0.
    Success,
    /// 2: `velos diff` found changes.
    Changes,
}

/// What every command needs to reach the daemon.
pub struct Context {
    pub home: PathBuf,
}

impl Context {
    /// Connects, starting the daemon first if it is not running (every app command does: the daemon brings
    /// back its saved apps when it starts, as `pm2` does).
    pub fn client(&self) -> Result<Client, CliError> {
        Ok(connect_or_start(&self.home, &self.velos_exe()?)?)
    }

    /// Connects to a running daemon only.
    pub fn client_if_running(&self) -> Result<Client, ClientError> {
        Client::connect(&self.home)
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// This velos executable: what the daemon, the controller app and the git hook run.
    pub fn velos_exe(&self) -> Result<PathBuf, CliError> {
        std::env::current_exe()
            .map_err(|error| CliError::new("could not find the velos executable").cause(error.to_string()))
    }

    /// Takes the edit lock (waiting for another velos command to finish its edit), creating VELOS_HOME
    /// (mode 0700, as the daemon requires) if needed; VELOS_HOME and the lock are checked first and never
    /// reached through a symlink (velos_client::Home). Held until the returned file is dropped.
    pub fn lock_edits(&self) -> Result<File, CliError> {
        let failed = |what: &str, error: std::io::Error| {
            CliError::new(format!("could not {what} {}", self.home.join(EDIT_LOCK_FILE).display()))
                .cause(error.to_string())
                .hint("VELOS_HOME must be a directory you own (mode 0700)")
        };
        let home = velos_client::Home::prepare(&self.home)?;
        let file = home.open_read_write(EDIT_LOCK_FILE)?;
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                eprintln!("waiting for another velos command to finish its edit ({EDIT_LOCK_FILE})...");
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(failed("lock", error)),
        }
        file.lock().map_err(|error| failed("lock", error))?;
        Ok(file)
    }
}

/// Colour on stdout: a terminal, and `NO_COLOR` unset or empty.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

pub fn run(command: Command, context: &Context, out: &mut dyn Write) -> Result<Exit, CliError> {
    let done = |result: Result<(), CliError>| result.map(|()| Exit::Success);
    match command {
        Command::Daemon(args) => done(daemon::daemon(context, &args, out)),
        Command::Ping(args) => done(daemon::ping(context, &args, out)),
        Command::Kill => done(daemon::kill(context, out)),
        Command::Save => done(daemon::save(context, out)),
        Command::Start(args) => done(edit::start(context, &args, out)),
        Command::Stop(args) => done(edit::stop(context, &args.name, out)),
        Command::Restart(args) => done(process::restart(context, &args.name, out)),
        Command::Delete(args) => done(edit::delete(context, &args.name, out)),
        Command::Info(args) => done(list::info(context, &args, out)),
        Command::List(args) => done(list::list(context, &args, out)),
        Command::Logs(args) => done(logs::logs(context, &args, out)),
        Command::Flush(args) => done(logs::flush(context, &args, out)),
        Command::Apply(args) => done(declarative::apply(context, &args, out)),
        Command::Plan(args) => done(declarative::plan(context, &args, out)),
        Command::Diff(args) => declarative::diff(context, &args, out),
        Command::Validate(args) => done(declarative::validate(&args, out)),
        Command::Status(args) => done(declarative::status(context, &args, out)),
        Command::History(args) => done(declarative::history(context, &args, out)),
        Command::Rollback(args) => done(declarative::rollback(context, &args, out)),
        Command::Schema => done(declarative::schema(out)),
        Command::Scale(args) => done(edit::scale(context, &args, out)),
        Command::Set(args) => done(edit::set(context, &args, out)),
        Command::Unset(args) => done(edit::unset(context, &args, out)),
        Command::Sync(args) => done(gitops::sync(context, &args, out)),
        Command::Hook(HookArgs { command: HookCommand::Install(args) }) => {
            done(gitops::hook_install(context, &args, out))
        }
        Command::Controller => done(gitops::controller(context)),
    }
}
