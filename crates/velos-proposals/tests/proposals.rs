//! The proposal store over the in-memory daemon: propose changes nothing, check gives exactly the patched
//! file (velos-ops applies it), a stale proposal is refused and marked, reject closes one. The apply itself
//! is tested with velos-ops' `approve`.
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use velos_proposals::{approved, check, propose, reject, ProposalError, ProposeRequest, State, Store};
use velos_reconcile::testing::FakeDaemon;
use velos_reconcile::{ApplyOptions, Daemon, POLL_INTERVAL_DEFAULT};

const SHOP: &str = "# The shop.\n[project]\nname = \"shop\"\n\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"60\"]\nenv = { PORT = \"8000\" } # the front\n\n[apps.worker]\ncommand = \"/bin/sleep\"\nargs = [\"61\"]\n";

fn options() -> ApplyOptions {
    ApplyOptions { wait: false, timeout: Duration::from_secs(5), poll_interval: POLL_INTERVAL_DEFAULT }
}

/// A home with the shop applied on `daemon`, as `velos apply` leaves it.
fn applied_shop(daemon: &mut FakeDaemon) -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().expect("tempdir");
    let file = home.path().join("velos.toml");
    std::fs::write(&file, SHOP).expect("write");
    let (source, project) = velos_config::load_source(&file).expect("load");
    let plan = velos_reconcile::plan(&project, &daemon.list().expect("list")).expect("plan");
    let report = velos_reconcile::apply(&plan, daemon, options(), &mut |_| {});
    assert!(report.ok(), "{report:?}");
    velos_reconcile::record_apply(home.path(), &project, &source, &plan, &report, 1).expect("record");
    (home, file)
}

fn request(patch: serde_json::Value) -> ProposeRequest {
    ProposeRequest {
        project: "shop".into(),
        patch,
        proposer: "test-agent".into(),
        reason: "port clash".into(),
    }
}

fn hashes(daemon: &mut FakeDaemon) -> Vec<(String, String)> {
    let mut records: Vec<(String, String)> = daemon
        .list()
        .expect("list")
        .into_iter()
        .map(|record| (record.name.clone(), record.spec.spec_hash.clone()))
        .collect();
    records.sort();
    records
}

#[test]
fn propose_changes_nothing_and_approve_replaces_exactly_that_app() {
    let mut daemon = FakeDaemon::new();
    let (home, file) = applied_shop(&mut daemon);
    let before = hashes(&mut daemon);
    let requests_before = daemon.request_log().len();
    let proposal = propose(
        home.path(),
        &request(json!({"apps": {"web": {"env": {"PORT": "8081"}}}})),
        &daemon.list().expect("list"),
        10,
    )
    .expect("propose");
    assert!(proposal.valid, "{:?}", proposal.diagnostics);
    assert_eq!(proposal.state, State::Pending);
    assert!(proposal
        .diff
        .contains("-env = { PORT = \"8000\" } # the front\n+env = { PORT = \"8081\" } # the front\n"));
    assert!(proposal.plan.contains("~ replace web"), "{}", proposal.plan);
    assert!(!proposal.plan.contains("worker"), "{}", proposal.plan);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), SHOP, "propose wrote the file");
    assert_eq!(daemon.request_log().len(), requests_before, "propose acted on the daemon");
    assert_eq!(Store::open(home.path()).and_then(|store| store.get(&proposal.id)).expect("stored"), proposal);

    let ready = check(home.path(), &proposal.id, "cli", &|_| None, 20).expect("check");
    assert_eq!(ready.text, SHOP.replace("8000", "8081"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), SHOP, "check wrote the file");
    let web = |project: &velos_config::Project| project.app("web").map(|app| app.spec.spec_hash.clone());
    let current = velos_config::load(&file).expect("load");
    assert_ne!(web(&ready.project), web(&current));
    assert_eq!(
        ready.project.app("worker").map(|app| &app.spec.spec_hash),
        current.app("worker").map(|app| &app.spec.spec_hash)
    );
    let done = approved(home.path(), ready.proposal, "cli", Some(7), "ok", 30).expect("approved");
    assert_eq!(done.state, State::Approved);
    let stored = Store::open(home.path()).and_then(|store| store.get(&proposal.id)).expect("stored");
    assert_eq!(stored.decision.and_then(|decision| decision.history_seq), Some(7));
    let actions = Store::open(home.path()).and_then(|store| store.actions()).expect("actions");
    let verbs: Vec<(&str, &str)> =
        actions.iter().map(|action| (action.action.as_str(), action.by.as_str())).collect();
    assert_eq!(verbs, [("propose", "test-agent"), ("approve", "cli")]);
    assert!(actions.iter().all(|action| action.proposal.as_deref() == Some(proposal.id.as_str())));
    assert_eq!(before, hashes(&mut daemon), "nothing was applied");

    // Decided once: approving again is refused.
    let again = check(home.path(), &proposal.id, "cli", &|_| None, 40).err();
    assert!(matches!(again, Some(ProposalError::NotPending { state: State::Approved, .. })), "{again:?}");
}

#[test]
fn a_proposal_made_before_the_file_changed_is_stale() {
    let mut daemon = FakeDaemon::new();
    let (home, file) = applied_shop(&mut daemon);
    let live = daemon.list().expect("list");
    let proposal = propose(home.path(), &request(json!({"apps": {"worker": {"args": ["5"]}}})), &live, 10)
        .expect("propose");
    std::fs::write(&file, SHOP.replace("# The shop.", "# The shop, edited by hand.")).expect("write");
    let refused = check(home.path(), &proposal.id, "cli", &|_| None, 20).err();
    assert!(matches!(refused, Some(ProposalError::Stale { .. })), "{refused:?}");
    assert!(std::fs::read_to_string(&file).expect("read").contains("args = [\"61\"]"));
    let stored = Store::open(home.path()).and_then(|store| store.get(&proposal.id)).expect("stored");
    assert_eq!(stored.state, State::Stale);
    // A stale one can still be rejected, with a reason the agent reads back.
    let rejected = reject(home.path(), &proposal.id, "cli", Some("re-propose"), 30).expect("reject");
    assert_eq!(rejected.state, State::Rejected);
    assert_eq!(rejected.decision.and_then(|decision| decision.reason).as_deref(), Some("re-propose"));
}

#[test]
fn an_invalid_proposal_is_stored_with_its_problems_and_cannot_be_approved() {
    let mut daemon = FakeDaemon::new();
    let (home, file) = applied_shop(&mut daemon);
    let live = daemon.list().expect("list");
    let proposal = propose(home.path(), &request(json!({"apps": {"web": {"kill_timeout": 5}}})), &live, 10)
        .expect("propose");
    assert!(!proposal.valid);
    assert!(proposal.diagnostics[0].message.contains("kill_timeout"), "{:?}", proposal.diagnostics);
    let refused = check(home.path(), &proposal.id, "cli", &|_| None, 20).err();
    assert!(matches!(refused, Some(ProposalError::Config(_))), "{refused:?}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), SHOP);
}

#[test]
fn unknown_projects_and_ids_are_refused() {
    let mut daemon = FakeDaemon::new();
    let (home, _) = applied_shop(&mut daemon);
    let unknown =
        propose(home.path(), &ProposeRequest { project: "shp".into(), ..request(json!({})) }, &[], 1).err();
    assert!(
        matches!(&unknown, Some(ProposalError::UnknownProject { known, .. }) if known == &["shop"]),
        "{unknown:?}"
    );
    for id in ["p-00000000", "../velos.toml", "p-x"] {
        let missing = check(home.path(), id, "cli", &|_| None, 1).err();
        assert!(matches!(missing, Some(ProposalError::NotFound { .. })), "{id}: {missing:?}");
    }
}

#[test]
fn a_symlink_planted_as_a_proposal_is_not_followed() {
    let mut daemon = FakeDaemon::new();
    let (home, _) = applied_shop(&mut daemon);
    let store = Store::open(home.path()).expect("store");
    let secret = home.path().join("secret.json");
    std::fs::write(&secret, "{}").expect("write");
    std::os::unix::fs::symlink(&secret, store.dir().join("p-0000beef.json")).expect("symlink");
    let refused = store.get("p-0000beef").err();
    assert!(matches!(refused, Some(ProposalError::Io { .. })), "{refused:?}");
    assert!(Path::new(&secret).exists());
}

#[test]
fn a_project_that_follows_git_is_refused_with_its_source() {
    let mut daemon = FakeDaemon::new();
    let (home, file) = applied_shop(&mut daemon);
    let live = daemon.list().expect("list");
    let proposal = propose(home.path(), &request(json!({"apps": {"worker": {"args": ["5"]}}})), &live, 10)
        .expect("propose");
    let refused =
        check(home.path(), &proposal.id, "cli", &|_| Some("git /srv/deploy.git@main:velos.toml".into()), 20)
            .err();
    assert!(
        matches!(&refused, Some(ProposalError::FollowsGit { source_description, .. }) if source_description.contains("deploy.git")),
        "{refused:?}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), SHOP);
    let patch = velos_proposals::patch_for_commit(
        &Store::open(home.path()).and_then(|store| store.get(&proposal.id)).expect("stored"),
    );
    assert!(patch.starts_with("--- a/velos.toml\n+++ b/velos.toml\n@@"), "{patch}");
    assert!(patch.contains("-args = [\"61\"]\n+args = [\"5\"]\n"), "{patch}");
}
