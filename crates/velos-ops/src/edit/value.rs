//! A value typed by a person (`velos set web env.PORT=8081`), read as velos.toml would hold it.

/// A TOML integer, boolean, quoted string, array or inline table when the text reads as one (`8081`,
/// `true`, `"8081"`, `["-m", "http.server"]`, `{ initial = "1s" }`), else the text itself as a string
/// (`10s`, `/usr/bin/node`, `on-failure`). Floats and dates are taken as text too: no velos.toml key holds
/// one, and `1.10` or `2024-01-01` in an env value mean the text, not a number or a date.
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
}
