//! What the user wrote: the velos.toml file as serde types, one field per key, values still in their
//! human form (`"5s"`, `"512M"`, `"SIGTERM"`). `schemas/velos.schema.json` is generated from these types
//! ([`json_schema`]), and the loader decodes every valid file into them before resolving it into specs.
//!
//! Doc comments here become the schema's descriptions, which editors show on hover: write them for users.
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The app-name rule of `velos_core::validate_name`, as a JSON Schema pattern.
pub const APP_NAME_PATTERN: &str = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$";
/// The highest `instances` an app may ask for.
pub const INSTANCES_MAX: u32 = 100;

/// A velos.toml file: the processes one project wants running on this host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "velos.toml")]
pub struct RawFile {
    /// The project this file describes. Optional: its name defaults to the name of the file's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<RawProject>,
    /// The apps, by name: `[apps.web]`, `[apps.worker]`, ... A name is 1 to 64 letters, digits, `.`, `_` or
    /// `-`, not starting with `.`, and unique on the host.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": APP_NAME_PATTERN }))]
    pub apps: BTreeMap<String, RawApp>,
    /// How Velos follows this file: apply it on every save (`watch`), heal drift (`self_heal`, `resync`),
    /// or take the apps from a git repository instead (`[velos.git]`). Never part of an app's spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velos: Option<RawVelos>,
}

/// `[velos]`: the controller that keeps the host converged on this file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Velos")]
pub struct RawVelos {
    /// Apply the file each time it is saved (default false). `velos apply` then starts the controller, a
    /// system app the daemon supervises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<bool>,
    /// Put back what changed behind Velos's back (an app deleted, stopped, or started with another spec)
    /// at every resync (default true). With false, drift is only reported by `velos status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_heal: Option<bool>,
    /// How often the controller compares the host with the file even when nothing told it to (default
    /// `"30s"`, at least `"100ms"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync: Option<Duration>,
    /// Follow a git repository: the apps are those of the file at `path` in the commit `ref` points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<RawGit>,
    /// What AI agents connected with `velos mcp` may do to this project beyond reading it and proposing
    /// changes (which they always may; a human approves with `velos proposals approve ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<RawAgents>,
    /// Serve the REST API (what `velos serve` serves) from the controller, for as long as this file asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<RawApi>,
    /// Export the metrics and the log lines to an OpenTelemetry collector (OTLP/HTTP JSON) from the
    /// controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp: Option<RawOtlp>,
}

/// `[velos.api]`: the REST API served by the controller (docs/API.md). Tokens are those of `velos serve`:
/// `$VELOS_HOME/api.token`, created on the first start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Api")]
pub struct RawApi {
    /// A TCP address, `"127.0.0.1:9700"` or `"[::1]:9700"`. One off loopback is served only when the token
    /// file holds a token (`velos status` says why otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub listen: Option<String>,
    /// A Unix socket to serve on (created 0600), relative to this file's folder or absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub unix: Option<String>,
    /// More names the server answers to in the `Host` header (a DNS name of a non-loopback `listen`, a
    /// reverse proxy's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_hosts: Option<Vec<String>>,
}

/// `[velos.otlp]`: push to an OpenTelemetry collector over OTLP/HTTP (JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Otlp")]
pub struct RawOtlp {
    /// The collector, `"http://127.0.0.1:4318"`: metrics go to `/v1/metrics`, log lines to `/v1/logs`.
    #[schemars(length(min = 1))]
    pub endpoint: String,
    /// Headers sent with every export (`{ "x-tenant" = "shop" }`). Not for secrets: this file is not one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, EnvValue>>,
    /// How often to export (default `"10s"`, at least `"1s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
}

/// `[velos.agents]`: the policy for AI agents (docs/MCP.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Agents")]
pub struct RawAgents {
    /// Let agents apply their own proposals (`apply_proposal`) without a human's approval (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<bool>,
    /// Let agents restart this project's apps (`restart_app`) (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<bool>,
}

/// `[velos.git]`: where the desired state lives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Git")]
pub struct RawGit {
    /// The repository: a path (relative to this file's folder, or absolute), a `file://` or `git://` URL,
    /// an `https://` URL, or an ssh one (`ssh://git@host/owner/repo.git`, `git@host:owner/repo.git`).
    /// Never a secret: credentials come from `token_file` / `token_env` and `ssh_key`.
    #[schemars(length(min = 1))]
    pub repo: String,
    /// The branch, tag or full commit id to follow (default `"main"`).
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub ref_name: Option<String>,
    /// The velos.toml inside the repository, relative to its root (default `"velos.toml"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub path: Option<String>,
    /// How often to fetch the repository (default `"30s"`, at least `"100ms"`). A post-receive hook
    /// (`velos hook install`) makes a push apply at once; polling is the fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Duration>,
    /// https: the user name sent with the token (default `"git"`; GitLab wants `"oauth2"`, Bitbucket
    /// `"x-token-auth"`, GitHub and Gitea take any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub username: Option<String>,
    /// https: a file holding the token or password (read at each fetch; surrounding whitespace ignored).
    /// Relative to this file's folder. Its content is never written to status, history or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub token_file: Option<String>,
    /// https: the name of an environment variable of the controller holding the token (`"GIT_TOKEN"`),
    /// instead of `token_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub token_env: Option<String>,
    /// ssh: the private key (a deploy key) to log in with, relative to this file's folder or absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub ssh_key: Option<String>,
    /// ssh: the known_hosts file the server's host key is checked against (default
    /// `~/.ssh/known_hosts` of the user running Velos). A host not in it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub known_hosts: Option<String>,
    /// ssh: trust a host seen for the first time and add its key to `known_hosts` (default false). A key
    /// that changed is refused even then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_new_host_keys: Option<bool>,
}

/// `[project]`: the project's name and what all its apps share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Project")]
pub struct RawProject {
    /// The project's name (default: the name of the folder holding velos.toml). Applying a file only ever
    /// creates, changes or removes the apps of its own project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = APP_NAME_PATTERN))]
    pub name: Option<String>,
    /// Environment variables given to every app of the project; an app's own `env` wins on the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, EnvValue>>,
    /// What apply does when an app it started or replaced does not become ready: `"rollback"` re-applies
    /// the last revision of the project that did, `"stop"` stops the apps that did not; left out, they are
    /// left as they are and reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["rollback", "stop"]))]
    pub on_failure: Option<String>,
}

/// `[apps.NAME]`: one app (or `instances` copies of it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "App")]
pub struct RawApp {
    /// The program to run: a path (`"/bin/sleep"`, `"./server"` relative to `cwd`) or a name looked up in
    /// the app's `PATH`. Without `args`, a command with spaces is split into words like a shell would
    /// (`"python3 -m http.server 8000"`; quotes work, nothing is expanded).
    #[schemars(length(min = 1))]
    pub command: String,
    /// The arguments after the program. When given, `command` must be the program alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// The directory the app runs in, relative to the folder of velos.toml (default: that folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Environment variables. The app gets exactly these (over `[project] env`), plus a standard `PATH`
    /// when neither sets one, plus `VELOS_INSTANCE` when `instances` > 1; never the environment of
    /// whoever runs `velos`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, EnvValue>>,
    /// How many copies to run (1 to 100, default 1). With more than one, they are named `NAME-0`,
    /// `NAME-1`, ... and each gets `VELOS_INSTANCE=0`, `1`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = INSTANCES_MAX))]
    pub instances: Option<u32>,
    /// How a change replaces the app's instances: `strategy` (`"stop-first"`, default, or `"start-first"`)
    /// and `max_unavailable` (instances replaced at once, default 1), each batch ready before the next.
    /// Changing it does not restart the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::rollout::RawRollout>,
    /// `"running"` (default) or `"stopped"`: whether the app should be running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["running", "stopped"]))]
    pub state: Option<String>,
    /// When to restart the app after it exits on its own: `"always"`, `"on-failure"` (default: exit code
    /// other than 0, or killed by a signal) or `"never"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["always", "on-failure", "never"]))]
    pub restart: Option<String>,
    /// More than this many restarts within `restart_window` and the app is left `errored` (0 to 1000,
    /// default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub max_restarts: Option<u32>,
    /// The window `max_restarts` is counted in (`"1s"` to `"1d"`, default `"60s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_window: Option<Duration>,
    /// Delay between restarts: the first restart after a crash is immediate, the next ones wait
    /// `initial`, doubling up to `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<RawBackoff>,
    /// A run at least this long resets the restart backoff (`"0ms"` to `"1h"`, default `"1s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_uptime: Option<Duration>,
    /// The signal sent to the app's process group to stop it: a name (`"SIGTERM"`, `"TERM"`) or a
    /// number (default SIGTERM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_signal: Option<Signal>,
    /// How long the app may take to stop before its process group gets SIGKILL (`"0ms"` to `"1h"`, default
    /// `"5s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_timeout: Option<Duration>,
    /// Restart the app when its memory (resident set) goes above this size (`"512M"`; 1 byte to `"64T"`).
    /// Changing it does not restart the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory: Option<Size>,
    /// Apps (of this file) to start before this one, and to stop after it. A list (`["db"]`) waits until
    /// each is started; a table says what to wait for: `{ db = "healthy", migrate =
    /// "completed_successfully" }` (`"started"`, `"healthy"`: its readiness check passed,
    /// `"completed_successfully"`: a job that exited with code 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<RawDependsOn>,
    /// A check the app must pass to count as ready: `velos apply` waits for it, `depends_on = "healthy"`
    /// too. Changing it does not restart the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<RawCheck>,
    /// A check the app must keep passing: after `failure_threshold` failures in a row it is restarted (by
    /// the controller, which `velos apply` starts for it). Changing it does not restart the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<RawCheck>,
    /// Log files: rotation and timestamps. Changing them does not restart the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<RawLog>,
    /// Restart the app at these times, a cron expression in the host's local time: `"0 3 * * *"` (minute
    /// hour day-of-month month day-of-week; `*`, lists, ranges, steps, `jan`/`mon` names, `@daily`).
    /// Run by the controller; changing it does not restart the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), extend("examples" = ["0 3 * * *", "*/30 9-17 * * mon-fri", "@daily"]))]
    pub cron_restart: Option<String>,
    /// Restart the app when its files change: `true` watches its `cwd`, or a table
    /// `{ paths = ["src"], ignore = ["*.log"], debounce = "500ms" }`. Run by the controller; changing it
    /// does not restart the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<RawWatch>,
}

/// `watch = true`, or `watch = { paths = [...], ignore = [...], debounce = "500ms" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "WatchSetting")]
pub enum RawWatch {
    /// `true`: watch the app's `cwd` (with the default debounce); `false`: no watch.
    Enabled(bool),
    Settings(RawWatchSettings),
}

/// `watch = { paths = ["src"], ignore = ["*.log", "node_modules"], debounce = "500ms" }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Watch")]
pub struct RawWatchSettings {
    /// Files or folders to watch (folders recursively), relative to the app's `cwd` (default: the `cwd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), inner(length(min = 1)))]
    pub paths: Option<Vec<String>>,
    /// Changes to these are not restarts, as in `.gitignore`: a pattern without `/` (`"*.log"`,
    /// `"node_modules"`) matches a name at any depth, one with `/` (`"build/*.js"`) the path from `cwd`;
    /// `*`, `**`, `?`, `[a-z]`. `.git` folders and Velos's own files are never watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(length(min = 1)))]
    pub ignore: Option<Vec<String>>,
    /// How long the files must stay quiet after a change before the restart (`"10ms"` to `"1h"`, default
    /// `"500ms"`): a burst of saves is one restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debounce: Option<Duration>,
}

/// `depends_on = ["db"]` or `depends_on = { db = "healthy" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawDependsOn {
    /// Each app is waited for until it is started.
    Started(Vec<String>),
    /// Each app with what to wait for.
    Conditions(BTreeMap<String, String>),
}

impl JsonSchema for RawDependsOn {
    fn schema_name() -> Cow<'static, str> {
        "DependsOn".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Apps to wait for: a list (each until started), or a table of app to condition.",
            "anyOf": [
                { "type": "array", "items": { "type": "string", "pattern": APP_NAME_PATTERN } },
                {
                    "type": "object",
                    "propertyNames": { "pattern": APP_NAME_PATTERN },
                    "additionalProperties": { "enum": ["started", "healthy", "completed_successfully"] }
                }
            ],
            "examples": [["db"], { "db": "healthy", "migrate": "completed_successfully" }]
        })
    }
}

impl RawDependsOn {
    /// The apps named, with their condition as written (`None`: the list form), in file order for a list
    /// and by name for a table.
    pub fn entries(&self) -> Vec<(&str, Option<&str>)> {
        match self {
            RawDependsOn::Started(names) => names.iter().map(|name| (name.as_str(), None)).collect(),
            RawDependsOn::Conditions(map) => {
                map.iter().map(|(name, condition)| (name.as_str(), Some(condition.as_str()))).collect()
            }
        }
    }
}

/// `readiness = { http = "http://127.0.0.1:8000/health", interval = "500ms" }`: exactly one of `exec`,
/// `tcp`, `http` or `log`, and its timing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Check")]
pub struct RawCheck {
    /// Passes when this program exits with code 0: a string split into words like `command` (no shell:
    /// write `["sh", "-c", "..."]` for one), or an array. Runs in the app's `cwd` with its `env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<CommandLine>,
    /// Passes when a TCP connection to `"host:port"` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub tcp: Option<String>,
    /// Passes when an HTTP GET of this `http://` URL answers 2xx or 3xx (and matches `body`, if given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^http://"))]
    pub http: Option<String>,
    /// With `http`: a regex the response body must match (plain text matches itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Passes once a line the app writes (stdout or stderr) matches this regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// How long after the app starts the first probe runs (`"0ms"` to `"1h"`, default `"0s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<Duration>,
    /// How long between probes (`"100ms"` to `"1h"`; default `"1s"` for readiness, `"5s"` for liveness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// How long one probe may take before it counts as failed (`"10ms"` to `"1h"`, default `"1s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Passes in a row that make the app healthy (1 to 100, default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub success_threshold: Option<u32>,
    /// Failures in a row that make the app unhealthy (1 to 100, default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub failure_threshold: Option<u32>,
}

/// A command: a string split into words like a shell would (nothing expanded), or an array of words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CommandLine {
    Text(#[schemars(length(min = 1))] String),
    Words(#[schemars(length(min = 1))] Vec<String>),
}

/// `backoff = { initial = "100ms", max = "5s" }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Backoff")]
pub struct RawBackoff {
    /// The delay before the second restart in a row (`"0ms"` to `"1h"`, default `"100ms"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<Duration>,
    /// The longest restart delay (`"0ms"` to `"1h"`, default `"5s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Duration>,
}

/// `log = { max_size = "10M", max_files = 5, timestamps = true, format = "text" }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Log")]
pub struct RawLog {
    /// Rotate a log file when it reaches this size (`"1K"` to `"1T"`, default `"10M"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<Size>,
    /// How many rotated files to keep, 1 to 1000 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_files: Option<u32>,
    /// Prefix each line with the time it was read (default true: what puts stdout and stderr in one
    /// order and lets `velos logs --since` select lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamps: Option<bool>,
    /// `"text"` (default): lines as the app wrote them; `"json"`: one JSON object per line,
    /// `{"ts", "stream", "body"}` (body JSON-escaped, invalid UTF-8 as U+FFFD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["text", "json"]))]
    pub format: Option<String>,
}

/// An environment value. Numbers and booleans are written as text (`8080` → `"8080"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvValue {
    String(String),
    Integer(i64),
    Boolean(bool),
}

impl EnvValue {
    /// The text the program sees.
    pub fn to_text(&self) -> String {
        match self {
            EnvValue::String(text) => text.clone(),
            EnvValue::Integer(number) => number.to_string(),
            EnvValue::Boolean(flag) => flag.to_string(),
        }
    }
}

impl JsonSchema for EnvValue {
    fn schema_name() -> Cow<'static, str> {
        "EnvValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An environment value; numbers and booleans are passed as text.",
            "type": ["string", "integer", "boolean"]
        })
    }
}

/// A duration: a whole number and a unit (`ms`, `s`, `m`, `h`, `d`), several largest first: `"1m30s"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(pub String);

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: a whole number and a unit (ms, s, m, h, d), several largest first.",
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h|d))+$",
            "examples": ["250ms", "5s", "2m", "1m30s", "1h"]
        })
    }
}

/// A size in bytes: a number, or a number and a binary unit (`"512K"`, `"512M"`, `"1G"`, also `KiB`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: bytes, or a whole number and a binary unit (K = 1024): \"512K\", \"512M\", \"1G\", \"1GiB\".",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^[0-9]+ ?([KkMmGgTt]([Ii]?[Bb])?|[Bb])?$" }
            ],
            "examples": ["512M", "1G", "64KiB"]
        })
    }
}

/// A signal: a name (`"SIGTERM"`, `"TERM"`, any case) or a number from 1 to 31.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Signal {
    Number(i64),
    Name(String),
}

impl JsonSchema for Signal {
    fn schema_name() -> Cow<'static, str> {
        "Signal".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A signal: a name (\"SIGTERM\", \"TERM\", any case) or a number from 1 to 31.",
            "anyOf": [
                { "type": "integer", "minimum": 1, "maximum": crate::units::SIGNAL_NUMBER_MAX },
                { "type": "string", "pattern": "^([Ss][Ii][Gg])?[A-Za-z][A-Za-z0-9]*$|^[0-9]+$" }
            ],
            "examples": ["SIGTERM", "SIGINT", "SIGQUIT"]
        })
    }
}

/// The JSON Schema of velos.toml (draft 2020-12), pretty-printed, ending with a newline.
pub fn json_schema() -> String {
    let mut generator =
        SchemaGenerator::new(schemars::generate::SchemaSettings::draft2020_12().with(|settings| {
            // TOML has no null: an absent key is how a value is left out.
            settings.transforms.push(Box::new(schemars::transform::RecursiveTransform(remove_null)));
        }));
    let schema = generator.root_schema_for::<RawFile>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn remove_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else { return };
    if let Some(serde_json::Value::Array(types)) = object.get_mut("type") {
        types.retain(|kind| kind != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(serde_json::Value::Array(values)) = object.get_mut("enum") {
        values.retain(|value| !value.is_null());
    }
    if let Some(serde_json::Value::Array(choices)) = object.get_mut("anyOf") {
        choices.retain(|choice| choice.get("type").and_then(serde_json::Value::as_str) != Some("null"));
        if let [only] = choices.as_slice() {
            let only = only.clone();
            object.remove("anyOf");
            if let Some(fields) = only.as_object() {
                for (key, value) in fields {
                    object.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
}
