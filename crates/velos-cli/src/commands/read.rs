//! `velos list`, `info`, `logs`, `ping`: reads, with `--json` (and `--ai` for list). They never start the
//! daemon: without one, the error says how many apps it would bring back and how.
use super::Context;
use crate::cli::{InfoArgs, JsonArgs, ListArgs, LogsArgs};
use crate::error::CliError;
use crate::render;
use std::io::Write;
use velos_core::Stream;
use velos_ops::{InfoRequest, ListRequest, LogsRequest, PingRequest};

pub fn list(context: &Context, args: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let records = context.ops.list(ListRequest { all: args.all })?.apps;
    if args.json {
        writeln!(out, "{}", render::list_json(&records))?;
    } else if args.ai {
        writeln!(out, "{}", render::list_ai(&records))?;
    } else {
        out.write_all(render::list_table(&records, super::colour()).as_bytes())?;
    }
    Ok(())
}

/// One instance: its record (`--json`: the record as before, or an array for an app with several).
pub fn info(context: &Context, args: &InfoArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let apps = context.ops.info(InfoRequest { name: args.name.clone() })?.apps;
    if args.json {
        let records: Vec<&velos_core::ProcessRecord> = apps.iter().map(|app| &app.record).collect();
        match records.as_slice() {
            [only] => writeln!(out, "{}", render::to_json_pretty(only))?,
            several => writeln!(out, "{}", render::to_json_pretty(&several))?,
        }
        return Ok(());
    }
    for (index, app) in apps.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        out.write_all(render::info_text(app).as_bytes())?;
    }
    Ok(())
}

/// The last lines of each instance (with a `==> NAME <==` header when there are several), or a follow.
pub fn logs(context: &Context, args: &LogsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let stream = if args.stderr { Stream::Err } else { Stream::Out };
    let request = LogsRequest { name: args.name.clone(), lines: args.lines, stream, follow: false };
    if !args.follow {
        let logs = context.ops.logs(request)?.logs;
        let headers = logs.len() > 1;
        for log in logs {
            if headers {
                writeln!(out, "==> {} <==", log.name)?;
            }
            out.write_all(&log.bytes)?;
        }
        return Ok(());
    }
    // Until Ctrl-C (the default SIGINT action ends us; nothing to clean up) or every stream ends.
    let follow = context.ops.logs_follow(request)?;
    let headers = follow.names.len() > 1;
    let mut last: Option<String> = None;
    for chunk in follow {
        let chunk = chunk?;
        if headers && last.as_deref() != Some(chunk.name.as_str()) {
            writeln!(out, "==> {} <==", chunk.name)?;
            last = Some(chunk.name.clone());
        }
        out.write_all(&chunk.bytes)?;
        out.flush()?;
    }
    Ok(())
}

pub fn ping(context: &Context, args: &JsonArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let ping = context.ops.ping(PingRequest {})?.daemon;
    if args.json {
        writeln!(out, "{}", render::to_json_pretty(&ping))?;
    } else {
        let tracking =
            ping.tracking.as_deref().map(|mechanism| format!(", tracking {mechanism}")).unwrap_or_default();
        writeln!(
            out,
            "daemon running (pid {}), version {}, up {}, {}{tracking}",
            ping.pid,
            ping.version,
            render::uptime_long(ping.uptime_ms),
            render::plural(ping.apps as usize, "app")
        )?;
    }
    Ok(())
}
