//! Declarative Velos end to end: apply converges exactly and prunes, diff gates CI, imperative commands edit
//! the file, rollback restores, and bad input changes nothing.
#![allow(clippy::unwrap_used)]
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use velos_e2e::{environ_of, process_alive, Velos};

/// A project folder with a velos.toml; `apps` are (name, extra TOML lines) running `/bin/sleep 3600`.
struct ProjectDir {
    dir: tempfile::TempDir,
}

impl ProjectDir {
    fn new(name: &str) -> ProjectDir {
        let dir = tempfile::Builder::new().prefix(&format!("{name}-")).tempdir_in("/tmp").unwrap();
        ProjectDir { dir }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("velos.toml")
    }

    fn arg(&self) -> String {
        self.file().display().to_string()
    }

    fn write(&self, text: &str) {
        std::fs::write(self.file(), text).unwrap();
    }

    fn read(&self) -> String {
        std::fs::read_to_string(self.file()).unwrap()
    }
}

/// A velos.toml of `count` sleeping apps carrying the test marker; `tweak` may add lines per app.
fn sleepers(velos: &Velos, project: &str, count: usize, tweak: impl Fn(usize) -> String) -> String {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let mut text = format!("# managed by the e2e test\n[project]\nname = \"{project}\"\n\n");
    for index in 0..count {
        text.push_str(&format!(
            "[apps.app-{index:03}]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = {{ {key} = \"{value}\", INDEX = \"{index}\" }}\n{}\n",
            tweak(index)
        ));
    }
    text
}

fn pids(velos: &Velos) -> HashMap<String, u64> {
    velos
        .list()
        .into_iter()
        .map(|app| (app["name"].as_str().unwrap().to_string(), app["pid"].as_u64().unwrap()))
        .collect()
}

#[test]
fn apply_converges_exactly_and_a_second_apply_changes_nothing() {
    let velos = Velos::new();
    let project = ProjectDir::new("hundred");
    project.write(&sleepers(&velos, "hundred", 100, |_| String::new()));

    let first = velos.ok(&["apply", &project.arg()]);
    assert!(first.contains("+ create app-000"), "the plan is printed before acting:\n{first}");
    let before = pids(&velos);
    assert_eq!(before.len(), 100);
    assert!(velos.list().iter().all(|app| app["status"] == "running"));

    let second = velos.ok(&["apply", &project.arg()]);
    assert!(second.contains("No changes"), "{second}");
    assert_eq!(pids(&velos), before, "a no-op apply restarts nothing");
    assert!(velos.list().iter().all(|app| app["restarts"] == 0));
}

#[test]
fn changing_one_apps_env_restarts_exactly_that_app_with_the_new_value() {
    let velos = Velos::new();
    let project = ProjectDir::new("envchange");
    project.write(&sleepers(&velos, "envchange", 100, |_| String::new()));
    velos.ok(&["apply", &project.arg()]);
    let before = pids(&velos);

    let text = project.read().replace("INDEX = \"42\" }", "INDEX = \"42\", PORT = \"8081\" }");
    assert_ne!(text, project.read());
    project.write(&text);

    let plan = velos.run(&["diff", &project.arg()]);
    assert_eq!(plan.status.code(), Some(2), "diff against live: changes pending");
    let plan_text = String::from_utf8_lossy(&plan.stdout);
    assert!(plan_text.contains("~ replace app-042") && plan_text.contains("env.PORT"), "{plan_text}");

    velos.ok(&["apply", &project.arg()]);
    let after = pids(&velos);
    for (name, pid) in &before {
        if name == "app-042" {
            assert_ne!(after[name], *pid, "the changed app is restarted");
            assert!(environ_of(after[name] as u32).contains(&"PORT=8081".to_string()));
        } else {
            assert_eq!(after[name], *pid, "{name} must be untouched");
        }
    }
}

#[test]
fn removing_renaming_and_changing_the_command_are_applied() {
    let velos = Velos::new();
    let project = ProjectDir::new("prune");
    project.write(&sleepers(&velos, "prune", 3, |_| String::new()));
    velos.ok(&["apply", &project.arg()]);
    let old_001 = velos.pid("app-001");
    let old_002 = velos.pid("app-002");
    let kept = velos.pid("app-000");

    // app-001 removed, app-002 renamed to renamed-002, app-000 gets a new script path.
    let text = project.read().replace("[apps.app-002]", "[apps.renamed-002]").replacen(
        "command = \"/bin/sleep\"",
        "command = \"/usr/bin/sleep\"",
        1,
    );
    let without_001 = remove_app_block(&text, "app-001");
    project.write(&without_001);

    let output = velos.ok(&["apply", &project.arg()]);
    assert!(output.contains("- delete app-001"), "{output}");
    assert!(output.contains("- delete app-002") && output.contains("+ create renamed-002"), "{output}");
    assert!(output.contains("~ replace app-000") && output.contains("/usr/bin/sleep"), "{output}");

    assert!(velos.app("app-001").is_none(), "a removed app is gone from the list");
    assert!(velos.app("app-002").is_none());
    assert!(!process_alive(old_001 as i32) && !process_alive(old_002 as i32), "and its process is stopped");
    let renamed = velos.wait_status("renamed-002", "running", Duration::from_secs(5));
    assert!(renamed["pid"].as_u64().unwrap() > 0);
    let new_000 = velos.pid("app-000");
    assert_ne!(new_000, kept);
    let cmdline = std::fs::read(format!("/proc/{new_000}/cmdline")).unwrap();
    assert!(cmdline.starts_with(b"/usr/bin/sleep"), "runs the new path");
}

fn remove_app_block(text: &str, app: &str) -> String {
    let header = format!("[apps.{app}]");
    let start = text.find(&header).unwrap();
    let end = text[start + header.len()..]
        .find("[apps.")
        .map(|offset| start + header.len() + offset)
        .unwrap_or(text.len());
    format!("{}{}", &text[..start], &text[end..])
}

#[test]
fn prune_acts_within_the_project_only_and_names_are_unique_across_projects() {
    let velos = Velos::new();
    let one = ProjectDir::new("one");
    let two = ProjectDir::new("two");
    one.write(&sleepers(&velos, "one", 2, |_| String::new()));
    velos.ok(&["apply", &one.arg()]);
    velos.start("loose", &["/bin/sleep", "3600"], &[]);

    // Project two declares app-000, which project one owns: refused, nothing applied.
    two.write(&sleepers(&velos, "two", 1, |_| String::new()));
    let stderr = velos.fails(&["apply", &two.arg()]);
    assert!(stderr.contains("app-000") && stderr.contains("one"), "names the owner: {stderr}");

    // Emptying project one prunes its two apps and leaves the default project's app alone.
    one.write("[project]\nname = \"one\"\n");
    velos.ok(&["apply", &one.arg()]);
    let names: Vec<String> =
        velos.list().iter().map(|app| app["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["loose".to_string()]);
}

#[test]
fn stop_writes_the_file_keeping_comments_and_the_app_stays_stopped() {
    let velos = Velos::new();
    let project = ProjectDir::new("edits");
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    project.write(&format!(
        "# The edits project.\n[project]\nname = \"edits\"\n\n# The web app: keep this comment.\n[apps.web]\ncommand = \"/bin/sleep\" # inline comment\nargs = [\"3600\"]\nenv = {{ {key} = \"{value}\" }}\n"
    ));
    velos.ok(&["apply", &project.arg()]);
    velos.ok(&["stop", "web"]);
    assert_eq!(velos.status("web"), "stopped");

    let text = project.read();
    assert!(text.contains("state = \"stopped\""), "{text}");
    for comment in ["# The edits project.", "# The web app: keep this comment.", "# inline comment"] {
        assert!(text.contains(comment), "comment {comment:?} lost:\n{text}");
    }
    let output = velos.ok(&["apply", &project.arg()]);
    assert!(output.contains("No changes"), "{output}");
    assert_eq!(velos.status("web"), "stopped", "stays stopped across applies");

    velos.ok(&["start", "web"]);
    velos.wait_status("web", "running", Duration::from_secs(5));
    assert!(!project.read().contains("state = \"stopped\""));
}

#[test]
fn diff_exit_codes_and_no_daemon_needed_against_a_file() {
    let velos = Velos::new();
    let old = ProjectDir::new("diffold");
    let new = ProjectDir::new("diffnew");
    old.write("[project]\nname = \"shop\"\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = { PORT = \"8080\" }\n");
    new.write("[project]\nname = \"shop\"\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = { PORT = \"8080\" }\n");

    let same = velos.run(&["diff", &new.arg(), "--against", &old.arg()]);
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stderr));

    new.write(&new.read().replace("8080", "8081"));
    let changed = velos.run(&["diff", &new.arg(), "--against", &old.arg()]);
    assert_eq!(changed.status.code(), Some(2));
    let text = String::from_utf8_lossy(&changed.stdout);
    assert!(text.contains("~ replace web") && text.contains("8080") && text.contains("8081"), "{text}");

    new.write("[apps.web]\ncomand = \"/bin/sleep\"\n");
    let invalid = velos.run(&["diff", &new.arg(), "--against", &old.arg()]);
    assert_eq!(invalid.status.code(), Some(1));
    assert!(velos.daemon_pid().is_none(), "diff between two files needs no daemon");
}

#[test]
fn diff_against_a_git_revision() {
    let velos = Velos::new();
    let repo = ProjectDir::new("gitdiff");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(repo.dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&status.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    repo.write("[project]\nname = \"g\"\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n");
    git(&["add", "velos.toml"]);
    git(&["commit", "-q", "-m", "first"]);

    let clean = velos.run(&["diff", &repo.arg(), "--against", "HEAD"]);
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stderr));
    repo.write(&repo.read().replace("3600", "7200"));
    let dirty = velos.run(&["diff", &repo.arg(), "--against", "HEAD"]);
    assert_eq!(dirty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dirty.stdout).contains("~ replace web"));
    let unknown = velos.run(&["diff", &repo.arg(), "--against", "no-such-rev"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(velos.daemon_pid().is_none());
}

#[test]
fn rollback_restores_the_previous_revision() {
    let velos = Velos::new();
    let project = ProjectDir::new("rollback");
    let version = |port: &str| {
        sleepers(&velos, "rollback", 1, |_| format!("# port {port}\n"))
            .replace("INDEX = \"0\"", &format!("PORT = \"{port}\""))
    };
    project.write(&version("1111"));
    velos.ok(&["apply", &project.arg()]);
    project.write(&version("2222"));
    velos.ok(&["apply", &project.arg()]);
    assert!(environ_of(velos.pid("app-000")).contains(&"PORT=2222".to_string()));

    let history = velos.ok(&["history"]);
    assert!(history.lines().count() >= 2, "{history}");
    velos.ok(&["rollback"]);
    velos.wait_status("app-000", "running", Duration::from_secs(5));
    assert!(environ_of(velos.pid("app-000")).contains(&"PORT=1111".to_string()));
    assert!(project.read().contains("PORT = \"1111\""), "the file agrees with the host after a rollback");

    let status: serde_json::Value = serde_json::from_str(&velos.ok(&["status", "--json"])).unwrap();
    let entry = status.as_array().unwrap().iter().find(|entry| entry["project"] == "rollback").unwrap();
    assert_eq!(entry["state"], "synced", "{entry}");
}

#[test]
fn bad_input_exits_1_applies_nothing_and_writes_nothing() {
    let velos = Velos::new();
    let project = ProjectDir::new("badinput");
    let good = sleepers(&velos, "badinput", 2, |_| String::new());
    project.write(&good);
    velos.ok(&["apply", &project.arg()]);
    let before = pids(&velos);

    let cases: [(&str, String, &str); 6] = [
        ("invalid TOML", good.replace("[apps.app-001]", "[apps.app-001"), "velos.toml:"),
        ("unknown key", good.replace("args = [\"3600\"]", "arg = [\"3600\"]"), "did you mean"),
        ("wrong type", good.replace("args = [\"3600\"]", "args = 3600"), "velos.toml:"),
        ("missing command", good.replacen("command = \"/bin/sleep\"", "", 1), "command"),
        (
            "dependency cycle",
            good.replace("args = [\"3600\"]", "args = [\"3600\"]\ndepends_on = [\"app-000\", \"app-001\"]"),
            "cycle",
        ),
        (
            "unknown dependency",
            good.replacen("args = [\"3600\"]", "args = [\"3600\"]\ndepends_on = [\"ghost\"]", 1),
            "ghost",
        ),
    ];
    for (what, text, expected) in cases {
        project.write(&text);
        let stderr = velos.fails(&["apply", &project.arg()]);
        assert!(stderr.contains(expected), "{what}: {stderr}");
        let validate = velos.run(&["validate", &project.arg()]);
        assert_eq!(validate.status.code(), Some(1), "{what}: validate fails too");
        assert_eq!(pids(&velos), before, "{what}: running apps untouched");
    }

    // A file that cannot be written: `velos stop` must fail and leave the app running.
    project.write(&good);
    velos.ok(&["apply", &project.arg()]);
    let before = pids(&velos);
    let guard = Immutable::new(project.dir.path());
    let stderr = velos.fails(&["stop", "app-000"]);
    assert!(stderr.contains("error:"), "{stderr}");
    drop(guard);
    assert_eq!(project.read(), good, "nothing written");
    assert_eq!(pids(&velos), before, "nothing applied");
    assert_eq!(velos.status("app-000"), "running");
}

/// Makes a project folder and its velos.toml unwritable for as long as it lives. Tests run as root here, and
/// root ignores permission bits: the immutable attribute (ext4) is what makes both the file and its folder
/// (where the temporary file would go) unwritable. Dropping it undoes that, even when the test panics.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn new(dir: &Path) -> Immutable {
        let paths = vec![dir.join("velos.toml"), dir.to_path_buf()];
        for path in &paths {
            let status = Command::new("chattr").arg("+i").arg(path).status().unwrap();
            assert!(
                status.success(),
                "chattr +i {} failed: this test needs an ext4-like /tmp",
                path.display()
            );
        }
        Immutable(paths)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(path).status();
        }
    }
}

#[test]
fn examples_validate_and_plan() {
    let velos = Velos::new();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let file = entry.unwrap().path().join("velos.toml");
        if !file.exists() {
            continue;
        }
        seen += 1;
        let arg = file.display().to_string();
        velos.ok(&["validate", &arg]);
        let plan = velos.ok(&["plan", &arg]);
        assert!(plan.contains("+ create"), "{arg}: {plan}");
    }
    assert!(seen >= 3, "examples found: {seen}");
}
