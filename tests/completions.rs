//! `velos completions`: the shell code it prints, and bash completing app and project names from a real
//! daemon, as a user pressing Tab would get them.
#![allow(clippy::unwrap_used)]
use std::process::Command;
use velos_e2e::{velos_bin, Velos};

/// Sources `velos completions bash` in a real bash, completes `WORDS` (the last one being typed) the way
/// bash's Tab does, and returns the candidates.
fn bash_complete(velos: &Velos, words: &[&str]) -> Vec<String> {
    let script = r#"
source <("$VELOS" completions bash) || exit 3
complete -p velos >/dev/null || exit 4
read -r -a COMP_WORDS <<< "$WORDS"
[[ "$WORDS" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_TYPE=9
_clap_complete_velos velos "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .env("VELOS", velos_bin())
        .env("VELOS_HOME", velos.home())
        .env("WORDS", words.join(" "))
        .output()
        .unwrap();
    assert!(output.status.success(), "bash: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|line| line.trim().to_string()).collect()
}

#[test]
fn bash_completes_commands_and_the_apps_the_daemon_runs() {
    let velos = Velos::new();
    velos.start("web", &["/bin/sleep", "600"], &[]);
    velos.start("worker", &["/bin/sleep", "600"], &[]);
    let commands = bash_complete(&velos, &["velos", "mon"]);
    assert_eq!(commands, ["monit"]);
    let apps = bash_complete(&velos, &["velos", "restart", "w"]);
    assert_eq!(apps, ["web", "worker"]);
    let apps = bash_complete(&velos, &["velos", "logs", "wo"]);
    assert_eq!(apps, ["worker"]);
}

#[test]
fn completing_never_starts_the_daemon() {
    let velos = Velos::new();
    let apps = bash_complete(&velos, &["velos", "restart", ""]);
    assert!(!apps.iter().any(|candidate| !candidate.starts_with('-')), "no names without a daemon: {apps:?}");
    assert!(velos.daemon_pid().is_none(), "a Tab must not start the daemon");
}

#[test]
fn every_shell_gets_code_that_calls_this_velos() {
    let velos = Velos::new();
    let exe = velos_bin().display().to_string();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let code = velos.ok(&["completions", shell]);
        assert!(code.contains(&exe), "{shell}: the code calls {exe}:\n{code}");
        assert!(code.contains("COMPLETE"), "{shell}: {code}");
    }
    let error = velos.run(&["completions", "tcsh"]);
    assert!(!error.status.success());
}

#[test]
fn fish_completes_the_apps_the_daemon_runs() {
    let velos = Velos::new();
    velos.start("web", &["/bin/sleep", "600"], &[]);
    let script =
        "\"$VELOS\" completions fish | source; complete -C 'velos restart w'; complete -C 'velos mon'";
    let output = Command::new("fish")
        .args(["--no-config", "-c", script])
        .env("VELOS", velos_bin())
        .env("VELOS_HOME", velos.home())
        .output()
        .expect("fish is installed (make test-deps)");
    assert!(output.status.success(), "fish: {}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_string).collect();
    assert_eq!(lines.first().map(String::as_str), Some("web\trunning"), "{lines:?}");
    assert!(lines.get(1).is_some_and(|line| line.starts_with("monit\t")), "{lines:?}");
}

#[test]
fn zsh_gets_valid_code_and_the_names_its_completer_asks_for() {
    let velos = Velos::new();
    velos.start("web", &["/bin/sleep", "600"], &[]);
    let code = velos.ok(&["completions", "zsh"]);
    let check =
        Command::new("zsh").args(["-n", "-c", &code]).output().expect("zsh is installed (make test-deps)");
    assert!(check.status.success(), "zsh -n: {}", String::from_utf8_lossy(&check.stderr));
    // What the zsh function runs at each Tab (see the code above), answered by velos.
    let output = velos
        .command()
        .args(["--", "velos", "restart", "w"])
        .env("COMPLETE", "zsh")
        .env("_CLAP_IFS", "\n")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "web:running");
}
