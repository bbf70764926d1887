//! The tables and machine forms of `list`, `status`, `history`.
use super::*;
use std::collections::BTreeMap;
use velos_core::{ProcessRecord, Status};
use velos_ops::AppHealth;

/// ANSI colour of a status, when colour is on.
fn status_colour(status: Status) -> &'static str {
    match status {
        Status::Running => "\x1b[32m",                                       // green
        Status::Starting | Status::Stopping | Status::Waiting => "\x1b[33m", // yellow
        Status::Stopped => "\x1b[2m",                                        // dim
        Status::Errored => "\x1b[31m",                                       // red
        Status::Completed => "\x1b[36m",                                     // cyan: done, not down
        Status::Unknown => "",
    }
}

const RESET: &str = "\x1b[0m";

/// The `velos list` table. `colour` only tints the status column (the caller decides: a terminal, no
/// `NO_COLOR`); widths are computed on the plain text so colour never shifts a column.
#[cfg(test)] // the faces pass the health; tests of the plain table use this
pub fn list_table(records: &[ProcessRecord], colour: bool) -> String {
    list_table_health(records, &BTreeMap::new(), colour)
}

/// [`list_table`] with a HEALTH column after STATUS when an app has a check (`healthy`, `unhealthy`,
/// `unknown`; `-` for an app without one). Without any check the table is the one it always was.
pub fn list_table_health(
    records: &[ProcessRecord],
    health: &BTreeMap<String, AppHealth>,
    colour: bool,
) -> String {
    let with_health = !health.is_empty();
    let mut header = vec!["NAME", "PID", "STATUS"];
    if with_health {
        header.push("HEALTH");
    }
    header.extend(["RESTARTS", "CPU", "MEMORY", "UPTIME"]);
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|record| {
            let running = record.pid != 0;
            let mut row = vec![
                record.name.clone(),
                if running { record.pid.to_string() } else { "-".into() },
                record.status.to_string(),
            ];
            if with_health {
                row.push(
                    health.get(&record.name).map_or_else(|| "-".to_string(), |app| app.health.to_string()),
                );
            }
            row.extend([
                record.restarts.to_string(),
                if running { format!("{:.1}%", record.cpu) } else { "-".into() },
                if running { bytes_human(record.memory) } else { "-".into() },
                if running { uptime_short(record.uptime_ms) } else { "-".into() },
            ]);
            row
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    // Numbers are right-aligned, text left-aligned: the last four columns are numbers, and the PID.
    let columns = header.len();
    let right = |index: usize| index == 1 || index + 4 >= columns;
    let mut text = String::new();
    let mut line = |cells: &[&str], status: Option<Status>| {
        let mut out = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                out.push_str("  ");
            }
            let width = widths[index];
            let padded = if right(index) { format!("{cell:>width$}") } else { format!("{cell:<width$}") };
            match (index, status) {
                (2, Some(status)) if colour && !status_colour(status).is_empty() => {
                    let _ = write!(out, "{}{padded}{RESET}", status_colour(status));
                }
                _ => out.push_str(&padded),
            }
        }
        text.push_str(out.trim_end());
        text.push('\n');
    };
    line(&header, None);
    for (row, record) in rows.iter().zip(records) {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&cells, Some(record.status));
    }
    text
}

/// One `velos list --json` entry: a stable contract for scripts.
#[derive(Debug, Serialize)]
pub struct ListEntry<'a> {
    pub name: &'a str,
    pub pid: u32,
    pub status: Status,
    pub restarts: u32,
    /// Percent of one core.
    pub cpu: f64,
    /// Resident bytes.
    pub memory: u64,
    pub uptime_ms: u64,
    pub exit_code: Option<i32>,
    pub exit_signal: Option<u8>,
    pub last_error: Option<&'a str>,
    pub spec_hash: &'a str,
    /// Only for an app with a readiness or liveness check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<&'a AppHealth>,
}

impl<'a> From<&'a ProcessRecord> for ListEntry<'a> {
    fn from(record: &'a ProcessRecord) -> Self {
        ListEntry {
            name: &record.name,
            pid: record.pid,
            status: record.status,
            restarts: record.restarts,
            cpu: record.cpu,
            memory: record.memory,
            uptime_ms: record.uptime_ms,
            exit_code: record.exit_code,
            exit_signal: record.exit_signal,
            last_error: record.last_error.as_deref(),
            spec_hash: &record.spec.spec_hash,
            health: None,
        }
    }
}

/// One `velos list --ai` entry: short keys, few tokens.
#[derive(Debug, Serialize)]
pub struct AiEntry<'a> {
    pub n: &'a str,
    pub s: Status,
    /// CPU percent, one decimal.
    pub c: f64,
    /// Memory bytes.
    pub m: u64,
    pub r: u32,
    /// Uptime seconds.
    pub u: u64,
    pub p: u32,
    /// Health, for an app with a check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h: Option<&'static str>,
}

impl<'a> From<&'a ProcessRecord> for AiEntry<'a> {
    fn from(record: &'a ProcessRecord) -> Self {
        AiEntry {
            n: &record.name,
            s: record.status,
            c: (record.cpu * 10.0).round() / 10.0,
            m: record.memory,
            r: record.restarts,
            u: record.uptime_ms / 1000,
            p: record.pid,
            h: None,
        }
    }
}

#[cfg(test)] // the faces pass the health; tests of the plain table use this
pub fn list_json(records: &[ProcessRecord]) -> String {
    list_json_health(records, &BTreeMap::new())
}

/// [`list_json`], each app with a check carrying its `health` (`{health, readiness, liveness,
/// liveness_restarts, ...}`).
pub fn list_json_health(records: &[ProcessRecord], health: &BTreeMap<String, AppHealth>) -> String {
    let entries: Vec<ListEntry<'_>> = records
        .iter()
        .map(|record| ListEntry { health: health.get(&record.name), ..ListEntry::from(record) })
        .collect();
    to_json_pretty(&entries)
}

#[cfg(test)] // the faces pass the health; tests of the plain table use this
pub fn list_ai(records: &[ProcessRecord]) -> String {
    list_ai_health(records, &BTreeMap::new())
}

/// [`list_ai`], with `h` (`healthy`, `unhealthy`, `unknown`) for an app with a check.
pub fn list_ai_health(records: &[ProcessRecord], health: &BTreeMap<String, AppHealth>) -> String {
    let entries: Vec<AiEntry<'_>> = records
        .iter()
        .map(|record| AiEntry {
            h: health.get(&record.name).map(|app| app.health.as_str()),
            ..AiEntry::from(record)
        })
        .collect();
    serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into())
}

/// Pretty JSON of our own types (which always serialize); a newline-less fallback keeps this infallible.
pub fn to_json_pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|error| format!("{{\"error\": {:?}}}", error.to_string()))
}

/// `key  value` lines with the keys padded to one width.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (key, value) in pairs {
        let _ = writeln!(text, "{key:<width$}  {value}");
    }
    text
}

// ---- declarative commands ---------------------------------------------------------------------------------

/// What `velos diff` prints when the two sides describe the same apps.
pub fn no_differences(plan: &velos_reconcile::Plan, against: &str) -> String {
    format!("No changes: {} ({}) is the same as in {against}.", plan.project, plural(plan.apps, "app"))
}

/// `12s ago`, `3m ago`, `2d ago`; `just now` for a time in the future (another host's clock).
pub fn ago(now_unix_ms: u64, then_unix_ms: u64) -> String {
    match now_unix_ms.checked_sub(then_unix_ms) {
        Some(elapsed) => format!("{} ago", uptime_short(elapsed)),
        None => "just now".into(),
    }
}

/// `2026-05-01 12:03:04` (UTC) from milliseconds since the Unix epoch.
pub fn utc_time(unix_ms: u64) -> String {
    let seconds = unix_ms / 1000;
    let (days, in_day) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", in_day / 3_600, in_day / 60 % 60, in_day % 60)
}

/// Rows of cells as a table with two spaces between columns, the last column unpadded.
fn table(
    header: &[&str],
    rows: &[Vec<String>],
    colour_of: impl Fn(usize, usize) -> Option<&'static str>,
) -> String {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: Vec<&str>, row: Option<usize>| {
        let mut out = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                out.push_str("  ");
            }
            let width = widths[index];
            let padded = format!("{cell:<width$}");
            match row.and_then(|row| colour_of(row, index)) {
                Some(code) => {
                    let _ = write!(out, "{code}{padded}{RESET}");
                }
                None => out.push_str(&padded),
            }
        }
        text.push_str(out.trim_end());
        text.push('\n');
    };
    line(header.to_vec(), None);
    for (index, row) in rows.iter().enumerate() {
        line(row.iter().map(String::as_str).collect(), Some(index));
    }
    text
}

/// The `velos status` table. `now_unix_ms` is passed in so the output is testable.
pub fn status_table(statuses: &[velos_reconcile::ProjectStatus], now_unix_ms: u64, colour: bool) -> String {
    use velos_reconcile::{LastResult, SyncState};
    let state_word = |state: SyncState| match state {
        SyncState::Synced => "synced",
        SyncState::Progressing => "progressing",
        SyncState::Degraded => "degraded",
        SyncState::OutOfSync => "out of sync",
        SyncState::Error => "error",
    };
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|status| {
            let last_apply = match &status.last_apply {
                Some(last) => {
                    let result = match last.result {
                        LastResult::Ok => "ok",
                        LastResult::Failed => "failed",
                    };
                    format!("{}, {result}", ago(now_unix_ms, last.time_unix_ms))
                }
                None => "-".into(),
            };
            // What is wrong now, else what went wrong in the last apply.
            let message = match (&status.message, &status.last_apply) {
                (message, _) if !message.is_empty() => message.clone(),
                (_, Some(last)) if last.result == LastResult::Failed => last.message.clone(),
                _ => "-".to_string(),
            };
            vec![
                status.project.clone(),
                state_word(status.state).to_string(),
                ready_count(status),
                velos_reconcile::short_revision(&status.revision),
                status.source.clone(),
                last_apply,
                message,
            ]
        })
        .collect();
    let header = ["PROJECT", "STATE", "READY", "REVISION", "SOURCE", "LAST APPLY", "MESSAGE"];
    let mut text = table(&header, &rows, |row, column| {
        if !colour || column != 1 {
            return None;
        }
        Some(match statuses[row].state {
            SyncState::Synced => "\x1b[32m",
            SyncState::Progressing => "\x1b[36m",
            SyncState::Degraded => "\x1b[31m",
            SyncState::OutOfSync => "\x1b[33m",
            SyncState::Error => "\x1b[31m",
        })
    });
    // The next step for an error (a refused token, an unknown ssh host), below the table: too long for a cell.
    for status in statuses {
        if let Some(hint) = &status.hint {
            text.push_str(&format!("hint: {}: {hint}\n", status.project));
        }
    }
    text
}

/// `2/3`: of the apps the project wants running, how many are ready; `-` when none is known.
fn ready_count(status: &velos_reconcile::ProjectStatus) -> String {
    if status.apps.is_empty() {
        return "-".into();
    }
    let ready = status.apps.iter().filter(|app| app.readiness.is_ready()).count();
    format!("{ready}/{}", status.apps.len())
}

/// `2 create, 1 replace`, or `no changes`, from a recorded plan (`velos plan --json`).
pub fn plan_counts(plan: &serde_json::Value) -> String {
    use velos_reconcile::ActionType;
    let actions =
        plan.get("actions").and_then(serde_json::Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let counts: Vec<String> = ActionType::ALL
        .iter()
        .filter_map(|kind| {
            let count = actions.iter().filter(|action| action["action"] == kind.as_str()).count();
            (count > 0).then(|| format!("{count} {}", kind.verb()))
        })
        .collect();
    if counts.is_empty() {
        "no changes".into()
    } else {
        counts.join(", ")
    }
}

/// The `velos history` table, oldest first.
pub fn history_table(entries: &[velos_reconcile::HistoryEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|entry| {
            vec![
                entry.seq.to_string(),
                entry.project.clone(),
                velos_reconcile::short_revision(&entry.revision),
                utc_time(entry.time_unix_ms),
                match (entry.ok(), entry.ready) {
                    (false, _) => "failed".into(),
                    // Applied, but its apps did not become ready (on_failure may have rolled it back).
                    (true, Some(false)) => "not ready".into(),
                    (true, _) => "ok".into(),
                },
                plan_counts(&entry.plan),
            ]
        })
        .collect();
    table(&["#", "PROJECT", "REVISION", "TIME (UTC)", "RESULT", "CHANGES"], &rows, |_, _| None)
}

/// `velos history --json`: the entries without the file texts (`velos rollback` restores those).
pub fn history_json(entries: &[velos_reconcile::HistoryEntry]) -> String {
    let values: Vec<serde_json::Value> = entries
        .iter()
        .map(|entry| {
            serde_json::json!({
                "seq": entry.seq,
                "project": entry.project,
                "file": entry.file,
                "revision": entry.revision,
                "time_unix_ms": entry.time_unix_ms,
                "ok": entry.ok(),
                "ready": entry.ready,
                "plan": entry.plan,
                "report": entry.report,
            })
        })
        .collect();
    to_json_pretty(&values)
}
