//! `velos restart` (an action, not an edit: DESIGN §4), the spec of `velos start PROGRAM` as a velos.toml
//! table, and the direct stop/start/delete of apps that no file declares (started outside any project).
//! Stop, start and delete of declared apps are edits of their file: see `edit.rs`.
use super::Context;
use crate::cli::StartArgs;
use crate::error::{client_error, CliError};
use crate::parse::signal_name;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use toml_edit::{value, Array, Item, Table};
use velos_client::Client;
use velos_core::{validate_name, ProcessRecord, Status};
use velos_reconcile::duration_ms;

/// The caller's variables an app gets unless `--inherit-env` passes them all.
pub const PASSED_ENV: [&str; 8] = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ"];
/// How long stop/restart/delete wait beyond the app's kill timeout.
pub const WAIT_GRACE: Duration = Duration::from_secs(5);

/// `velos start PROGRAM ...` as velos.toml: the app's name and its `[apps.NAME]` table.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub name: String,
    pub table: Table,
}

/// The `[apps.NAME]` table `velos start` adds to the default project: pure, so the defaults are testable.
/// `command` (quoted if the program has spaces), `args`, `cwd` (absolute: the app runs where velos was
/// started, not in VELOS_HOME), `[apps.NAME.env]` (the passed variables and `--env`, or everything with
/// `--inherit-env`), then each option given, in velos.toml syntax.
pub fn build_app(
    args: &StartArgs,
    caller_env: &[(String, String)],
    current_dir: &Path,
) -> Result<NewApp, CliError> {
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

    let mut table = Table::new();
    table.insert("command", value(velos_config::quote_program(&args.program)));
    if !args.args.is_empty() {
        table.insert("args", value(args.args.iter().collect::<Array>()));
    }
    table.insert("cwd", value(cwd));
    if let Some(restart) = args.restart {
        table.insert("restart", value(restart.as_str()));
    }
    if let Some(max_restarts) = args.max_restarts {
        table.insert("max_restarts", value(i64::from(max_restarts)));
    }
    let duration =
        |duration: Duration| value(duration_ms(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)));
    if let Some(window) = args.restart_window {
        table.insert("restart_window", duration(window));
    }
    if args.backoff_initial.is_some() || args.backoff_max.is_some() {
        let mut backoff = toml_edit::InlineTable::new();
        let as_text =
            |duration: Duration| duration_ms(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
        if let Some(initial) = args.backoff_initial {
            backoff.insert("initial", as_text(initial).into());
        }
        if let Some(max) = args.backoff_max {
            backoff.insert("max", as_text(max).into());
        }
        table.insert("backoff", value(backoff));
    }
    if let Some(min_uptime) = args.min_uptime {
        table.insert("min_uptime", duration(min_uptime));
    }
    if let Some(signal) = args.kill_signal {
        let name = signal_name(signal);
        table.insert(
            "kill_signal",
            if name.starts_with("SIG") { value(name) } else { value(i64::from(signal)) },
        );
    }
    if let Some(timeout) = args.kill_timeout {
        table.insert("kill_timeout", duration(timeout));
    }
    if !env.is_empty() {
        let mut env_table = Table::new();
        for (key, text) in env {
            env_table.insert(&key, value(text));
        }
        table.insert("env", Item::Table(env_table));
    }
    Ok(NewApp { name, table })
}

fn wait_deadline(record: &ProcessRecord) -> Instant {
    Instant::now() + Duration::from_millis(record.spec.kill_timeout_ms) + WAIT_GRACE
}

fn info(client: &mut Client, name: &str) -> Result<ProcessRecord, CliError> {
    client.info(name).map_err(|error| client_error(error, Some(name)))
}

/// STOP of an app no file declares, waiting until it is at rest.
pub fn stop_direct(client: &mut Client, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let before = info(client, name)?;
    let reply = client.stop(name).map_err(|error| client_error(error, Some(name)))?;
    let after = if reply.status.is_at_rest() {
        reply
    } else {
        client
            .wait_for(name, |record| record.status.is_at_rest(), wait_deadline(&reply))
            .map_err(|error| client_error(error, Some(name)))?
    };
    report_stopped(out, name, before.pid, after.status)
}

/// `stopped web (was pid 1234)`, or `web is not running (stopped)` when it was not.
pub fn report_stopped(
    out: &mut dyn Write,
    name: &str,
    pid_before: u32,
    status: Status,
) -> Result<(), CliError> {
    match (pid_before, status) {
        (0, status) => writeln!(out, "{name} is not running ({status})")?,
        (pid, Status::Stopped) => writeln!(out, "stopped {name} (was pid {pid})")?,
        (pid, status) => writeln!(out, "stopped {name} (was pid {pid}), now {status}")?,
    }
    Ok(())
}

/// START by name of an app no file declares.
pub fn start_direct(client: &mut Client, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let before = info(client, name)?;
    let record = client.start_existing(name).map_err(|error| client_error(error, Some(name)))?;
    report_started(out, Some(&before), &record)
}

/// `started web (pid 1234)`, or `web is already running (pid 1234)` when `before` ran that process.
pub fn report_started(
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
        (Status::Stopped | Status::Completed, _) => {
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

/// DELETE of an app no file declares, waiting until it is gone.
pub fn delete_direct(client: &mut Client, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let before = info(client, name)?;
    client.delete(name).map_err(|error| client_error(error, Some(name)))?;
    client.wait_gone(name, wait_deadline(&before)).map_err(|error| client_error(error, Some(name)))?;
    report_deleted(out, name, before.pid)
}

/// `deleted web (stopped pid 1234)`, or `deleted web`.
pub fn report_deleted(out: &mut dyn Write, name: &str, pid_before: u32) -> Result<(), CliError> {
    match pid_before {
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

    /// The app as velos.toml text and as the spec the default project then runs.
    fn added(args: &[&str], current_dir: &str) -> (String, velos_core::AppSpec) {
        let new_app = build_app(&start_args(args), &caller_env(), Path::new(current_dir)).expect("builds");
        let edit = velos_config::Edit::AddApp { app: new_app.name.clone(), table: new_app.table };
        let (text, project) = velos_config::apply_edits(
            velos_reconcile::ownership::DEFAULT_PROJECT_SOURCE,
            Path::new("/tmp/velos.toml"),
            &[edit],
        )
        .unwrap_or_else(|error| panic!("{}", error.render()));
        let spec = project.app(&new_app.name).expect("declared").spec.clone();
        let added =
            text.split_once("name = \"default\"\n").map(|(_, rest)| rest.to_string()).unwrap_or_default();
        (added, spec)
    }

    #[test]
    fn defaults() {
        let (text, spec) = added(&["/usr/bin/python3", "-m", "http.server"], "/srv");
        insta::assert_snapshot!(text, @r#"

        [apps.python3]
        command = "/usr/bin/python3"
        args = ["-m", "http.server"]
        cwd = "/srv"

        [apps.python3.env]
        HOME = "/home/me"
        PATH = "/usr/bin:/bin"
        TZ = "UTC"
        "#);
        assert_eq!(spec.name, "python3");
        assert_eq!(spec.command, "/usr/bin/python3");
        assert_eq!(spec.args, ["-m", "http.server"]);
        assert_eq!(spec.cwd, "/srv");
        assert_eq!(
            spec.env,
            ["HOME=/home/me", "PATH=/usr/bin:/bin", "TZ=UTC"],
            "only the passed variables, sorted"
        );
        assert_eq!(spec.labels.get("project").map(String::as_str), Some("default"));
        assert_eq!(spec.labels.get("app").map(String::as_str), Some("python3"));
        assert_eq!(spec.spec_hash, spec.compute_hash());
        // What velos start sent before it wrote velos.toml: the same spec, so the same hash.
        let mut before = velos_core::AppSpec::new("python3", "/usr/bin/python3", "/srv");
        before.args = spec.args.clone();
        before.env = spec.env.clone();
        assert_eq!(before.compute_hash(), spec.spec_hash);
    }

    #[test]
    fn options_and_env() {
        let (text, spec) = added(
            &[
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
                "--kill-signal",
                "INT",
                "--restart",
                "never",
                "--max-restarts",
                "3",
                "--restart-window",
                "1m30s",
                "--backoff-initial",
                "1500ms",
                "--min-uptime",
                "2s",
                "./server.sh",
            ],
            "/srv",
        );
        insta::assert_snapshot!(text, @r#"

        [apps.web]
        command = "./server.sh"
        cwd = "/srv/sub"
        restart = "never"
        max_restarts = 3
        restart_window = "1m30s"
        backoff = { initial = "1s500ms" }
        min_uptime = "2s"
        kill_signal = "SIGINT"
        kill_timeout = "700ms"

        [apps.web.env]
        HOME = "/home/me"
        PATH = "/opt/bin"
        PORT = "8081"
        TZ = "UTC"
        "#);
        assert_eq!(spec.name, "web");
        assert_eq!(spec.cwd, "/srv/sub");
        assert_eq!(spec.env, ["HOME=/home/me", "PATH=/opt/bin", "PORT=8081", "TZ=UTC"], "--env wins");
        assert_eq!(spec.kill_timeout_ms, 700);
        assert_eq!(spec.kill_signal, 2);
        assert_eq!(spec.backoff_initial_ms, 1500);
        assert_eq!(spec.restart_window_ms, 90_000);
        assert_eq!(spec.restart, velos_core::RestartPolicy::Never);

        let (_, inherit) = added(&["--inherit-env", "/bin/true"], "/");
        assert_eq!(inherit.env.len(), 5, "{:?}", inherit.env);
        assert!(inherit.env.contains(&"SECRET=x".to_string()));
    }

    #[test]
    fn absolute_cwd_spaces_and_same_spec_same_hash() {
        let (_, one) = added(&["--cwd", "/abs", "/bin/true"], "/srv");
        assert_eq!(one.cwd, "/abs");
        let (_, two) = added(&["--cwd", "/abs", "/bin/true"], "/srv");
        assert_eq!(one.spec_hash, two.spec_hash, "the same command twice is the same spec");

        let (text, spaced) = added(&["--name", "spaced", "/opt/My App/server", "a b"], "/");
        assert!(text.contains("command = \"'/opt/My App/server'\"\nargs = [\"a b\"]"), "{text}");
        assert_eq!(
            (spaced.command.as_str(), spaced.args.as_slice()),
            ("/opt/My App/server", &["a b".to_string()][..])
        );
    }

    #[test]
    fn a_program_without_a_usable_name_asks_for_one() {
        let error =
            build_app(&start_args(&["/opt/.hidden"]), &caller_env(), Path::new("/")).expect_err("refused");
        assert!(
            error.render().contains("hint: name the app: velos start --name NAME /opt/.hidden"),
            "{}",
            error.render()
        );
    }
}
