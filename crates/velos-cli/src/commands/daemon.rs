//! `velos daemon`, `ping`, `kill`, `save`: the daemon itself.
use super::Context;
use crate::cli::{DaemonArgs, JsonArgs};
use crate::error::{already_running, CliError};
use crate::render;
use std::io::Write;
use std::time::{Duration, Instant};
use velos_client::{ClientError, SOCKET_FILE};
use velos_core::ErrorCode;
use velos_ffi::{DaemonError, DaemonOptions};

/// Extra time `kill` allows beyond the longest kill timeout of any app.
const KILL_GRACE: Duration = Duration::from_secs(5);
const KILL_POLL_INTERVAL: Duration = Duration::from_millis(5);

pub fn daemon(context: &Context, args: &DaemonArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if !args.foreground {
        let mut client = context.client()?;
        let ping = client.ping()?;
        writeln!(out, "daemon running (pid {})", ping.pid)?;
        return Ok(());
    }
    daemon_foreground(context, args)
}

/// Runs the daemon in this process until SIGTERM, SIGINT or SHUTDOWN. Nothing before this point may have
/// started a thread: the core forks.
pub fn daemon_foreground(context: &Context, args: &DaemonArgs) -> Result<(), CliError> {
    let home = context.home();
    match velos_ffi::run_daemon(home, DaemonOptions { detach: args.detached }) {
        Ok(()) => Ok(()),
        Err(DaemonError::AlreadyRunning { pid }) => Err(already_running(home, pid)),
        Err(error @ DaemonError::HomeUnusable(_)) => Err(CliError::new(error.to_string()).hint(format!(
            "VELOS_HOME must be a directory you own with mode 0700: check {} or set VELOS_HOME elsewhere",
            home.display()
        ))),
        Err(error @ DaemonError::SocketFailed(_)) => Err(CliError::new(error.to_string()).hint(
            "a socket path must be under 108 bytes: set VELOS_HOME to a shorter path if this one is long",
        )),
        Err(error) => Err(CliError::new(error.to_string())),
    }
}

pub fn ping(context: &Context, args: &JsonArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = context.client_if_running()?;
    let ping = client.ping()?;
    if args.json {
        writeln!(out, "{}", render::to_json_pretty(&ping))?;
    } else {
        let apps = if ping.apps == 1 { "1 app".to_string() } else { format!("{} apps", ping.apps) };
        let tracking =
            ping.tracking.as_deref().map(|mechanism| format!(", tracking {mechanism}")).unwrap_or_default();
        writeln!(
            out,
            "daemon running (pid {}), version {}, up {}, {apps}{tracking}",
            ping.pid,
            ping.version,
            render::uptime_long(ping.uptime_ms)
        )?;
    }
    Ok(())
}

pub fn kill(context: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = match context.client_if_running() {
        Ok(client) => client,
        Err(ClientError::DaemonNotRunning { .. }) => {
            writeln!(out, "the velos daemon is not running")?;
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    let ping = client.ping()?;
    let apps = client.list()?;
    let kill_timeout_longest = apps.iter().map(|app| app.spec.kill_timeout_ms).max().unwrap_or(0);
    match client.shutdown() {
        // Someone else asked first; wait for it all the same.
        Ok(()) | Err(ClientError::Remote { code: ErrorCode::ShuttingDown, .. }) => {}
        Err(error) => return Err(error.into()),
    }
    drop(client);

    let began = Instant::now();
    let deadline = began + Duration::from_millis(kill_timeout_longest) + KILL_GRACE;
    let socket = context.home().join(SOCKET_FILE);
    while process_alive(ping.pid) || socket.exists() {
        if Instant::now() >= deadline {
            let what = if process_alive(ping.pid) { "is still running" } else { "left its socket behind" };
            return Err(CliError::new(format!(
                "the daemon (pid {}) {what} {} after SHUTDOWN",
                ping.pid,
                render::duration_exact(began.elapsed().as_millis() as u64)
            ))
            .hint(format!("kill -9 {} stops it; its apps are in process groups of their own", ping.pid)));
        }
        std::thread::sleep(KILL_POLL_INTERVAL);
    }
    let stopped = apps.iter().filter(|app| app.pid != 0).count();
    let plural = if stopped == 1 { "app" } else { "apps" };
    writeln!(out, "daemon stopped (pid {}, {stopped} running {plural} stopped)", ping.pid)?;
    Ok(())
}

pub fn save(context: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let path = context.client()?.save()?;
    writeln!(out, "saved the process table to {}", path.display())?;
    Ok(())
}

/// True while `pid` exists and is not a zombie.
#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the last ')' (the command name may contain one).
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// True while `pid` exists (the system `kill -0`, to stay free of unsafe code).
#[cfg(not(target_os = "linux"))]
fn process_alive(pid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(process_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        assert!(!process_alive(pid));
    }
}
