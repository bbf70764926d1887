//! Step 3 of loading: from what the user wrote ([`RawFile`]) to what should run ([`Project`]).
//!
//! Pure: the only inputs are the decoded file, where its values are (for messages), its absolute path and
//! its revision. Every refusal is a diagnostic at the offending value; resolution goes on after one so the
//! user sees every problem at once.
use crate::diagnostic::{did_you_mean, Diagnostic, SourceMap};
use crate::raw::{EnvValue, RawApp, RawFile, Signal, Size};
use crate::read::Spans;
use crate::shell::split_words;
use crate::units::{parse_duration_ms, parse_signal_name, parse_signal_number, parse_size_bytes, UnitError};
use crate::{
    DesiredApp, DesiredState, InPlace, Project, DEFAULT_PATH, FALLBACK_PROJECT_NAME, INSTANCE_VARIABLE,
    LOG_TIMESTAMPS_DEFAULT,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::{Range, RangeInclusive};
use std::path::{Component, Path, PathBuf};
use velos_core::{limits, validate_name, AppSpec, LogFormat, RestartPolicy, NAME_LENGTH_MAX};

mod checks;
mod schedule;

pub(crate) struct Context<'a> {
    pub(crate) map: &'a SourceMap<'a>,
    pub(crate) spans: &'a Spans,
    /// Absolute path of the file.
    pub(crate) file: &'a Path,
    pub(crate) revision: &'a str,
}

/// One `[apps.NAME]` resolved, before instances are expanded.
struct App<'r> {
    name: &'r str,
    /// `name` is the app's name; instances get their own.
    spec: AppSpec,
    env: BTreeMap<String, String>,
    instances: u32,
    state: DesiredState,
    in_place: InPlace,
    rollout: crate::Rollout,
    /// `[apps.NAME]` keys, deduplicated, in file order, with what to wait for.
    depends_on: Vec<(&'r str, crate::Condition)>,
}

struct Resolver<'a> {
    context: &'a Context<'a>,
    diagnostics: Vec<Diagnostic>,
}

pub(crate) fn resolve(raw: &RawFile, context: &Context<'_>) -> Result<Project, Vec<Diagnostic>> {
    let mut resolver = Resolver { context, diagnostics: Vec::new() };
    let name = resolver.project_name(raw);
    let base = context.file.parent().unwrap_or(Path::new("/"));
    let project_env = match raw.project.as_ref().and_then(|project| project.env.as_ref()) {
        Some(env) => resolver.env(env, &["project", "env"]),
        None => BTreeMap::new(),
    };
    let apps: Vec<App<'_>> = raw
        .apps
        .iter()
        .filter_map(|(app_name, app)| resolver.app(app_name, app, base, &project_env, raw))
        .collect();
    resolver.check_names(&apps);
    resolver.check_cycles(raw);
    let controller = crate::controller::resolve(raw.velos.as_ref(), context, &mut resolver.diagnostics);
    let on_failure = crate::rollout::resolve_on_failure(
        raw.project.as_ref().and_then(|project| project.on_failure.as_deref()),
        context,
        &mut resolver.diagnostics,
    );
    if !resolver.diagnostics.is_empty() {
        return Err(resolver.diagnostics);
    }
    Ok(Project {
        name: name.clone(),
        file: context.file.to_path_buf(),
        revision: context.revision.into(),
        apps: expand(&apps, &name, context.revision),
        controller,
        on_failure,
    })
}

/// `[apps.NAME]`
fn table_label(app: &str) -> String {
    crate::read::table_label(&["apps".to_string(), app.to_string()])
}

/// The instance names of an app: `web`, or `web-0`, `web-1`, ... when it has several.
fn instance_names(name: &str, instances: u32) -> Vec<String> {
    if instances <= 1 {
        vec![name.to_string()]
    } else {
        (0..instances).map(|index| format!("{name}-{index}")).collect()
    }
}

fn expand(apps: &[App<'_>], project: &str, revision: &str) -> Vec<DesiredApp> {
    let instances_of: BTreeMap<&str, Vec<String>> =
        apps.iter().map(|app| (app.name, instance_names(app.name, app.instances))).collect();
    let mut desired = Vec::new();
    for app in apps {
        let mut depends_on: Vec<String> = app
            .depends_on
            .iter()
            .flat_map(|(name, _)| instances_of.get(name).cloned().unwrap_or_default())
            .collect();
        depends_on.sort();
        depends_on.dedup();
        let conditions: BTreeMap<String, crate::Condition> = app
            .depends_on
            .iter()
            .filter(|(_, condition)| *condition != crate::Condition::Started)
            .flat_map(|(name, condition)| {
                instances_of.get(name).into_iter().flatten().map(|instance| (instance.clone(), *condition))
            })
            .collect();
        for (index, instance_name) in (0..).zip(&instances_of[app.name]) {
            let mut env = app.env.clone();
            if app.instances > 1 {
                env.insert(INSTANCE_VARIABLE.into(), index.to_string());
            }
            let mut spec = app.spec.clone();
            spec.name = instance_name.clone();
            spec.env = env.iter().map(|(key, value)| format!("{key}={value}")).collect();
            spec.labels = BTreeMap::from([
                ("project".to_string(), project.to_string()),
                ("app".to_string(), app.name.to_string()),
                ("instance".to_string(), index.to_string()),
                ("source_rev".to_string(), revision.to_string()),
            ]);
            spec.spec_hash = spec.compute_hash();
            desired.push(DesiredApp {
                spec,
                app: app.name.to_string(),
                instance: index,
                state: app.state,
                depends_on: depends_on.clone(),
                conditions: conditions.clone(),
                in_place: app.in_place.clone(),
                rollout: app.rollout,
            });
        }
    }
    desired.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    desired
}

impl Resolver<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, help: Option<String>) {
        self.diagnostics.push(self.context.map.diagnostic(span, message.into(), help));
    }

    fn value_span(&self, path: &[&str]) -> Range<usize> {
        self.context.spans.value(path)
    }

    fn key_span(&self, path: &[&str]) -> Range<usize> {
        self.context.spans.key(path)
    }

    fn unit_error(&mut self, path: &[&str], error: UnitError) {
        let span = self.value_span(path);
        self.error(
            span,
            format!("invalid `{}`: {}", path.get(2..).unwrap_or_default().join("."), error.message),
            error.help,
        );
    }

    /// The span of `length` bytes at `offset` inside the string at `path`, when the string is written
    /// without escapes (else the whole value).
    fn inner_span(&self, path: &[&str], decoded: &str, offset: usize, length: usize) -> Range<usize> {
        let span = self.value_span(path);
        let written = self.context.map.text(span.clone());
        let quote_length = if written.starts_with("\"\"\"") || written.starts_with("'''") { 3 } else { 1 };
        let inner = written.get(quote_length..written.len().saturating_sub(quote_length));
        if inner == Some(decoded) {
            let start = span.start + quote_length + offset;
            start..start + length.max(1)
        } else {
            span
        }
    }

    fn project_name(&mut self, raw: &RawFile) -> String {
        if let Some(name) = raw.project.as_ref().and_then(|project| project.name.as_ref()) {
            if let Err(error) = validate_name(name) {
                let span = self.value_span(&["project", "name"]);
                self.error(span, error.to_string().replace("the app name", "the project name"), None);
            }
            return name.clone();
        }
        let folder = self.context.file.parent().and_then(Path::file_name).map(|name| name.to_string_lossy());
        folder.map_or_else(|| FALLBACK_PROJECT_NAME.to_string(), |folder| sanitize_name(&folder))
    }

    fn env(&mut self, env: &BTreeMap<String, EnvValue>, path: &[&str]) -> BTreeMap<String, String> {
        let mut resolved = BTreeMap::new();
        for (key, value) in env {
            let entry_path = [path, &[key.as_str()]].concat();
            let problem = if key.is_empty() {
                Some("an environment variable name cannot be empty")
            } else if key.contains('=') {
                Some("an environment variable name cannot contain `=`")
            } else if key.contains('\0') {
                Some("an environment variable name cannot contain a NUL character")
            } else {
                None
            };
            if let Some(problem) = problem {
                let span = self.key_span(&entry_path);
                self.error(span, problem, None);
                continue;
            }
            let text = value.to_text();
            if text.contains('\0') {
                let span = self.value_span(&entry_path);
                self.error(span, format!("the value of `{key}` contains a NUL character"), None);
                continue;
            }
            resolved.insert(key.clone(), text);
        }
        resolved
    }

    fn app<'r>(
        &mut self,
        name: &'r str,
        raw: &'r RawApp,
        base: &Path,
        project_env: &BTreeMap<String, String>,
        file: &'r RawFile,
    ) -> Option<App<'r>> {
        let errors_before = self.diagnostics.len();
        if let Err(error) = validate_name(name) {
            let span = self.key_span(&["apps", name]);
            self.error(span, error.to_string(), None);
        }
        let instances = raw.instances.unwrap_or(1);
        let (command, args) = self.command(name, raw).unwrap_or_default();
        let cwd = self.cwd(name, raw, base).unwrap_or_default();
        let mut env = project_env.clone();
        if let Some(app_env) = &raw.env {
            env.extend(self.env(app_env, &["apps", name, "env"]));
        }
        if !env.contains_key("PATH") {
            env.insert("PATH".into(), DEFAULT_PATH.into());
        }
        if instances > 1 && env.contains_key(INSTANCE_VARIABLE) {
            let in_app = raw.env.as_ref().is_some_and(|app_env| app_env.contains_key(INSTANCE_VARIABLE));
            let span = if in_app {
                self.key_span(&["apps", name, "env", INSTANCE_VARIABLE])
            } else {
                self.key_span(&["project", "env", INSTANCE_VARIABLE])
            };
            self.error(
                span,
                format!("`{INSTANCE_VARIABLE}` is set by Velos for apps with several instances"),
                Some(format!("remove it; `{name}` has instances = {instances}, each gets its own number")),
            );
        }
        let state = match &raw.state {
            Some(word) => self.word(
                &["apps", name, "state"],
                word,
                &DesiredState::ALL.map(|state| (state.as_str(), state)),
            ),
            None => Some(DesiredState::Running),
        };
        let restart = match &raw.restart {
            Some(word) => self.word(
                &["apps", name, "restart"],
                word,
                &RestartPolicy::ALL.map(|policy| (policy.as_str(), policy)),
            ),
            None => Some(RestartPolicy::default()),
        };
        let duration = |resolver: &mut Self,
                        key: &[&str],
                        value: Option<&crate::raw::Duration>,
                        default: u64,
                        range: RangeInclusive<u64>| {
            let path = [&["apps", name][..], key].concat();
            let Some(text) = value else { return default };
            match parse_duration_ms(&text.0) {
                Ok(milliseconds) if range.contains(&milliseconds) => milliseconds,
                Ok(_) => {
                    resolver.out_of_range(
                        &path,
                        &text.0,
                        &limits::format_ms(*range.start()),
                        &limits::format_ms(*range.end()),
                    );
                    default
                }
                Err(error) => {
                    resolver.unit_error(&path, error);
                    default
                }
            }
        };
        let mut spec = AppSpec::new(name, command, cwd);
        spec.args = args;
        spec.restart = restart.unwrap_or_default();
        spec.max_restarts = raw.max_restarts.unwrap_or(spec.max_restarts);
        spec.restart_window_ms = duration(
            self,
            &["restart_window"],
            raw.restart_window.as_ref(),
            spec.restart_window_ms,
            limits::RESTART_WINDOW_MS,
        );
        spec.min_uptime_ms = duration(
            self,
            &["min_uptime"],
            raw.min_uptime.as_ref(),
            spec.min_uptime_ms,
            limits::MIN_UPTIME_MS,
        );
        spec.kill_timeout_ms = duration(
            self,
            &["kill_timeout"],
            raw.kill_timeout.as_ref(),
            spec.kill_timeout_ms,
            limits::KILL_TIMEOUT_MS,
        );
        let backoff = raw.backoff.clone().unwrap_or_default();
        spec.backoff_initial_ms = duration(
            self,
            &["backoff", "initial"],
            backoff.initial.as_ref(),
            spec.backoff_initial_ms,
            limits::BACKOFF_MS,
        );
        spec.backoff_max_ms = duration(
            self,
            &["backoff", "max"],
            backoff.max.as_ref(),
            spec.backoff_max_ms,
            limits::BACKOFF_MS,
        );
        if spec.backoff_initial_ms > spec.backoff_max_ms && self.diagnostics.len() == errors_before {
            let (path, help) = if backoff.initial.is_some() {
                (["apps", name, "backoff", "initial"], "make `backoff.max` at least as long")
            } else {
                (
                    ["apps", name, "backoff", "max"],
                    "make `backoff.initial` (default \"100ms\") at most as long",
                )
            };
            let span = self.value_span(&path);
            self.error(
                span,
                format!(
                    "`backoff.initial` ({}ms) is longer than `backoff.max` ({}ms)",
                    spec.backoff_initial_ms, spec.backoff_max_ms
                ),
                Some(help.into()),
            );
        }
        if let Some(signal) = &raw.kill_signal {
            let path = ["apps", name, "kill_signal"];
            let parsed = match signal {
                Signal::Number(number) => parse_signal_number(*number),
                Signal::Name(text) => parse_signal_name(text),
            };
            match parsed {
                Ok(number) => spec.kill_signal = number,
                Err(error) => self.unit_error(&path, error),
            }
        }
        let log = raw.log.clone().unwrap_or_default();
        let (readiness, liveness) = self.checks(name, raw);
        let in_place = InPlace {
            max_memory_bytes: self.size(
                &["apps", name, "max_memory"],
                raw.max_memory.as_ref(),
                limits::MAX_MEMORY_BYTES,
            ),
            log_max_size_bytes: self.size(
                &["apps", name, "log", "max_size"],
                log.max_size.as_ref(),
                limits::LOG_MAX_SIZE_BYTES,
            ),
            log_max_files: log.max_files,
            log_timestamps: log.timestamps.unwrap_or(LOG_TIMESTAMPS_DEFAULT),
            log_format: match &log.format {
                Some(word) => self
                    .word(
                        &["apps", name, "log", "format"],
                        word,
                        &LogFormat::ALL.map(|format| (format.as_str(), format)),
                    )
                    .unwrap_or_default(),
                None => LogFormat::default(),
            },
            cron_restart: self.cron_restart(name, raw),
            watch: self.watch(name, raw, &spec.cwd),
            readiness,
            liveness,
        };
        let depends_on = self.depends_on(name, raw, file);
        let rollout =
            crate::rollout::resolve_rollout(name, raw.rollout.as_ref(), self.context, &mut self.diagnostics);
        (self.diagnostics.len() == errors_before).then(|| App {
            name,
            spec,
            env,
            instances,
            state: state.unwrap_or_default(),
            in_place,
            rollout,
            depends_on,
        })
    }

    /// The program and its arguments, from `command` (split when it has spaces and `args` is absent).
    fn command(&mut self, name: &str, raw: &RawApp) -> Option<(String, Vec<String>)> {
        let path = ["apps", name, "command"];
        let command = raw.command.as_str();
        if command.trim().is_empty() {
            let span = self.value_span(&path);
            self.error(
                span,
                "`command` is empty",
                Some("write the program to run, e.g. `command = \"/bin/sleep\"`".into()),
            );
            return None;
        }
        let mut ok = true;
        if let Some(offset) = command.find('\0') {
            let span = self.inner_span(&path, command, offset, 1);
            self.error(span, "`command` contains a NUL character", None);
            ok = false;
        }
        let args = raw.args.clone().unwrap_or_default();
        for (index, arg) in args.iter().enumerate() {
            if let Some(offset) = arg.find('\0') {
                let arg_path = ["apps", name, "args", &index.to_string()];
                let span = self.inner_span(&arg_path, arg, offset, 1);
                self.error(span, "an argument contains a NUL character", None);
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        if !command.contains(char::is_whitespace) {
            return Some((command.to_string(), args));
        }
        let words = match split_words(command) {
            Ok(words) => words,
            Err(error) => {
                let span = self.inner_span(&path, command, error.offset, 1);
                self.error(span, error.message, Some(error.help));
                return None;
            }
        };
        let (program, rest) = words.split_first()?;
        if program.is_empty() {
            let span = self.value_span(&path);
            self.error(span, "the program in `command` is empty", None);
            return None;
        }
        match &raw.args {
            None => Some((program.clone(), rest.to_vec())),
            Some(_) if rest.is_empty() => Some((program.clone(), args)),
            Some(args) => {
                let span = self.value_span(&path);
                let all: Vec<String> = rest.iter().chain(args).map(|word| format!("{word:?}")).collect();
                self.error(
                    span,
                    "`command` has arguments, and `args` is set too",
                    Some(format!(
                        "put only the program in `command`: `command = {program:?}`, `args = [{}]`",
                        all.join(", ")
                    )),
                );
                None
            }
        }
    }

    fn cwd(&mut self, name: &str, raw: &RawApp, base: &Path) -> Option<String> {
        let path = ["apps", name, "cwd"];
        let joined = match raw.cwd.as_deref() {
            None => base.to_path_buf(),
            Some("") => {
                let span = self.value_span(&path);
                self.error(
                    span,
                    "`cwd` is empty",
                    Some("remove it to run the app in the folder of velos.toml".into()),
                );
                return None;
            }
            Some(cwd) if cwd.starts_with('~') => {
                let span = self.inner_span(&path, cwd, 0, 1);
                self.error(
                    span,
                    "`~` is not expanded in `cwd`",
                    Some("write an absolute path, or one relative to the folder of velos.toml".into()),
                );
                return None;
            }
            Some(cwd) if cwd.contains('\0') => {
                let span = self.value_span(&path);
                self.error(span, "`cwd` contains a NUL character", None);
                return None;
            }
            Some(cwd) => base.join(cwd),
        };
        // `.` components and trailing slashes go, so `"./app/"` and `"app"` give the same spec hash.
        let normalized: PathBuf =
            joined.components().filter(|component| *component != Component::CurDir).collect();
        match normalized.to_str() {
            Some(text) => Some(text.to_string()),
            None => {
                let span = self.value_span(&path);
                self.error(span, format!("the directory {} is not valid UTF-8", normalized.display()), None);
                None
            }
        }
    }

    /// One of a fixed set of words, with a suggestion when the word is close to one.
    fn word<T: Copy>(&mut self, path: &[&str], word: &str, choices: &[(&str, T)]) -> Option<T> {
        if let Some((_, value)) = choices.iter().find(|(choice, _)| *choice == word) {
            return Some(*value);
        }
        let names: Vec<&str> = choices.iter().map(|(choice, _)| *choice).collect();
        let normalized = word.to_ascii_lowercase().replace('_', "-");
        let help = did_you_mean(&normalized, names.iter().copied())
            .or_else(|| did_you_mean(word, names.iter().copied()))
            .map(|suggestion| format!("did you mean `{suggestion}`?"))
            .unwrap_or_else(|| format!("expected one of: {}", names.join(", ")));
        let span = self.value_span(path);
        let key = path.get(2..).unwrap_or_default().join(".");
        self.error(span, format!("invalid `{key}` {word:?}"), Some(help));
        None
    }

    /// A number the file wrote but the daemon would refuse: every bound is in [`limits`] and docs/CONFIG.md.
    fn out_of_range(&mut self, path: &[&str], written: &str, min: &str, max: &str) {
        let span = self.value_span(path);
        let key = path.get(2..).unwrap_or_default().join(".");
        self.error(
            span,
            format!("`{key}` must be between {min} and {max}, found {written:?}"),
            Some(format!("write a value from {min} to {max} (docs/CONFIG.md lists every range)")),
        );
    }

    fn size(&mut self, path: &[&str], value: Option<&Size>, range: RangeInclusive<u64>) -> Option<u64> {
        let bytes = match value? {
            Size::Bytes(bytes) => *bytes,
            Size::Text(text) => match parse_size_bytes(text) {
                Ok(bytes) => bytes,
                Err(error) => {
                    self.unit_error(path, error);
                    return None;
                }
            },
        };
        if bytes == 0 {
            let span = self.value_span(path);
            let key = path.get(2..).unwrap_or_default().join(".");
            self.error(
                span,
                format!("`{key}` must be more than 0 bytes"),
                Some(format!("remove `{key}` for no limit")),
            );
            return None;
        }
        if !range.contains(&bytes) {
            let written = match value? {
                Size::Bytes(bytes) => bytes.to_string(),
                Size::Text(text) => text.clone(),
            };
            self.out_of_range(
                path,
                &written,
                &limits::format_bytes(*range.start()),
                &limits::format_bytes(*range.end()),
            );
            return None;
        }
        Some(bytes)
    }

    /// Instance names are valid and unique: `web` with instances = 2 makes `web-0` and `web-1`, which must not
    /// be another app's name.
    fn check_names(&mut self, apps: &[App<'_>]) {
        // Each process name, and the app it comes from; `None` for an app's own (single-instance) name.
        let mut owners: BTreeMap<String, Option<&str>> =
            apps.iter().filter(|app| app.instances <= 1).map(|app| (app.name.to_string(), None)).collect();
        for app in apps.iter().filter(|app| app.instances > 1) {
            let names = instance_names(app.name, app.instances);
            let span = self.value_span(&["apps", app.name, "instances"]);
            if let Some(long) = names.iter().find(|name| name.len() > NAME_LENGTH_MAX) {
                self.error(
                    span.clone(),
                    format!(
                        "with instances = {}, `{}` has an instance named `{long}`, longer than {NAME_LENGTH_MAX} characters",
                        app.instances, app.name
                    ),
                    Some("shorten the app's name".into()),
                );
                continue;
            }
            for instance in names {
                match owners.get(&instance) {
                    None => {
                        owners.insert(instance, Some(app.name));
                    }
                    Some(other) => {
                        let (message, help) = match other {
                            None => (
                                format!(
                                    "`{}` with instances = {} runs `{instance}`, the name of another app",
                                    app.name, app.instances
                                ),
                                format!("rename `{}` or `{}`", table_label(app.name), table_label(&instance)),
                            ),
                            Some(other) => (
                                format!(
                                    "`{}` and `{other}` both run an instance named `{instance}`",
                                    app.name
                                ),
                                format!("rename `{}` or `{}`", table_label(app.name), table_label(other)),
                            ),
                        };
                        self.error(span.clone(), message, Some(help));
                    }
                }
            }
        }
    }

    /// Refuses dependency cycles, naming each: `web -> api -> web`.
    fn check_cycles(&mut self, raw: &RawFile) {
        let graph: BTreeMap<&str, Vec<&str>> = raw
            .apps
            .iter()
            .map(|(name, app)| {
                let entries = app.depends_on.as_ref().map(|depends_on| depends_on.entries());
                let dependencies = entries.into_iter().flatten().map(|(dependency, _)| dependency);
                (
                    name.as_str(),
                    dependencies.filter(|dependency| raw.apps.contains_key(*dependency)).collect(),
                )
            })
            .collect();
        for cycle in find_cycles(&graph) {
            let (first, second) = (cycle[0], cycle[1]);
            let entries = raw.apps[first].depends_on.as_ref().map(|depends_on| depends_on.entries());
            let entries = entries.unwrap_or_default();
            let index = entries.iter().position(|(name, _)| *name == second).unwrap_or(0);
            let element = match entries.get(index) {
                Some((name, Some(_))) => name.to_string(),
                _ => index.to_string(),
            };
            let span = self.value_span(&["apps", first, "depends_on", &element]);
            self.error(
                span,
                format!("dependency cycle: {}", cycle.join(" -> ")),
                Some(
                    "an app cannot wait, directly or not, for itself; remove one of these dependencies"
                        .into(),
                ),
            );
        }
    }
}

/// Each cycle once, as `[a, b, ..., a]`, starting at its smallest name. Linear when there is none.
fn find_cycles<'n>(graph: &BTreeMap<&'n str, Vec<&'n str>>) -> Vec<Vec<&'n str>> {
    // Kahn's algorithm: whatever cannot be ordered is on a cycle or waits for one.
    let mut waiting_for: BTreeMap<&str, usize> =
        graph.iter().map(|(name, dependencies)| (*name, dependencies.len())).collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, dependencies) in graph {
        for dependency in dependencies {
            dependents.entry(dependency).or_default().push(name);
        }
    }
    let mut ready: VecDeque<&str> =
        waiting_for.iter().filter(|(_, count)| **count == 0).map(|(name, _)| *name).collect();
    while let Some(name) = ready.pop_front() {
        for dependent in dependents.get(name).into_iter().flatten() {
            if let Some(count) = waiting_for.get_mut(dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.push_back(dependent);
                }
            }
        }
        waiting_for.remove(name);
    }
    let mut cycles = Vec::new();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    for &start in waiting_for.keys() {
        if covered.contains(start) {
            continue;
        }
        if let Some(cycle) = shortest_cycle(graph, start) {
            covered.extend(cycle.iter().copied());
            cycles.push(cycle);
        }
    }
    cycles
}

/// The shortest path `start -> ... -> start`, found breadth first.
fn shortest_cycle<'n>(graph: &BTreeMap<&'n str, Vec<&'n str>>, start: &'n str) -> Option<Vec<&'n str>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in graph.get(node).into_iter().flatten() {
            if next == start {
                let mut back = Vec::new();
                let mut current = node;
                while current != start {
                    back.push(current);
                    current = parent[current];
                }
                let mut cycle = vec![start];
                cycle.extend(back.into_iter().rev());
                cycle.push(start);
                return Some(cycle);
            }
            if next != start && !parent.contains_key(next) {
                parent.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// A folder name made into a valid project name: other characters become `-`, at most 64 characters.
fn sanitize_name(folder: &str) -> String {
    let replaced: String = folder
        .chars()
        .map(
            |character| {
                if character.is_ascii_alphanumeric() || "._-".contains(character) {
                    character
                } else {
                    '-'
                }
            },
        )
        .collect();
    let trimmed: String = replaced.trim_start_matches('.').chars().take(NAME_LENGTH_MAX).collect();
    if trimmed.is_empty() {
        FALLBACK_PROJECT_NAME.to_string()
    } else {
        trimmed
    }
}

fn list<'i>(names: impl Iterator<Item = &'i String>) -> String {
    let names: Vec<String> = names.map(|name| format!("`{name}`")).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'n>(edges: &[(&'n str, &[&'n str])]) -> BTreeMap<&'n str, Vec<&'n str>> {
        edges.iter().map(|(name, dependencies)| (*name, dependencies.to_vec())).collect()
    }

    #[test]
    fn no_cycle_in_a_dag() {
        let dag = graph(&[("web", &["api", "db"]), ("api", &["db"]), ("db", &[])]);
        assert!(find_cycles(&dag).is_empty());
    }

    #[test]
    fn cycles_are_named_once_from_their_smallest_member() {
        let cyclic = graph(&[("web", &["api"]), ("api", &["web"]), ("db", &["db"]), ("cache", &["web"])]);
        assert_eq!(find_cycles(&cyclic), vec![vec!["api", "web", "api"], vec!["db", "db"]]);
        let long = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(find_cycles(&long), vec![vec!["a", "b", "c", "a"]]);
    }

    #[test]
    fn folder_names_become_project_names() {
        assert_eq!(sanitize_name("shop"), "shop");
        assert_eq!(sanitize_name("My Shop (v2)"), "My-Shop--v2-");
        assert_eq!(sanitize_name(".hidden"), "hidden");
        assert_eq!(sanitize_name("..."), FALLBACK_PROJECT_NAME);
        assert_eq!(sanitize_name(&"x".repeat(80)).len(), NAME_LENGTH_MAX);
    }
}
