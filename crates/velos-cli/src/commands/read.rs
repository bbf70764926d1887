//! `velos list`, `info`, `ping`: reads (`logs` has its own module), with `--json` (and `--ai` for list). They never start the
//! daemon: without one, the error says how many apps it would bring back and how.
use super::Context;
use crate::cli::{InfoArgs, JsonArgs, ListArgs};
use crate::error::CliError;
use crate::render;
use std::io::Write;
use velos_ops::{InfoRequest, ListRequest, PingRequest};

pub fn list(context: &Context, args: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let listed = context.ops.list(ListRequest { all: args.all })?;
    let (records, health) = (&listed.apps, &listed.health);
    if args.json {
        writeln!(out, "{}", render::list_json_health(records, health))?;
    } else if args.ai {
        writeln!(out, "{}", render::list_ai_health(records, health))?;
    } else {
        out.write_all(render::list_table_health(records, health, super::colour()).as_bytes())?;
    }
    Ok(())
}

/// One instance: its record (`--json`: the record as before, or an array for an app with several).
pub fn info(context: &Context, args: &InfoArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let apps = context.ops.info(InfoRequest { name: args.name.clone() })?.apps;
    if args.json {
        // The record as it always was, plus `schedule` and `health` when the app has them.
        let records: Vec<serde_json::Value> = apps.iter().map(render::info_json).collect();
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
