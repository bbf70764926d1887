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
    let options = velos_tui::Options { home: context.home.clone(), interval: args.interval, colour };
    let home = velos_ops::Home::new(context.home.clone()).map_err(|error| CliError::new(error.message))?;
    let ops = velos_ops::Ops::new(home).with_velos_exe(context.velos_exe()?);
    let daemon = Arc::new(velos_tui::live::OpsDaemon::new(ops));
    velos_tui::run(daemon, options).map_err(|error| CliError::new(error.to_string()).causes_of(&error))
}
