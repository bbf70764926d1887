//! `cron_restart` and `watch` end to end (issue 12): the real daemon, the controller it supervises, real
//! files and real processes. Each app appends a line to `starts` (outside its watched folder) every time
//! it starts, so the number of lines is the number of runs, whatever the daemon's restart counter says.
#![allow(clippy::unwrap_used)]
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use velos_e2e::{wait_until, Velos};

/// A project folder holding velos.toml, a `src` folder the app watches, and the `starts` file.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::Builder::new().prefix("schedules-").tempdir_in("/tmp").unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        Project { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn file(&self) -> String {
        self.path("velos.toml").display().to_string()
    }

    /// velos.toml with app `web` (marked for the harness) and `settings` added to it.
    fn write(&self, velos: &Velos, settings: &str) {
        let mark = velos.mark();
        let (key, value) = mark.split_once('=').unwrap();
        let text = format!(
            "[project]\nname = \"sched\"\n\n[apps.web]\ncommand = \"/bin/sh\"\n\
             args = [\"-c\", \"echo start >> starts; exec sleep 3600\"]\n\
             env = {{ {key} = \"{value}\" }}\n{settings}\n"
        );
        std::fs::write(self.path("velos.toml"), text).unwrap();
    }

    fn starts(&self) -> usize {
        std::fs::read_to_string(self.path("starts")).map(|text| text.lines().count()).unwrap_or(0)
    }

    fn touch(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// `velos info web --json`'s `schedule` object (Null when the app has none); the first instance's when
/// it has several (they share it).
fn schedule(velos: &Velos) -> Value {
    let info: Value = serde_json::from_str(&velos.ok(&["info", "web", "--json"])).unwrap();
    match info {
        Value::Array(instances) => instances[0]["schedule"].clone(),
        one => one["schedule"].clone(),
    }
}

/// `velos-controller` runs (the daemon supervises it: `list --all`).
fn controller_runs(velos: &Velos) -> bool {
    let all = velos.ok(&["list", "--all"]);
    all.lines().any(|line| line.starts_with("velos-controller") && line.contains("running"))
}

fn wait_for_runner(velos: &Velos, what: &str, mut condition: impl FnMut(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    wait_until(Duration::from_secs(20), what, || {
        last = schedule(velos);
        condition(&last["runner"])
    });
    last
}

#[test]
fn a_burst_of_saves_is_one_restart_and_ignored_files_are_none() {
    let velos = Velos::new();
    let project = Project::new();
    project.write(
        &velos,
        "watch = { paths = [\"src\"], ignore = [\"*.log\", \"node_modules\"], debounce = \"300ms\" }",
    );
    velos.ok(&["apply", &project.file()]);
    assert_eq!(project.starts(), 1);
    assert!(controller_runs(&velos), "an app with a watch makes the controller run");
    // The runner has taken the watch up once it reports the folder watched.
    let taken = wait_for_runner(&velos, "the controller to watch src", |runner| {
        runner["watched_folders"].as_u64().unwrap_or(0) >= 1
    });
    let src = project.path("src").display().to_string();
    assert_eq!(taken["watch"]["paths"], serde_json::json!([src]));
    assert_eq!(taken["watch"]["debounce_ms"], 300);
    let pid = velos.pid("web");

    // Ignored files first, then a burst of twenty saves: the restart's recorded cause is the first file
    // that counts, so an ignored file that counted would show there.
    project.touch("src/debug.log", "noise");
    project.touch("src/node_modules/lib/index.js", "noise");
    for index in 0..20 {
        project.touch(&format!("src/file{index:02}.js"), &format!("version {index}"));
    }
    let runner = wait_for_runner(&velos, "one watch restart, settled", |runner| {
        runner["watch_restarts"] == 1 && runner["pending"] == false
    });
    assert_eq!(runner["runner"]["last_restart"]["by"], "watch");
    assert_eq!(runner["runner"]["last_restart"]["reason"], "src/file00.js changed");
    wait_until(Duration::from_secs(10), "web to run again", || {
        velos.status("web") == "running" && velos.pid("web") != pid
    });
    assert_eq!(project.starts(), 2, "twenty saves in a burst are one restart, not twenty");

    // Only ignored files, then one file that counts: one more restart, caused by that file.
    project.touch("src/other.log", "noise");
    project.touch("src/node_modules/more.js", "noise");
    project.touch("src/late.js", "counts");
    let runner = wait_for_runner(&velos, "the second watch restart", |runner| {
        runner["watch_restarts"] == 2 && runner["pending"] == false
    });
    assert_eq!(runner["runner"]["last_restart"]["reason"], "src/late.js changed");
    wait_until(Duration::from_secs(10), "the third start", || project.starts() == 3);
    let text = velos.ok(&["info", "web"]);
    assert!(text.contains("restarted by watch at"), "{text}");
    assert!(
        text.contains(&format!("watch           {src}, ignoring *.log node_modules, debounce 300ms")),
        "{text}"
    );

    // Without the watch, the controller has nothing left to do and goes.
    project.write(&velos, "");
    let applied = velos.ok(&["apply", &project.file()]);
    assert!(applied.contains("watch:"), "the removal is an in-place update: {applied}");
    assert_eq!(schedule(&velos), Value::Null);
    assert!(!controller_runs(&velos), "{}", velos.ok(&["list", "--all"]));
    assert_eq!(project.starts(), 3, "removing a watch restarts nothing");
}

/// An every-minute expression: the restart comes within 60 s of the apply (plus the runner's 2 s LIST),
/// so this test takes up to ~65 s. The next-fire arithmetic itself (ranges, names, Feb 29, DST) is
/// unit-tested in velos-schedule with an injected time and zone; here the wiring is what is tested.
#[test]
fn cron_restart_restarts_the_app_at_the_next_minute() {
    let velos = Velos::new();
    let project = Project::new();
    project.write(&velos, "cron_restart = \"* * * * *\"");
    velos.ok(&["apply", &project.file()]);
    let first = schedule(&velos);
    assert_eq!(first["cron_restart"], "* * * * *");
    let next = first["next_restart"].as_str().unwrap();
    assert_eq!(&next[16..19], ":00", "a whole minute: {next}");
    let pid = velos.pid("web");
    let mut last = Value::Null;
    wait_until(Duration::from_secs(70), "a restart by cron_restart", || {
        last = schedule(&velos);
        last["runner"]["cron_restarts"] == 1
    });
    let restart = &last["runner"]["last_restart"];
    assert_eq!(restart["by"], "cron_restart");
    assert_eq!(restart["reason"], "* * * * *");
    // It fired at a whole minute (the runner wakes at that instant; a few seconds allowed for a loaded
    // machine), not at some time of the runner's own.
    let at = restart["at"].as_str().unwrap();
    let second: u32 = at[17..19].parse().unwrap();
    assert!(second < 5, "fired at {at}, not at a whole minute: {last}");
    wait_until(Duration::from_secs(10), "web to run again", || {
        velos.status("web") == "running" && velos.pid("web") != pid && project.starts() == 2
    });
    let text = velos.ok(&["info", "web"]);
    assert!(text.contains("cron restart    * * * * * (next "), "{text}");
    assert!(text.contains("restarted by cron_restart at"), "{text}");
}

#[test]
fn a_stopped_app_is_left_stopped_and_a_bad_expression_is_refused() {
    let velos = Velos::new();
    let project = Project::new();
    project.write(&velos, "cron_restart = \"0 25 * * *\"");
    let error = velos.fails(&["validate", &project.file()]);
    let at = format!("{}:8:19", project.file());
    assert!(error.contains(&at), "the caret is on the hour field: {error}");
    assert!(error.contains("25 is out of range for the hour field (0 to 23)"), "{error}");

    // A watched app the user stopped: saves do not start it again.
    project.write(&velos, "watch = { paths = [\"src\"], debounce = \"50ms\" }");
    velos.ok(&["apply", &project.file()]);
    wait_for_runner(&velos, "the controller to watch src", |runner| {
        runner["watched_folders"].as_u64().unwrap_or(0) >= 1
    });
    velos.ok(&["stop", "web"]);
    wait_until(Duration::from_secs(10), "web to stop", || velos.status("web") == "stopped");
    // `velos stop` edits the file (state = "stopped"): the watch stays, and a save is no restart.
    project.touch("src/a.js", "1");
    let runner = wait_for_runner(&velos, "the save to be handled", |runner| runner["skipped"] == 1);
    assert_eq!(runner["runner"]["watch_restarts"], 0, "{runner}");
    assert_eq!(velos.status("web"), "stopped");
    assert_eq!(project.starts(), 1);
}

/// Every instance of an app is restarted, one after another (the second once the first runs again).
#[test]
fn a_save_restarts_every_instance_in_turn() {
    let velos = Velos::new();
    let project = Project::new();
    project.write(&velos, "instances = 2\nwatch = { paths = [\"src\"], debounce = \"100ms\" }");
    velos.ok(&["apply", &project.file()]);
    wait_for_runner(&velos, "the controller to watch src", |runner| {
        runner["watched_folders"].as_u64().unwrap_or(0) >= 1
    });
    let before = (velos.pid("web-0"), velos.pid("web-1"));
    project.touch("src/main.js", "v2");
    wait_until(Duration::from_secs(20), "both instances to run new processes", || {
        velos.status("web-0") == "running"
            && velos.status("web-1") == "running"
            && velos.pid("web-0") != before.0
            && velos.pid("web-1") != before.1
    });
    wait_until(Duration::from_secs(10), "the second start of each", || project.starts() == 4);
    let mut info = Value::Null;
    wait_until(Duration::from_secs(10), "the restart to be recorded", || {
        info = serde_json::from_str(&velos.ok(&["info", "web-1", "--json"])).unwrap();
        info["schedule"]["runner"]["watch_restarts"] == 1 && info["schedule"]["runner"]["pending"] == false
    });
    assert_eq!(project.starts(), 4, "one restart of the app is two starts, not more: {info}");
}

#[test]
fn an_edit_that_adds_or_removes_the_last_schedule_starts_or_removes_the_controller() {
    let velos = Velos::new();
    let project = Project::new();
    project.write(&velos, "");
    velos.ok(&["apply", &project.file()]);
    assert!(!controller_runs(&velos), "no schedule, no controller");
    // `velos set` is an edit of velos.toml: the controller app follows it, as it follows an apply.
    velos.ok(&["set", "web", "cron_restart=0 3 * * *"]);
    wait_until(Duration::from_secs(20), "the controller to start", || controller_runs(&velos));
    assert_eq!(schedule(&velos)["cron_restart"], "0 3 * * *");
    velos.ok(&["unset", "web", "cron_restart"]);
    wait_until(Duration::from_secs(20), "the controller to go", || !controller_runs(&velos));
}
