//! Plans and apply reports for people, in the manner of `terraform plan`:
//!
//! ```text
//! velos plan for project shop (file:3f9a0c1d…)
//!   ~ scale web: 2 → 3
//!   . stop cron
//!   - delete old-worker
//!   + create api
//!   ~ replace web-0
//!       env.PORT: "8080" → "8081"
//!   ~ update worker (in place)
//!       max_memory: 256M → 512M
//!   > start jobs
//! Plan: 1 to create, 1 to replace, 1 to update in place, 1 to start, 1 to stop, 1 to delete.
//! ```
//!
//! Plain text when `color` is false (no escape codes at all), so snapshots and pipes read the same.
use crate::apply::{ActionResult, ApplyReport, Outcome};
use crate::diff::FieldChange;
use crate::plan::{ActionKind, ActionType, Plan};
use std::fmt::Write as _;
use velos_config::DesiredState;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// The sigil and colour of each action type.
fn style(kind: ActionType) -> (&'static str, &'static str) {
    match kind {
        ActionType::Create => ("+", GREEN),
        ActionType::Replace => ("~", YELLOW),
        ActionType::UpdateInPlace => ("~", YELLOW),
        ActionType::Start => (">", GREEN),
        ActionType::Stop => (".", CYAN),
        ActionType::Delete => ("-", RED),
    }
}

/// A revision shortened for a title: `file:3f9a0c1d…` (kind and 8 hex digits).
pub fn short_revision(revision: &str) -> String {
    let (kind, digits) = revision.split_once(':').unwrap_or(("", revision));
    if digits.chars().count() <= 8 {
        return revision.to_string();
    }
    let short: String = digits.chars().take(8).collect();
    if kind.is_empty() {
        format!("{short}…")
    } else {
        format!("{kind}:{short}…")
    }
}

/// The plan as `velos plan` prints it; ends with a newline.
pub fn render(plan: &Plan, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    if plan.is_empty() {
        let apps = if plan.apps == 1 { "1 app".to_string() } else { format!("{} apps", plan.apps) };
        let _ = writeln!(out, "No changes: {} is in sync ({apps}).", plan.project);
        return out;
    }
    let title = format!("velos plan for project {} ({})", plan.project, short_revision(&plan.revision));
    let _ = writeln!(out, "{}", paint.paint(BOLD, &title));
    for scale in &plan.scale {
        let line = format!("~ scale {}: {} → {}", scale.app, scale.from, scale.to);
        let _ = writeln!(out, "  {}", paint.paint(YELLOW, &line));
    }
    for action in &plan.actions {
        let kind = action.kind.kind();
        let (sigil, code) = style(kind);
        let head = paint.paint(code, &format!("{sigil} {}", kind.verb()));
        let suffix = match &action.kind {
            ActionKind::Create { state: DesiredState::Stopped, .. }
            | ActionKind::Replace { state: DesiredState::Stopped, .. } => " (stopped)".to_string(),
            ActionKind::Replace { rollout: Some(rollout), .. } => {
                format!(" (rolling, {} at a time, {})", rollout.max_unavailable, rollout.strategy.as_str())
            }
            ActionKind::UpdateInPlace { .. } => " (in place)".to_string(),
            _ => String::new(),
        };
        let _ = writeln!(out, "  {head} {}{suffix}", action.name);
        if let ActionKind::Replace { changes, .. } | ActionKind::UpdateInPlace { changes, .. } = &action.kind
        {
            for change in changes {
                let _ = writeln!(out, "      {}", render_change(change, color));
            }
        }
    }
    let counts: Vec<String> = plan
        .counts()
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(kind, count)| match kind {
            ActionType::UpdateInPlace => format!("{count} to update in place"),
            other => format!("{count} to {}", other.verb()),
        })
        .collect();
    let _ = writeln!(out, "{}", paint.paint(BOLD, &format!("Plan: {}.", counts.join(", "))));
    out
}

/// `field: old → new`, strings quoted, unset shown as `(none)`, the old value dimmed in colour.
pub fn render_change(change: &FieldChange, color: bool) -> String {
    let value = |value: &Option<String>| match value {
        None => "(none)".to_string(),
        Some(text) if change.quoted => format!("{text:?}"),
        Some(text) => text.clone(),
    };
    let old = Paint { color }.paint(DIM, &value(&change.old));
    format!("{}: {old} → {}", change.field, value(&change.new))
}

/// An apply report as `velos apply` prints it after the actions ran; ends with a newline.
///
/// ```text
///   + create api: done
///   ~ replace web: failed: web was changed by someone else since the plan; re-run apply
///   > start worker: skipped: depends on web, which was not applied
/// Not running:
///   jobs: errored: spawn failed: ENOENT
/// Apply failed: 1 done, 1 failed, 1 skipped; 1 app not running.
/// ```
pub fn render_report(report: &ApplyReport, color: bool) -> String {
    let mut out: String = report.results.iter().map(|result| render_result(result, color)).collect();
    out.push_str(&render_summary(report, color));
    out
}

/// One line of a report, `  + create api: done`, as [`render_report`] prints it; ends with a newline. For
/// a progress display that prints each action as it ends, then [`render_summary`].
pub fn render_result(result: &ActionResult, color: bool) -> String {
    let paint = Paint { color };
    let ActionResult { name, action, outcome } = result;
    let (sigil, code) = style(*action);
    let head = paint.paint(code, &format!("{sigil} {}", action.verb()));
    let outcome = match outcome {
        Outcome::Done => "done".to_string(),
        Outcome::Failed { message } => paint.paint(RED, &format!("failed: {message}")),
        Outcome::Skipped { reason } => paint.paint(YELLOW, &format!("skipped: {reason}")),
    };
    format!("  {head} {name}: {outcome}\n")
}

/// The end of a report after its action lines: the apps not running, then the one-line summary.
pub fn render_summary(report: &ApplyReport, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    if !report.not_running.is_empty() {
        let _ = writeln!(out, "Not running:");
        for app in &report.not_running {
            let _ = writeln!(out, "  {}: {}", app.name, paint.paint(RED, &app.reason));
        }
    }
    let count =
        |wanted: fn(&Outcome) -> bool| report.results.iter().filter(|result| wanted(&result.outcome)).count();
    let done = count(|outcome| matches!(outcome, Outcome::Done));
    let failed = count(|outcome| matches!(outcome, Outcome::Failed { .. }));
    let skipped = count(|outcome| matches!(outcome, Outcome::Skipped { .. }));
    let not_running = report.not_running.len();
    let summary = if report.ok() {
        let actions = if done == 1 { "1 action".to_string() } else { format!("{done} actions") };
        format!("Apply complete: {actions} done.")
    } else {
        let mut parts = vec![format!("{done} done")];
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        if skipped > 0 {
            parts.push(format!("{skipped} skipped"));
        }
        let mut text = format!("Apply failed: {}", parts.join(", "));
        if not_running > 0 {
            let apps = if not_running == 1 { "1 app".to_string() } else { format!("{not_running} apps") };
            let _ = write!(text, "; {apps} not running");
        }
        text.push_str(". Re-run apply to finish.");
        text
    };
    let _ = writeln!(out, "{}", paint.paint(BOLD, &summary));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_are_shortened_to_eight_digits() {
        assert_eq!(short_revision("file:3f9a0c1d22334455"), "file:3f9a0c1d…");
        assert_eq!(short_revision("git:0123456789abcdef0123"), "git:01234567…");
        assert_eq!(short_revision("file:abc"), "file:abc");
        assert_eq!(short_revision("0123456789"), "01234567…");
    }

    #[test]
    fn changes_quote_strings_and_show_unset() {
        let change =
            FieldChange { field: "env.PORT".into(), old: None, new: Some("8081".into()), quoted: true };
        assert_eq!(render_change(&change, false), "env.PORT: (none) → \"8081\"");
        let change =
            FieldChange { field: "max_memory".into(), old: Some("256M".into()), new: None, quoted: false };
        assert_eq!(render_change(&change, false), "max_memory: 256M → (none)");
    }
}
