//! The app spec: what a client asks the daemon to run (args of `PROCESS_START`, docs/PROTOCOL.md "App spec").
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When the daemon restarts a program that exited on its own.
///
/// Deserialized through a string (not serde's enum model) so it reads the same from any self-describing
/// format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", try_from = "String")]
pub enum RestartPolicy {
    Always,
    /// Exit code ≠ 0 or killed by a signal.
    #[default]
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub const ALL: [RestartPolicy; 3] =
        [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never];

    /// The wire name (`always`, `on-failure`, `never`).
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "never",
        }
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl TryFrom<String> for RestartPolicy {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl std::str::FromStr for RestartPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RestartPolicy::ALL
            .into_iter()
            .find(|policy| policy.as_str() == text)
            .ok_or_else(|| format!("unknown restart policy {text:?} (expected always, on-failure or never)"))
    }
}

/// How the daemon writes an app's log files (`log_format`): plain text, or one JSON object per line
/// (`{"ts","stream","body"}`, docs/LOGS.md). Deserialized through a string, as [`RestartPolicy`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub const ALL: [LogFormat; 2] = [LogFormat::Text, LogFormat::Json];

    /// The wire and config name (`text`, `json`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl TryFrom<String> for LogFormat {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        LogFormat::ALL
            .into_iter()
            .find(|format| format.as_str() == text)
            .ok_or_else(|| format!("unknown log format {text:?} (expected text or json)"))
    }
}

pub const MAX_RESTARTS_DEFAULT: u32 = 10;
pub const RESTART_WINDOW_MS_DEFAULT: u64 = 60_000;
pub const BACKOFF_INITIAL_MS_DEFAULT: u64 = 100;
pub const BACKOFF_MAX_MS_DEFAULT: u64 = 5_000;
pub const MIN_UPTIME_MS_DEFAULT: u64 = 1_000;
pub const KILL_SIGNAL_DEFAULT: u8 = 15;
pub const KILL_TIMEOUT_MS_DEFAULT: u64 = 5_000;
/// A log file is rotated past this size when `log_max_size_bytes` is not given: rotation is on by default.
pub const LOG_MAX_SIZE_BYTES_DEFAULT: u64 = 10 << 20;
/// Rotated log files kept per stream when `log_max_files` is not given.
pub const LOG_MAX_FILES_DEFAULT: u32 = 5;
/// Longest app name the daemon accepts.
pub const NAME_LENGTH_MAX: usize = 64;

/// One app as the daemon runs it. Field order is the wire key order (the golden frames check it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppSpec {
    /// Unique on the host; see [`validate_name`].
    pub name: String,
    /// The program: without a `/` it is looked up in the `PATH` of `env`, with one relative to `cwd`.
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Absolute directory the program runs in.
    pub cwd: String,
    /// `KEY=VALUE` entries: the whole environment of the program.
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub restart: RestartPolicy,
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u32,
    #[serde(default = "default_restart_window_ms")]
    pub restart_window_ms: u64,
    #[serde(default = "default_backoff_initial_ms")]
    pub backoff_initial_ms: u64,
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
    #[serde(default = "default_min_uptime_ms")]
    pub min_uptime_ms: u64,
    #[serde(default = "default_kill_signal")]
    pub kill_signal: u8,
    #[serde(default = "default_kill_timeout_ms")]
    pub kill_timeout_ms: u64,
    /// Opaque to the daemon: [`AppSpec::compute_hash`] of this spec, set by the Rust side.
    #[serde(default)]
    pub spec_hash: String,
    /// Opaque to the daemon (`project`, `app`, `instance`, `source_rev`). Changing them alone updates the
    /// app in place, without a restart.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    // The in-place keys: changing them (and `labels`) alone updates the app without a restart. Each is left
    // out of the encoding while it has its default, so a spec without them encodes as before they existed.
    /// Resident bytes of the main process above which the daemon restarts it; 0 = no limit.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub max_memory_bytes: u64,
    /// A log file that grows past this is rotated (default 10 MiB); 0 = never rotate.
    #[serde(default = "default_log_max_size_bytes", skip_serializing_if = "is_default_log_max_size_bytes")]
    pub log_max_size_bytes: u64,
    /// Rotated files kept (`NAME-out.log.GENERATION`, the newest `log_max_files`), 1 to 1000.
    #[serde(default = "default_log_max_files", skip_serializing_if = "is_default_log_max_files")]
    pub log_max_files: u32,
    /// Each line written to the log file starts with an RFC 3339 UTC timestamp (milliseconds) and a space.
    #[serde(default, skip_serializing_if = "is_false")]
    pub log_timestamps: bool,
    /// Plain text, or one JSON object per line; omitted while text.
    #[serde(default, skip_serializing_if = "is_text")]
    pub log_format: LogFormat,
}

/// The args of `PROCESS_START` with a full spec: the spec, then the request's own flags, in the wire's key
/// order (docs/PROTOCOL.md "App spec"). The flags are not part of what the daemon stores, so they are not
/// in [`AppSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartSpec {
    #[serde(flatten)]
    pub spec: AppSpec,
    /// If set, the current record's `spec_hash` must equal it (`""`: the app must not exist yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_hash: Option<String>,
    /// A spec differing in a restart-relevant field replaces the existing app's instead of failing with
    /// `exists`. Always written.
    #[serde(default)]
    pub replace: bool,
    /// `false` registers or updates the app without starting a process (a new app is created `stopped`, an
    /// existing one keeps its run state). Written only when `false`.
    #[serde(default = "default_autostart", skip_serializing_if = "is_true")]
    pub autostart: bool,
}

impl StartSpec {
    /// START `spec` as it is: no hash expected, no replace, started.
    pub fn plain(spec: AppSpec) -> StartSpec {
        StartSpec { spec, expected_hash: None, replace: false, autostart: true }
    }

    /// Creates the app: refused if it exists (`expected_hash: ""`).
    pub fn create(spec: AppSpec, autostart: bool) -> StartSpec {
        StartSpec { spec, expected_hash: Some(String::new()), replace: false, autostart }
    }
}

fn default_max_restarts() -> u32 {
    MAX_RESTARTS_DEFAULT
}
fn default_restart_window_ms() -> u64 {
    RESTART_WINDOW_MS_DEFAULT
}
fn default_backoff_initial_ms() -> u64 {
    BACKOFF_INITIAL_MS_DEFAULT
}
fn default_backoff_max_ms() -> u64 {
    BACKOFF_MAX_MS_DEFAULT
}
fn default_min_uptime_ms() -> u64 {
    MIN_UPTIME_MS_DEFAULT
}
fn default_kill_signal() -> u8 {
    KILL_SIGNAL_DEFAULT
}
fn default_kill_timeout_ms() -> u64 {
    KILL_TIMEOUT_MS_DEFAULT
}
fn default_log_max_size_bytes() -> u64 {
    LOG_MAX_SIZE_BYTES_DEFAULT
}
fn is_default_log_max_size_bytes(value: &u64) -> bool {
    *value == LOG_MAX_SIZE_BYTES_DEFAULT
}
fn default_log_max_files() -> u32 {
    LOG_MAX_FILES_DEFAULT
}
fn default_autostart() -> bool {
    true
}
// serde's `skip_serializing_if` passes a reference.
fn is_zero_u64(value: &u64) -> bool {
    *value == 0
}
fn is_default_log_max_files(value: &u32) -> bool {
    *value == LOG_MAX_FILES_DEFAULT
}
fn is_text(format: &LogFormat) -> bool {
    *format == LogFormat::Text
}
fn is_false(value: &bool) -> bool {
    !*value
}
fn is_true(value: &bool) -> bool {
    *value
}

impl AppSpec {
    /// A spec with every optional field at its documented default.
    pub fn new(name: impl Into<String>, command: impl Into<String>, cwd: impl Into<String>) -> AppSpec {
        AppSpec {
            name: name.into(),
            command: command.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            restart: RestartPolicy::default(),
            max_restarts: MAX_RESTARTS_DEFAULT,
            restart_window_ms: RESTART_WINDOW_MS_DEFAULT,
            backoff_initial_ms: BACKOFF_INITIAL_MS_DEFAULT,
            backoff_max_ms: BACKOFF_MAX_MS_DEFAULT,
            min_uptime_ms: MIN_UPTIME_MS_DEFAULT,
            kill_signal: KILL_SIGNAL_DEFAULT,
            kill_timeout_ms: KILL_TIMEOUT_MS_DEFAULT,
            spec_hash: String::new(),
            labels: BTreeMap::new(),
            max_memory_bytes: 0,
            log_max_size_bytes: LOG_MAX_SIZE_BYTES_DEFAULT,
            log_max_files: LOG_MAX_FILES_DEFAULT,
            log_timestamps: false,
            log_format: LogFormat::Text,
        }
    }

    /// A stable 16-hex-digit hash of the fields that only take effect on a restart: command, args, cwd,
    /// env, the restart policy and its limits, the kill settings. Not the name (it is the identity), nor
    /// `labels` and the in-place keys (`max_memory_bytes`, `log_max_size_bytes`, `log_max_files`,
    /// `log_timestamps`, `log_format`: the daemon updates them without a restart), nor `spec_hash`, `expected_hash`,
    /// `replace` or `autostart`.
    ///
    /// The hash is FNV-1a 64 over a canonical byte encoding (a version tag, then each field in a fixed order,
    /// strings and lists length-prefixed as u32 LE, numbers as u64 LE), so it does not depend on serde,
    /// MessagePack or the platform, and stays equal across releases. Changing the encoding changes every
    /// stored hash (every app would be seen as changed): bump the version tag and say so.
    /// `env` is hashed in the order given, because the order is visible to the program.
    pub fn compute_hash(&self) -> String {
        let mut hasher = Fnv1a64::new();
        hasher.bytes(b"velos-spec-v1");
        hasher.str(&self.command);
        hasher.strs(&self.args);
        hasher.str(&self.cwd);
        hasher.strs(&self.env);
        hasher.str(self.restart.as_str());
        hasher.u64(u64::from(self.max_restarts));
        hasher.u64(self.restart_window_ms);
        hasher.u64(self.backoff_initial_ms);
        hasher.u64(self.backoff_max_ms);
        hasher.u64(self.min_uptime_ms);
        hasher.u64(u64::from(self.kill_signal));
        hasher.u64(self.kill_timeout_ms);
        format!("{:016x}", hasher.finish())
    }

    /// Sets `spec_hash` to [`AppSpec::compute_hash`] and returns the spec.
    pub fn with_computed_hash(mut self) -> AppSpec {
        self.spec_hash = self.compute_hash();
        self
    }
}

/// FNV-1a, 64 bits (http://www.isthe.com/chongo/tech/comp/fnv/).
struct Fnv1a64(u64);

impl Fnv1a64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Fnv1a64(Self::OFFSET_BASIS)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn len(&mut self, length: usize) {
        // Lengths are bounded by the 16 MiB frame limit; saturate rather than wrap on absurd inputs.
        self.bytes(&u32::try_from(length).unwrap_or(u32::MAX).to_le_bytes());
    }

    fn str(&mut self, text: &str) {
        self.len(text.len());
        self.bytes(text.as_bytes());
    }

    fn strs(&mut self, texts: &[String]) {
        self.len(texts.len());
        for text in texts {
            self.str(text);
        }
    }

    fn u64(&mut self, value: u64) {
        self.bytes(&value.to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Why a name is not a valid app name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("an app name cannot be empty")]
    Empty,
    #[error("the app name {0:?} is longer than 64 characters")]
    TooLong(String),
    #[error("the app name {0:?} starts with '.'")]
    LeadingDot(String),
    #[error("the app name {name:?} contains {character:?} (allowed: letters, digits, '.', '_', '-')")]
    BadCharacter { name: String, character: char },
}

/// Checks the rule the daemon enforces: `[A-Za-z0-9._-]{1,64}`, not starting with `.`.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > NAME_LENGTH_MAX {
        return Err(NameError::TooLong(name.to_string()));
    }
    if name.starts_with('.') {
        return Err(NameError::LeadingDot(name.to_string()));
    }
    if let Some(character) =
        name.chars().find(|character| !(character.is_ascii_alphanumeric() || "._-".contains(*character)))
    {
        return Err(NameError::BadCharacter { name: name.to_string(), character });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AppSpec {
        let mut spec = AppSpec::new("web", "/usr/bin/python3", "/srv/web");
        spec.args = vec!["-m".into(), "http.server".into(), "8080".into()];
        spec.env = vec!["PATH=/usr/bin:/bin".into(), "PORT=8080".into()];
        spec
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        let hash = |bytes: &[u8]| {
            let mut hasher = Fnv1a64::new();
            hasher.bytes(bytes);
            hasher.finish()
        };
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn hash_is_stable_across_runs_and_releases() {
        // A literal: if this changes, every stored app looks changed to the reconciler.
        assert_eq!(sample().compute_hash(), "65f1990a331423ef");
        assert_eq!(sample().compute_hash().len(), 16);
    }

    #[test]
    fn hash_ignores_identity_and_metadata() {
        let base = sample().compute_hash();
        let mut other = sample();
        other.name = "web-2".into();
        other.labels.insert("project".into(), "shop".into());
        other.spec_hash = "0123456789abcdef".into();
        other.max_memory_bytes = 512 << 20;
        other.log_max_size_bytes = 20 << 20;
        other.log_max_files = 3;
        other.log_timestamps = true;
        other.log_format = LogFormat::Json;
        assert_eq!(other.compute_hash(), base);
    }

    fn keys(spec: &AppSpec) -> Vec<String> {
        let bytes = rmp_serde::to_vec_named(spec).expect("encodes");
        match rmpv::decode::read_value(&mut &bytes[..]).expect("decodes") {
            rmpv::Value::Map(entries) => {
                entries.into_iter().map(|(key, _)| key.as_str().expect("str key").to_string()).collect()
            }
            other => panic!("not a map: {other:?}"),
        }
    }

    fn start_keys(start: &StartSpec) -> Vec<String> {
        let bytes = rmp_serde::to_vec_named(start).expect("encodes");
        match rmpv::decode::read_value(&mut &bytes[..]).expect("decodes") {
            rmpv::Value::Map(entries) => {
                entries.into_iter().map(|(key, _)| key.as_str().expect("str key").to_string()).collect()
            }
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn in_place_keys_and_autostart_are_omitted_at_their_defaults() {
        let names = start_keys(&StartSpec::plain(sample()));
        assert_eq!(names.len(), 16, "{names:?}");
        assert_eq!(&names[14..], ["labels", "replace"]);
        assert_eq!(keys(&sample()).len(), 15, "a spec alone has no request flags");

        let mut changed = sample();
        changed.max_memory_bytes = 1;
        changed.log_max_size_bytes = 1;
        changed.log_max_files = 1;
        changed.log_timestamps = true;
        changed.log_format = LogFormat::Json;
        assert_eq!(
            &start_keys(&StartSpec::create(changed, false))[14..],
            [
                "labels",
                "max_memory_bytes",
                "log_max_size_bytes",
                "log_max_files",
                "log_timestamps",
                "log_format",
                "expected_hash",
                "replace",
                "autostart"
            ]
        );
    }

    #[test]
    fn missing_in_place_keys_and_autostart_decode_as_their_defaults() {
        let bytes = rmp_serde::to_vec_named(&StartSpec::plain(sample())).expect("encodes");
        let decoded: StartSpec = rmp_serde::from_slice(&bytes).expect("decodes");
        assert_eq!(decoded.spec, sample());
        assert_eq!(decoded.spec.max_memory_bytes, 0);
        assert_eq!(decoded.spec.log_max_size_bytes, LOG_MAX_SIZE_BYTES_DEFAULT);
        assert_eq!(decoded.spec.log_max_files, LOG_MAX_FILES_DEFAULT);
        assert!(!decoded.spec.log_timestamps);
        assert_eq!(decoded.spec.log_format, LogFormat::Text);
        assert!(decoded.autostart);
        let as_spec: AppSpec = rmp_serde::from_slice(&bytes).expect("a spec ignores the request's flags");
        assert_eq!(as_spec, sample());

        let mut changed = sample();
        changed.max_memory_bytes = u64::MAX;
        changed.log_max_files = 1000;
        changed.log_timestamps = true;
        changed.log_format = LogFormat::Json;
        let start = StartSpec::create(changed, false);
        let bytes = rmp_serde::to_vec_named(&start).expect("encodes");
        assert_eq!(rmp_serde::from_slice::<StartSpec>(&bytes).expect("decodes"), start);
    }

    #[test]
    fn hash_changes_with_every_restart_field() {
        let base = sample().compute_hash();
        let changes: [fn(&mut AppSpec); 12] = [
            |spec| spec.command.push('x'),
            |spec| spec.args.push(String::new()),
            |spec| spec.cwd.push('x'),
            |spec| spec.env.reverse(),
            |spec| spec.restart = RestartPolicy::Always,
            |spec| spec.max_restarts += 1,
            |spec| spec.restart_window_ms += 1,
            |spec| spec.backoff_initial_ms += 1,
            |spec| spec.backoff_max_ms += 1,
            |spec| spec.min_uptime_ms += 1,
            |spec| spec.kill_signal = 2,
            |spec| spec.kill_timeout_ms += 1,
        ];
        for (index, change) in changes.iter().enumerate() {
            let mut spec = sample();
            change(&mut spec);
            assert_ne!(spec.compute_hash(), base, "change #{index} must change the hash");
        }
    }

    #[test]
    fn hash_separates_field_boundaries() {
        let mut one = sample();
        one.args = vec!["ab".into(), "c".into()];
        let mut two = sample();
        two.args = vec!["a".into(), "bc".into()];
        assert_ne!(one.compute_hash(), two.compute_hash());
    }

    #[test]
    fn names_follow_the_daemon_rule() {
        for good in ["web", "app-001", "a.b_c", "X", &"a".repeat(64)] {
            assert_eq!(validate_name(good), Ok(()), "{good}");
        }
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert!(matches!(validate_name(&"a".repeat(65)), Err(NameError::TooLong(_))));
        assert!(matches!(validate_name(".hidden"), Err(NameError::LeadingDot(_))));
        assert!(matches!(validate_name("a b"), Err(NameError::BadCharacter { character: ' ', .. })));
        assert!(matches!(validate_name("a/b"), Err(NameError::BadCharacter { character: '/', .. })));
        assert!(matches!(validate_name("é"), Err(NameError::BadCharacter { .. })));
    }

    #[test]
    fn restart_policy_names() {
        for policy in RestartPolicy::ALL {
            assert_eq!(policy.as_str().parse::<RestartPolicy>(), Ok(policy));
        }
        assert!("sometimes".parse::<RestartPolicy>().is_err());
    }
}
