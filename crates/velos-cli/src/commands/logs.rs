//! `velos logs`: the last lines of an app's stdout (or stderr) ring, raw bytes; `--follow` streams.
use super::Context;
use crate::cli::LogsArgs;
use crate::error::{client_error, CliError};
use std::io::Write;
use velos_core::Stream;

pub fn logs(context: &Context, args: &LogsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(command) = &args.command {
        return super::logs_mine::run(command, out);
    }
    let Some(name) = args.name.as_deref() else {
        return Err(CliError::new("which app's logs?").hint("velos logs APP (velos list shows the apps)"));
    };
    let stream = if args.stderr { Stream::Err } else { Stream::Out };
    let client = context.client()?;
    if !args.follow {
        let mut client = client;
        let bytes =
            client.log_read(name, stream, args.lines).map_err(|error| client_error(error, Some(name)))?;
        out.write_all(&bytes)?;
        return Ok(());
    }
    // Until Ctrl-C (the default SIGINT action ends us; nothing to clean up) or the stream ends.
    for chunk in
        client.log_stream(name, stream, args.lines).map_err(|error| client_error(error, Some(name)))?
    {
        let chunk = chunk.map_err(|error| client_error(error, Some(name)))?;
        out.write_all(&chunk)?;
        out.flush()?;
    }
    Ok(())
}
