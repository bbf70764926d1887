//! The `exec` probe: runs a program without a shell, in the app's folder and with the app's environment,
//! its output discarded (nothing to drain, so it can never block on a full pipe), killed at the timeout.
//! It runs in its own process group, and the whole group is killed, so a probe script's children cannot
//! outlive it.
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often a running probe is asked whether it ended.
const POLL: Duration = Duration::from_millis(5);

/// Runs `argv` in `cwd` with exactly `env` (`KEY=VALUE`); Ok on exit code 0.
pub(crate) fn run(argv: &[String], cwd: &str, env: &[String], timeout: Duration) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else { return Err("`exec` is empty".into()) };
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|entry| entry.split_once('=').unwrap_or((entry, ""))))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if !cwd.is_empty() {
        command.current_dir(cwd);
    }
    let began = Instant::now();
    let mut child = command.spawn().map_err(|error| format!("cannot run {program:?}: {error}"))?;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match (status.code(), std::os::unix::process::ExitStatusExt::signal(&status)) {
                    (Some(0), _) => Ok(()),
                    (Some(code), _) => Err(format!("{program:?} exited with code {code}")),
                    (None, Some(signal)) => Err(format!("{program:?} was killed by signal {signal}")),
                    (None, None) => Err(format!("{program:?} ended without a status")),
                };
            }
            Ok(None) if began.elapsed() >= timeout => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program:?} did not finish within {}",
                    crate::check::format_ms(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
                ));
            }
            Ok(None) => std::thread::sleep(POLL.min(timeout.saturating_sub(began.elapsed()))),
            Err(error) => return Err(format!("waiting for {program:?}: {error}")),
        }
    }
}

/// SIGKILL to the probe's process group (its id is the child's pid, by `process_group(0)`), through
/// `kill(1)`-free means: std offers no group kill and this crate has no `unsafe`, so `/bin/kill` is the one
/// portable way; if it is missing, `Child::kill` still ends the probe itself.
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn exit_code_decides_and_env_is_exactly_the_apps() {
        let env = vec!["PATH=/usr/bin:/bin".to_string(), "READY=yes".to_string()];
        let second = Duration::from_secs(5);
        assert_eq!(run(&argv(&["true"]), "/", &env, second), Ok(()));
        assert_eq!(run(&argv(&["false"]), "/", &env, second), Err("\"false\" exited with code 1".into()));
        assert_eq!(run(&argv(&["sh", "-c", "test \"$READY\" = yes"]), "/", &env, second), Ok(()));
        assert!(run(&argv(&["sh", "-c", "test -n \"$HOME\""]), "/", &env, second).is_err(), "no caller env");
        let missing = run(&argv(&["/nonexistent/probe"]), "/", &env, second);
        assert!(missing.is_err_and(|error| error.starts_with("cannot run")));
    }

    #[test]
    fn a_hung_probe_is_killed_at_its_timeout_with_its_children() {
        let dir = tempfile::tempdir().expect("dir");
        let marker = dir.path().join("child-alive");
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let env = vec!["PATH=/usr/bin:/bin".to_string()];
        let began = Instant::now();
        let result = run(&argv(&["sh", "-c", &script]), "/", &env, Duration::from_millis(200));
        assert_eq!(result, Err("\"sh\" did not finish within 200ms".into()));
        assert!(began.elapsed() < Duration::from_secs(5), "{:?}", began.elapsed());
        std::thread::sleep(Duration::from_millis(1_500));
        assert!(!marker.exists(), "the probe's child outlived it");
    }
}
