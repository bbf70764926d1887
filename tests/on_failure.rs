//! `[project] on_failure` with real processes: a change whose app is not ready is rolled back to the last
//! revision that became ready (both applies in the history, status saying so), or its apps are stopped.
#![allow(clippy::unwrap_used)]
use serde_json::Value;
use std::path::{Path, PathBuf};
use velos_e2e::Velos;

/// Version `version` of app `web`: version 2 exits at once with a message on stderr.
fn file_text(velos: &Velos, on_failure: &str, version: u32) -> String {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    format!(
        "[project]\nname = \"shop\"\non_failure = \"{on_failure}\"\n\n[apps.web]\ncommand = \"/bin/sh\"\n\
         args = [\"-c\", \"if [ $V = 2 ]; then echo 'v2: cannot bind' >&2; exit 3; fi; exec sleep 3600\"]\n\
         min_uptime = \"300ms\"\nbackoff = {{ initial = \"50ms\", max = \"100ms\" }}\n\
         env = {{ V = \"{version}\", {key} = \"{value}\" }}\n"
    )
}

/// The failure names `web`: as not ready (the readiness wait caught its crash loop) or as not running (the
/// apply's own wait for "running" caught it first — which one is a race with the app's exit).
fn names_web_down(text: &str) -> bool {
    text.contains("web is not ready") || text.contains("not running: web")
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join("velos.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn apply(velos: &Velos, file: &Path) -> (Option<i32>, String, String) {
    let output = velos.run(&["apply", file.to_str().unwrap()]);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn status_of(velos: &Velos) -> (Option<i32>, Value) {
    let output = velos.run(&["status", "--json"]);
    let all: Value = serde_json::from_slice(&output.stdout).unwrap();
    let shop = all.as_array().unwrap().iter().find(|entry| entry["project"] == "shop").cloned().unwrap();
    (output.status.code(), shop)
}

#[test]
fn a_change_that_is_not_ready_is_rolled_back_to_the_last_ready_revision() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &file_text(&velos, "rollback", 1));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let good = velos_revision(&velos);

    write(dir.path(), &file_text(&velos, "rollback", 2));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(1), "the change failed: {stdout}\n{stderr}");
    assert!(names_web_down(&stderr), "{stderr}");
    assert!(stderr.contains("rolled back to file:"), "{stderr}");
    assert!(stderr.contains("(on_failure = rollback)"), "{stderr}");
    assert_eq!(velos.env_of("web", "V").as_deref(), Some("1"), "the last ready version runs again");
    assert_eq!(velos.status("web"), "running");
    assert!(
        std::fs::read_to_string(&file).unwrap().contains("V = \"2\""),
        "the file keeps the failed change"
    );

    // Both applies are in the history: the failed one, then the rollback, which became ready.
    let history: Value = serde_json::from_str(&velos.ok(&["history", "--json"])).unwrap();
    let entries = history.as_array().unwrap();
    let last_two: Vec<(&str, bool)> = entries[entries.len() - 2..]
        .iter()
        .map(|entry| (entry["revision"].as_str().unwrap(), entry["report"]["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(last_two[1].0, good, "{history}");
    assert_ne!(last_two[0].0, good, "{history}");
    assert_eq!(entries.last().unwrap()["ready"], true, "{history}");
    assert_eq!(entries[entries.len() - 2]["ready"], false, "{history}");

    // Status: degraded, naming both revisions and why, and exits non-zero.
    let (code, shop) = status_of(&velos);
    assert_eq!(code, Some(1), "{shop}");
    assert_eq!(shop["state"], "degraded", "{shop}");
    let message = shop["message"].as_str().unwrap();
    assert!(message.starts_with("rolled back from file:") && message.contains(" to file:"), "{message}");
    assert!(names_web_down(message), "{message}");

    // A fixed file is applied as usual and clears it.
    write(dir.path(), &file_text(&velos, "rollback", 3));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(velos.env_of("web", "V").as_deref(), Some("3"));
    let (code, shop) = status_of(&velos);
    assert_eq!((code, shop["state"].as_str()), (Some(0), Some("synced")), "{shop}");
}

/// The revision the registry says runs.
fn velos_revision(velos: &Velos) -> String {
    status_of(velos).1["revision"].as_str().unwrap().to_string()
}

#[test]
fn with_nothing_ready_before_there_is_nothing_to_roll_back_to() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &file_text(&velos, "rollback", 2));
    let (code, _, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no earlier revision of shop became ready: nothing was rolled back"), "{stderr}");
}

#[test]
fn on_failure_stop_stops_the_apps_that_are_not_ready() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &file_text(&velos, "stop", 1));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    write(dir.path(), &file_text(&velos, "stop", 2));
    let (code, _, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("stopped web (on_failure = stop)"), "{stderr}");
    assert_eq!(velos.status("web"), "stopped", "no crash loop left running");
    let (code, shop) = status_of(&velos);
    assert_eq!(code, Some(1));
    assert_eq!(shop["state"], "degraded", "{shop}");
    assert!(shop["message"].as_str().unwrap().starts_with("stopped web after file:"), "{shop}");
}

/// The controller's own record of `project`: `(updated_unix_ms, state, message)`.
fn controller_record(velos: &Velos, project: &str) -> Option<(u64, String, String)> {
    let text =
        std::fs::read_to_string(velos.home().join("controller").join(format!("{project}.json"))).ok()?;
    let record: Value = serde_json::from_str(&text).ok()?;
    Some((
        record["updated_unix_ms"].as_u64()?,
        record["state"].as_str()?.to_string(),
        record["message"].as_str()?.to_string(),
    ))
}

#[test]
fn the_controller_rolls_back_a_bad_commit_and_keeps_reporting_it_until_a_new_one() {
    use std::time::Duration;
    use velos_e2e::git::GitRepo;
    use velos_e2e::wait_until;
    let velos = Velos::new();
    let repo = GitRepo::new();
    let text = |version: u32| {
        file_text(&velos, "rollback", version).replace("name = \"shop\"", "name = \"gitshop\"")
    };
    let first = repo.push(&text(1), "v1");
    // A local file that follows the repository, looking every 200 ms: many looks in a short test.
    let dir = tempfile::tempdir().unwrap();
    let follow = write(
        dir.path(),
        &format!(
            "[project]\nname = \"gitshop\"\n\n[velos.git]\nrepo = \"{}\"\npoll = \"200ms\"\n",
            repo.bare().display()
        ),
    );
    let (code, stdout, stderr) = apply(&velos, &follow);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(velos.env_of("web", "V").as_deref(), Some("1"));
    wait_until(Duration::from_secs(30), "the controller to call the first commit synced", || {
        controller_record(&velos, "gitshop").is_some_and(|(_, state, _)| state == "synced")
    });

    let bad = repo.push(&text(2), "v2: breaks web");
    wait_until(Duration::from_secs(60), "the controller to roll the bad commit back", || {
        controller_record(&velos, "gitshop")
            .is_some_and(|(_, _, message)| message.starts_with("rolled back from"))
    });
    let (_, state, message) = controller_record(&velos, "gitshop").unwrap();
    assert_eq!(state, "degraded");
    assert!(message.contains(&format!("from git:{}", &bad[..8])), "names the bad commit: {message}");
    assert!(message.contains(&format!("to git:{}", &first[..8])), "and the good one: {message}");
    assert!(names_web_down(&message), "{message}");
    wait_until(Duration::from_secs(30), "the first version to run again", || {
        velos.env_of("web", "V").as_deref() == Some("1") && velos.status("web") == "running"
    });
    let pid = velos.pid("web");

    // Never flapping: look after look, the bad commit stays the reported cause and nothing is restarted.
    let (since, _, _) = controller_record(&velos, "gitshop").unwrap();
    let mut looks = 0;
    let mut last = since;
    wait_until(Duration::from_secs(60), "ten more looks of the controller", || {
        if let Some((updated, state, message)) = controller_record(&velos, "gitshop") {
            if updated > last {
                last = updated;
                looks += 1;
                assert_eq!(state, "degraded", "{message}");
                assert!(message.contains(&format!("from git:{}", &bad[..8])), "{message}");
            }
        }
        assert_eq!(velos.pid("web"), pid, "web was not restarted");
        looks >= 10
    });
    let history: Value = serde_json::from_str(&velos.ok(&["history", "--json"])).unwrap();
    let entries = history.as_array().unwrap();
    let bad_entries =
        entries.iter().filter(|entry| entry["revision"].as_str().unwrap().contains(&bad)).count();
    assert_eq!(bad_entries, 1, "the bad commit was applied once: {history}");
    let status = velos.project_status("gitshop");
    assert_eq!(status["state"], "degraded", "{status}");

    // A new commit is applied as usual.
    repo.push(&text(3), "v3: fixed");
    wait_until(Duration::from_secs(20), "the fix to run and be synced", || {
        velos.env_of("web", "V").as_deref() == Some("3")
            && controller_record(&velos, "gitshop").is_some_and(|(_, state, _)| state == "synced")
    });
}

#[test]
fn an_edit_that_is_not_ready_is_rolled_back_too() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &file_text(&velos, "rollback", 1));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let output = velos.run(&["set", "web", "env.V=2"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(names_web_down(&stderr) && stderr.contains("rolled back to file:"), "{stderr}");
    assert_eq!(velos.env_of("web", "V").as_deref(), Some("1"));
    assert!(std::fs::read_to_string(&file).unwrap().contains("V = 2"), "the edit stays in the file");
    let (_, shop) = status_of(&velos);
    assert!(shop["message"].as_str().unwrap().starts_with("rolled back from"), "{shop}");
}
