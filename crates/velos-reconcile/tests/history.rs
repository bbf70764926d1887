//! History, the project registry, rollback and status, in a temporary VELOS_HOME.
mod common;

use common::{converge, options};
use std::path::Path;
use velos_core::Status;
use velos_reconcile::history::{read_projects, HISTORY_KEEP_PER_PROJECT};
use velos_reconcile::testing::{FakeDaemon, ManualClock};
use velos_reconcile::{
    apply_with_clock, plan, record_apply, record_failure, rollback, status, ApplyReport, Daemon, History,
    HistoryError, LastResult, RollbackTarget, SyncState,
};

const SHOP_V1: &str = r#"[project]
name = "shop"

[apps.web]
command = "/bin/sleep"
args = ["3600"]
env = { PORT = 8080 }

[apps.worker]
command = "/bin/sleep"
args = ["3600"]
"#;

fn v2() -> String {
    SHOP_V1.replace("8080", "8081")
}

/// Writes `text` as `dir/velos.toml`, loads it, converges `daemon` on it and records the apply.
fn apply_file(home: &Path, dir: &Path, text: &str, daemon: &mut FakeDaemon, time_unix_ms: u64) -> u64 {
    let file = dir.join("velos.toml");
    std::fs::write(&file, text).expect("write");
    let project = velos_config::load(&file).expect("valid");
    let live = daemon.list().expect("list");
    let plan = plan(&project, &live).expect("plan");
    let report = apply_with_clock(&plan, daemon, options(), &mut ManualClock::new(), &mut |_| {});
    record_apply(home, &project, text, &plan, &report, time_unix_ms).expect("record").seq
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|item| item.expect("item").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn each_apply_is_recorded_with_its_text_plan_and_report() {
    let home = tempfile::tempdir().expect("home");
    let shop_dir = tempfile::tempdir().expect("shop");
    let blog_dir = tempfile::tempdir().expect("blog");
    let mut daemon = FakeDaemon::new();
    assert_eq!(apply_file(home.path(), shop_dir.path(), SHOP_V1, &mut daemon, 1_000), 1);
    let blog = "[project]\nname = \"blog\"\n\n[apps.blog]\ncommand = \"/bin/sleep\"\n";
    assert_eq!(apply_file(home.path(), blog_dir.path(), blog, &mut daemon, 2_000), 2);
    assert_eq!(apply_file(home.path(), shop_dir.path(), &v2(), &mut daemon, 3_000), 3);

    let history = History::open(home.path()).expect("open");
    assert_eq!(names(history.dir()), [".lock", "000001-shop.json", "000002-blog.json", "000003-shop.json"]);
    let all = history.list(None).expect("list");
    assert_eq!(all.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let shop = history.list(Some("shop")).expect("list");
    assert_eq!(shop.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [1, 3]);

    let third = history.get(3).expect("get");
    assert_eq!(third.project, "shop");
    assert_eq!(third.source_text, v2());
    assert_eq!(third.time_unix_ms, 3_000);
    assert_eq!(third.file, shop_dir.path().join("velos.toml"));
    assert_eq!(third.revision, velos_config::revision(v2().as_bytes()));
    assert!(third.ok());
    assert_eq!(third.plan["actions"][0]["action"], "replace");
    assert_eq!(third.report["results"][0]["outcome"], "done");
    let keys: Vec<String> =
        serde_json::to_value(&third).expect("json").as_object().expect("object").keys().cloned().collect();
    assert_eq!(keys, ["file", "plan", "project", "report", "revision", "seq", "source_text", "time_unix_ms"]);
    assert!(matches!(history.get(9), Err(HistoryError::NoSuchEntry(9))));

    let projects = read_projects(home.path()).expect("projects");
    assert_eq!(projects.iter().map(|record| record.project.as_str()).collect::<Vec<_>>(), ["blog", "shop"]);
    let record = serde_json::to_value(&projects[1]).expect("json");
    assert_eq!(
        record,
        serde_json::json!({
            "project": "shop",
            "file": shop_dir.path().join("velos.toml"),
            "revision": velos_config::revision(v2().as_bytes()),
            "last_apply_seq": 3,
            "last_apply_time_unix_ms": 3_000,
            "last_result": "ok",
            "message": "ok",
        })
    );
}

#[test]
fn history_keeps_the_last_entries_of_each_project() {
    let home = tempfile::tempdir().expect("home");
    let project = common::project("shop", [common::app("web")]);
    let other = common::project("blog", [common::app("blog")]);
    let plan = plan(&project, &[]).expect("plan");
    let history = History::open(home.path()).expect("open");
    let report = ApplyReport::default();
    history.record(&other, "", &plan, &report, 0).expect("record");
    for time in 0..(HISTORY_KEEP_PER_PROJECT as u64 + 5) {
        history.record(&project, "", &plan, &report, time).expect("record");
    }
    let shop = history.list(Some("shop")).expect("list");
    assert_eq!(shop.len(), HISTORY_KEEP_PER_PROJECT);
    assert_eq!(shop.first().map(|entry| entry.seq), Some(7), "the oldest five are gone");
    assert_eq!(history.list(Some("blog")).expect("list").len(), 1);
    assert!(!names(history.dir()).iter().any(|name| name.starts_with(".tmp")), "a temporary file was left");
}

#[test]
fn rollback_finds_earlier_revisions() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("shop");
    let mut daemon = FakeDaemon::new();
    let v3 = SHOP_V1.replace("8080", "8082");
    apply_file(home.path(), dir.path(), SHOP_V1, &mut daemon, 1); // 1: v1
    apply_file(home.path(), dir.path(), &v2(), &mut daemon, 2); // 2: v2
    apply_file(home.path(), dir.path(), &v2(), &mut daemon, 3); // 3: v2 again (no-op)
    daemon.fail("web", velos_core::ErrorCode::Internal, "disk full");
    apply_file(home.path(), dir.path(), &v3, &mut daemon, 4); // 4: v3, failed

    let back = |steps| rollback(home.path(), "shop", RollbackTarget::Steps(steps));
    // From the failed v3: one back is v2 (the repeat counts once), two back is v1.
    assert_eq!(back(1).expect("1").source_text, v2());
    assert_eq!(back(1).expect("1").seq, 3);
    assert_eq!(back(2).expect("2").source_text, SHOP_V1);
    assert_eq!(back(2).expect("2").file, dir.path().join("velos.toml"));
    assert!(matches!(back(3), Err(HistoryError::NotThatFarBack { available: 2, .. })));
    assert!(matches!(back(0), Err(HistoryError::NotThatFarBack { .. })));
    assert_eq!(rollback(home.path(), "shop", RollbackTarget::Seq(1)).expect("seq").source_text, SHOP_V1);
    assert!(matches!(
        rollback(home.path(), "blog", RollbackTarget::Seq(1)),
        Err(HistoryError::OtherProject { .. })
    ));
    assert!(matches!(
        rollback(home.path(), "blog", RollbackTarget::Steps(1)),
        Err(HistoryError::NotThatFarBack { available: 0, .. })
    ));
    let record = read_projects(home.path()).expect("projects").remove(0);
    assert_eq!(record.last_result, LastResult::Failed);
    assert_eq!(record.message, "failed: replace web");
}

#[test]
fn status_says_synced_out_of_sync_or_error() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("shop");
    let mut daemon = FakeDaemon::new();
    apply_file(home.path(), dir.path(), SHOP_V1, &mut daemon, 1_000);
    let live = daemon.list().expect("list");

    let statuses = status(home.path(), &live).expect("status");
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].state, SyncState::Synced, "{statuses:?}");
    let json = serde_json::to_value(&statuses[0]).expect("json");
    let ready = |name: &str| serde_json::json!({"name": name, "readiness": "ready", "status": "running", "restarts": 0, "reason": ""});
    assert_eq!(
        json,
        serde_json::json!({
            "project": "shop",
            "source": dir.path().join("velos.toml").display().to_string(),
            "revision": velos_config::revision(SHOP_V1.as_bytes()),
            "state": "synced",
            "message": "",
            "last_apply": {"seq": 1, "time_unix_ms": 1_000, "result": "ok", "message": "ok"},
            "apps": [ready("web"), ready("worker")],
        })
    );

    // Nothing to apply, but an app gave up: degraded, the app and why named.
    let mut errored = common::set_status(live.clone(), "worker", Status::Errored);
    if let Some(worker) = errored.iter_mut().find(|record| record.name == "worker") {
        worker.last_error = Some("too many restarts".into());
    }
    let statuses = status(home.path(), &errored).expect("status");
    assert_eq!(statuses[0].state, SyncState::Degraded);
    assert_eq!(statuses[0].message, "not ready: worker (errored: too many restarts)");
    assert_eq!(statuses[0].apps[1].readiness, velos_reconcile::Readiness::Errored);

    // Drift: someone stopped an app by hand.
    let drifted = common::set_status(live.clone(), "worker", Status::Stopped);
    let statuses = status(home.path(), &drifted).expect("status");
    assert_eq!(statuses[0].state, SyncState::OutOfSync);
    assert_eq!(statuses[0].message, "1 change pending: start worker");

    // The file changed since the last apply.
    std::fs::write(dir.path().join("velos.toml"), v2()).expect("write");
    let statuses = status(home.path(), &drifted).expect("status");
    assert_eq!(statuses[0].state, SyncState::OutOfSync);
    assert_eq!(
        statuses[0].message,
        "file changed since last apply; 2 changes pending: replace web, start worker"
    );

    // The file no longer parses, then is gone.
    std::fs::write(dir.path().join("velos.toml"), "[apps.web\n").expect("write");
    let statuses = status(home.path(), &live).expect("status");
    assert_eq!(statuses[0].state, SyncState::Error);
    assert!(!statuses[0].message.is_empty());
    std::fs::remove_file(dir.path().join("velos.toml")).expect("remove");
    let statuses = status(home.path(), &live).expect("status");
    assert_eq!(statuses[0].state, SyncState::Error);
    assert!(statuses[0].message.contains("velos.toml"), "{}", statuses[0].message);
}

#[test]
fn status_reports_a_name_owned_elsewhere_and_a_refused_apply_registers_nothing() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("shop");
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, SHOP_V1).expect("write");
    let shop = velos_config::load(&file).expect("valid");
    let mut daemon = FakeDaemon::new();
    // `web` already runs for project blog.
    assert!(converge(&common::project("blog", [common::app("web")]), &mut daemon).ok());
    let live = daemon.list().expect("list");
    let error = plan(&shop, &live).expect_err("owned elsewhere");
    record_failure(home.path(), &shop, &error.to_string(), 5).expect("record");
    assert!(
        read_projects(home.path()).expect("projects").is_empty(),
        "a refused first apply registers nothing"
    );

    // Once applied, a plan that cannot be made is recorded, and status says why.
    let entry = velos_reconcile::record_apply(
        home.path(),
        &shop,
        SHOP_V1,
        &plan(&shop, &[]).expect("plan"),
        &velos_reconcile::ApplyReport::default(),
        4,
    )
    .expect("recorded");
    record_failure(home.path(), &shop, &error.to_string(), 5).expect("record");
    let record = read_projects(home.path()).expect("projects").remove(0);
    assert_eq!(record.last_result, LastResult::Failed);
    assert_eq!(record.last_apply_seq, Some(entry.seq), "the last apply that acted is kept");
    let statuses = status(home.path(), &live).expect("status");
    assert_eq!(statuses[0].state, SyncState::Error);
    assert_eq!(statuses[0].message, "the app name `web` is already used by project `blog` on this host");
}

#[test]
fn no_registry_is_no_projects() {
    let home = tempfile::tempdir().expect("home");
    assert!(status(home.path(), &[]).expect("status").is_empty());
}
