//! Parsing of human input: durations and signals (by velos.toml's rules, `velos_config::human`), `--env`
//! entries and `set` assignments.
use std::time::Duration;

/// A duration flag (`500ms`, `5s`, `1m30s`), read by velos.toml's rules, since that is where it lands.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    velos_config::human::duration_ms(text).map(Duration::from_millis)
}

/// A signal flag (`SIGTERM`, `TERM`, `term`, `15`), read by velos.toml's rules.
pub fn parse_signal(text: &str) -> Result<u8, String> {
    velos_config::human::signal(text)
}

/// `SIGTERM` for 15 on this platform; `signal 40` for a number without a name.
pub fn signal_name(number: u8) -> String {
    velos_config::human::signal_name(number)
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
    fn duration_and_signal_flags_follow_the_file_rules() {
        assert_eq!(parse_duration("1m30s").map(|duration| duration.as_millis()), Ok(90_000));
        assert!(parse_duration("500").is_err(), "a unit is required");
        assert_eq!(parse_signal("term"), Ok(15));
        assert_eq!(signal_name(9), "SIGKILL");
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
