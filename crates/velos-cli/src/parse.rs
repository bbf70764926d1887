//! Parsing of human input: durations (`500ms`, `1m30s`), signals (`SIGTERM`, `TERM`, `15`), `--env` entries.
use std::time::Duration;

/// `500ms`, `5s`, `2m`, `1h`, `1d`, compounds (`1m30s`) and decimals (`1.5s`). A unit is required: a bare
/// number is refused rather than guessed.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration (examples: 500ms, 5s, 2m, 1h)".into());
    }
    let mut total_ms: f64 = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number.parse().map_err(|_| bad_duration(text))?;
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_ms = match unit {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            "" => return Err(format!("{text:?} has no unit (write {text}ms or {text}s)")),
            _ => return Err(bad_duration(text)),
        };
        total_ms += value * unit_ms;
        rest = after;
    }
    // Bounded so the millisecond count fits the protocol's u64 with room to spare.
    if !total_ms.is_finite() || total_ms > 1e15 {
        return Err(format!("duration {text:?} is too long"));
    }
    Ok(Duration::from_millis(total_ms.round() as u64))
}

fn bad_duration(text: &str) -> String {
    format!("invalid duration {text:?} (examples: 500ms, 5s, 2m, 1h, 1m30s)")
}

/// Signal names and numbers of this platform.
#[cfg(not(target_os = "macos"))]
const SIGNALS: &[(&str, u8)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

#[cfg(target_os = "macos")]
const SIGNALS: &[(&str, u8)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("EMT", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("BUS", 10),
    ("SEGV", 11),
    ("SYS", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("URG", 16),
    ("STOP", 17),
    ("TSTP", 18),
    ("CONT", 19),
    ("CHLD", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("IO", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("INFO", 29),
    ("USR1", 30),
    ("USR2", 31),
];

/// `SIGTERM`, `TERM`, `term` or `15`.
pub fn parse_signal(text: &str) -> Result<u8, String> {
    let trimmed = text.trim();
    if let Ok(number) = trimmed.parse::<u8>() {
        if (1..=64).contains(&number) {
            return Ok(number);
        }
        return Err(format!("signal number {number} is out of range (1-64)"));
    }
    let upper = trimmed.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS
        .iter()
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, number)| *number)
        .ok_or_else(|| format!("unknown signal {text:?} (examples: SIGTERM, INT, 9)"))
}

/// `SIGTERM` for 15; `signal 40` for a number without a name.
pub fn signal_name(number: u8) -> String {
    SIGNALS
        .iter()
        .find(|(_, candidate)| *candidate == number)
        .map(|(name, _)| format!("SIG{name}"))
        .unwrap_or_else(|| format!("signal {number}"))
}

/// One `--env` value: `KEY=VALUE`, or `KEY` alone to copy the caller's value (`lookup`).
pub fn parse_env_entry(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(String, String), String> {
    let (key, value) = match text.split_once('=') {
        Some((key, value)) => (key, Some(value.to_string())),
        None => (text, None),
    };
    if key.is_empty() {
        return Err(format!("--env {text:?} has no name (expected KEY=VALUE)"));
    }
    if key.contains('\0') || value.as_deref().is_some_and(|value| value.contains('\0')) {
        return Err(format!("--env {text:?} contains a NUL byte"));
    }
    let value = match value {
        Some(value) => value,
        None => lookup(key).ok_or_else(|| {
            format!("--env {key} has no value and {key} is not set here (expected KEY=VALUE)")
        })?,
    };
    Ok((key.to_string(), value))
}

/// One `KEY=VALUE` of `velos set`: the key as typed (dotted for tables), the value by [`parse_value`].
pub fn parse_assignment(text: &str) -> Result<(String, toml_edit::Value), String> {
    let (key, value) = text.split_once('=').ok_or_else(|| {
        format!("{text:?} has no `=` (expected KEY=VALUE, e.g. env.PORT=8081 or kill_timeout=10s)")
    })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("{text:?} has no key (expected KEY=VALUE)"));
    }
    Ok((key.to_string(), parse_value(value)))
}

/// A value typed on the command line, as velos.toml would hold it: a TOML integer, boolean, quoted string,
/// array or inline table when it reads as one (`8081`, `true`, `"8081"`, `["-m", "http.server"]`,
/// `{ initial = "1s" }`), else the text itself as a string (`10s`, `/usr/bin/node`, `on-failure`). Floats
/// and dates are taken as text too: no velos.toml key holds one, and `1.10` or `2024-01-01` in an env
/// value mean the text, not a number or a date.
pub fn parse_value(text: &str) -> toml_edit::Value {
    use toml_edit::Value;
    match text.trim().parse::<Value>() {
        Ok(mut value)
            if matches!(
                value,
                Value::String(_)
                    | Value::Integer(_)
                    | Value::Boolean(_)
                    | Value::Array(_)
                    | Value::InlineTable(_)
            ) =>
        {
            value.decor_mut().clear();
            value
        }
        _ => Value::from(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_are_toml_when_they_read_as_toml() {
        let shown = |text: &str| parse_value(text).to_string();
        assert_eq!(shown("8081"), "8081");
        assert_eq!(shown(" 8081 "), "8081");
        assert_eq!(shown("true"), "true");
        assert_eq!(shown("\"8081\""), "\"8081\"");
        assert_eq!(shown("[\"-m\", \"http.server\"]"), "[\"-m\", \"http.server\"]");
        assert_eq!(shown("{ initial = \"1s\" }"), "{ initial = \"1s\" }");
        // Not TOML, or TOML that no key holds: the text as a string.
        for text in
            ["10s", "/usr/bin/node", "on-failure", "512M", "", "1.10", "2024-01-01", "a b", "[1, 2", "inf"]
        {
            assert_eq!(parse_value(text).as_str(), Some(text), "{text:?}");
        }
    }

    #[test]
    fn assignments() {
        let (key, value) = parse_assignment("env.PORT=8081").expect("parses");
        assert_eq!((key.as_str(), value.as_integer()), ("env.PORT", Some(8081)));
        let (key, value) = parse_assignment("env.URL=http://x/?a=b").expect("parses");
        assert_eq!(
            (key.as_str(), value.as_str()),
            ("env.URL", Some("http://x/?a=b")),
            "split at the first ="
        );
        let (key, value) = parse_assignment("kill_timeout=10s").expect("parses");
        assert_eq!((key.as_str(), value.as_str()), ("kill_timeout", Some("10s")));
        assert!(parse_assignment("kill_timeout").expect_err("no =").contains("KEY=VALUE"));
        assert!(parse_assignment("=5").is_err());
    }

    #[test]
    fn durations() {
        let ms = |text: &str| parse_duration(text).map(|duration| duration.as_millis());
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("5s"), Ok(5_000));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert_eq!(ms("1m30s"), Ok(90_000));
        assert_eq!(ms("1.5s"), Ok(1_500));
        assert_eq!(ms(" 10ms "), Ok(10));
        assert_eq!(ms("0s"), Ok(0));
        assert!(parse_duration("500").expect_err("no unit").contains("no unit"));
        for bad in ["", "s", "5x", "5 s", "-1s", "1..5s", "ms5", "99999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn signals() {
        for text in ["SIGTERM", "TERM", "term", "SigTerm", "15"] {
            assert_eq!(parse_signal(text), Ok(15), "{text}");
        }
        assert_eq!(parse_signal("KILL"), Ok(9));
        assert_eq!(parse_signal("SIGINT"), Ok(2));
        assert_eq!(parse_signal("HUP"), Ok(1));
        for bad in ["SIGNOPE", "0", "65", "300", "", "SIG"] {
            assert!(parse_signal(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(60), "signal 60");
    }

    #[test]
    fn env_entries() {
        let none = |_: &str| None;
        assert_eq!(parse_env_entry("PORT=8080", none), Ok(("PORT".into(), "8080".into())));
        assert_eq!(parse_env_entry("EMPTY=", none), Ok(("EMPTY".into(), String::new())));
        assert_eq!(parse_env_entry("A=b=c", none), Ok(("A".into(), "b=c".into())));
        assert!(parse_env_entry("=x", none).is_err());
        assert!(parse_env_entry("UNSET", none).expect_err("unset").contains("not set"));
        let lookup = |key: &str| (key == "TOKEN").then(|| "s3cret".to_string());
        assert_eq!(parse_env_entry("TOKEN", lookup), Ok(("TOKEN".into(), "s3cret".into())));
    }
}
