//! One module per command group. Each parses nothing and decides little: it calls the client, waits where
//! the command promises an end state, and renders.
mod daemon;
mod list;
mod logs;
mod process;

use crate::cli::Command;
use crate::error::CliError;
use std::io::Write;
use std::path::{Path, PathBuf};
use velos_client::{connect_or_start, Client, ClientError};

/// What every command needs to reach the daemon.
pub struct Context {
    pub home: PathBuf,
}

impl Context {
    /// Connects, starting the daemon first if it is not running (every app command does: the daemon brings
    /// back its saved apps when it starts, as `pm2` does).
    pub fn client(&self) -> Result<Client, CliError> {
        let exe = std::env::current_exe()
            .map_err(|error| CliError::new("could not find the velos executable").cause(error.to_string()))?;
        Ok(connect_or_start(&self.home, &exe)?)
    }

    /// Connects to a running daemon only.
    pub fn client_if_running(&self) -> Result<Client, ClientError> {
        Client::connect(&self.home)
    }

    pub fn home(&self) -> &Path {
        &self.home
    }
}

pub fn run(command: Command, context: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        Command::Daemon(args) => daemon::daemon(context, &args, out),
        Command::Ping(args) => daemon::ping(context, &args, out),
        Command::Kill => daemon::kill(context, out),
        Command::Save => daemon::save(context, out),
        Command::Start(args) => process::start(context, &args, out),
        Command::Stop(args) => process::stop(context, &args.name, out),
        Command::Restart(args) => process::restart(context, &args.name, out),
        Command::Delete(args) => process::delete(context, &args.name, out),
        Command::Info(args) => list::info(context, &args, out),
        Command::List(args) => list::list(context, &args, out),
        Command::Logs(args) => logs::logs(context, &args, out),
    }
}
