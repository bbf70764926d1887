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

/// One `KEY=VALUE` of `velos set`: the key as typed (dotted for tables) and the value's text, which the
/// ops layer reads as velos.toml would hold it.
pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
    let (key, value) = text.split_once('=').ok_or_else(|| {
        format!("{text:?} has no `=` (expected KEY=VALUE, e.g. env.PORT=8081 or kill_timeout=10s)")
    })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("{text:?} has no key (expected KEY=VALUE)"));
    }
    Ok((key.to_string(), value.to_string()))
}

/// `velos scale web 3`, `+2`, `-1`.
pub fn parse_scale(text: &str) -> Result<velos_ops::Scale, String> {
    velos_ops::Scale::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments() {
        let (key, value) = parse_assignment("env.PORT=8081").expect("parses");
        assert_eq!((key.as_str(), value.as_str()), ("env.PORT", "8081"));
        let (key, value) = parse_assignment("env.URL=http://x/?a=b").expect("parses");
        assert_eq!((key.as_str(), value.as_str()), ("env.URL", "http://x/?a=b"), "split at the first =");
        let (key, value) = parse_assignment("kill_timeout=10s").expect("parses");
        assert_eq!((key.as_str(), value.as_str()), ("kill_timeout", "10s"));
        assert!(parse_assignment("kill_timeout").expect_err("no =").contains("KEY=VALUE"));
        assert!(parse_assignment("=5").is_err());
    }

    #[test]
    fn duration_and_signal_flags_follow_the_file_rules() {
        assert_eq!(parse_duration("1m30s").map(|duration| duration.as_millis()), Ok(90_000));
        assert!(parse_duration("500").is_err(), "a unit is required");
        assert_eq!(parse_signal("term"), Ok(15));
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
