//! Pure rendering: tables, human durations and sizes, the JSON and `--ai` shapes of `list`. No IO here, so
//! every output can be tested with fixed records.
use serde::Serialize;
use std::fmt::Write as _;
use velos_core::{ProcessRecord, Status};

/// `45s`, `3m`, `2h`, `4d`: the largest whole unit, as `pm2 list` shows uptime.
pub fn uptime_short(ms: u64) -> String {
    let seconds = ms / 1000;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m", seconds / 60),
        3_600..86_400 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// `250ms`, `5s`, `1m30s`, `2h`, `1d2h`: exact, for settings read back to the user.
pub fn duration_exact(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if !ms.is_multiple_of(1000) {
        return if ms < 1000 { format!("{ms}ms") } else { format!("{}s", ms as f64 / 1000.0) };
    }
    let mut seconds = ms / 1000;
    let mut text = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            let _ = write!(text, "{}{unit}", seconds / size);
            seconds %= size;
        }
    }
    text
}

/// `3h 12m`, `5m 3s`, `42s`: two units, for `info` and `ping`.
pub fn uptime_long(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, hours, minutes, secs) =
        (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60, seconds % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, _) => format!("{minutes}m {secs}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

/// `0 B`, `812 B`, `1.5 KiB`, `12.3 MiB`, `1.2 GiB`.
pub fn bytes_human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A command line as a shell would need it typed: arguments with spaces or quotes are single-quoted.
pub fn shell_words<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words.into_iter().map(shell_quote).collect::<Vec<_>>().join(" ")
}

fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

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
pub fn list_table(records: &[ProcessRecord], colour: bool) -> String {
    let header = ["NAME", "PID", "STATUS", "RESTARTS", "CPU", "MEMORY", "UPTIME"];
    let rows: Vec<[String; 7]> = records
        .iter()
        .map(|record| {
            let running = record.pid != 0;
            [
                record.name.clone(),
                if running { record.pid.to_string() } else { "-".into() },
                record.status.to_string(),
                record.restarts.to_string(),
                if running { format!("{:.1}%", record.cpu) } else { "-".into() },
                if running { bytes_human(record.memory) } else { "-".into() },
                if running { uptime_short(record.uptime_ms) } else { "-".into() },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    // Numbers are right-aligned, text left-aligned.
    let right = [false, true, false, true, true, true, true];
    let mut text = String::new();
    let mut line = |cells: [&str; 7], status: Option<Status>| {
        let mut out = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                out.push_str("  ");
            }
            let width = widths[index];
            let padded = if right[index] { format!("{cell:>width$}") } else { format!("{cell:<width$}") };
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
    line(header, None);
    for (row, record) in rows.iter().zip(records) {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6]], Some(record.status));
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
        }
    }
}

pub fn list_json(records: &[ProcessRecord]) -> String {
    let entries: Vec<ListEntry<'_>> = records.iter().map(ListEntry::from).collect();
    to_json_pretty(&entries)
}

pub fn list_ai(records: &[ProcessRecord]) -> String {
    let entries: Vec<AiEntry<'_>> = records.iter().map(AiEntry::from).collect();
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

/// `velos.toml: valid (project shop, 3 apps)`, with the process count when instances make it differ.
pub fn valid(path: &std::path::Path, project: &velos_config::Project) -> String {
    let apps = project.app_names().len();
    let processes = project.apps.len();
    let mut counts = plural(apps, "app");
    if processes != apps {
        let _ = write!(counts, ", {}", plural(processes, "process"));
    }
    format!("{}: valid (project {}, {counts})", path.display(), project.name)
}

/// `1 app`, `3 apps`, `2 processes`.
pub fn plural(count: usize, noun: &str) -> String {
    match (count, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{count} {noun}es"),
        (_, false) => format!("{count} {noun}s"),
    }
}

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
                velos_reconcile::short_revision(&status.revision),
                status.source.clone(),
                last_apply,
                message,
            ]
        })
        .collect();
    let header = ["PROJECT", "STATE", "REVISION", "SOURCE", "LAST APPLY", "MESSAGE"];
    table(&header, &rows, |row, column| {
        if !colour || column != 1 {
            return None;
        }
        Some(match statuses[row].state {
            SyncState::Synced => "\x1b[32m",
            SyncState::Progressing => "\x1b[36m",
            SyncState::OutOfSync => "\x1b[33m",
            SyncState::Error => "\x1b[31m",
        })
    })
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
                if entry.ok() { "ok".into() } else { "failed".into() },
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
                "plan": entry.plan,
                "report": entry.report,
            })
        })
        .collect();
    to_json_pretty(&values)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use velos_core::AppSpec;

    pub fn record(name: &str, status: Status, pid: u32) -> ProcessRecord {
        let mut spec = AppSpec::new(name, "/bin/sleep", "/tmp");
        spec.args = vec!["3600".into()];
        spec.spec_hash = spec.compute_hash();
        velos_reconcile::testing::record_for(&spec, status, pid)
    }

    fn fixed_records() -> Vec<ProcessRecord> {
        let mut api = record("api", Status::Running, 4242);
        api.cpu = 12.345;
        api.memory = 25 * 1024 * 1024 + 300 * 1024;
        api.uptime_ms = 3 * 3_600_000 + 5_000;
        api.restarts = 2;
        let mut worker = record("worker-long-name", Status::Errored, 0);
        worker.exit_code = Some(3);
        worker.restarts = 10;
        worker.last_error = Some("restarted 10 times within 1m".into());
        vec![api, worker, record("web", Status::Stopped, 0)]
    }

    #[test]
    fn table_without_colour() {
        let expected = "\
NAME               PID  STATUS   RESTARTS    CPU    MEMORY  UPTIME
api               4242  running         2  12.3%  25.3 MiB      3h
worker-long-name     -  errored        10      -         -       -
web                  -  stopped         0      -         -       -
";
        assert_eq!(list_table(&fixed_records(), false), expected);
    }

    #[test]
    fn table_colours_only_the_status() {
        let table = list_table(&fixed_records(), true);
        let api_line = table.lines().nth(1).expect("api row");
        assert_eq!(
            api_line,
            "api               4242  \x1b[32mrunning\x1b[0m         2  12.3%  25.3 MiB      3h"
        );
        assert!(table.lines().nth(2).expect("worker row").contains("\x1b[31merrored\x1b[0m"));
        assert!(!list_table(&fixed_records(), false).contains('\x1b'));
    }

    #[test]
    fn empty_table_is_the_header() {
        assert_eq!(list_table(&[], false), "NAME  PID  STATUS  RESTARTS  CPU  MEMORY  UPTIME\n");
    }

    #[test]
    fn ai_form() {
        let expected = concat!(
            r#"[{"n":"api","s":"running","c":12.3,"m":26521600,"r":2,"u":10805,"p":4242},"#,
            r#"{"n":"worker-long-name","s":"errored","c":0.0,"m":0,"r":10,"u":0,"p":0},"#,
            r#"{"n":"web","s":"stopped","c":0.0,"m":0,"r":0,"u":0,"p":0}]"#
        );
        assert_eq!(list_ai(&fixed_records()), expected);
    }

    #[test]
    fn json_form_has_the_documented_keys() {
        let value: serde_json::Value = serde_json::from_str(&list_json(&fixed_records())).expect("json");
        let first = &value[0];
        for key in [
            "name",
            "pid",
            "status",
            "restarts",
            "cpu",
            "memory",
            "uptime_ms",
            "exit_code",
            "exit_signal",
            "last_error",
            "spec_hash",
        ] {
            assert!(first.get(key).is_some(), "missing {key} in {first}");
        }
        assert_eq!(first["memory"], 26521600);
        assert_eq!(value[1]["exit_code"], 3);
        assert_eq!(value[1]["last_error"], "restarted 10 times within 1m");
        assert_eq!(value[2]["exit_code"], serde_json::Value::Null);
    }

    #[test]
    fn human_units() {
        assert_eq!(uptime_short(0), "0s");
        assert_eq!(uptime_short(59_999), "59s");
        assert_eq!(uptime_short(60_000), "1m");
        assert_eq!(uptime_short(7_200_000), "2h");
        assert_eq!(uptime_short(3 * 86_400_000), "3d");
        assert_eq!(uptime_long(42_000), "42s");
        assert_eq!(uptime_long(303_000), "5m 3s");
        assert_eq!(uptime_long(3 * 3_600_000 + 12 * 60_000), "3h 12m");
        assert_eq!(uptime_long(86_400_000 + 3_600_000), "1d 1h");
        assert_eq!(duration_exact(100), "100ms");
        assert_eq!(duration_exact(5_000), "5s");
        assert_eq!(duration_exact(90_000), "1m30s");
        assert_eq!(duration_exact(1_500), "1.5s");
        assert_eq!(duration_exact(60_000), "1m");
        assert_eq!(bytes_human(0), "0 B");
        assert_eq!(bytes_human(1023), "1023 B");
        assert_eq!(bytes_human(1536), "1.5 KiB");
        assert_eq!(bytes_human(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn utc_times_and_ages() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00");
        assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc_time(1_700_000_000_123), "2023-11-14 22:13:20");
        assert_eq!(utc_time(4_102_444_799_000), "2099-12-31 23:59:59");
        assert_eq!(ago(100_000, 40_000), "1m ago");
        assert_eq!(ago(100_000, 99_000), "1s ago");
        assert_eq!(ago(100_000, 200_000), "just now");
        assert_eq!(plural(1, "app"), "1 app");
        assert_eq!(plural(2, "process"), "2 processes");
    }

    #[test]
    fn status_table_snapshot() {
        use velos_reconcile::{LastApply, LastResult, ProjectStatus, SyncState};
        let now = 1_700_000_000_000;
        let status =
            |project: &str, state, message: &str, last: Option<(u64, LastResult, &str)>| ProjectStatus {
                project: project.into(),
                source: format!("/srv/{project}/velos.toml"),
                revision: "file:3f9a0c1d22334455".into(),
                state,
                message: message.into(),
                last_apply: last.map(|(ago_ms, result, message)| LastApply {
                    seq: Some(3),
                    time_unix_ms: now - ago_ms,
                    result,
                    message: message.into(),
                }),
            };
        let statuses = [
            status("blog", SyncState::Error, "/srv/blog/velos.toml: cannot read", None),
            status("shop", SyncState::Synced, "", Some((120_000, LastResult::Ok, "ok"))),
            status(
                "web",
                SyncState::OutOfSync,
                "1 change pending: replace api",
                Some((5_000, LastResult::Failed, "failed: replace api")),
            ),
        ];
        insta::assert_snapshot!(status_table(&statuses, now, false), @r"
        PROJECT  STATE        REVISION        SOURCE                LAST APPLY      MESSAGE
        blog     error        file:3f9a0c1d…  /srv/blog/velos.toml  -               /srv/blog/velos.toml: cannot read
        shop     synced       file:3f9a0c1d…  /srv/shop/velos.toml  2m ago, ok      -
        web      out of sync  file:3f9a0c1d…  /srv/web/velos.toml   5s ago, failed  1 change pending: replace api
        ");
        assert!(status_table(&statuses, now, true).contains("\x1b[32msynced"));
    }

    #[test]
    fn history_table_and_json() {
        let entry = |seq: u64, ok: bool, actions: serde_json::Value| velos_reconcile::HistoryEntry {
            seq,
            project: "shop".into(),
            file: "/srv/shop/velos.toml".into(),
            revision: format!("file:{seq:016x}"),
            source_text: "[apps.web]\ncommand = \"/bin/true\"\n".into(),
            time_unix_ms: 1_700_000_000_000 + seq * 60_000,
            plan: serde_json::json!({ "actions": actions }),
            report: serde_json::json!({ "ok": ok }),
        };
        let entries = [
            entry(
                1,
                true,
                serde_json::json!([{"action": "create", "name": "web"}, {"action": "create", "name": "db"}]),
            ),
            entry(
                2,
                false,
                serde_json::json!([{"action": "replace", "name": "web"}, {"action": "delete", "name": "db"}]),
            ),
            entry(3, true, serde_json::json!([])),
        ];
        insta::assert_snapshot!(history_table(&entries), @r"
        #  PROJECT  REVISION        TIME (UTC)           RESULT  CHANGES
        1  shop     file:00000000…  2023-11-14 22:14:20  ok      2 create
        2  shop     file:00000000…  2023-11-14 22:15:20  failed  1 replace, 1 delete
        3  shop     file:00000000…  2023-11-14 22:16:20  ok      no changes
        ");
        let json: serde_json::Value = serde_json::from_str(&history_json(&entries)).expect("json");
        assert_eq!(json[1]["ok"], false);
        assert_eq!(json[0]["seq"], 1);
        assert!(json[0].get("source_text").is_none(), "the file texts stay out");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_words(["/bin/sh", "-c", "echo hi"]), "/bin/sh -c 'echo hi'");
        assert_eq!(shell_words(["echo", "it's", ""]), "echo 'it'\\''s' ''");
        assert_eq!(
            shell_words(["python3", "-m", "http.server", "--bind=127.0.0.1"]),
            "python3 -m http.server --bind=127.0.0.1"
        );
    }
}
