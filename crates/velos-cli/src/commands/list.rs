//! `velos list` and `velos info`: read commands, with `--json` (and `--ai` for list).
use super::Context;
use crate::cli::{InfoArgs, ListArgs};
use crate::error::{client_error, CliError};
use crate::parse::signal_name;
use crate::render;
use std::io::{IsTerminal, Write};
use std::path::Path;
use velos_core::ProcessRecord;
use velos_reconcile::controller::SYSTEM_LABEL;

pub fn list(context: &Context, args: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut records = context.client()?.list()?;
    if !args.all {
        // The apps Velos runs for itself (the controller) are shown by `--all`.
        records.retain(|record| !is_system(record));
    }
    if args.json {
        writeln!(out, "{}", render::list_json(&records))?;
    } else if args.ai {
        writeln!(out, "{}", render::list_ai(&records))?;
    } else {
        let colour =
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        out.write_all(render::list_table(&records, colour).as_bytes())?;
    }
    Ok(())
}

/// An app of the system project (`velos.system=true`): Velos's own, such as `velos-controller`.
pub fn is_system(record: &ProcessRecord) -> bool {
    record.spec.labels.get(SYSTEM_LABEL).is_some_and(|value| value == "true")
}

pub fn info(context: &Context, args: &InfoArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = context.client()?;
    let record = client.info(&args.name).map_err(|error| client_error(error, Some(&args.name)))?;
    if args.json {
        writeln!(out, "{}", render::to_json_pretty(&record))?;
    } else {
        // Which mechanism covers the app's processes is the daemon's (PING), not the record's.
        let tracking = client.ping().ok().and_then(|ping| ping.tracking);
        out.write_all(info_text(&record, context.home(), tracking.as_deref()).as_bytes())?;
    }
    Ok(())
}

/// The `velos info` key/value view; `tracking` is the daemon's mechanism (PING), when it says.
pub fn info_text(record: &ProcessRecord, home: &Path, tracking: Option<&str>) -> String {
    let spec = &record.spec;
    let running = record.pid != 0;
    let dash = || "-".to_string();
    let last_exit = match (record.exit_code, record.exit_signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
        (None, None) => dash(),
    };
    let env_names: Vec<&str> =
        spec.env.iter().map(|entry| entry.split('=').next().unwrap_or(entry)).collect();
    let labels: Vec<String> = spec.labels.iter().map(|(key, value)| format!("{key}={value}")).collect();
    let logs = home.join("logs");
    let pairs = [
        ("name", record.name.clone()),
        ("status", record.status.to_string()),
        ("pid", if running { record.pid.to_string() } else { dash() }),
        (
            "command",
            render::shell_words(
                std::iter::once(spec.command.as_str()).chain(spec.args.iter().map(String::as_str)),
            ),
        ),
        ("cwd", spec.cwd.clone()),
        ("uptime", if running { render::uptime_long(record.uptime_ms) } else { dash() }),
        ("restarts", record.restarts.to_string()),
        ("cpu", if running { format!("{:.1}%", record.cpu) } else { dash() }),
        ("memory", if running { render::bytes_human(record.memory) } else { dash() }),
        ("last exit", last_exit),
        ("last error", record.last_error.clone().unwrap_or_else(dash)),
        (
            "restart",
            format!(
                "{} (at most {} in {}, backoff {} to {}, reset after {} up)",
                spec.restart,
                spec.max_restarts,
                render::duration_exact(spec.restart_window_ms),
                render::duration_exact(spec.backoff_initial_ms),
                render::duration_exact(spec.backoff_max_ms),
                render::duration_exact(spec.min_uptime_ms),
            ),
        ),
        (
            "stop",
            format!(
                "{} to the process tree, SIGKILL after {}",
                signal_name(spec.kill_signal),
                render::duration_exact(spec.kill_timeout_ms)
            ),
        ),
        (
            "tracking",
            match tracking {
                Some("procfs") => {
                    "procfs: the whole process tree, setsid and double forks included".to_string()
                }
                Some(other) => other.to_string(),
                None => dash(),
            },
        ),
        ("env", if env_names.is_empty() { dash() } else { env_names.join(" ") }),
        ("out log", logs.join(format!("{}-out.log", record.name)).display().to_string()),
        ("err log", logs.join(format!("{}-err.log", record.name)).display().to_string()),
        ("spec hash", if spec.spec_hash.is_empty() { dash() } else { spec.spec_hash.clone() }),
        ("labels", if labels.is_empty() { dash() } else { labels.join(" ") }),
    ];
    render::key_values(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::record;
    use velos_core::Status;

    #[test]
    fn info_view() {
        let mut web = record("web", Status::Running, 1234);
        web.uptime_ms = 303_000;
        web.memory = 2 * 1024 * 1024;
        web.cpu = 0.5;
        web.exit_signal = Some(9);
        web.spec.args = vec!["-c".into(), "echo hi; sleep 9".into()];
        web.spec.command = "/bin/sh".into();
        web.spec.env = vec!["PATH=/bin".into(), "TOKEN=secret".into()];
        web.spec.labels.insert("app".into(), "web".into());
        web.spec.spec_hash = "0123456789abcdef".into();
        let expected = "\
name        web
status      running
pid         1234
command     /bin/sh -c 'echo hi; sleep 9'
cwd         /tmp
uptime      5m 3s
restarts    0
cpu         0.5%
memory      2.0 MiB
last exit   killed by SIGKILL
last error  -
restart     on-failure (at most 10 in 1m, backoff 100ms to 5s, reset after 1s up)
stop        SIGTERM to the process tree, SIGKILL after 5s
tracking    procfs: the whole process tree, setsid and double forks included
env         PATH TOKEN
out log     /h/logs/web-out.log
err log     /h/logs/web-err.log
spec hash   0123456789abcdef
labels      app=web
";
        assert_eq!(info_text(&web, Path::new("/h"), Some("procfs")), expected);
        assert!(
            !info_text(&web, Path::new("/h"), Some("procfs")).contains("secret"),
            "env values are not shown"
        );
    }
}
