//! `velos hook install` with real pushes, the `velos-system` project, and the helpers the CLI calls around
//! the controller (`--git` arguments, refusing local edits to a project that follows git).
mod gitrepo;

use gitrepo::{velos_toml, Repos};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use velos_controller::{
    fetch_git_project, git_from_args, install_hook, is_tracked, tracking, write_system_project, CHAINED_HOOK,
    CONTROLLER_APP, SYSTEM_LABEL, SYSTEM_PROJECT,
};

/// A stand-in for the velos binary: appends `VELOS_HOME ARGS` to `marker`.
fn fake_velos(dir: &Path, marker: &Path) -> PathBuf {
    let exe = dir.join("fake velos");
    std::fs::write(&exe, format!("#!/bin/sh\necho \"$VELOS_HOME $*\" >> '{}'\n", marker.display()))
        .expect("write");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    exe
}

fn wait_for_lines(file: &Path, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<String> =
            std::fs::read_to_string(file).unwrap_or_default().lines().map(str::to_string).collect();
        if lines.len() >= count {
            return lines;
        }
        assert!(Instant::now() < deadline, "{} has {} lines, want {count}", file.display(), lines.len());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_hook_runs_velos_sync_on_a_real_push() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let marker = repos.root.path().join("synced");
    let exe = fake_velos(repos.root.path(), &marker);
    let hook = install_hook(&repos.bare, &exe, home.path()).expect("install");
    assert_eq!(hook, repos.bare.join("hooks").join("post-receive"));
    let text = std::fs::read_to_string(&hook).expect("hook");
    assert!(text.starts_with("#!/bin/sh\n"), "{text}");
    assert!(text.contains(&format!("'{}'", exe.display())), "names the exe: {text}");
    assert!(text.contains(&format!("VELOS_HOME='{}'", home.path().display())), "names the home: {text}");
    assert!(text.contains(&format!("{}/hook.log", home.path().display())), "logs: {text}");
    assert_eq!(std::fs::metadata(&hook).expect("hook").permissions().mode() & 0o111, 0o111);

    repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    let lines = wait_for_lines(&marker, 1);
    assert_eq!(lines[0], format!("{} sync", home.path().display()));

    // Installing again changes nothing.
    assert_eq!(install_hook(&repos.bare, &exe, home.path()).expect("again"), hook);
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), text);
}

#[test]
fn a_push_succeeds_when_velos_is_missing() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    install_hook(&repos.bare, &repos.root.path().join("no-velos-here"), home.path()).expect("install");
    repos.push_file("velos.toml", &velos_toml(&[("web", "1")])); // panics if the push fails
}

#[test]
fn an_existing_shell_hook_is_kept_and_chained() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let theirs = repos.root.path().join("theirs");
    let main = repos.bare.join("hooks").join("post-receive");
    let original = format!("#!/bin/sh\n# notify the team\necho pushed >> '{}'", theirs.display());
    std::fs::write(&main, &original).expect("write");
    std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let marker = repos.root.path().join("synced");
    let exe = fake_velos(repos.root.path(), &marker);

    let ours = install_hook(&repos.bare, &exe, home.path()).expect("install");
    assert_eq!(ours, repos.bare.join("hooks").join(CHAINED_HOOK));
    let chained = std::fs::read_to_string(&main).expect("main");
    assert!(chained.starts_with(&original), "theirs is kept: {chained}");
    assert!(chained.contains(CHAINED_HOOK), "{chained}");
    assert_eq!(std::fs::metadata(&main).expect("main").permissions().mode() & 0o777, 0o751);
    install_hook(&repos.bare, &exe, home.path()).expect("again");
    assert_eq!(std::fs::read_to_string(&main).expect("main"), chained, "chained once");

    repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    assert_eq!(wait_for_lines(&theirs, 1), ["pushed"]);
    assert_eq!(wait_for_lines(&marker, 1), [format!("{} sync", home.path().display())]);
}

#[test]
fn an_existing_hook_in_another_language_is_refused() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let main = repos.bare.join("hooks").join("post-receive");
    std::fs::write(&main, "#!/usr/bin/env python3\nprint('hi')\n").expect("write");
    let error = install_hook(&repos.bare, Path::new("/usr/bin/velos"), home.path()).expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("is not a shell script"), "{message}");
    assert!(message.contains("'/usr/bin/velos' sync"), "says what to add: {message}");
    assert_eq!(std::fs::read_to_string(&main).expect("main"), "#!/usr/bin/env python3\nprint('hi')\n");
    let error =
        install_hook(&repos.root.path().join("nothing"), Path::new("/v"), home.path()).expect_err("no repo");
    assert!(error.to_string().contains("is not a git repository"), "{error}");
}

#[test]
fn the_system_project_runs_the_controller_or_nothing() {
    let home = tempfile::tempdir().expect("home");
    let exe = Path::new("/opt/velos tools/velos");
    let project = write_system_project(home.path(), exe, true).expect("system project");
    assert_eq!(project.name, SYSTEM_PROJECT);
    let app = project.app(CONTROLLER_APP).expect("the controller app");
    assert_eq!(app.spec.command, "/opt/velos tools/velos");
    assert_eq!(app.spec.args, ["controller"]);
    assert_eq!(app.spec.restart, velos_config::RestartPolicy::Always);
    assert!(app.spec.env.contains(&format!("VELOS_HOME={}", home.path().display())), "{:?}", app.spec.env);
    assert_eq!(app.spec.labels[SYSTEM_LABEL], "true");
    assert_eq!(app.spec.labels["project"], SYSTEM_PROJECT);

    let none = write_system_project(home.path(), exe, false).expect("system project");
    assert_eq!(none.name, SYSTEM_PROJECT);
    assert!(none.apps.is_empty(), "applying it removes the controller");
}

#[test]
fn git_arguments_are_checked_like_the_file() {
    let cwd = Path::new("/srv/hosts");
    let git =
        git_from_args("../deploy.git", Some("release"), Some("hosts/a/velos.toml"), cwd).expect("valid");
    assert_eq!(git.repo, "/srv/hosts/../deploy.git");
    assert_eq!((git.ref_name.as_str(), git.path.as_str()), ("release", "hosts/a/velos.toml"));
    let defaults = git_from_args("file:///srv/deploy.git", None, None, cwd).expect("valid");
    assert_eq!((defaults.ref_name.as_str(), defaults.path.as_str()), ("main", "velos.toml"));
    let https = git_from_args("https://example.invalid/x.git", None, None, cwd).expect("https is followed");
    assert_eq!(https.repo, "https://example.invalid/x.git");
    let error = git_from_args("https://bot:t0ken@example.invalid/x.git", None, Some("../x"), cwd)
        .expect_err("invalid");
    assert!(error.contains("would be written in velos.toml"), "{error}");
    assert!(error.contains("cannot leave the repository"), "{error}");
    assert!(error.contains("= help: "), "{error}");
}

#[test]
fn projects_that_follow_git_are_known_as_such() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    let settings = git_from_args(&repos.url(), None, None, Path::new("/")).expect("valid");

    // The bootstrap file that says where to look.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, format!("[velos.git]\nrepo = {:?}\n", repos.url())).expect("write");
    let bootstrap = velos_config::load(&file).expect("load");
    assert_eq!(tracking(home.path(), &bootstrap), Some(settings.describe()));

    // The project fetched from git, and its checkout's file as `velos stop` would load it.
    let (fetched, project) = fetch_git_project(home.path(), &settings).expect("fetch");
    assert!(fetched.revision.starts_with("git:"));
    assert!(is_tracked(home.path(), &project));
    let checked_out = velos_config::load(&project.file).expect("the work tree holds the file");
    assert!(is_tracked(home.path(), &checked_out));

    // A plain file does not.
    std::fs::write(&file, velos_toml(&[("web", "1")])).expect("write");
    assert!(!is_tracked(home.path(), &velos_config::load(&file).expect("load")));
}
