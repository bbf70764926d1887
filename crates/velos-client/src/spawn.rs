//! Starting the daemon when it is not running: `velos daemon --foreground --detached` in the background.
//!
//! Before anything is written, VELOS_HOME is checked ([`Home::prepare`]: a real directory of ours, 0700), and
//! `daemon.log` is opened relative to it without following a symlink. The daemon gets descriptors 0–2 only
//! (/dev/null and daemon.log): nothing its caller inherited, so `{ velos start …; } | cat` ends.
use crate::{sys, Client, ClientError, Home};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The daemon's stdout and stderr, appended, inside `VELOS_HOME`.
pub const DAEMON_LOG_FILE: &str = "daemon.log";
/// How long a freshly started daemon has to answer `PING`.
pub const START_DEADLINE: Duration = Duration::from_secs(5);
const START_POLL_INTERVAL: Duration = Duration::from_millis(5);
const LOG_TAIL_LINES: usize = 10;
/// What `velos daemon --foreground` prints when it loses a start race (velos-ffi's AlreadyRunning).
const ALREADY_RUNNING_MARK: &str = "already running";

/// Connects to the daemon of `home`, starting it first if it is not running.
///
/// The daemon is `velos_exe daemon --foreground --detached` with `VELOS_HOME=home`, stdin from /dev/null and
/// stdout/stderr appended to `home/daemon.log`; `home` is created (mode 0700) if missing, and refused if it
/// is a symlink or another user's. Two callers may race: the loser's daemon exits with "already running"
/// and the loser connects to the winner's.
pub fn connect_or_start(home: &Path, velos_exe: &Path) -> Result<Client, ClientError> {
    match Client::connect(home) {
        Err(ClientError::DaemonNotRunning { .. }) => {}
        other => return other,
    }
    let home = Home::prepare(home)?;
    let log = home.open_append(DAEMON_LOG_FILE)?;
    let log_path = home.path().join(DAEMON_LOG_FILE);
    let log_offset = log.metadata().map(|meta| meta.len()).unwrap_or(0);
    let log_for_stderr = log
        .try_clone()
        .map_err(|error| ClientError::io("could not duplicate the daemon.log handle", error))?;
    let mut command = Command::new(velos_exe);
    command
        .args(["daemon", "--foreground", "--detached"])
        .env("VELOS_HOME", home.path())
        .current_dir("/") // do not keep the caller's directory busy
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_for_stderr);
    sys::close_inherited_descriptors(&mut command);
    let child = command
        .spawn()
        .map_err(|error| ClientError::io(format!("could not run {} daemon", velos_exe.display()), error))?;
    wait_until_ready(home.path(), child, &log_path, log_offset)
}

fn wait_until_ready(
    home: &Path,
    mut child: Child,
    log_path: &Path,
    log_offset: u64,
) -> Result<Client, ClientError> {
    let deadline = Instant::now() + START_DEADLINE;
    let mut lost_race = false;
    loop {
        match Client::connect(home) {
            Ok(mut client) => {
                client.ping()?;
                return Ok(client);
            }
            Err(ClientError::DaemonNotRunning { .. }) => {}
            Err(error) => return Err(error),
        }
        if !lost_race {
            if let Some(status) = child.try_wait().ok().flatten() {
                let log_tail = read_log_tail(log_path, log_offset);
                // Another client started a daemon at the same moment: it holds the lock and will bind the
                // socket shortly; keep polling for it.
                lost_race = log_tail.iter().any(|line| line.contains(ALREADY_RUNNING_MARK));
                if !lost_race {
                    return Err(ClientError::DaemonStartFailed {
                        home: home.to_path_buf(),
                        reason: format!("it exited at once ({})", describe_exit(status)),
                        log_tail,
                    });
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(ClientError::DaemonStartFailed {
                home: home.to_path_buf(),
                reason: format!("it did not answer within {} s", START_DEADLINE.as_secs()),
                log_tail: read_log_tail(log_path, log_offset),
            });
        }
        std::thread::sleep(START_POLL_INTERVAL);
    }
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

/// The last lines written to daemon.log since `offset` (this attempt's output), at most 64 KiB of it.
fn read_log_tail(path: &Path, offset: u64) -> Vec<String> {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let length = file.metadata()?.len();
        file.seek(SeekFrom::Start(offset.max(length.saturating_sub(64 * 1024))))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let text = read().unwrap_or_default();
    let lines: Vec<String> =
        text.lines().map(str::trim_end).filter(|line| !line.is_empty()).map(String::from).collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn log_tail_reads_only_this_attempt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(DAEMON_LOG_FILE);
        let mut file = File::create(&path).expect("create");
        file.write_all(b"old line\n").expect("write");
        let offset = file.metadata().expect("meta").len();
        for index in 0..15 {
            writeln!(file, "line {index}").expect("write");
        }
        writeln!(file).expect("write");
        let tail = read_log_tail(&path, offset);
        assert_eq!(tail.len(), LOG_TAIL_LINES);
        assert_eq!(tail.first().map(String::as_str), Some("line 5"));
        assert_eq!(tail.last().map(String::as_str), Some("line 14"));
        assert!(read_log_tail(&dir.path().join("missing"), 0).is_empty());
    }

    #[test]
    fn a_daemon_that_exits_at_once_is_reported_with_its_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A stand-in "velos" that fails the way a broken daemon would.
        let fake = dir.path().join("fake-velos");
        std::fs::write(&fake, "#!/bin/sh\necho \"error: VELOS_HOME is unusable: $VELOS_HOME\" >&2\nexit 1\n")
            .expect("write");
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        let home = dir.path().join("home");
        let error = connect_or_start(&home, &fake).expect_err("must fail");
        match error {
            ClientError::DaemonStartFailed { reason, log_tail, .. } => {
                assert!(reason.contains("exit code 1"), "{reason}");
                assert_eq!(log_tail, vec![format!("error: VELOS_HOME is unusable: {}", home.display())]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&home).expect("home").permissions());
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_missing_socket_is_daemon_not_running() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(Client::connect(dir.path()), Err(ClientError::DaemonNotRunning { .. })));
        // A stale socket file nobody listens on refuses the connection.
        let socket = dir.path().join(crate::SOCKET_FILE);
        drop(std::os::unix::net::UnixListener::bind(&socket).expect("bind"));
        assert!(socket.exists());
        let error = Client::connect(dir.path()).expect_err("refused");
        assert!(matches!(error, ClientError::DaemonNotRunning { .. }), "{error:?}");
    }
}
