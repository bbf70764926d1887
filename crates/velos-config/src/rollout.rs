//! How a change reaches the processes (docs/CONFIG.md, "Rollouts"): an app's `rollout` table says how its
//! instances are replaced (`strategy`, `max_unavailable`), `[project] on_failure` what happens when a
//! rollout does not become ready.
//!
//! Resolved apart from the spec on purpose: nothing here reaches an [`velos_core::AppSpec`], so changing
//! how an app rolls never restarts it.
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::resolve::Context;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `max_unavailable` when the file sets none: one instance at a time.
pub const MAX_UNAVAILABLE_DEFAULT: u32 = 1;
/// The highest `max_unavailable` (the most instances an app can have).
pub const MAX_UNAVAILABLE_MAX: u32 = crate::raw::INSTANCES_MAX;

/// `rollout = { strategy = "start-first", max_unavailable = 1 }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rollout")]
pub struct RawRollout {
    /// `"stop-first"` (default): stop an instance, then start its new version. `"start-first"`: start the
    /// new version beside the old one, wait until it is ready, then stop the old one (for apps that can
    /// share their port, e.g. with SO_REUSEPORT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["stop-first", "start-first"]))]
    pub strategy: Option<String>,
    /// How many instances are replaced at once; each batch must be ready before the next starts (1 to
    /// 100, default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = MAX_UNAVAILABLE_MAX))]
    pub max_unavailable: Option<u32>,
}

/// Which process of an instance runs first during a replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The old process is stopped, then the new one started: a moment without the instance.
    #[default]
    StopFirst,
    /// The new process starts beside the old one and must be ready before the old one stops.
    StartFirst,
}

impl Strategy {
    pub const ALL: [Strategy; 2] = [Strategy::StopFirst, Strategy::StartFirst];

    /// The word written in velos.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::StopFirst => "stop-first",
            Strategy::StartFirst => "start-first",
        }
    }
}

/// An app's `rollout`, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Rollout {
    pub strategy: Strategy,
    /// Instances replaced at once (at least 1).
    pub max_unavailable: u32,
}

impl Default for Rollout {
    fn default() -> Rollout {
        Rollout { strategy: Strategy::default(), max_unavailable: MAX_UNAVAILABLE_DEFAULT }
    }
}

/// `[project] on_failure`: what apply does when what it started does not become ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Leave everything as it is and report it (apply exits 1, status says what is not ready).
    #[default]
    Report,
    /// Re-apply the last revision of the project that became ready.
    Rollback,
    /// Stop the apps that did not become ready.
    Stop,
}

impl OnFailure {
    /// The words a file may write (the default, `report`, is the key left out).
    pub const WRITTEN: [OnFailure; 2] = [OnFailure::Rollback, OnFailure::Stop];

    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Report => "report",
            OnFailure::Rollback => "rollback",
            OnFailure::Stop => "stop",
        }
    }
}

/// Resolves `[apps.APP] rollout` (absent: the default), adding a diagnostic for each bad value.
pub(crate) fn resolve_rollout(
    app: &str,
    raw: Option<&RawRollout>,
    context: &Context<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Rollout {
    let Some(raw) = raw else { return Rollout::default() };
    let mut rollout = Rollout::default();
    if let Some(word) = &raw.strategy {
        let path = ["apps", app, "rollout", "strategy"];
        let choices = Strategy::ALL.map(|strategy| (strategy.as_str(), strategy));
        if let Some(strategy) = word_of(&path, "rollout.strategy", word, &choices, context, diagnostics) {
            rollout.strategy = strategy;
        }
    }
    // Its range (1 to MAX_UNAVAILABLE_MAX) is checked with the file's shape, before resolving.
    rollout.max_unavailable = raw.max_unavailable.unwrap_or(MAX_UNAVAILABLE_DEFAULT);
    rollout
}

/// Resolves `[project] on_failure` (absent: [`OnFailure::Report`]).
pub(crate) fn resolve_on_failure(
    word: Option<&str>,
    context: &Context<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> OnFailure {
    let Some(word) = word else { return OnFailure::Report };
    let choices = OnFailure::WRITTEN.map(|choice| (choice.as_str(), choice));
    word_of(&["project", "on_failure"], "on_failure", word, &choices, context, diagnostics)
        .unwrap_or_default()
}

/// One of `choices`, or a diagnostic at the value with a "did you mean".
fn word_of<T: Copy>(
    path: &[&str],
    key: &str,
    word: &str,
    choices: &[(&str, T)],
    context: &Context<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    if let Some((_, value)) = choices.iter().find(|(choice, _)| *choice == word) {
        return Some(*value);
    }
    let names: Vec<&str> = choices.iter().map(|(choice, _)| *choice).collect();
    let normalized = word.to_ascii_lowercase().replace('_', "-");
    let help = did_you_mean(&normalized, names.iter().copied())
        .map(|suggestion| format!("did you mean `{suggestion}`?"))
        .unwrap_or_else(|| format!("expected one of: {}", names.join(", ")));
    let span = context.spans.value(path);
    diagnostics.push(context.map.diagnostic(span, format!("invalid `{key}` {word:?}"), Some(help)));
    None
}
