//! `velos logs`: an app's lines from its log files (both streams, in time order, each line marked with its
//! instance and stream), `--follow` the daemon's rings, `--summary`, `--templates`; `velos flush`. The
//! work is velos-ops' `logs`, `logs_summary`, `logs_templates` and `flush` verbs; this renders them.
use super::Context;
use crate::cli::{FlushArgs, LogsArgs};
use crate::error::CliError;
use std::collections::HashMap;
use std::io::Write;
use velos_core::Stream;
use velos_ops::{
    FlushRequest, LogLine, LogsRequest, LogsSummaryRequest, LogsTemplatesRequest, Ops, StreamChoice,
};

pub fn logs(context: &Context, args: &LogsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(command) = &args.command {
        return super::logs_mine::run(command, out);
    }
    let Some(name) = args.name.as_deref() else {
        return Err(CliError::new("which app's logs?").hint("velos logs APP (velos list shows the apps)"));
    };
    let ops = &context.ops;
    if args.summary {
        return summary(ops, name, args, now_ms(), out);
    }
    if args.templates {
        return templates(ops, name, args.json, out);
    }
    let now_ms = now_ms();
    let request = LogsRequest {
        name: name.to_string(),
        lines: args.lines,
        stream: match (args.stderr, args.stream.as_str()) {
            (true, _) | (_, "err") => StreamChoice::Err,
            (_, "out") => StreamChoice::Out,
            _ => StreamChoice::Both,
        },
        since_ms: args.since.as_deref().map(|when| parse_when(when, now_ms, "--since")).transpose()?,
        until_ms: args.until.as_deref().map(|when| parse_when(when, now_ms, "--until")).transpose()?,
        grep: args.grep.clone(),
        ignore_case: false,
        level: args.level.clone(),
        template_ids: args.json,
        follow: args.follow,
        // Text is read by people, who want past a flood; JSON is read by programs, which want every line.
        collapse: !args.json && !args.no_collapse,
    };
    if args.follow {
        return follow(ops, request, out);
    }
    let outcome = ops.logs(request)?;
    for line in &outcome.lines {
        if args.json {
            serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", render(line, args.timestamps))?;
        }
    }
    let found = outcome.lines.len();
    if (args.since.is_some() || args.until.is_some())
        && found > 0
        && outcome.lines.iter().all(|l| l.ts.is_none())
    {
        eprintln!(
            "note: these lines carry no time, so --since and --until kept them: set log.timestamps = true"
        );
    }
    if found < outcome.wanted as usize {
        let filtered =
            args.grep.is_some() || args.level.is_some() || args.since.is_some() || args.until.is_some();
        let what = if filtered { " that match" } else { "" };
        eprintln!("note: {found} of {} lines: the log files hold no more{what}", outcome.wanted);
    }
    Ok(())
}

/// `web err | boom`; with `--timestamps`, `2026-11-30T10:41:02.123Z web-1 out | GET / 200` (a line
/// written without `log.timestamps` has no time to show). A cut line says how long it was. The time is
/// left out by default, as `pm2 logs` and `docker logs` do: the order already says what came first.
fn render(line: &LogLine, timestamps: bool) -> String {
    let body: String = line.body.chars().map(|c| if c.is_control() && c != '\t' { '?' } else { c }).collect();
    let cut = line.cut_from.map(|len| format!(" [… cut, {len} bytes]")).unwrap_or_default();
    let repeated = line.repeated.map(|count| format!(" (repeated {count}×)")).unwrap_or_default();
    let stream = line.stream.as_str();
    match line.ts.as_ref().filter(|_| timestamps) {
        Some(ts) => format!("{ts} {} {stream} | {body}{cut}{repeated}", line.instance),
        None => format!("{} {stream} | {body}{cut}{repeated}", line.instance),
    }
}

/// Until Ctrl-C (the default SIGINT action ends us; nothing to clean up) or every stream ends. Chunks are
/// cut into lines per instance and stream, each printed with its mark.
fn follow(ops: &Ops, request: LogsRequest, out: &mut dyn Write) -> Result<(), CliError> {
    let mut partial: HashMap<(String, Stream), Vec<u8>> = HashMap::new();
    for chunk in ops.logs_follow(request)? {
        let chunk = chunk?;
        let buffer = partial.entry((chunk.name.clone(), chunk.stream)).or_default();
        buffer.extend_from_slice(&chunk.bytes);
        while let Some(newline) = buffer.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = buffer.drain(..=newline).collect();
            write!(out, "{} {} | ", chunk.name, chunk.stream.as_str())?;
            out.write_all(&line)?;
        }
        out.flush()?;
    }
    for ((name, stream), rest) in partial.into_iter().filter(|(_, rest)| !rest.is_empty()) {
        write!(out, "{name} {} | ", stream.as_str())?;
        out.write_all(&rest)?;
        writeln!(out)?;
    }
    Ok(())
}

fn summary(ops: &Ops, name: &str, args: &LogsArgs, now_ms: i64, out: &mut dyn Write) -> Result<(), CliError> {
    let request = LogsSummaryRequest {
        name: name.to_string(),
        budget: args.budget,
        json: args.json,
        since_ms: args.since.as_deref().map(|when| parse_when(when, now_ms, "--since")).transpose()?,
        until_ms: args.until.as_deref().map(|when| parse_when(when, now_ms, "--until")).transpose()?,
    };
    let outcome = ops.logs_summary(request)?;
    for warning in &outcome.warnings {
        eprintln!("warning: {}", warning.message);
    }
    if args.json {
        let summaries: Vec<&serde_json::Value> =
            outcome.summaries.iter().filter_map(|s| s.summary.as_ref()).collect();
        match summaries.as_slice() {
            [one] => serde_json::to_writer(&mut *out, one),
            many => serde_json::to_writer(&mut *out, many),
        }
        .map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        for summary in &outcome.summaries {
            write!(out, "{}", summary.text.as_deref().unwrap_or_default())?;
        }
    }
    Ok(())
}

fn templates(ops: &Ops, name: &str, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = ops.logs_templates(LogsTemplatesRequest { name: name.to_string() })?;
    for warning in &outcome.warnings {
        eprintln!("warning: {}", warning.message);
    }
    if json {
        serde_json::to_writer(&mut *out, &outcome.templates).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    for template in &outcome.templates {
        writeln!(
            out,
            "{:>6} {:>9} {:<5}  {}",
            template.template_id, template.count, template.severity_text, template.template
        )?;
    }
    Ok(())
}

pub fn flush(context: &Context, args: &FlushArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let outcome = context.ops.flush(FlushRequest { name: args.name.clone() })?;
    writeln!(
        out,
        "Flushed {} ({} files, {} bytes)",
        if outcome.instances.is_empty() { "nothing".to_string() } else { outcome.instances.join(", ") },
        outcome.files,
        outcome.bytes
    )?;
    Ok(())
}

/// `10m` (that long ago) or `2026-11-30T10:00:00Z` / `…00.123Z` (that instant), in ms since the epoch.
/// `--since`/`--until` by velos-ops' one reading of them; the flag is named in the error.
fn parse_when(when: &str, now_ms: i64, flag: &str) -> Result<i64, CliError> {
    velos_ops::parse_log_time(when, now_ms)
        .map_err(|error| CliError::from(error.hint(format!("{flag} 10m, or {flag} 2026-11-30T10:00:00Z"))))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}
