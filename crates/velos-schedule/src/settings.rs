//! What an app asks for, as the controller reads it from the app's labels: the interim in-place label
//! contract (velos-reconcile's `diff::labels`) carries `cron_restart` and `watch` from velos.toml to the
//! controller through one LIST, and the Zig core stores them without reading them.
use serde::{Deserialize, Serialize};

/// The label holding an app's `cron_restart` expression, as written.
pub const CRON_LABEL: &str = "velos.cron_restart";
/// The label holding an app's `watch` settings, as compact JSON ([`WatchSpec`]).
pub const WATCH_LABEL: &str = "velos.watch";
/// Longest label value the daemon stores (bytes): a `watch` must fit in it, checked by velos-config.
pub const LABEL_VALUE_BYTES_MAX: usize = 4096;
/// `watch.debounce` when not given.
pub const DEBOUNCE_MS_DEFAULT: u64 = 500;

/// `watch`, resolved: absolute paths, the ignore patterns as written, the quiet time before a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WatchSpec {
    /// Files or folders (watched recursively), absolute.
    pub paths: Vec<String>,
    /// Ignore patterns (see [`crate::IgnoreSet`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// A restart happens this long after the last change of a burst.
    pub debounce_ms: u64,
}

impl WatchSpec {
    /// The label value: compact JSON.
    pub fn to_label(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a label value; `None` when it is not one (written by another version, or by hand).
    pub fn from_label(text: &str) -> Option<WatchSpec> {
        serde_json::from_str(text).ok()
    }
}
