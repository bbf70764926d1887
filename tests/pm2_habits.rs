//! A PM2 user's habits, typed as they would type them (issue 7): relative scale, an app addressed by name
//! on every verb and one instance by its own, `all`, "did you mean", `start FILE.toml`, options after the
//! program, usage errors that never look like "changes", `forget` of a project whose file is gone, and a
//! refused apply that registers nothing.
#![allow(clippy::unwrap_used)]
use std::path::{Path, PathBuf};
use std::time::Duration;
use velos_e2e::Velos;

/// A folder with a velos.toml of sleeping apps carrying the test marker: `api` (instances given) and `web`.
fn project(velos: &Velos, name: &str, api_instances: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix(&format!("{name}-")).tempdir_in("/tmp").unwrap();
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let app = |app: &str, extra: &str| {
        format!("\n[apps.{app}]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = {{ {key} = \"{value}\" }}\n{extra}")
    };
    let text = format!(
        "[project]\nname = \"{name}\"\n{}{}",
        app("api", &format!("instances = {api_instances}\n")),
        app("web", "")
    );
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

fn names(velos: &Velos) -> Vec<String> {
    velos.list().iter().map(|app| app["name"].as_str().unwrap().to_string()).collect()
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn scale_with_a_sign_is_relative_and_without_absolute() {
    let velos = Velos::new();
    let (_dir, file) = project(&velos, "shop", 2);
    velos.ok(&["apply", arg(&file)]);
    velos.ok(&["scale", "api", "+1"]);
    assert_eq!(names(&velos), ["api-0", "api-1", "api-2", "web"], "+1 of 2 is 3, never fewer");
    velos.ok(&["scale", "api", "-1"]);
    assert_eq!(names(&velos), ["api-0", "api-1", "web"]);
    velos.ok(&["scale", "api", "1"]);
    assert_eq!(names(&velos), ["api", "web"]);
    let stderr = velos.fails(&["scale", "api", "-5"]);
    assert!(stderr.contains("would leave -4"), "{stderr}");
    assert!(std::fs::read_to_string(&file).unwrap().contains("instances = 1"), "nothing written");
}

#[test]
fn an_app_is_its_instances_one_instance_is_itself_and_all_is_everything() {
    let velos = Velos::new();
    let (_dir, file) = project(&velos, "shop", 2);
    velos.ok(&["apply", arg(&file)]);
    let (api0, api1, web) = (velos.pid("api-0"), velos.pid("api-1"), velos.pid("web"));

    let said = velos.ok(&["restart", "api"]);
    assert!(said.contains("restarted api-0") && said.contains("restarted api-1"), "{said}");
    assert!(velos.pid("api-0") != api0 && velos.pid("api-1") != api1, "each instance restarted");
    assert_eq!(velos.pid("web"), web, "web untouched");

    let api1 = velos.pid("api-1");
    velos.ok(&["restart", "api-0"]);
    assert_eq!(velos.pid("api-1"), api1, "one instance alone");

    let info = velos.ok(&["info", "api"]);
    assert!(info.contains("name        api-0") && info.contains("name        api-1"), "{info}");
    // `logs api` reads every instance's files, each line marked with its instance (the sleepers print
    // nothing: give each a line).
    for instance in ["api-0", "api-1"] {
        std::fs::write(velos.log_path(instance, "out"), format!("hello from {instance}\n")).unwrap();
    }
    let logs = velos.ok(&["logs", "api"]);
    assert!(
        logs.contains("api-0 out | hello from api-0") && logs.contains("api-1 out | hello from api-1"),
        "{logs}"
    );

    let refused = velos.fails(&["stop", "api-0"]);
    assert!(refused.contains("hint: velos stop api acts on every instance"), "{refused}");

    velos.ok(&["stop", "all"]);
    for name in ["api-0", "api-1", "web"] {
        assert_eq!(velos.status(name), "stopped", "{name}");
    }
    velos.ok(&["start", "all"]);
    for name in ["api-0", "api-1", "web"] {
        velos.wait_status(name, "running", Duration::from_secs(5));
    }
    let said = velos.ok(&["restart", "all"]);
    assert_eq!(said.lines().count(), 3, "{said}");
}

#[test]
fn a_mistyped_name_gets_did_you_mean_on_every_verb() {
    let velos = Velos::new();
    velos.start("web", &["/bin/sleep", "3600"], &[]);
    for verb in ["restart", "stop", "info", "logs", "delete"] {
        let stderr = velos.fails(&[verb, "wbe"]);
        assert!(stderr.contains("error: no app named \"wbe\""), "{verb}: {stderr}");
        assert!(stderr.contains("hint: did you mean `web`? velos list shows the apps"), "{verb}: {stderr}");
    }
}

#[test]
fn start_of_a_toml_file_applies_it_and_never_names_an_app_after_it() {
    let velos = Velos::new();
    let (dir, _file) = project(&velos, "eco", 1);
    let output = velos.command().args(["start", "velos.toml"]).current_dir(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("velos start of a velos.toml applies it"), "{stdout}");
    assert_eq!(names(&velos), ["api", "web"], "no app named velos");
}

#[test]
fn options_after_the_program_are_refused_unless_set_apart() {
    let velos = Velos::new();
    let stderr = velos.fails(&["start", "/bin/sleep", "300", "--name", "sl"]);
    assert!(stderr.contains("`--name` comes after the program"), "{stderr}");
    assert!(stderr.contains("hint: ") && stderr.contains(" -- "), "{stderr}");
    assert!(velos.daemon_pid().is_none(), "nothing was started");
    // The program's own options pass; after `--` so do ours.
    velos.start("sh", &["/bin/sh", "-c", "sleep 300"], &[]);
    velos.start("echo", &["/bin/echo", "--", "--name", "x"], &[]);
    let info = velos.ok(&["info", "echo"]);
    assert!(info.contains("command     /bin/echo --name x"), "{info}");
}

#[test]
fn a_usage_error_exits_1_and_only_changes_exit_2() {
    let velos = Velos::new();
    let (_dir, file) = project(&velos, "ci", 1);
    let stderr = velos.fails(&["diff", arg(&file), "--agianst", "HEAD"]);
    assert!(stderr.contains("--agianst"), "{stderr}");
    velos.fails(&["frobnicate"]);
    velos.fails(&["scale", "web", "many"]);
    assert_eq!(velos.run(&["diff", arg(&file)]).status.code(), Some(2), "changes");
    assert_eq!(velos.run(&["--help"]).status.code(), Some(0));
}

#[test]
fn a_project_whose_file_is_gone_is_said_once_breaks_nothing_else_and_can_be_forgotten() {
    let velos = Velos::new();
    let (dir, file) = project(&velos, "gone", 1);
    velos.ok(&["apply", arg(&file)]);
    velos.start("other", &["/bin/sleep", "3600"], &[]);
    std::fs::remove_file(&file).unwrap();
    drop(dir);

    let output = velos.run(&["status"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A project in error is a failed gate (exit 1), said once, with how to forget it.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("velos forget gone").count(), 1, "{stderr}");

    let stopped = velos.ok(&["stop", "other"]);
    assert!(stopped.contains("stopped other"), "{stopped}");
    velos.ok(&["stop", "all"]);
    assert_eq!(velos.status("other"), "stopped");

    let refused = velos.fails(&["forget", "gone"]);
    assert!(refused.contains("hint: velos forget gone --yes"), "{refused}");
    assert_eq!(velos.status("web"), "running", "nothing done without --yes");
    let said = velos.ok(&["forget", "gone", "--yes"]);
    assert!(said.contains("deleted api") && said.contains("deleted web"), "{said}");
    assert_eq!(names(&velos), ["other"]);
    assert!(!velos.ok(&["status"]).contains("gone"));
}

#[test]
fn a_refused_apply_registers_nothing() {
    let velos = Velos::new();
    velos.start("web", &["/bin/sleep", "3600"], &[]);
    let (_dir, file) = project(&velos, "clash", 1);
    let stderr = velos.fails(&["apply", arg(&file)]);
    assert!(stderr.contains("web") && stderr.contains("nothing was applied"), "{stderr}");
    // `web` may still be short of its min_uptime (status exits 1 while progressing): the table is what counts.
    let status = velos.run(&["status"]);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("default") && !status.contains("clash"), "{status}");
}
