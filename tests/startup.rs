//! `velos startup`: the unit it writes is one systemd accepts, and nothing is installed where the host
//! cannot run it. (No test enables a unit on the machine running the tests.)
#![allow(clippy::unwrap_used)]
use std::path::Path;
use std::process::Command;
use velos_e2e::{velos_bin, Velos};

/// `systemd-analyze verify FILE`: exit 0 and not one warning (it reports unknown keys and bad values on
/// stderr but still exits 0).
fn verify(unit: &Path) -> Result<(), String> {
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(unit)
        .current_dir(unit.parent().unwrap())
        .output()
        .expect("systemd-analyze is installed (make test-deps)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() && stderr.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {stderr}", output.status))
    }
}

fn printed_unit(velos: &Velos, args: &[&str], file_name: &str) -> std::path::PathBuf {
    let mut all = vec!["startup", "systemd", "--print"];
    all.extend_from_slice(args);
    let text = velos.ok(&all);
    let path = velos.home().join(file_name);
    std::fs::write(&path, &text).unwrap();
    path
}

#[test]
fn the_system_and_user_units_pass_systemd_analyze_verify() {
    let velos = Velos::new();
    let system = printed_unit(&velos, &[], "velos-e2e.service");
    verify(&system).unwrap();
    let text = std::fs::read_to_string(&system).unwrap();
    let exec = format!("ExecStart=\"{}\" daemon --foreground", velos_bin().canonicalize().unwrap().display());
    assert!(text.contains(&exec), "{text}");
    assert!(text.contains(&format!("Environment=\"VELOS_HOME={}\"", velos.home().display())), "{text}");
    for line in ["KillMode=mixed", "Restart=on-failure", "Delegate=yes", "StandardError=journal"] {
        assert!(text.lines().any(|text_line| text_line == line), "{line} missing:\n{text}");
    }
    let user = printed_unit(&velos, &["--user"], "velos-e2e-user.service");
    verify(&user).unwrap();
    assert!(velos.daemon_pid().is_none(), "printing a unit starts nothing");
}

#[test]
fn verify_would_catch_a_bad_unit() {
    // The check above can fail: the same unit with a wrong value is reported.
    let velos = Velos::new();
    let path = printed_unit(&velos, &[], "velos-e2e-bad.service");
    let text = std::fs::read_to_string(&path).unwrap().replace("KillMode=mixed", "KillMode=gently");
    std::fs::write(&path, text).unwrap();
    let error = verify(&path).unwrap_err();
    assert!(error.contains("kill mode"), "{error}");
}

#[test]
fn launchd_on_linux_prints_the_job_and_what_to_run_and_installs_nothing() {
    let velos = Velos::new();
    let out = velos.ok(&["startup", "launchd"]);
    assert!(out.contains("<key>Label</key><string>dev.velos.daemon</string>"), "{out}");
    assert!(
        out.contains("launchctl bootstrap system /Library/LaunchDaemons/dev.velos.daemon.plist"),
        "{out}"
    );
    assert!(!Path::new("/Library/LaunchDaemons/dev.velos.daemon.plist").exists());
    let out = velos.ok(&["unstartup", "launchd"]);
    assert!(out.contains("nothing to remove"), "{out}");
}
