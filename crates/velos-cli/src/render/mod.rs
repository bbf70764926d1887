//! Pure rendering: human durations and sizes, words, JSON; the tables are in `tables.rs`, what a verb did
//! in `outcomes.rs`. No IO here, so every output can be tested with fixed records.
use serde::Serialize;
use std::fmt::Write as _;

mod outcomes;
mod ready;
mod tables;
#[cfg(test)]
mod tests;

pub use outcomes::*;
pub use ready::*;
pub use tables::*;

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

/// `250ms`, `5s`, `1m30s`, `2h`, `1d2h`: exact, for settings read back to the user, written as velos.toml
/// reads them (velos-config's one formatter).
pub fn duration_exact(ms: u64) -> String {
    velos_config::human::format_duration_ms(ms)
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

/// `1 app`, `3 apps`, `2 processes`.
pub fn plural(count: usize, noun: &str) -> String {
    match (count, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{count} {noun}es"),
        (_, false) => format!("{count} {noun}s"),
    }
}
