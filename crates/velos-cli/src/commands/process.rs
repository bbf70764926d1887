//! `velos start`, `stop`, `restart`, `delete`: act, then (except start) wait for the end state.
use super::Context;
use crate::cli::StartArgs;
use crate::error::{client_error, CliError};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use velos_client::{Client, ClientError};
use velos_core::{validate_name, AppSpec, ErrorCode, ProcessRecord, Status};

/// The caller's variables an app gets unless `--inherit-env` passes them all.
pub const PASSED_ENV: [&str; 8] = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ"];
/// How long stop/restart/delete wait beyond the app's kill timeout.
const WAIT_GRACE: Duration = Duration::from_secs(5);
/// Project label of apps started from the command line (DESIGN §4: the default project).
const DEFAULT_PROJECT: &str = "default";

pub fn start(context: &Context, args: &StartArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = context.client()?;
    if args.is_bare_name() {
        // `velos start api`: an existing app by name, else `api` is a program to run.
        match client.info(&args.program) {
            Ok(before) => {
                let record =
                    client.start_existing(&args.program).map_err(|e| client_error(e, Some(&before.name)))?;
                return report_started(out, Some(&before), &record);
            }
            Err(ClientError::Remote { code: ErrorCode::NotFound, .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let current_dir = std::env::current_dir()
        .map_err(|error| CliError::new("could not read the current directory").cause(error.to_string()))?;
    let caller_env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let spec = build_spec(args, &caller_env, &current_dir)?;
    let before = match client.info(&spec.name) {
        Ok(record) => Some(record),
        Err(ClientError::Remote { code: ErrorCode::NotFound, .. }) => None,
        Err(error) => return Err(error.into()),
    };
    let record = client.start(&spec).map_err(|error| client_error(error, Some(&spec.name)))?;
    report_started(out, before.as_ref(), &record)
}

fn report_started(
    out: &mut dyn Write,
    before: Option<&ProcessRecord>,
    record: &ProcessRecord,
) -> Result<(), CliError> {
    let was_running = before.is_some_and(|before| before.pid != 0 && before.pid == record.pid);
    match (was_running, record.pid) {
        (true, pid) => writeln!(out, "{} is already running (pid {pid})", record.name)?,
        (false, 0) => writeln!(out, "started {} ({})", record.name, record.status)?,
        (false, pid) => writeln!(out, "started {} (pid {pid})", record.name)?,
    }
    Ok(())
}

/// The spec `velos start` sends: pure, so the defaults are testable.
pub fn build_spec(
    args: &StartArgs,
    caller_env: &[(String, String)],
    current_dir: &Path,
) -> Result<AppSpec, CliError> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => Path::new(&args.program)
            .file_stem()
            .and_then(|stem| stem.to_str())
            .map(str::to_string)
            .unwrap_or_default(),
    };
    validate_name(&name).map_err(|error| {
        let cli_error = CliError::new(error.to_string());
        if args.name.is_none() {
            cli_error.hint(format!("name the app: velos start --name NAME {}", args.program))
        } else {
            cli_error.hint("use letters, digits, '.', '_' and '-' (at most 64, not starting with '.')")
        }
    })?;
    let cwd = match &args.cwd {
        Some(cwd) => current_dir.join(cwd),
        None => current_dir.to_path_buf(),
    };
    let cwd = cwd
        .to_str()
        .ok_or_else(|| CliError::new(format!("the directory {} is not valid UTF-8", cwd.display())))?
        .to_string();

    let mut env = BTreeMap::new();
    for (key, value) in caller_env {
        if args.inherit_env || PASSED_ENV.contains(&key.as_str()) {
            env.insert(key.clone(), value.clone());
        }
    }
    for (key, value) in &args.env {
        env.insert(key.clone(), value.clone());
    }

    let mut spec = AppSpec::new(name.clone(), args.program.clone(), cwd);
    spec.args = args.args.clone();
    spec.env = env.into_iter().map(|(key, value)| format!("{key}={value}")).collect();
    if let Some(restart) = args.restart {
        spec.restart = restart;
    }
    if let Some(max_restarts) = args.max_restarts {
        spec.max_restarts = max_restarts;
    }
    let ms = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if let Some(window) = args.restart_window {
        spec.restart_window_ms = ms(window);
    }
    if let Some(min_uptime) = args.min_uptime {
        spec.min_uptime_ms = ms(min_uptime);
    }
    if let Some(initial) = args.backoff_initial {
        spec.backoff_initial_ms = ms(initial);
    }
    if let Some(max) = args.backoff_max {
        spec.backoff_max_ms = ms(max);
    }
    if let Some(signal) = args.kill_signal {
        spec.kill_signal = signal;
    }
    if let Some(timeout) = args.kill_timeout {
        spec.kill_timeout_ms = ms(timeout);
    }
    spec.labels.insert("app".into(), name);
    spec.labels.insert("project".into(), DEFAULT_PROJECT.into());
    Ok(spec.with_computed_hash())
}

fn wait_deadline(record: &ProcessRecord) -> Instant {
    Instant::now() + Duration::from_millis(record.spec.kill_timeout_ms) + WAIT_GRACE
}

fn info(client: &mut Client, name: &str) -> Result<ProcessRecord, CliError> {
    client.info(name).map_err(|error| client_error(error, Some(name)))
}

pub fn stop(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = context.client()?;
    let before = info(&mut client, name)?;
    let reply = client.stop(name).map_err(|error| client_error(error, Some(name)))?;
    let after = if reply.status.is_at_rest() {
        reply
    } else {
        client
            .wait_for(name, |record| record.status.is_at_rest(), wait_deadline(&reply))
            .map_err(|error| client_error(error, Some(name)))?
    };
    match (before.pid, after.status) {
        (0, status) => writeln!(out, "{name} is not running ({status})")?,
        (pid, Status::Stopped) => writeln!(out, "stopped {name} (was pid {pid})")?,
        (pid, status) => writeln!(out, "stopped {name} (was pid {pid}), now {status}")?,
    }
    Ok(())
}

pub fn restart(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = context.client()?;
    let before = info(&mut client, name)?;
    let reply = client.restart(name, None).map_err(|error| client_error(error, Some(name)))?;
    // Done when a new process runs, or the app is at rest again: errored (it gave up), or stopped (the new
    // run already ended: the daemon goes from stopping straight to starting, so `stopped` is never seen
    // between the old process and the new one).
    let after = client
        .wait_for(
            name,
            |record| {
                (record.status == Status::Running && record.pid != 0 && record.pid != before.pid)
                    || record.status.is_at_rest()
            },
            wait_deadline(&reply),
        )
        .map_err(|error| client_error(error, Some(name)))?;
    match (after.status, before.pid) {
        (Status::Errored, _) => {
            let reason = after.last_error.as_deref().unwrap_or("no reason given");
            return Err(CliError::new(format!("{name} did not restart: {reason}"))
                .hint(format!("velos logs {name} --stderr shows its last output")));
        }
        (Status::Stopped, _) => {
            writeln!(out, "restarted {name}; it has exited since ({})", describe_exit(&after))?
        }
        (_, 0) => writeln!(out, "restarted {name} (pid {})", after.pid)?,
        (_, old) => writeln!(out, "restarted {name} (pid {old} -> {})", after.pid)?,
    }
    Ok(())
}

fn describe_exit(record: &ProcessRecord) -> String {
    match (record.exit_code, record.exit_signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by {}", crate::parse::signal_name(signal)),
        (None, None) => "no exit status".into(),
    }
}

pub fn delete(context: &Context, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = context.client()?;
    let before = info(&mut client, name)?;
    client.delete(name).map_err(|error| client_error(error, Some(name)))?;
    client.wait_gone(name, wait_deadline(&before)).map_err(|error| client_error(error, Some(name)))?;
    match before.pid {
        0 => writeln!(out, "deleted {name}")?,
        pid => writeln!(out, "deleted {name} (stopped pid {pid})")?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn start_args(args: &[&str]) -> StartArgs {
        match Cli::try_parse_from(["velos", "start"].iter().chain(args)).expect("parses").command {
            Command::Start(start) => start,
            other => panic!("{other:?}"),
        }
    }

    fn caller_env() -> Vec<(String, String)> {
        [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/home/me"),
            ("SECRET", "x"),
            ("VELOS_HOME", "/tmp/v"),
            ("TZ", "UTC"),
        ]
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
    }

    #[test]
    fn defaults() {
        let spec = build_spec(
            &start_args(&["/usr/bin/python3", "-m", "http.server"]),
            &caller_env(),
            Path::new("/srv"),
        )
        .expect("spec");
        assert_eq!(spec.name, "python3");
        assert_eq!(spec.command, "/usr/bin/python3");
        assert_eq!(spec.args, ["-m", "http.server"]);
        assert_eq!(spec.cwd, "/srv");
        assert_eq!(
            spec.env,
            ["HOME=/home/me", "PATH=/usr/bin:/bin", "TZ=UTC"],
            "only the passed variables, sorted"
        );
        assert_eq!(spec, {
            let mut expected = AppSpec::new("python3", "/usr/bin/python3", "/srv");
            expected.args = spec.args.clone();
            expected.env = spec.env.clone();
            expected.labels.insert("app".into(), "python3".into());
            expected.labels.insert("project".into(), "default".into());
            expected.with_computed_hash()
        });
        assert_eq!(spec.spec_hash, spec.compute_hash());
    }

    #[test]
    fn options_and_env() {
        let spec = build_spec(
            &start_args(&[
                "--name",
                "web",
                "--cwd",
                "sub",
                "--env",
                "PORT=8081",
                "--env",
                "PATH=/opt/bin",
                "--kill-timeout",
                "700ms",
                "--restart",
                "never",
                "./server.sh",
            ]),
            &caller_env(),
            Path::new("/srv"),
        )
        .expect("spec");
        assert_eq!(spec.name, "web");
        assert_eq!(spec.cwd, "/srv/sub");
        assert_eq!(spec.env, ["HOME=/home/me", "PATH=/opt/bin", "PORT=8081", "TZ=UTC"], "--env wins");
        assert_eq!(spec.kill_timeout_ms, 700);
        assert_eq!(spec.restart, velos_core::RestartPolicy::Never);
        assert_eq!(spec.labels.get("app").map(String::as_str), Some("web"));

        let inherit = build_spec(&start_args(&["--inherit-env", "/bin/true"]), &caller_env(), Path::new("/"))
            .expect("spec");
        assert_eq!(inherit.env.len(), 5, "{:?}", inherit.env);
        assert!(inherit.env.contains(&"SECRET=x".to_string()));
    }

    #[test]
    fn absolute_cwd_and_same_spec_same_hash() {
        let one = build_spec(&start_args(&["--cwd", "/abs", "/bin/true"]), &caller_env(), Path::new("/srv"))
            .expect("spec");
        assert_eq!(one.cwd, "/abs");
        let two = build_spec(&start_args(&["--cwd", "/abs", "/bin/true"]), &caller_env(), Path::new("/srv"))
            .expect("spec");
        assert_eq!(
            one.spec_hash, two.spec_hash,
            "the same command twice is the same spec (START is idempotent)"
        );
    }

    #[test]
    fn a_program_without_a_usable_name_asks_for_one() {
        let error =
            build_spec(&start_args(&["/opt/.hidden"]), &caller_env(), Path::new("/")).expect_err("refused");
        assert!(
            error.render().contains("hint: name the app: velos start --name NAME /opt/.hidden"),
            "{}",
            error.render()
        );
    }
}
