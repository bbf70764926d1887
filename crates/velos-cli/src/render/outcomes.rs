//! What a verb did, in the words `velos` prints: one line per instance, the `info` view, the line that says
//! what the controller follows.
use super::{bytes_human, duration_exact, key_values, plural, shell_words, uptime_long};
use velos_config::human::signal_name;
use velos_core::Status;
use velos_ops::{AppInfo, Following, InstanceChange, Restarted};

/// `started web (pid 1234)`, `web is already running (pid 1234)`, `started web (errored)`.
pub fn started(instance: &InstanceChange) -> String {
    let name = &instance.name;
    match (instance.pid_before != 0 && instance.pid_before == instance.pid, instance.pid, instance.status) {
        (true, pid, _) => format!("{name} is already running (pid {pid})"),
        (false, 0, Some(status)) => format!("started {name} ({status})"),
        (false, 0, None) => format!("{name} is not running"),
        (false, pid, _) => format!("started {name} (pid {pid})"),
    }
}

/// `stopped web (was pid 1234)`, or `web is not running (stopped)` when it was not.
pub fn stopped(instance: &InstanceChange) -> String {
    let name = &instance.name;
    match (instance.pid_before, instance.status) {
        (_, None) => format!("{name} is not running"),
        (0, Some(status)) => format!("{name} is not running ({status})"),
        (pid, Some(Status::Stopped)) => format!("stopped {name} (was pid {pid})"),
        (pid, Some(status)) => format!("stopped {name} (was pid {pid}), now {status}"),
    }
}

/// `deleted web (stopped pid 1234)`, or `deleted web`.
pub fn deleted(instance: &InstanceChange) -> String {
    match instance.pid_before {
        0 => format!("deleted {}", instance.name),
        pid => format!("deleted {} (stopped pid {pid})", instance.name),
    }
}

/// `restarted web (pid 1 -> 2)`, or `restarted web; it has exited since (exit code 3)`.
pub fn restarted(restarted: &Restarted) -> String {
    let name = &restarted.name;
    match (&restarted.exit, restarted.pid_before) {
        (Some(exit), _) => format!("restarted {name}; it has exited since ({exit})"),
        (None, 0) => format!("restarted {name} (pid {})", restarted.pid),
        (None, old) => format!("restarted {name} (pid {old} -> {})", restarted.pid),
    }
}

/// `reload api (rolling, 2 at a time, start-first)`.
pub fn reloaded_app(app: &velos_ops::ReloadedApp) -> String {
    format!(
        "reload {} (rolling, {} at a time, {})",
        app.app,
        app.rollout.max_unavailable,
        app.rollout.strategy.as_str()
    )
}

/// `reloaded api-0 (pid 1 -> 2)`, or what kept it from being reloaded.
pub fn reloaded(instance: &velos_ops::ReloadedInstance) -> String {
    match &instance.outcome {
        velos_reconcile::Outcome::Done => {
            format!("reloaded {} (pid {} -> {})", instance.name, instance.pid_before, instance.pid)
        }
        velos_reconcile::Outcome::Failed { message } => format!("failed: {message}"),
        velos_reconcile::Outcome::Skipped { reason } => format!("skipped {}: {reason}", instance.name),
    }
}

/// `velos.toml: valid (project shop, 3 apps)`, with the process count when instances make it differ.
pub fn valid(path: &std::path::Path, project: &str, apps: usize, processes: usize) -> String {
    let mut counts = plural(apps, "app");
    if processes != apps {
        counts.push_str(&format!(", {}", plural(processes, "process")));
    }
    format!("{}: valid (project {project}, {counts})", path.display())
}

/// `velos-controller follows project shop: each save of /srv/shop/velos.toml is applied; drift is undone
/// at least every 30s.`
pub fn following(following: &Following) -> String {
    let changes = match &following.git {
        Some(git) => format!(
            "each new commit of {}@{}:{} is applied (fetched every {}; velos hook install {} applies a push at once)",
            git.repo,
            git.ref_name,
            git.path,
            duration_exact(git.poll_ms),
            git.repo.strip_prefix("file://").unwrap_or(&git.repo)
        ),
        None if following.watch => format!("each save of {} is applied", following.source),
        None => "its source is applied".to_string(),
    };
    let drift = if following.self_heal { "undone" } else { "reported (self_heal = false)" };
    let (api, otlp): (Vec<&str>, Vec<&str>) =
        following.serves.iter().map(String::as_str).partition(|served| !served.starts_with("otlp "));
    let mut serves = String::new();
    if !api.is_empty() {
        serves.push_str(&format!("; it serves the API on {}", api.join(" and ")));
    }
    if !otlp.is_empty() {
        let endpoints: Vec<&str> = otlp.iter().map(|served| served.trim_start_matches("otlp ")).collect();
        serves.push_str(&format!("; it exports metrics and log lines to {}", endpoints.join(" and ")));
    }
    format!(
        "{} follows project {}: {changes}; drift is {drift} at least every {}{serves}. velos status shows where it stands.",
        velos_controller::CONTROLLER_APP,
        following.project,
        duration_exact(following.look_ms)
    )
}

/// The `velos info` key/value view of one instance.
pub fn info_text(app: &AppInfo) -> String {
    let (record, spec) = (&app.record, &app.record.spec);
    let running = record.pid != 0;
    let dash = || "-".to_string();
    let last_exit = match (record.exit_code, record.exit_signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
        (None, None) => dash(),
    };
    let env_names: Vec<&str> =
        spec.env.iter().map(|entry| entry.split('=').next().unwrap_or(entry)).collect();
    let labels: Vec<String> = spec.labels.iter().map(|(key, value)| format!("{key}={value}")).collect();
    let command = std::iter::once(spec.command.as_str()).chain(spec.args.iter().map(String::as_str));
    let pairs = [
        ("name", record.name.clone()),
        ("status", record.status.to_string()),
        ("pid", if running { record.pid.to_string() } else { dash() }),
        ("command", shell_words(command)),
        ("cwd", spec.cwd.clone()),
        ("uptime", if running { uptime_long(record.uptime_ms) } else { dash() }),
        ("restarts", record.restarts.to_string()),
        ("cpu", if running { format!("{:.1}%", record.cpu) } else { dash() }),
        ("memory", if running { bytes_human(record.memory) } else { dash() }),
        ("last exit", last_exit),
        ("last error", record.last_error.clone().unwrap_or_else(dash)),
        (
            "restart",
            format!(
                "{} (at most {} in {}, backoff {} to {}, reset after {} up)",
                spec.restart,
                spec.max_restarts,
                duration_exact(spec.restart_window_ms),
                duration_exact(spec.backoff_initial_ms),
                duration_exact(spec.backoff_max_ms),
                duration_exact(spec.min_uptime_ms),
            ),
        ),
        (
            "stop",
            format!(
                "{} to the process tree, SIGKILL after {}",
                signal_name(spec.kill_signal),
                duration_exact(spec.kill_timeout_ms)
            ),
        ),
        (
            "tracking",
            match app.tracking.as_deref() {
                Some("procfs") => {
                    "procfs: the whole process tree, setsid and double forks included".to_string()
                }
                Some(other) => other.to_string(),
                None => dash(),
            },
        ),
    ];
    let mut pairs = pairs.to_vec();
    pairs.extend(app.schedule.as_ref().map(schedule_pairs).unwrap_or_default());
    pairs.extend([
        ("env", if env_names.is_empty() { dash() } else { env_names.join(" ") }),
        ("out log", app.out_log.display().to_string()),
        ("err log", app.err_log.display().to_string()),
        ("spec hash", if spec.spec_hash.is_empty() { dash() } else { spec.spec_hash.clone() }),
        ("labels", if labels.is_empty() { dash() } else { labels.join(" ") }),
    ]);
    if let Some(health) = &app.health {
        pairs.extend(health_lines(health));
    }
    key_values(&pairs)
}

/// `cron restart`, `watch` and the last scheduled restart, for `velos info`.
fn schedule_pairs(schedule: &velos_ops::AppSchedule) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    let runner = schedule.runner.as_ref();
    if let Some(cron) = &schedule.cron_restart {
        let next = schedule.next_restart.as_deref().map(|at| format!(" (next {at})")).unwrap_or_default();
        pairs.push(("cron restart", format!("{cron}{next}")));
    }
    if let Some(watch) = &schedule.watch {
        let mut text = watch.paths.join(" ");
        if !watch.ignore.is_empty() {
            text.push_str(&format!(", ignoring {}", watch.ignore.join(" ")));
        }
        text.push_str(&format!(", debounce {}", duration_exact(watch.debounce_ms)));
        if let Some(runner) = runner {
            text.push_str(&format!(", {} watched", plural(runner.watched_folders, "folder")));
        }
        pairs.push(("watch", text));
        for problem in runner.map(|runner| runner.watch_problems.as_slice()).unwrap_or_default() {
            pairs.push(("watch problem", problem.clone()));
        }
    }
    let last = match runner.and_then(|runner| runner.last_restart.as_ref()) {
        Some(last) => {
            let outcome = last.error.as_deref().map(|error| format!(", failed: {error}")).unwrap_or_default();
            format!("restarted by {} at {} ({}){outcome}", last.by.as_str(), last.at, last.reason)
        }
        None if runner.is_none() => "- (the controller has not taken it up yet: velos list --all)".into(),
        None => "-".into(),
    };
    pairs.push(("last scheduled", last));
    pairs
}

/// `readiness  healthy (http http://…/health), last checked 2026-…`, `liveness  unhealthy (tcp …): 3
/// failures in a row, last: connection refused`, `restarted by liveness  2 times, last at 2026-…`.
fn health_lines(health: &velos_ops::AppHealth) -> Vec<(&'static str, String)> {
    let detail = &health.detail;
    let check = |state: &velos_health::CheckState| {
        let mut text = format!("{} ({})", state.health, state.check);
        if state.consecutive_failures > 0 {
            let failures = plural(state.consecutive_failures as usize, "failure");
            text.push_str(&format!(": {failures} in a row"));
        }
        if let Some(error) = &state.last_error {
            text.push_str(&format!(", last error: {error}"));
        }
        if let Some(time) = state.last_check_unix_ms {
            text.push_str(&format!(", checked {} UTC", super::utc_time(time)));
        }
        text
    };
    let mut lines = vec![("health", health.health.to_string())];
    if let Some(readiness) = &detail.readiness {
        lines.push(("readiness", check(readiness)));
    }
    if let Some(liveness) = &detail.liveness {
        lines.push(("liveness", check(liveness)));
    }
    if detail.liveness_restarts > 0 {
        let last = detail
            .last_liveness_restart_unix_ms
            .map(|time| format!(", last at {} UTC", super::utc_time(time)))
            .unwrap_or_default();
        lines.push((
            "restarted by liveness",
            format!("{}{last}", plural(detail.liveness_restarts as usize, "time")),
        ));
    }
    lines
}

/// `velos info --json` of one instance: its record as it always was, plus `schedule` when it has a
/// `cron_restart` or `watch` and `health` when it has a check.
pub fn info_json(app: &AppInfo) -> serde_json::Value {
    let mut value = serde_json::to_value(&app.record).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        if let Some(schedule) = &app.schedule {
            object.insert("schedule".into(), serde_json::to_value(schedule).unwrap_or_default());
        }
        if let Some(health) = &app.health {
            object.insert("health".into(), serde_json::to_value(health).unwrap_or_default());
        }
    }
    value
}
