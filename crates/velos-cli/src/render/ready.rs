//! What apply's wait found: `Ready: web, worker.`, or each app that is not ready with why and the end of
//! its stderr.
use super::plural;
use std::fmt::Write;
use velos_ops::AppReadiness;

/// At most this many ready apps are named.
const READY_NAMED_MAX: usize = 8;

/// `Ready: web, worker (2 apps).` when all are; otherwise a `Not ready:` block, one app each with its
/// reason and stderr tail. Empty when apply did not wait.
pub fn readiness(apps: &[AppReadiness]) -> String {
    let mut out = String::new();
    let (ready, not_ready): (Vec<&AppReadiness>, Vec<&AppReadiness>) =
        apps.iter().partition(|app| app.is_ready());
    if !not_ready.is_empty() {
        let _ = writeln!(out, "Not ready:");
        for app in not_ready {
            // `crash_loop` says what "restarted 2 times" means; `errored: ...` says it already.
            let _ = if app.reason.starts_with(app.readiness.as_str()) {
                writeln!(out, "  {}: {}", app.name, app.reason)
            } else {
                writeln!(out, "  {}: {} ({})", app.name, app.reason, app.readiness)
            };
            if !app.stderr_tail.is_empty() {
                let _ = writeln!(out, "    last lines of its stderr:");
                for line in &app.stderr_tail {
                    let _ = writeln!(out, "    | {line}");
                }
            }
        }
    }
    if !ready.is_empty() {
        let mut names: Vec<&str> = ready.iter().map(|app| app.name.as_str()).collect();
        names.sort_unstable();
        names.truncate(READY_NAMED_MAX);
        let more = ready.len().saturating_sub(READY_NAMED_MAX);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let _ = writeln!(out, "Ready: {}{more} ({}).", names.join(", "), plural(ready.len(), "app"));
    }
    out
}

/// `Apply failed: 2 actions done; 1 of 2 apps not ready.`, or for an empty plan `No changes to apply,
/// but 1 of 2 apps is not ready.`
pub fn not_ready_summary(plan: &velos_reconcile::Plan, not_ready: usize, apps: usize) -> String {
    if plan.is_empty() {
        let verb = if not_ready == 1 { "is" } else { "are" };
        return format!("No changes to apply, but {not_ready} of {} {verb} not ready.", plural(apps, "app"));
    }
    format!(
        "Apply failed: {} done; {not_ready} of {} not ready.",
        plural(plan.actions.len(), "action"),
        plural(apps, "app")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::Status;
    use velos_reconcile::Readiness;

    fn app(name: &str, readiness: Readiness, reason: &str, tail: &[&str]) -> AppReadiness {
        AppReadiness {
            name: name.into(),
            readiness,
            status: Some(Status::Running),
            restarts: 0,
            last_exit: None,
            reason: reason.into(),
            stderr_tail: tail.iter().map(|line| line.to_string()).collect(),
        }
    }

    #[test]
    fn ready_apps_in_one_line_and_the_others_with_their_stderr() {
        let apps = [
            app("web", Readiness::Ready, "", &[]),
            app("crashy", Readiness::CrashLoop, "restarted 2 times, last exit code 3", &["boom", "bye"]),
            app("api", Readiness::Ready, "", &[]),
        ];
        insta::assert_snapshot!(readiness(&apps), @r"
        Not ready:
          crashy: restarted 2 times, last exit code 3 (crash_loop)
            last lines of its stderr:
            | boom
            | bye
        Ready: api, web (2 apps).
        ");
        assert_eq!(readiness(&[]), "");
    }
}
