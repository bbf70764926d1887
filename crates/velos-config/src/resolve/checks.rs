//! Resolving an app's `readiness` / `liveness` checks and its `depends_on` (list or conditions): every
//! refusal at the value concerned, with the next step in its help.
use super::{list, Resolver};
use crate::diagnostic::did_you_mean;
use crate::raw::{CommandLine, RawApp, RawCheck, RawFile};
use crate::units::parse_duration_ms;
use crate::Condition;
use std::ops::RangeInclusive;
use velos_health::check::{self as model, Check, CheckError, Probe, Use};

impl Resolver<'_> {
    /// The app's readiness and liveness checks.
    pub(super) fn checks(&mut self, name: &str, raw: &RawApp) -> (Option<Check>, Option<Check>) {
        let readiness = raw.readiness.as_ref().and_then(|check| self.check(name, Use::Readiness, check));
        let liveness = raw.liveness.as_ref().and_then(|check| self.check(name, Use::Liveness, check));
        (readiness, liveness)
    }

    fn check(&mut self, name: &str, purpose: Use, raw: &RawCheck) -> Option<Check> {
        let key = purpose.as_str();
        let given: Vec<&str> = [
            raw.exec.as_ref().map(|_| "exec"),
            raw.tcp.as_ref().map(|_| "tcp"),
            raw.http.as_ref().map(|_| "http"),
            raw.log.as_ref().map(|_| "log"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let table = ["apps", name, key];
        let probe = match given.as_slice() {
            [] => {
                let span = self.value_span(&table);
                self.error(
                    span,
                    format!("`{key}` names no probe"),
                    Some(format!(
                        "add one of exec, tcp, http or log: `{key} = {{ tcp = \"127.0.0.1:8000\" }}`"
                    )),
                );
                None
            }
            [_, second, ..] => {
                let span = self.key_span(&["apps", name, key, second]);
                self.error(
                    span,
                    format!("`{key}` has more than one probe: {}", given.join(", ")),
                    Some("keep one; a second check can be the other of readiness and liveness".into()),
                );
                None
            }
            [_] => self.probe(name, key, raw),
        };
        if raw.body.is_some() && raw.http.is_none() {
            let span = self.key_span(&["apps", name, key, "body"]);
            self.error(span, format!("`{key}.body` only goes with `http`"), None);
        }
        // The timing is checked even when the probe was refused, so every mistake is reported at once.
        let placeholder = Probe::Tcp { address: String::new() };
        let mut check = Check::new(placeholder, purpose);
        let timing = |resolver: &mut Self,
                      field: &str,
                      value: Option<&crate::raw::Duration>,
                      target: &mut u64,
                      range: RangeInclusive<u64>| {
            let Some(text) = value else { return };
            let path = ["apps", name, key, field];
            match parse_duration_ms(&text.0) {
                Ok(milliseconds) if range.contains(&milliseconds) => *target = milliseconds,
                Ok(_) => resolver.out_of_range(
                    &path,
                    &text.0,
                    &model::format_ms(*range.start()),
                    &model::format_ms(*range.end()),
                ),
                Err(error) => resolver.unit_error(&path, error),
            }
        };
        timing(
            self,
            "initial_delay",
            raw.initial_delay.as_ref(),
            &mut check.initial_delay_ms,
            model::INITIAL_DELAY_MS,
        );
        timing(self, "interval", raw.interval.as_ref(), &mut check.interval_ms, model::INTERVAL_MS);
        timing(self, "timeout", raw.timeout.as_ref(), &mut check.timeout_ms, model::TIMEOUT_MS);
        check.success_threshold = raw.success_threshold.unwrap_or(check.success_threshold);
        check.failure_threshold = raw.failure_threshold.unwrap_or(check.failure_threshold);
        check.probe = probe.filter(|_| raw.body.is_none() || raw.http.is_some())?;
        if let Err(CheckError::TooLong { bytes }) = check.validate() {
            let span = self.value_span(&table);
            self.error(
                span,
                format!("`{key}` is {bytes} bytes once encoded, more than {}", model::LABEL_BYTES_MAX),
                Some("shorten it: put a long command in a script and run that".into()),
            );
            return None;
        }
        Some(check)
    }

    /// The one probe of a check table, its value checked.
    fn probe(&mut self, name: &str, key: &str, raw: &RawCheck) -> Option<Probe> {
        let refuse = |resolver: &mut Self, field: &str, error: CheckError, help: Option<String>| {
            let span = resolver.value_span(&["apps", name, key, field]);
            resolver.error(span, format!("invalid `{key}.{field}`: {error}"), help);
            None
        };
        if let Some(command) = &raw.exec {
            let argv = match command {
                CommandLine::Words(words) => words.clone(),
                CommandLine::Text(text) => match crate::shell::split_words(text) {
                    Ok(words) => words,
                    Err(error) => {
                        let span = self.inner_span(&["apps", name, key, "exec"], text, error.offset, 1);
                        let help = "a check runs without a shell; for shell syntax write \
                                    `exec = [\"sh\", \"-c\", \"...\"]`";
                        self.error(
                            span,
                            format!("invalid `{key}.exec`: {}", error.message),
                            Some(help.into()),
                        );
                        return None;
                    }
                },
            };
            if argv.first().is_none_or(|program| program.trim().is_empty()) {
                let help = Some("write the program to run: `exec = [\"pg_isready\", \"-q\"]`".to_string());
                return refuse(self, "exec", CheckError::EmptyCommand, help);
            }
            return Some(Probe::Exec { argv });
        }
        if let Some(address) = &raw.tcp {
            if model::split_host_port(address).is_none() {
                let help = Some("write the host and the port: `tcp = \"127.0.0.1:5432\"`".into());
                return refuse(self, "tcp", CheckError::TcpAddress(address.clone()), help);
            }
            return Some(Probe::Tcp { address: address.clone() });
        }
        if let Some(url) = &raw.http {
            let probe = Probe::Http { url: url.clone(), body: None };
            if let Err(error) = Check::new(probe, Use::Readiness).validate() {
                let help = match error {
                    CheckError::Https => "probe the app's plain-HTTP port on loopback, or use `tcp`".into(),
                    _ => "write a URL such as \"http://127.0.0.1:8000/health\"".into(),
                };
                return refuse(self, "http", error, Some(help));
            }
            if let Some(body) = &raw.body {
                if let Err(error) = model::compile(body) {
                    return refuse(self, "body", error, Some("escape special characters with `\\\\`".into()));
                }
            }
            return Some(Probe::Http { url: url.clone(), body: raw.body.clone() });
        }
        let pattern = raw.log.as_ref()?;
        if let Err(error) = model::compile(pattern) {
            return refuse(self, "log", error, Some("escape special characters with `\\\\`".into()));
        }
        Some(Probe::Log { pattern: pattern.clone() })
    }

    /// `depends_on`, both forms: the `[apps.NAME]` keys with their condition, deduplicated, in file order.
    pub(super) fn depends_on<'r>(
        &mut self,
        name: &str,
        raw: &'r RawApp,
        file: &RawFile,
    ) -> Vec<(&'r str, Condition)> {
        let mut resolved: Vec<(&'r str, Condition)> = Vec::new();
        let entries = raw.depends_on.as_ref().map(|depends_on| depends_on.entries()).unwrap_or_default();
        for (index, (dependency, written)) in entries.into_iter().enumerate() {
            // A list element is keyed by its index, a table entry by its name.
            let element = if written.is_some() { dependency.to_string() } else { index.to_string() };
            let path = ["apps", name, "depends_on", element.as_str()];
            if resolved.iter().any(|(seen, _)| *seen == dependency) {
                continue;
            }
            if !file.apps.contains_key(dependency) {
                let span = if written.is_some() { self.key_span(&path) } else { self.value_span(&path) };
                let help = did_you_mean(dependency, file.apps.keys().map(String::as_str))
                    .map(|suggestion| format!("did you mean `{suggestion}`?"))
                    .or_else(|| Some(format!("the apps of this file are: {}", list(file.apps.keys()))));
                self.error(
                    span,
                    format!("`{name}` depends on `{dependency}`, which is not an app of this file"),
                    help,
                );
                continue;
            }
            let condition = match written {
                None => Condition::Started,
                Some(word) => {
                    // docker compose writes `service_healthy`: take the word after the prefix as meant.
                    let choices = Condition::ALL.map(|condition| (condition.as_str(), condition));
                    let Some(condition) = self.condition(&path, word, &choices) else { continue };
                    condition
                }
            };
            resolved.push((dependency, condition));
        }
        resolved
    }

    fn condition(&mut self, path: &[&str], word: &str, choices: &[(&str, Condition)]) -> Option<Condition> {
        if let Some(stripped) = word.strip_prefix("service_") {
            if let Some((_, condition)) = choices.iter().find(|(choice, _)| *choice == stripped) {
                let span = self.value_span(path);
                self.error(
                    span,
                    format!("invalid `{}` {word:?}", path[2..].join(".")),
                    Some(format!(
                        "Velos writes it without the prefix: did you mean `{}`?",
                        condition.as_str()
                    )),
                );
                return None;
            }
        }
        self.word(path, word, choices)
    }
}
