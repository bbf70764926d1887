//! Field-by-field differences between what runs and what the file asks for, in the words of velos.toml
//! (`kill_timeout: 5s → 10s`, not `kill_timeout_ms: 5000 → 10000`), with secret-looking env values masked.
//!
//! Also the interim label contract for the settings that change without a restart (see [`labels`]).
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use velos_config::{CheckUse, DesiredApp, InPlace, WatchSpec};
use velos_core::AppSpec;

/// One field that differs, old → new. `None` means "not set" (an env key added or removed, a limit unset):
/// `null` in JSON, `(none)` when rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FieldChange {
    /// The velos.toml name of the field: `command`, `args`, `cwd`, `env.KEY`, `restart`, `max_restarts`,
    /// `restart_window`, `backoff.initial`, `backoff.max`, `min_uptime`, `kill_signal`, `kill_timeout`;
    /// in place: `max_memory`, `log.max_size`, `log.max_files`, `log.timestamps`, `log.format`. `spec_hash` when the
    /// hashes differ but no field does (a spec written by another hashing version).
    pub field: String,
    /// The value as rendered (`8080`, `5s`, `512M`, `["-m", "http.server"]`), or `***` for a secret.
    pub old: Option<String>,
    pub new: Option<String>,
    /// Whether the rendered form quotes the values (strings: command, cwd, unmasked env values).
    #[serde(skip)]
    pub quoted: bool,
}

impl FieldChange {
    fn new(field: impl Into<String>, old: Option<String>, new: Option<String>) -> FieldChange {
        FieldChange { field: field.into(), old, new, quoted: false }
    }

    fn quoted(mut self) -> FieldChange {
        self.quoted = true;
        self
    }
}

/// Shown instead of the value of an env key that looks secret.
pub const MASK: &str = "***";

/// Whether the value of env key `key` is masked: its name contains TOKEN, SECRET, PASSWORD or KEY, in any
/// case. Broad on purpose (`MONKEY` is masked too): showing a secret in a plan, a CI log or the history is
/// worse than hiding a harmless value. Values are still compared for real.
pub fn is_secret_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "KEY"].iter().any(|word| upper.contains(word))
}

/// The changes between the spec that runs (`old`) and the wanted one (`new`), in velos.toml order.
/// Never empty when the two hashes differ: if no field differs, the hashes themselves are the change.
pub fn spec_changes(old: &AppSpec, new: &AppSpec) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    if old.command != new.command {
        changes
            .push(FieldChange::new("command", Some(old.command.clone()), Some(new.command.clone())).quoted());
    }
    if old.args != new.args {
        changes.push(FieldChange::new(
            "args",
            Some(format!("{:?}", old.args)),
            Some(format!("{:?}", new.args)),
        ));
    }
    if old.cwd != new.cwd {
        changes.push(FieldChange::new("cwd", Some(old.cwd.clone()), Some(new.cwd.clone())).quoted());
    }
    env_changes(&old.env, &new.env, &mut changes);
    let mut push = |field: &str, old: String, new: String| {
        if old != new {
            changes.push(FieldChange::new(field, Some(old), Some(new)));
        }
    };
    push("restart", old.restart.to_string(), new.restart.to_string());
    push("max_restarts", old.max_restarts.to_string(), new.max_restarts.to_string());
    push("restart_window", duration_ms(old.restart_window_ms), duration_ms(new.restart_window_ms));
    push("backoff.initial", duration_ms(old.backoff_initial_ms), duration_ms(new.backoff_initial_ms));
    push("backoff.max", duration_ms(old.backoff_max_ms), duration_ms(new.backoff_max_ms));
    push("min_uptime", duration_ms(old.min_uptime_ms), duration_ms(new.min_uptime_ms));
    push("kill_signal", signal(old.kill_signal), signal(new.kill_signal));
    push("kill_timeout", duration_ms(old.kill_timeout_ms), duration_ms(new.kill_timeout_ms));
    if changes.is_empty() {
        changes.push(FieldChange::new("spec_hash", Some(old.spec_hash.clone()), Some(new.spec_hash.clone())));
    }
    changes
}

/// One change per env key added, removed or changed, by key; then, if the same entries come in another
/// order (the order is visible to the program, so it is part of the hash), `env (order)`.
fn env_changes(old: &[String], new: &[String], changes: &mut Vec<FieldChange>) {
    let old_map = env_map(old);
    let new_map = env_map(new);
    let keys: std::collections::BTreeSet<&str> = old_map.keys().chain(new_map.keys()).copied().collect();
    let before = changes.len();
    for key in keys {
        let (old_value, new_value) = (old_map.get(key), new_map.get(key));
        if old_value == new_value {
            continue;
        }
        let field = format!("env.{key}");
        if is_secret_key(key) {
            let mask = |value: Option<&&str>| value.map(|_| MASK.to_string());
            changes.push(FieldChange::new(field, mask(old_value), mask(new_value)));
        } else {
            let text = |value: Option<&&str>| value.map(|value| value.to_string());
            changes.push(FieldChange::new(field, text(old_value), text(new_value)).quoted());
        }
    }
    if changes.len() == before && old != new {
        let order = |entries: &[String]| {
            let keys: Vec<&str> = entries.iter().map(|entry| env_entry(entry).0).collect();
            keys.join(", ")
        };
        changes.push(FieldChange::new("env (order)", Some(order(old)), Some(order(new))));
    }
}

fn env_map(entries: &[String]) -> BTreeMap<&str, &str> {
    entries.iter().map(|entry| env_entry(entry)).collect()
}

/// `KEY=VALUE` split at the first `=`; an entry without one is a key with an empty value.
fn env_entry(entry: &str) -> (&str, &str) {
    entry.split_once('=').unwrap_or((entry, ""))
}

/// The changes between the in-place settings that run and the wanted ones.
pub fn in_place_changes(old: &InPlace, new: &InPlace) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut push = |field: &str, old: Option<String>, new: Option<String>| {
        if old != new {
            changes.push(FieldChange::new(field, old, new));
        }
    };
    push("max_memory", old.max_memory_bytes.map(size), new.max_memory_bytes.map(size));
    push("log.max_size", old.log_max_size_bytes.map(size), new.log_max_size_bytes.map(size));
    push("log.max_files", old.log_max_files.map(|n| n.to_string()), new.log_max_files.map(|n| n.to_string()));
    push("log.timestamps", Some(old.log_timestamps.to_string()), Some(new.log_timestamps.to_string()));
    push("log.format", Some(old.log_format.to_string()), Some(new.log_format.to_string()));
    push("cron_restart", old.cron_restart.clone(), new.cron_restart.clone());
    push("watch", old.watch.as_ref().map(watch_text), new.watch.as_ref().map(watch_text));
    push(
        "readiness",
        summary(&old.readiness, CheckUse::Readiness),
        summary(&new.readiness, CheckUse::Readiness),
    );
    push("liveness", summary(&old.liveness, CheckUse::Liveness), summary(&new.liveness, CheckUse::Liveness));
    changes
}

/// `src, lib (ignore *.log; 500ms)`: a watch as a plan line shows it.
fn watch_text(watch: &velos_schedule::WatchSpec) -> String {
    let mut text = watch.paths.join(", ");
    if !watch.ignore.is_empty() {
        text.push_str(&format!(" (ignore {}; {})", watch.ignore.join(", "), duration_ms(watch.debounce_ms)));
    } else {
        text.push_str(&format!(" ({})", duration_ms(watch.debounce_ms)));
    }
    text
}

/// A check as a plan shows it: `http http://127.0.0.1:8000/health every 500ms`.
fn summary(check: &Option<velos_config::Check>, purpose: CheckUse) -> Option<String> {
    check.as_ref().map(|check| check.summary(purpose))
}

// The one formatter of durations, sizes and signals is velos-config's: what it writes, velos.toml reads.
pub use velos_config::human::{
    format_duration_ms as duration_ms, format_signal as signal, format_size as size,
};

/// The labels Velos keeps on each process, beyond the `project`, `app`, `instance` and `source_rev` that
/// velos-config sets.
///
/// **Interim contract.** The daemon has no op yet to change a setting without a restart, and does not know
/// `max_memory` or log rotation at all. Until it does, the reconciler records the in-place settings it last
/// applied as labels (decimal strings; a label is absent when the setting is unset, `log_timestamps` is
/// `"true"` or absent) and reads them back from the live record to decide an [`crate::ActionKind::UpdateInPlace`].
/// Labels are not part of the spec hash, so writing them never causes a replace. When the daemon grows the
/// op and reports the settings in the record, [`live_in_place`] is the one place to change.
///
/// `velos.depends_on` records the `[apps.NAME]` keys an app depends on (comma-separated, sorted), so that an
/// app removed from the file can still be stopped in reverse dependency order: the file no longer says.
///
/// `velos.cron_restart` (the expression) and `velos.watch` (compact JSON) carry the schedules the controller
/// runs (velos-schedule): it learns every app's from one LIST, and the daemon stores them unread.
pub mod labels {
    pub const PROJECT: &str = "project";
    pub const APP: &str = "app";
    pub const DEPENDS_ON: &str = "velos.depends_on";
    /// Longest label value the daemon accepts (bytes); a longer `velos.depends_on` is left out.
    pub const VALUE_BYTES_MAX: usize = 4096;
}

/// The in-place settings of a spec as the daemon stores them (`max_memory_bytes`, `log_*`: fields it
/// changes without a restart), in velos.toml terms: 0 means unset.
pub fn live_in_place(spec: &AppSpec) -> InPlace {
    InPlace {
        max_memory_bytes: (spec.max_memory_bytes > 0).then_some(spec.max_memory_bytes),
        log_max_size_bytes: (spec.log_max_size_bytes != velos_core::LOG_MAX_SIZE_BYTES_DEFAULT)
            .then_some(spec.log_max_size_bytes),
        log_max_files: (spec.log_max_files != velos_core::LOG_MAX_FILES_DEFAULT)
            .then_some(spec.log_max_files),
        log_timestamps: spec.log_timestamps,
        log_format: spec.log_format,
        cron_restart: spec.labels.get(velos_schedule::CRON_LABEL).cloned(),
        watch: spec.labels.get(velos_schedule::WATCH_LABEL).and_then(|text| WatchSpec::from_label(text)),
        readiness: velos_health::check::from_labels(&spec.labels, CheckUse::Readiness),
        liveness: velos_health::check::from_labels(&spec.labels, CheckUse::Liveness),
    }
}

/// `desired` as the daemon will store it: [`live_in_place`] of what we send, so that "unset" and "the
/// default, written out" compare equal and never make a spurious in-place update.
pub fn desired_in_place(desired: &InPlace) -> InPlace {
    let mut spec = AppSpec::new("", "", "");
    set_in_place(&mut spec, desired);
    live_in_place(&spec)
}

fn set_in_place(spec: &mut AppSpec, in_place: &InPlace) {
    spec.max_memory_bytes = in_place.max_memory_bytes.unwrap_or(0);
    spec.log_max_size_bytes = in_place.log_max_size_bytes.unwrap_or(velos_core::LOG_MAX_SIZE_BYTES_DEFAULT);
    spec.log_max_files = in_place.log_max_files.unwrap_or(velos_core::LOG_MAX_FILES_DEFAULT);
    spec.log_timestamps = in_place.log_timestamps;
    spec.log_format = in_place.log_format;
    let mut label = |key: &str, value: Option<String>| match value {
        Some(value) => spec.labels.insert(key.to_string(), value),
        None => spec.labels.remove(key),
    };
    label(velos_schedule::CRON_LABEL, in_place.cron_restart.clone());
    label(velos_schedule::WATCH_LABEL, in_place.watch.as_ref().map(WatchSpec::to_label));
    // Checks ride as labels: every Rust process learns them from one LIST; the daemon stores them blindly.
    for (purpose, check) in
        [(CheckUse::Readiness, &in_place.readiness), (CheckUse::Liveness, &in_place.liveness)]
    {
        match check {
            Some(check) => spec.labels.insert(purpose.label().to_string(), check.to_label()),
            None => spec.labels.remove(purpose.label()),
        };
    }
}

/// The spec to send for `desired`: its spec with the hash computed, its in-place settings, and the
/// dependency label added. `depends_on_apps` are the `[apps.NAME]` keys it depends on.
pub fn spec_to_send(desired: &DesiredApp, depends_on_apps: &[&str]) -> AppSpec {
    let mut spec = desired.spec.clone();
    spec.spec_hash = spec.compute_hash();
    set_in_place(&mut spec, &desired.in_place);
    let depends_on = depends_on_apps.join(",");
    if !depends_on.is_empty() && depends_on.len() <= labels::VALUE_BYTES_MAX {
        spec.labels.insert(labels::DEPENDS_ON.to_string(), depends_on);
    } else {
        spec.labels.remove(labels::DEPENDS_ON);
    }
    spec
}

/// The `[apps.NAME]` keys recorded in a live spec's `velos.depends_on` label.
pub fn live_depends_on(spec: &AppSpec) -> Vec<&str> {
    spec.labels
        .get(labels::DEPENDS_ON)
        .map(|text| text.split(',').filter(|name| !name.is_empty()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_file() {
        assert_eq!(duration_ms(0), "0s");
        assert_eq!(duration_ms(250), "250ms");
        assert_eq!(duration_ms(5_000), "5s");
        assert_eq!(duration_ms(90_000), "1m30s");
        assert_eq!(duration_ms(3_600_000), "1h");
        assert_eq!(duration_ms(86_400_000 + 1), "1d1ms");
    }

    #[test]
    fn sizes_use_the_largest_exact_unit() {
        assert_eq!(size(512 << 20), "512M");
        assert_eq!(size(1 << 30), "1G");
        assert_eq!(size(64 << 10), "64K");
        assert_eq!(size(1536), "1536B");
        assert_eq!(size(1000), "1000B");
        assert_eq!(size(0), "0B");
    }

    #[test]
    fn secrets_are_recognised_in_any_case() {
        for key in ["API_TOKEN", "db_password", "Secret", "AWS_ACCESS_KEY_ID", "keyring"] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["PORT", "PATH", "HOME"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn env_changes_are_per_key_and_masked() {
        let old = vec!["A=1".to_string(), "API_TOKEN=abc".to_string(), "GONE=x".to_string()];
        let new = vec!["A=2".to_string(), "API_TOKEN=abd".to_string(), "NEW=y".to_string()];
        let mut changes = Vec::new();
        env_changes(&old, &new, &mut changes);
        let flat: Vec<_> =
            changes.iter().map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref())).collect();
        assert_eq!(
            flat,
            [
                ("env.A", Some("1"), Some("2")),
                ("env.API_TOKEN", Some(MASK), Some(MASK)),
                ("env.GONE", Some("x"), None),
                ("env.NEW", None, Some("y")),
            ]
        );
        assert!(!changes.iter().any(|c| format!("{c:?}").contains("abc")), "a secret leaked");
    }

    #[test]
    fn env_order_alone_is_a_change() {
        let old = vec!["A=1".to_string(), "B=2".to_string()];
        let new = vec!["B=2".to_string(), "A=1".to_string()];
        let mut changes = Vec::new();
        env_changes(&old, &new, &mut changes);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "env (order)");
    }

    #[test]
    fn identical_fields_with_different_hashes_show_the_hashes() {
        let mut old = AppSpec::new("web", "/bin/sleep", "/");
        old.spec_hash = "0000000000000000".into();
        let new = AppSpec::new("web", "/bin/sleep", "/").with_computed_hash();
        let changes = spec_changes(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "spec_hash");
    }

    #[test]
    fn in_place_settings_round_trip() {
        let in_place = InPlace {
            max_memory_bytes: Some(256 << 20),
            log_max_size_bytes: None,
            log_max_files: Some(5),
            log_timestamps: true,
            log_format: velos_config::LogFormat::Json,
            readiness: Some(velos_config::Check::new(
                velos_config::Probe::Tcp { address: "127.0.0.1:80".into() },
                CheckUse::Readiness,
            )),
            ..InPlace::default()
        };
        let desired = DesiredApp {
            spec: AppSpec::new("web", "/bin/sleep", "/"),
            app: "web".into(),
            instance: 0,
            state: velos_config::DesiredState::Running,
            depends_on: vec![],
            conditions: Default::default(),
            in_place: in_place.clone(),
            rollout: velos_config::Rollout::default(),
        };
        let spec = spec_to_send(&desired, &["db"]);
        // `log_max_files = 5` written out is the default: it reads back as unset, on both sides.
        assert_eq!(live_in_place(&spec), desired_in_place(&in_place));
        assert_eq!(live_in_place(&spec).log_max_files, None);
        assert_eq!(spec.max_memory_bytes, 268_435_456);
        assert!(spec.log_timestamps);
        assert_eq!(spec.log_format, velos_config::LogFormat::Json);
        assert_eq!(live_depends_on(&spec), ["db"]);
        assert!(spec.labels["velos.readiness"].contains("127.0.0.1:80"));
        assert_eq!(live_in_place(&spec).readiness, in_place.readiness);
        let changes = in_place_changes(&live_in_place(&spec), &InPlace::default());
        let readiness = changes.iter().find(|change| change.field == "readiness").expect("a change");
        assert_eq!(readiness.old.as_deref(), Some("tcp 127.0.0.1:80"));
        assert_eq!(readiness.new, None);
        let format = changes.iter().find(|change| change.field == "log.format").expect("a change");
        assert_eq!((format.old.as_deref(), format.new.as_deref()), (Some("json"), Some("text")));
        assert_eq!(spec.spec_hash, spec.compute_hash());
    }

    #[test]
    fn schedules_travel_as_labels_and_compare_in_place() {
        let watch =
            WatchSpec { paths: vec!["/srv/app/src".into()], ignore: vec!["*.log".into()], debounce_ms: 500 };
        let in_place = InPlace {
            cron_restart: Some("0 3 * * *".into()),
            watch: Some(watch.clone()),
            ..InPlace::default()
        };
        let mut desired = DesiredApp {
            spec: AppSpec::new("web", "/bin/sleep", "/"),
            app: "web".into(),
            instance: 0,
            state: velos_config::DesiredState::Running,
            depends_on: vec![],
            conditions: Default::default(),
            in_place: in_place.clone(),
            rollout: Default::default(),
        };
        let spec = spec_to_send(&desired, &[]);
        assert_eq!(spec.labels[velos_schedule::CRON_LABEL], "0 3 * * *");
        assert_eq!(WatchSpec::from_label(&spec.labels[velos_schedule::WATCH_LABEL]), Some(watch));
        assert_eq!(live_in_place(&spec), desired_in_place(&in_place));
        // Removing both takes the labels off, and the plan sees two in-place changes.
        desired.in_place = InPlace::default();
        let cleared = spec_to_send(&desired, &[]);
        assert!(!cleared.labels.contains_key(velos_schedule::CRON_LABEL));
        assert!(!cleared.labels.contains_key(velos_schedule::WATCH_LABEL));
        let changes = in_place_changes(&live_in_place(&spec), &live_in_place(&cleared));
        let fields: Vec<&str> = changes.iter().map(|change| change.field.as_str()).collect();
        assert_eq!(fields, ["cron_restart", "watch"]);
        assert_eq!(changes[1].old.as_deref(), Some("/srv/app/src (ignore *.log; 500ms)"));
        assert_eq!(spec.spec_hash, cleared.spec_hash);
    }
}
