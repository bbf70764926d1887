//! What on_failure needs from the history and the registry: which revisions became ready, the last one
//! to roll back to, the remediation recorded and reported by status, and the revision it holds back.
mod common;

use common::options;
use std::path::Path;
use velos_reconcile::remediation::{
    held_revision, last_ready, mark_ready, project_of_entry, record_remediation, Remediation, RemedyAction,
};
use velos_reconcile::testing::{FakeDaemon, ManualClock};
use velos_reconcile::{apply_with_clock, plan, record_apply, status, Daemon, SyncState};

fn text(port: u32) -> String {
    format!("[project]\nname = \"shop\"\n\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = {{ PORT = {port} }}\n")
}

/// Writes `text` to `dir/velos.toml`, converges `daemon` on it, records it; returns its revision.
fn apply_file(home: &Path, dir: &Path, text: &str, daemon: &mut FakeDaemon) -> String {
    let file = dir.join("velos.toml");
    std::fs::write(&file, text).expect("write");
    let project = velos_config::load(&file).expect("valid");
    let plan = plan(&project, &daemon.list().expect("list")).expect("plan");
    let report = apply_with_clock(&plan, daemon, options(), &mut ManualClock::new(), &mut |_| {});
    record_apply(home, &project, text, &plan, &report, 1_000).expect("record");
    project.revision
}

#[test]
fn the_last_ready_revision_is_the_newest_marked_one_other_than_the_failed() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("dir");
    let mut daemon = FakeDaemon::new();
    let one = apply_file(home.path(), dir.path(), &text(1), &mut daemon);
    assert_eq!(last_ready(home.path(), "shop", "x").expect("read"), None, "nothing marked yet");
    mark_ready(home.path(), "shop", &one, true).expect("mark");
    let two = apply_file(home.path(), dir.path(), &text(2), &mut daemon);
    // Marking names the revision: an older one is not touched by mistake.
    mark_ready(home.path(), "shop", &one, false).expect("mark");
    mark_ready(home.path(), "shop", &two, false).expect("mark");
    let found = last_ready(home.path(), "shop", &two).expect("read").expect("one is ready");
    assert_eq!((found.revision.as_str(), found.ready), (one.as_str(), Some(true)));
    assert_eq!(last_ready(home.path(), "shop", &one).expect("read"), None, "two never became ready");
    let back = project_of_entry(&found).expect("parses");
    assert_eq!(back.revision, one);
    assert!(back.apps[0].spec.env.contains(&"PORT=1".to_string()));
}

#[test]
fn a_remediation_is_reported_and_holds_its_revision_until_another_apply() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("dir");
    let mut daemon = FakeDaemon::new();
    let good = apply_file(home.path(), dir.path(), &text(1), &mut daemon);
    // The bad revision is written to the file; the host runs the good one again.
    std::fs::write(dir.path().join("velos.toml"), text(2)).expect("write");
    let bad = velos_config::load(&dir.path().join("velos.toml")).expect("valid").revision;
    let remediation = Remediation {
        action: RemedyAction::Rollback,
        from: bad.clone(),
        to: Some(good.clone()),
        reason: "web is not ready: restarted 2 times, last exit code 1".into(),
        apps: Vec::new(),
        time_unix_ms: 2_000,
    };
    record_remediation(home.path(), "shop", &remediation).expect("record");
    assert_eq!(held_revision(home.path(), "shop", &bad).expect("read"), Some(remediation.clone()));
    assert_eq!(held_revision(home.path(), "shop", &good).expect("read"), None);

    let shop = &status(home.path(), &daemon.list().expect("list")).expect("status")[0];
    assert_eq!(shop.state, SyncState::Degraded);
    assert!(shop.message.starts_with("rolled back from file:"), "{}", shop.message);
    assert!(
        shop.message.ends_with(": web is not ready: restarted 2 times, last exit code 1"),
        "{}",
        shop.message
    );
    assert_eq!(shop.revision, good, "the host runs the good revision");

    // A new revision in the file is simply out of sync; applying it clears the remediation.
    let three = apply_file(home.path(), dir.path(), &text(3), &mut daemon);
    assert_eq!(held_revision(home.path(), "shop", &bad).expect("read"), None);
    let shop = &status(home.path(), &daemon.list().expect("list")).expect("status")[0];
    assert_eq!((shop.state, shop.revision.as_str()), (SyncState::Synced, three.as_str()));
}

#[test]
fn a_stop_says_which_apps() {
    let remediation = Remediation {
        action: RemedyAction::Stop,
        from: "git:0123456789abcdef0123".into(),
        to: None,
        reason: "web is not ready".into(),
        apps: vec!["web".into(), "worker".into()],
        time_unix_ms: 0,
    };
    assert_eq!(
        remediation.describe(),
        "stopped web, worker after git:01234567… was not ready: web is not ready"
    );
}
