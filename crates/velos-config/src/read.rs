//! Step 2 of loading: check the shape of the parsed TOML document (known keys, value types, required keys)
//! against the table below, reporting every problem with its span, then decode it into [`RawFile`].
//!
//! serde alone would stop at the first problem and word it for programmers; this walk finds all of them,
//! words them for users ("did you mean"), and records where every key and value is, so the next step can
//! point at a value it refuses. The table below and the serde types in `raw.rs` describe the same keys; a
//! test keeps them equal.
use crate::diagnostic::{did_you_mean, Diagnostic, SourceMap};
use crate::raw::{RawFile, INSTANCES_MAX};
use std::collections::HashMap;
use std::ops::Range;
use toml_edit::{Item, TableLike, Value};
use velos_core::limits;

/// What a key's value must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    String,
    /// A whole number in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// An array of strings.
    Strings,
    /// A string such as `"5s"` (its syntax is checked when resolving).
    Duration,
    /// A string such as `"512M"` or a whole number of bytes.
    Size,
    /// A string such as `"SIGTERM"` or a number.
    Signal,
    /// A table of environment variables: string, integer or boolean values.
    Env,
    /// A string (split into words later) or an array of strings.
    Command,
    /// An array of app names, or a table of app name to condition string.
    DependsOn,
    /// A table with these keys.
    Table(&'static [Field]),
    /// The `[apps]` table: any valid name, each an app table.
    Apps,
    /// `watch`: true or false, or a table with these keys.
    BooleanOrTable(&'static [Field]),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
}

const fn optional(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

pub(crate) const ROOT: &[Field] = &[
    optional("project", Kind::Table(PROJECT)),
    optional("apps", Kind::Apps),
    optional("velos", Kind::Table(VELOS)),
];
pub(crate) const PROJECT: &[Field] =
    &[optional("name", Kind::String), optional("env", Kind::Env), optional("on_failure", Kind::String)];
pub(crate) const APP: &[Field] = &[
    Field { name: "command", kind: Kind::String, required: true },
    optional("args", Kind::Strings),
    optional("cwd", Kind::String),
    optional("env", Kind::Env),
    optional("instances", Kind::Integer { min: 1, max: INSTANCES_MAX as i64 }),
    optional("rollout", Kind::Table(ROLLOUT)),
    optional("state", Kind::String),
    optional("restart", Kind::String),
    optional(
        "max_restarts",
        Kind::Integer { min: *limits::MAX_RESTARTS.start() as i64, max: *limits::MAX_RESTARTS.end() as i64 },
    ),
    optional("restart_window", Kind::Duration),
    optional("backoff", Kind::Table(BACKOFF)),
    optional("min_uptime", Kind::Duration),
    optional("kill_signal", Kind::Signal),
    optional("kill_timeout", Kind::Duration),
    optional("max_memory", Kind::Size),
    optional("depends_on", Kind::DependsOn),
    optional("log", Kind::Table(LOG)),
    optional("cron_restart", Kind::String),
    optional("watch", Kind::BooleanOrTable(WATCH)),
    optional("readiness", Kind::Table(CHECK)),
    optional("liveness", Kind::Table(CHECK)),
];
pub(crate) const WATCH: &[Field] = &[
    optional("paths", Kind::Strings),
    optional("ignore", Kind::Strings),
    optional("debounce", Kind::Duration),
];
pub(crate) const CHECK: &[Field] = &[
    optional("exec", Kind::Command),
    optional("tcp", Kind::String),
    optional("http", Kind::String),
    optional("body", Kind::String),
    optional("log", Kind::String),
    optional("initial_delay", Kind::Duration),
    optional("interval", Kind::Duration),
    optional("timeout", Kind::Duration),
    optional("success_threshold", Kind::Integer { min: 1, max: 100 }),
    optional("failure_threshold", Kind::Integer { min: 1, max: 100 }),
];
pub(crate) const ROLLOUT: &[Field] = &[
    optional("strategy", Kind::String),
    optional("max_unavailable", Kind::Integer { min: 1, max: crate::rollout::MAX_UNAVAILABLE_MAX as i64 }),
];
pub(crate) const BACKOFF: &[Field] = &[optional("initial", Kind::Duration), optional("max", Kind::Duration)];
pub(crate) const LOG: &[Field] = &[
    optional("max_size", Kind::Size),
    optional(
        "max_files",
        Kind::Integer {
            min: *limits::LOG_MAX_FILES.start() as i64,
            max: *limits::LOG_MAX_FILES.end() as i64,
        },
    ),
    optional("timestamps", Kind::Boolean),
    optional("format", Kind::String),
];

pub(crate) const VELOS: &[Field] = &[
    optional("watch", Kind::Boolean),
    optional("self_heal", Kind::Boolean),
    optional("resync", Kind::Duration),
    optional("git", Kind::Table(GIT)),
    optional("agents", Kind::Table(AGENTS)),
    optional("api", Kind::Table(API)),
    optional("otlp", Kind::Table(OTLP)),
];
pub(crate) const API: &[Field] = &[
    optional("listen", Kind::String),
    optional("unix", Kind::String),
    optional("allow_hosts", Kind::Strings),
];
pub(crate) const OTLP: &[Field] = &[
    Field { name: "endpoint", kind: Kind::String, required: true },
    optional("headers", Kind::Env),
    optional("interval", Kind::Duration),
];
pub(crate) const AGENTS: &[Field] = &[optional("apply", Kind::Boolean), optional("restart", Kind::Boolean)];
pub(crate) const GIT: &[Field] = &[
    Field { name: "repo", kind: Kind::String, required: true },
    optional("ref", Kind::String),
    optional("path", Kind::String),
    optional("poll", Kind::Duration),
    optional("username", Kind::String),
    optional("token_file", Kind::String),
    optional("token_env", Kind::String),
    optional("ssh_key", Kind::String),
    optional("known_hosts", Kind::String),
    optional("accept_new_host_keys", Kind::Boolean),
];

/// Names other process managers use for our keys (PM2, supervisord, docker compose, systemd), so a user
/// moving over is told the Velos name.
const ALIASES: &[(&str, &str)] = &[
    ("cmd", "command"),
    ("script", "command"),
    ("exec", "command"),
    ("program", "command"),
    ("entrypoint", "command"),
    ("argv", "args"),
    ("arguments", "args"),
    ("dir", "cwd"),
    ("directory", "cwd"),
    ("workdir", "cwd"),
    ("working_dir", "cwd"),
    ("working_directory", "cwd"),
    ("environment", "env"),
    ("replicas", "instances"),
    ("scale", "instances"),
    ("numprocs", "instances"),
    ("autorestart", "restart"),
    ("restart_policy", "restart"),
    ("startretries", "max_restarts"),
    ("startsecs", "min_uptime"),
    ("stopsignal", "kill_signal"),
    ("stop_signal", "kill_signal"),
    ("stopwaitsecs", "kill_timeout"),
    ("stop_timeout", "kill_timeout"),
    ("stop_grace_period", "kill_timeout"),
    ("max_memory_restart", "max_memory"),
    ("memory_limit", "max_memory"),
    ("depends", "depends_on"),
    ("dependencies", "depends_on"),
    ("after", "depends_on"),
    ("autostart", "state"),
    // Health checks (Kubernetes, docker compose, process-compose).
    ("readiness_probe", "readiness"),
    ("ready", "readiness"),
    ("healthcheck", "readiness"),
    ("health_check", "readiness"),
    ("liveness_probe", "liveness"),
    ("command", "exec"),
    ("cmd", "exec"),
    ("test", "exec"),
    ("tcp_socket", "tcp"),
    ("port", "tcp"),
    ("http_get", "http"),
    ("url", "http"),
    ("pattern", "log"),
    ("regex", "log"),
    ("initial_delay_seconds", "initial_delay"),
    ("start_period", "initial_delay"),
    ("period", "interval"),
    ("period_seconds", "interval"),
    ("timeout_seconds", "timeout"),
    ("retries", "failure_threshold"),
    ("enabled", "state"),
    // `[velos]` and `[velos.git]` (Argo CD, Flux).
    ("selfheal", "self_heal"),
    ("auto_heal", "self_heal"),
    ("interval", "resync"),
    ("sync_interval", "resync"),
    ("url", "repo"),
    ("repository", "repo"),
    ("remote", "repo"),
    ("branch", "ref"),
    ("tag", "ref"),
    ("revision", "ref"),
    ("target_revision", "ref"),
    ("file", "path"),
    ("poll_interval", "poll"),
    ("user", "username"),
    ("token", "token_file"),
    ("password", "token_file"),
    ("password_file", "token_file"),
    ("identity_file", "ssh_key"),
    ("private_key", "ssh_key"),
    ("deploy_key", "ssh_key"),
    ("known_hosts_file", "known_hosts"),
    // `cron_restart` and `watch` (PM2's `cron_restart`, `ignore_watch`, `watch_delay`; nodemon's `delay`).
    ("cron", "cron_restart"),
    ("restart_cron", "cron_restart"),
    ("schedule", "cron_restart"),
    ("ignore_watch", "watch"),
    ("watch_delay", "watch"),
    ("watch_paths", "watch"),
    ("ignored", "ignore"),
    ("exclude", "ignore"),
    ("delay", "debounce"),
];

/// Where a key and its value are in the source. Array elements are keyed by their index as text.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    entries: HashMap<Vec<String>, (Range<usize>, Range<usize>)>,
}

impl Spans {
    fn insert(&mut self, path: &[String], key: Range<usize>, value: Range<usize>) {
        self.entries.insert(path.to_vec(), (key, value));
    }

    fn lookup(&self, path: &[&str]) -> Option<&(Range<usize>, Range<usize>)> {
        let mut owned: Vec<String> = path.iter().map(|part| part.to_string()).collect();
        loop {
            if let Some(entry) = self.entries.get(&owned) {
                return Some(entry);
            }
            owned.pop()?;
        }
    }

    /// The key at `path` (or of its nearest recorded parent).
    pub(crate) fn key(&self, path: &[&str]) -> Range<usize> {
        self.lookup(path).map_or(0..0, |(key, _)| key.clone())
    }

    /// The value at `path` (or of its nearest recorded parent).
    pub(crate) fn value(&self, path: &[&str]) -> Range<usize> {
        self.lookup(path).map_or(0..0, |(_, value)| value.clone())
    }
}

/// `in [apps.web]`, `in [apps."my.app".log]`, or `at the top level`: where a key is, as a user reads it.
pub(crate) fn location(path: &[String]) -> String {
    if path.is_empty() {
        "at the top level".into()
    } else {
        format!("in {}", table_label(path))
    }
}

/// `[apps.web]`, `[apps."my.app".log]`: a table's header.
pub(crate) fn table_label(path: &[String]) -> String {
    let keys = path.iter().map(|part| toml_edit::Key::new(part.as_str()).display_repr().into_owned());
    format!("[{}]", keys.collect::<Vec<_>>().join("."))
}

/// The dotted key of a value, as written in a table header plus the key: `apps.web.kill_timeout`.
pub(crate) fn dotted(path: &[String]) -> String {
    let keys = path.iter().map(|part| toml_edit::Key::new(part.as_str()).display_repr().into_owned());
    keys.collect::<Vec<_>>().join(".")
}

struct Reader<'s> {
    map: &'s SourceMap<'s>,
    diagnostics: Vec<Diagnostic>,
    spans: Spans,
    /// Keys whose value was refused, dropped before decoding so the next step can still check the rest.
    rejected: Vec<Vec<String>>,
    /// Tables missing a required key, given a placeholder before decoding for the same reason.
    incomplete: Vec<(Vec<String>, &'static str)>,
}

/// Checks the document's shape and decodes it. Returns the decoded file, where everything is, and the
/// problems of shape found (the values concerned are left out of the decoded file, so resolving it can
/// report the remaining problems too). `Err` only if the file cannot be decoded even so.
pub(crate) fn read(
    document: toml_edit::Document<&str>,
    map: &SourceMap<'_>,
) -> Result<(RawFile, Spans, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut reader = Reader {
        map,
        diagnostics: Vec::new(),
        spans: Spans::default(),
        rejected: Vec::new(),
        incomplete: Vec::new(),
    };
    reader.table(document.as_table(), ROOT, &mut Vec::new(), 0..0);
    let decoded = if reader.diagnostics.is_empty() {
        decode(toml_edit::de::Deserializer::from(document))
    } else {
        let mut document = document.into_mut();
        for path in &reader.rejected {
            if let Some((last, parents)) = path.split_last() {
                if let Some(table) = table_at(&mut document, parents) {
                    table.remove(last);
                }
            }
        }
        for (path, key) in &reader.incomplete {
            if let Some(table) = table_at(&mut document, path) {
                table.insert(key, toml_edit::value(PLACEHOLDER));
            }
        }
        decode(toml_edit::de::Deserializer::from(document))
    };
    let mut diagnostics = reader.diagnostics;
    match decoded {
        Ok(raw) => Ok((raw, reader.spans, diagnostics)),
        // Only if the table above and the serde types disagree; still say where.
        Err(error) => {
            diagnostics.push(map.diagnostic(error.span().unwrap_or(0..0), error.message().to_string(), None));
            Err(diagnostics)
        }
    }
}

/// Stands for a missing required string while the rest of the file is checked; never reaches a spec.
pub(crate) const PLACEHOLDER: &str = "velos-placeholder";

fn decode<S: AsRef<str>>(
    deserializer: toml_edit::de::Deserializer<S>,
) -> Result<RawFile, toml_edit::de::Error> {
    <RawFile as serde::Deserialize>::deserialize(deserializer)
}

fn table_at<'d>(document: &'d mut toml_edit::DocumentMut, path: &[String]) -> Option<&'d mut dyn TableLike> {
    let mut table: &mut dyn TableLike = document.as_table_mut();
    for key in path {
        table = table.get_mut(key)?.as_table_like_mut()?;
    }
    Some(table)
}

impl Reader<'_> {
    fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.diagnostics.push(self.map.diagnostic(span, message, help));
    }

    /// Records a problem with the value at `path`, which is then left out of the decoded file.
    fn reject(&mut self, path: &[String], span: Range<usize>, message: String, help: Option<String>) {
        self.rejected.push(path.to_vec());
        self.error(span, message, help);
    }

    /// Walks one table: unknown keys, then each known key's value, then required keys.
    /// `header` is where the table is declared (its `[header]`, or its key), for "missing key" errors.
    fn table(
        &mut self,
        table: &dyn TableLike,
        fields: &[Field],
        path: &mut Vec<String>,
        header: Range<usize>,
    ) {
        // Required keys an unknown key was taken for (`comand`): "missing `command`" would only repeat it.
        let mut suggested: Vec<&str> = Vec::new();
        for (name, item) in table.iter() {
            let key_span =
                table.get_key_value(name).and_then(|(key, _)| key.span()).unwrap_or(header.clone());
            let value_span = item.span().unwrap_or(key_span.clone());
            let Some(field) = fields.iter().find(|field| field.name == name) else {
                let (meant, help) = suggest_key(name, item.is_table_like(), fields, path);
                suggested.extend(meant);
                self.rejected.push([path.as_slice(), &[name.to_string()]].concat());
                self.error(key_span, format!("unknown key `{name}` {}", location(path)), Some(help));
                continue;
            };
            path.push(name.to_string());
            self.spans.insert(path, key_span.clone(), value_span.clone());
            let rejected_before = self.rejected.len();
            self.value(item, field.kind, path, key_span, value_span);
            path.pop();
            if field.required && self.rejected.len() > rejected_before {
                self.incomplete.push((path.clone(), field.name));
            }
        }
        let missing = fields.iter().filter(|field| field.required && !table.contains_key(field.name));
        for field in missing {
            self.incomplete.push((path.clone(), field.name));
            if suggested.contains(&field.name) {
                continue;
            }
            let help = match field.name {
                "command" => Some(
                    "add the program to run, e.g. `command = \"/bin/sleep\"` and `args = [\"3600\"]`".into(),
                ),
                "repo" => {
                    Some("add the repository to follow, e.g. `repo = \"file:///srv/deploy.git\"`".into())
                }
                "endpoint" => Some("add the collector, e.g. `endpoint = \"http://127.0.0.1:4318\"`".into()),
                _ => None,
            };
            self.error(header.clone(), format!("missing `{}` {}", field.name, location(path)), help);
        }
    }

    fn value(
        &mut self,
        item: &Item,
        kind: Kind,
        path: &mut Vec<String>,
        key: Range<usize>,
        span: Range<usize>,
    ) {
        let found = describe(item);
        let value = item.as_value();
        match kind {
            Kind::String if value.is_some_and(Value::is_str) => {}
            Kind::Boolean if value.is_some_and(Value::is_bool) => {}
            Kind::Duration if value.is_some_and(Value::is_str) => {}
            Kind::Size | Kind::Signal if value.is_some_and(|value| value.is_str() || value.is_integer()) => {
                if let Some(number @ ..0) = value.and_then(Value::as_integer) {
                    self.reject(
                        path,
                        span,
                        format!("`{}` cannot be negative, found {number}", dotted(path)),
                        None,
                    );
                }
            }
            Kind::Integer { min, max } if value.is_some_and(Value::is_integer) => {
                let number = value.and_then(Value::as_integer).unwrap_or_default();
                if !(min..=max).contains(&number) {
                    let help = match path.last().map(String::as_str) {
                        Some("instances") if number == 0 => {
                            Some("to keep an app without running it, write `state = \"stopped\"`".into())
                        }
                        _ => None,
                    };
                    self.reject(
                        path,
                        span,
                        format!("`{}` must be from {min} to {max}, found {number}", dotted(path)),
                        help,
                    );
                }
            }
            Kind::Strings if value.is_some_and(Value::is_array) => {
                let array = value.and_then(Value::as_array).into_iter().flat_map(|array| array.iter());
                for (index, element) in array.enumerate() {
                    let element_span = element.span().unwrap_or(span.clone());
                    path.push(index.to_string());
                    self.spans.insert(path, element_span.clone(), element_span.clone());
                    path.pop();
                    if !element.is_str() {
                        let found = describe_value(element);
                        self.reject(
                            path,
                            element_span,
                            format!("`{}` must hold only strings, found {found}", dotted(path)),
                            Some(format!("quote it: \"{}\"", element.to_string().trim())),
                        );
                    }
                }
            }
            Kind::Command if value.is_some_and(Value::is_str) => {}
            Kind::Command | Kind::DependsOn if value.is_some_and(Value::is_array) => {
                self.value(item, Kind::Strings, path, key, span);
            }
            Kind::DependsOn if item.is_table_like() => {
                let Some(table) = item.as_table_like() else { return };
                for (name, entry) in table.iter() {
                    let entry_key =
                        table.get_key_value(name).and_then(|(key, _)| key.span()).unwrap_or(key.clone());
                    let entry_span = entry.span().unwrap_or(entry_key.clone());
                    path.push(name.to_string());
                    self.spans.insert(path, entry_key, entry_span.clone());
                    if !entry.as_value().is_some_and(Value::is_str) {
                        let message = format!(
                            "wrong type for `{}`: expected a condition such as \"healthy\", found {}",
                            dotted(path),
                            describe(entry)
                        );
                        self.reject(path, entry_span, message, None);
                    }
                    path.pop();
                }
            }
            Kind::Env if item.is_table_like() => {
                let Some(table) = item.as_table_like() else { return };
                for (name, entry) in table.iter() {
                    let entry_key =
                        table.get_key_value(name).and_then(|(key, _)| key.span()).unwrap_or(key.clone());
                    let entry_span = entry.span().unwrap_or(entry_key.clone());
                    path.push(name.to_string());
                    self.spans.insert(path, entry_key, entry_span.clone());
                    let allowed = |value: &Value| value.is_str() || value.is_integer() || value.is_bool();
                    if !entry.as_value().is_some_and(allowed) {
                        let message = format!(
                            "wrong type for `{}`: expected a string, a whole number or a boolean, found {}",
                            dotted(path),
                            describe(entry)
                        );
                        self.reject(path, entry_span, message, None);
                    }
                    path.pop();
                }
            }
            Kind::BooleanOrTable(_) if value.is_some_and(Value::is_bool) => {}
            Kind::Table(fields) | Kind::BooleanOrTable(fields) if item.is_table_like() => {
                let header = match item {
                    Item::Table(table) => table.span().unwrap_or(key.clone()),
                    _ => key.clone(),
                };
                if let Some(table) = item.as_table_like() {
                    self.table(table, fields, path, header);
                }
            }
            Kind::Apps if item.is_table_like() => {
                let Some(apps) = item.as_table_like() else { return };
                for (name, app) in apps.iter() {
                    let app_key =
                        apps.get_key_value(name).and_then(|(key, _)| key.span()).unwrap_or(key.clone());
                    let header = match app {
                        Item::Table(table) => table.span().unwrap_or(app_key.clone()),
                        _ => app_key.clone(),
                    };
                    path.push(name.to_string());
                    self.spans.insert(path, app_key.clone(), header.clone());
                    match app.as_table_like() {
                        Some(table) => self.table(table, APP, path, header),
                        None => self.reject(
                            path,
                            app.span().unwrap_or(app_key),
                            format!(
                                "wrong type for `{}`: expected a table, found {}",
                                dotted(path),
                                describe(app)
                            ),
                            Some(format!("declare the app as a table: {}", table_label(path))),
                        ),
                    }
                    path.pop();
                }
            }
            _ => {
                let (expected, help) = expectation(kind, item, path);
                self.reject(
                    path,
                    span,
                    format!("wrong type for `{}`: expected {expected}, found {found}", dotted(path)),
                    help,
                );
            }
        }
    }
}

/// What a value is, for "found ..." in messages.
fn describe(item: &Item) -> String {
    match item {
        Item::None => "nothing".into(),
        Item::Table(_) => "a table".into(),
        Item::ArrayOfTables(_) => "an array of tables".into(),
        Item::Value(value) => describe_value(value),
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::String(text) => format!("the string {:?}", text.value()),
        Value::Integer(number) => format!("the integer {}", number.value()),
        Value::Float(number) => format!("the float {}", number.value()),
        Value::Boolean(flag) => format!("the boolean {}", flag.value()),
        Value::Datetime(_) => "a date-time".into(),
        Value::Array(_) => "an array".into(),
        Value::InlineTable(_) => "a table".into(),
    }
}

/// What a key of `kind` must hold, and how to write it given what was found.
fn expectation(kind: Kind, item: &Item, path: &[String]) -> (&'static str, Option<String>) {
    let key = path.last().map_or("", String::as_str);
    let integer = item.as_value().and_then(Value::as_integer);
    let text = item.as_value().and_then(Value::as_str);
    match kind {
        Kind::String if key == "command" && item.as_value().is_some_and(Value::is_array) => (
            "a string",
            Some("put the program in `command` and its arguments in `args`: `command = \"/bin/sleep\"`, `args = [\"3600\"]`".into()),
        ),
        Kind::String => ("a string", integer.map(|number| format!("quote it: `{key} = \"{number}\"`"))),
        Kind::Integer { .. } => (
            "a whole number",
            text.filter(|text| text.parse::<i64>().is_ok()).map(|text| format!("remove the quotes: `{key} = {text}`")),
        ),
        Kind::Boolean => (
            "true or false",
            text.filter(|text| matches!(*text, "true" | "false"))
                .map(|text| format!("remove the quotes: `{key} = {text}`")),
        ),
        Kind::Strings => {
            ("an array of strings", text.map(|text| format!("write a list: `{key} = [{:?}]`", text)))
        }
        Kind::Duration => (
            "a duration such as \"5s\"",
            integer.map(|number| format!("write `{key} = \"{number}s\"` for seconds or `\"{number}ms\"` for milliseconds")),
        ),
        Kind::Size => ("a size such as \"512M\"", None),
        Kind::Signal => ("a signal name such as \"SIGTERM\" or a number", None),
        Kind::Env => (
            "a table of environment variables",
            Some(format!("write `{key} = {{ NAME = \"value\" }}`")),
        ),
        Kind::Command => ("a command string or an array of strings", None),
        Kind::DependsOn => (
            "a list of apps or a table of conditions",
            Some(format!("write `{key} = [\"db\"]` or `{key} = {{ db = \"healthy\" }}`")),
        ),
        Kind::Table(_) if matches!(key, "readiness" | "liveness") => (
            "a table",
            Some(format!("write `{key} = {{ http = \"http://127.0.0.1:8000/health\" }}` (or exec, tcp, log)")),
        ),
        Kind::Table(_) => ("a table", None),
        Kind::BooleanOrTable(_) => (
            "true, false or a table",
            Some(format!("write `{key} = true` or `{key} = {{ paths = [\"src\"], ignore = [\"*.log\"] }}`")),
        ),
        Kind::Apps => ("a table of apps", Some("declare each app as a table: `[apps.web]`".into())),
    }
}

/// The key `name` was probably meant to be (if any), and the help line for it.
fn suggest_key(
    name: &str,
    is_table: bool,
    fields: &[Field],
    path: &[String],
) -> (Option<&'static str>, String) {
    let names = || fields.iter().map(|field| field.name);
    let is_app = path.len() == 2 && path[0] == "apps";
    if is_app && name == "name" {
        return (None, format!("an app is named by its table: `{}`", table_label(path)));
    }
    let lowered = name.to_ascii_lowercase();
    let alias = ALIASES
        .iter()
        .find(|(alias, target)| *alias == lowered && names().any(|known| known == *target))
        .map(|(_, target)| *target);
    let close = || did_you_mean(name, names()).and_then(|close| names().find(|known| *known == close));
    if let Some(target) = alias.or_else(close) {
        return (Some(target), format!("did you mean `{target}`?"));
    }
    if path.is_empty() {
        let help = "velos.toml holds a `[project]` table, `[apps.NAME]` tables and a `[velos]` table";
        let table = toml_edit::Key::new(name).display_repr().into_owned();
        return (
            None,
            if is_table { format!("{help}; did you mean `[apps.{table}]`?") } else { help.into() },
        );
    }
    (None, format!("expected one of: {}", names().collect::<Vec<_>>().join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys this walk accepts are the keys of the generated schema (so the serde types), table by table.
    #[test]
    fn shape_table_matches_the_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(&crate::json_schema()).unwrap_or(serde_json::Value::Null);
        let keys = |definition: &serde_json::Value| -> Vec<String> {
            let mut keys: Vec<String> = definition["properties"]
                .as_object()
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            keys
        };
        let names = |fields: &[Field]| -> Vec<String> {
            let mut names: Vec<String> = fields.iter().map(|field| field.name.to_string()).collect();
            names.sort();
            names
        };
        assert_eq!(keys(&schema), names(ROOT));
        assert_eq!(keys(&schema["$defs"]["Project"]), names(PROJECT));
        assert_eq!(keys(&schema["$defs"]["App"]), names(APP));
        assert_eq!(keys(&schema["$defs"]["Backoff"]), names(BACKOFF));
        assert_eq!(keys(&schema["$defs"]["Log"]), names(LOG));
        assert_eq!(keys(&schema["$defs"]["Rollout"]), names(ROLLOUT));
        assert_eq!(keys(&schema["$defs"]["Velos"]), names(VELOS));
        assert_eq!(keys(&schema["$defs"]["Git"]), names(GIT));
        assert_eq!(keys(&schema["$defs"]["Agents"]), names(AGENTS));
        assert_eq!(keys(&schema["$defs"]["Watch"]), names(WATCH));
        assert_eq!(keys(&schema["$defs"]["Check"]), names(CHECK));
        let required: Vec<&str> = GIT.iter().filter(|field| field.required).map(|field| field.name).collect();
        assert_eq!(schema["$defs"]["Git"]["required"], serde_json::json!(required));
        let required: Vec<&str> = APP.iter().filter(|field| field.required).map(|field| field.name).collect();
        assert_eq!(schema["$defs"]["App"]["required"], serde_json::json!(required));
    }

    #[test]
    fn aliases_point_at_real_keys() {
        for (alias, target) in ALIASES {
            let tables = [APP, VELOS, GIT, WATCH, CHECK];
            let table = tables.iter().find(|fields| fields.iter().any(|field| field.name == *target));
            let table = table.unwrap_or_else(|| panic!("{alias} -> {target}: no such key"));
            assert!(!table.iter().any(|field| field.name == *alias), "{alias} is a real key");
        }
    }

    #[test]
    fn labels_quote_keys_that_need_it() {
        let path = |parts: &[&str]| parts.iter().map(|part| part.to_string()).collect::<Vec<_>>();
        assert_eq!(table_label(&path(&["apps", "web"])), "[apps.web]");
        assert_eq!(table_label(&path(&["apps", "my.app", "log"])), "[apps.\"my.app\".log]");
        assert_eq!(location(&[]), "at the top level");
        assert_eq!(location(&path(&["apps", "web"])), "in [apps.web]");
        assert_eq!(dotted(&path(&["apps", "web", "kill_timeout"])), "apps.web.kill_timeout");
    }
}
