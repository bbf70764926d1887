//! `velos monit`: the dashboard (crate velos-tui). Never starts the daemon: it shows that it is down and
//! keeps trying.
use super::Context;
use crate::cli::MonitArgs;
use crate::error::CliError;
use std::io::IsTerminal;
use std::sync::Arc;

pub fn monit(context: &Context, args: &MonitArgs) -> Result<(), CliError> {
    if args.interval < velos_tui::INTERVAL_MIN {
        return Err(CliError::new(format!(
            "--interval {} ms is too short: at least {} ms",
            args.interval.as_millis(),
            velos_tui::INTERVAL_MIN.as_millis()
        ))
        .hint("velos monit --interval 1s"));
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CliError::new("velos monit needs a terminal")
            .hint("velos list (--json for scripts), velos logs NAME --follow"));
    }
    let colour = !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let home = context.ops.home().root().to_path_buf();
    let options = velos_tui::Options { home, interval: args.interval, colour };
    let daemon = Arc::new(velos_tui::live::OpsDaemon::new(context.ops.clone()));
    velos_tui::run(daemon, options).map_err(|error| {
        let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        CliError::new(error.to_string()).cause(cause)
    })
}
