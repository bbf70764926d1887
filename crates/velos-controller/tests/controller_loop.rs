//! The controller loop over the in-memory daemon: triggers apply, bad revisions leave the apps alone and
//! say so, drift is undone (or only reported), git sources are followed, and the loop, the file watch and
//! `controller.sock` work with real threads and files (waits are bounded, on explicit conditions).
mod gitrepo;

use gitrepo::{velos_toml, Repos};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use velos_controller::{
    read_records, register_target, request_sync, ControllerOptions, ControllerRecord, ErrorClass, Event,
    Target, Targets, TestClock,
};
use velos_core::Status;
use velos_reconcile::testing::{record_for, FakeDaemon};
use velos_reconcile::{status, ApplyOptions, Clock, Daemon, History, SyncState};

type Shared = Arc<Mutex<FakeDaemon>>;

const RESYNC: Duration = Duration::from_secs(30);

fn options() -> ControllerOptions {
    ControllerOptions {
        apply: ApplyOptions {
            wait: true,
            timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(10),
        },
        ..ControllerOptions::default()
    }
}

fn factory(daemon: &Shared) -> velos_controller::DaemonFactory {
    let daemon = Arc::clone(daemon);
    Box::new(move || Ok(Box::new(Arc::clone(&daemon)) as Box<dyn Daemon>))
}

fn new_controller(
    home: &Path,
    targets: Vec<Target>,
    daemon: &Shared,
    clock: &TestClock,
) -> velos_controller::Controller {
    velos_controller::Controller::new(
        home,
        Targets::Fixed(targets),
        factory(daemon),
        Box::new(clock.clone()),
        options(),
        None,
    )
    .expect("controller")
}

/// A project folder with `velos.toml` = `text`; returns the file.
fn project_file(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join("velos.toml");
    std::fs::write(&file, text).expect("write");
    file
}

fn record(home: &Path, project: &str) -> ControllerRecord {
    read_records(home)
        .into_iter()
        .find(|record| record.project == project)
        .unwrap_or_else(|| panic!("no controller record for {project}: {:?}", read_records(home)))
}

fn running(daemon: &Shared) -> Vec<(String, String)> {
    let mut daemon = daemon.lock().expect("daemon");
    let records = daemon.list().expect("list");
    records
        .into_iter()
        .filter(|record| record.status == Status::Running)
        .map(|record| (record.name.clone(), record.spec.args.join(" ")))
        .collect()
}

fn requests(daemon: &Shared) -> Vec<String> {
    daemon.lock().expect("daemon").request_log()
}

/// Waits (at most 10 s) until `condition` holds, looking every 10 ms.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn a_trigger_applies_then_resyncs_change_nothing() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = project_file(dir.path(), &velos_toml(&[("web", "100"), ("api", "200")]));
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);

    controller.handle(Event::Sync(None));
    controller.run_due();
    assert_eq!(running(&daemon), pairs(&[("api", "200"), ("web", "100")]));
    let applied = record(home.path(), "shop");
    assert_eq!(applied.state, SyncState::Synced, "{applied:?}");
    let revision = velos_config::load(&file).expect("load").revision;
    assert_eq!(applied.revision, revision);
    assert_eq!(applied.source, velos_config::canonical_file_path(&file).expect("path").display().to_string());
    assert_eq!(History::open(home.path()).expect("history").list(Some("shop")).expect("list").len(), 1);

    // Nothing due: nothing happens. Then a resync: still nothing to do, nothing recorded.
    let before = requests(&daemon);
    controller.run_due();
    clock.advance(RESYNC);
    controller.run_due();
    assert_eq!(requests(&daemon), before);
    assert_eq!(History::open(home.path()).expect("history").list(Some("shop")).expect("list").len(), 1);
    assert_eq!(record(home.path(), "shop").state, SyncState::Synced);

    // `velos status` says the same, with the source.
    let live = daemon.lock().expect("daemon").list().expect("list");
    let statuses = status(home.path(), &live).expect("status");
    assert_eq!(statuses.len(), 1);
    assert_eq!((statuses[0].project.as_str(), statuses[0].state), ("shop", SyncState::Synced));
    assert_eq!(statuses[0].revision, revision);
}

#[test]
fn a_bad_revision_is_an_error_and_the_apps_stay_then_the_fix_recovers() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = project_file(dir.path(), &velos_toml(&[("web", "100")]));
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    controller.reconcile_all();
    let good = record(home.path(), "shop").revision;
    let before = requests(&daemon);

    std::fs::write(&file, "[project]\nname = \"shop\"\n[apps.web]\ncomand = \"/bin/sleep\"\n")
        .expect("write");
    controller.reconcile_all();
    let error = record(home.path(), "shop");
    assert_eq!((error.state, error.error_class), (SyncState::Error, Some(ErrorClass::Terminal)), "{error:?}");
    assert!(error.message.contains(":4:1: unknown key `comand` in [apps.web]"), "{}", error.message);
    assert!(error.message.contains("still running file:"), "{}", error.message);
    assert_eq!(error.revision, good, "the revision running is still the good one");
    assert_eq!(requests(&daemon), before, "nothing touched");
    assert_eq!(running(&daemon), pairs(&[("web", "100")]));
    let live = daemon.lock().expect("daemon").list().expect("list");
    let shown = status(home.path(), &live).expect("status");
    assert_eq!(shown[0].state, SyncState::Error);
    assert_eq!(shown[0].message, error.message);

    // Still in error at the next resync, still untouched.
    clock.advance(RESYNC);
    controller.run_due();
    assert_eq!(record(home.path(), "shop").state, SyncState::Error);
    assert_eq!(requests(&daemon), before);

    // Drift while in error is still undone, from the last good revision; the error stays.
    daemon.lock().expect("daemon").delete("web").expect("delete");
    clock.advance(RESYNC);
    controller.run_due();
    assert_eq!(running(&daemon), pairs(&[("web", "100")]));
    let still = record(home.path(), "shop");
    assert_eq!(still.state, SyncState::Error);
    assert!(still.message.ends_with("(undid drift: create web)"), "{}", still.message);

    std::fs::write(&file, velos_toml(&[("web", "150")])).expect("write");
    controller.reconcile_all();
    let fixed = record(home.path(), "shop");
    assert_eq!((fixed.state, fixed.error_class), (SyncState::Synced, None), "{fixed:?}");
    assert_ne!(fixed.revision, good);
    assert_eq!(running(&daemon), pairs(&[("web", "150")]));
}

#[test]
fn drift_is_undone_at_the_next_resync_even_from_an_empty_daemon() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = project_file(dir.path(), &velos_toml(&[("web", "100"), ("api", "200")]));
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    controller.reconcile_all();

    // Deleted behind Velos's back: back at the next resync, not before.
    daemon.lock().expect("daemon").delete("api").expect("delete");
    controller.run_due();
    assert_eq!(running(&daemon), pairs(&[("web", "100")]));
    clock.advance(RESYNC);
    controller.run_due();
    assert_eq!(running(&daemon), pairs(&[("api", "200"), ("web", "100")]));
    let healed = record(home.path(), "shop");
    assert_eq!(healed.state, SyncState::Synced);
    assert_eq!(healed.message, "undid drift: create api");

    // A daemon restarted with an empty table: everything comes back.
    *daemon.lock().expect("daemon") = FakeDaemon::new();
    clock.advance(RESYNC);
    controller.run_due();
    assert_eq!(running(&daemon), pairs(&[("api", "200"), ("web", "100")]));

    // Another spec behind Velos's back: replaced by the file's.
    let mut spec = daemon.lock().expect("daemon").record("web").expect("web").spec.clone();
    spec.args = vec!["999".into()];
    spec.spec_hash = spec.compute_hash();
    daemon.lock().expect("daemon").insert(record_for(&spec, Status::Running, 4242));
    clock.advance(RESYNC);
    controller.run_due();
    assert_eq!(running(&daemon), pairs(&[("api", "200"), ("web", "100")]));
}

#[test]
fn with_self_heal_off_drift_is_only_reported_but_a_new_revision_is_applied() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let text = format!(
        "{}\n[velos]\nwatch = true\nself_heal = false\n",
        velos_toml(&[("web", "100"), ("api", "200")])
    );
    let file = project_file(dir.path(), &text);
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    controller.reconcile_all();
    assert_eq!(record(home.path(), "shop").state, SyncState::Synced);

    daemon.lock().expect("daemon").delete("api").expect("delete");
    let mut spec = daemon.lock().expect("daemon").record("web").expect("web").spec.clone();
    spec.args = vec!["999".into()];
    spec.spec_hash = spec.compute_hash();
    daemon.lock().expect("daemon").insert(record_for(&spec, Status::Running, 4242));
    let before = requests(&daemon);
    clock.advance(RESYNC);
    controller.run_due();
    let drift = record(home.path(), "shop");
    assert_eq!(drift.state, SyncState::OutOfSync, "{drift:?}");
    assert_eq!(drift.message, "self_heal is off: api: missing; web: spec changed behind Velos's back");
    assert_eq!(requests(&daemon), before, "nothing changed");
    let live = daemon.lock().expect("daemon").list().expect("list");
    assert_eq!(status(home.path(), &live).expect("status")[0].state, SyncState::OutOfSync);

    // A new revision of the file is applied: that is not drift, it is what the user asked for.
    std::fs::write(&file, text.replace("\"100\"", "\"101\"")).expect("write");
    controller.reconcile_all();
    assert_eq!(record(home.path(), "shop").state, SyncState::Synced);
    assert_eq!(running(&daemon), pairs(&[("api", "200"), ("web", "101")]));
}

#[test]
fn a_restarted_controller_knows_what_was_applied() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let text = format!("{}\n[velos]\nwatch = true\nself_heal = false\n", velos_toml(&[("web", "100")]));
    let file = project_file(dir.path(), &text);
    let daemon = Shared::default();
    let clock = TestClock::new();
    new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock).reconcile_all();
    daemon.lock().expect("daemon").delete("web").expect("delete");

    // The revision is the one applied (the registry says so): drift, reported, not applied.
    let mut restarted = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    restarted.reconcile_all();
    assert_eq!(record(home.path(), "shop").state, SyncState::OutOfSync);
    assert!(running(&daemon).is_empty());
}

#[test]
fn an_unreadable_registry_is_an_error_not_a_new_revision() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let text = format!("{}\n[velos]\nwatch = true\nself_heal = false\n", velos_toml(&[("web", "100")]));
    let file = project_file(dir.path(), &text);
    let daemon = Shared::default();
    let clock = TestClock::new();
    new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock).reconcile_all();
    daemon.lock().expect("daemon").delete("web").expect("delete");
    std::fs::write(home.path().join("projects/shop.json"), "{ not json").expect("corrupt the registry");

    // What was applied cannot be known: nothing is applied (self_heal is off), and status says why.
    let mut restarted = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    restarted.reconcile_all();
    let status = record(home.path(), "shop");
    assert_eq!(status.state, SyncState::Error, "{status:?}");
    assert!(status.message.contains("cannot read what was applied"), "{status:?}");
    assert!(running(&daemon).is_empty(), "drift is not applied behind self_heal = false");
}

#[test]
fn a_git_source_is_followed_through_bad_commits() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let first = repos.push_file("deploy/velos.toml", &velos_toml(&[("web", "100")]));
    let settings = velos_config::GitSource {
        repo: repos.url(),
        ref_name: "main".into(),
        path: "deploy/velos.toml".into(),
        poll_ms: 5_000,
        auth: Default::default(),
    };
    let target = Target::git(settings.clone(), velos_config::ControllerSettings::default());
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(home.path(), vec![target], &daemon, &clock);
    controller.run_due(); // a new target is due at once
    let synced = record(home.path(), "shop");
    assert_eq!(
        (synced.state, synced.revision.clone()),
        (SyncState::Synced, format!("git:{first}")),
        "{synced:?}"
    );
    assert_eq!(synced.source, format!("git {}", settings.describe()));
    assert_eq!(running(&daemon), pairs(&[("web", "100")]));
    let web = daemon.lock().expect("daemon").record("web").expect("web").spec.clone();
    assert_eq!(web.labels["source_rev"], format!("git:{first}"));
    assert!(Path::new(&web.cwd).join("velos.toml").is_file(), "the apps' folder is checked out");
    let entries = History::open(home.path()).expect("history").list(Some("shop")).expect("list");
    assert_eq!(entries.last().map(|entry| entry.revision.clone()), Some(format!("git:{first}")));

    // A commit that does not parse: seen at the next poll (5 s, before the 30 s resync).
    let before = requests(&daemon);
    let bad = repos.push_file("deploy/velos.toml", "[apps.web]\ncommand = 42\n");
    clock.advance(Duration::from_secs(5));
    controller.run_due();
    let error = record(home.path(), "shop");
    assert_eq!((error.state, error.error_class), (SyncState::Error, Some(ErrorClass::Terminal)), "{error:?}");
    assert!(
        error.message.starts_with(&format!("deploy/velos.toml@{}:2:11: wrong type", &bad[..12])),
        "{}",
        error.message
    );
    assert_eq!(error.revision, format!("git:{first}"));
    assert_eq!(requests(&daemon), before);

    // The path removed: another terminal error. Still untouched.
    std::fs::remove_file(repos.work.join("deploy/velos.toml")).expect("rm");
    repos.commit_and_push("remove", false);
    clock.advance(Duration::from_secs(5));
    controller.run_due();
    assert!(record(home.path(), "shop").message.contains("has no file deploy/velos.toml"));
    assert_eq!(requests(&daemon), before);

    // The fix recovers.
    let fix = repos.push_file("deploy/velos.toml", &velos_toml(&[("web", "200")]));
    clock.advance(Duration::from_secs(5));
    controller.run_due();
    let fixed = record(home.path(), "shop");
    assert_eq!((fixed.state, fixed.revision.clone()), (SyncState::Synced, format!("git:{fix}")), "{fixed:?}");
    assert_eq!(running(&daemon), pairs(&[("web", "200")]));
    let live = daemon.lock().expect("daemon").list().expect("list");
    let shown = status(home.path(), &live).expect("status");
    assert_eq!((shown[0].state, shown[0].revision.clone()), (SyncState::Synced, format!("git:{fix}")));
    assert_eq!(shown[0].source, format!("git {}", settings.describe()));
}

#[test]
fn an_unreachable_repository_is_retried_with_backoff() {
    let home = tempfile::tempdir().expect("home");
    let settings = velos_config::GitSource {
        repo: home.path().join("gone.git").display().to_string(),
        ref_name: "main".into(),
        path: "velos.toml".into(),
        poll_ms: 60_000,
        auth: Default::default(),
    };
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(
        home.path(),
        vec![Target::git(settings, velos_config::ControllerSettings::default())],
        &daemon,
        &clock,
    );
    controller.run_due();
    let error = record(home.path(), "gone");
    assert_eq!(
        (error.state, error.error_class),
        (SyncState::Error, Some(ErrorClass::Transient)),
        "{error:?}"
    );
    let start = Clock::now(&clock);
    assert_eq!(controller.next_wake().map(|at| at - start), Some(Duration::from_secs(1)));
    clock.advance(Duration::from_secs(1));
    controller.run_due();
    assert_eq!(controller.next_wake().map(|at| at - Clock::now(&clock)), Some(Duration::from_secs(2)));
}

#[test]
fn a_second_controller_stands_by() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = project_file(dir.path(), &velos_toml(&[("web", "100")]));
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut first = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    first.reconcile_all();
    assert!(velos_controller::is_followed(home.path(), "shop"));
    let mut second = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    daemon.lock().expect("daemon").delete("web").expect("delete");
    let before = requests(&daemon);
    second.reconcile_all();
    assert_eq!(requests(&daemon), before, "the second controller does not act");
    drop(first);
    assert!(!velos_controller::is_followed(home.path(), "shop"));
    second.reconcile_all();
    assert_eq!(running(&daemon), pairs(&[("web", "100")]));
}

#[test]
fn registered_targets_are_picked_up_and_dropped_when_the_file_stops_asking() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let text = format!("{}\n[velos]\nwatch = true\n", velos_toml(&[("web", "100")]));
    let file = project_file(dir.path(), &text);
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = velos_controller::Controller::new(
        home.path(),
        Targets::Registered,
        factory(&daemon),
        Box::new(clock.clone()),
        options(),
        None,
    )
    .expect("controller");
    controller.run_due();
    assert!(controller.target_keys().is_empty());

    register_target(home.path(), &velos_controller::file_target(&file)).expect("register");
    assert!(velos_controller::controller_wanted(home.path()));
    controller.run_due();
    assert_eq!(controller.target_keys().len(), 1);
    assert_eq!(record(home.path(), "shop").state, SyncState::Synced);

    std::fs::write(&file, velos_toml(&[("web", "100")])).expect("write"); // no [velos] any more
    controller.reconcile_all();
    assert!(controller.target_keys().is_empty());
    assert!(!velos_controller::controller_wanted(home.path()));
    assert!(read_records(home.path()).is_empty());
    assert_eq!(running(&daemon), pairs(&[("web", "100")]), "the apps stay");
}

#[test]
fn the_loop_runs_on_its_channel_and_stops() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = project_file(dir.path(), &velos_toml(&[("web", "100")]));
    let daemon = Shared::default();
    let clock = TestClock::new();
    let (handle, events) = velos_controller::channel();
    let controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    let thread = std::thread::spawn(move || controller.run(events));
    wait_until("web runs", || running(&daemon) == pairs(&[("web", "100")]));

    // Drift, then the clock moves past the resync and the loop is woken: restored.
    daemon.lock().expect("daemon").delete("web").expect("delete");
    clock.advance(RESYNC);
    assert!(handle.wake());
    wait_until("web is back", || running(&daemon) == pairs(&[("web", "100")]));

    // An explicit sync of the project applies a change at once.
    std::fs::write(&file, velos_toml(&[("web", "300")])).expect("write");
    assert!(handle.sync(Some("shop")));
    wait_until("web runs the change", || running(&daemon) == pairs(&[("web", "300")]));

    assert!(handle.shutdown());
    thread.join().expect("the loop ends");
}

#[test]
fn a_saved_file_is_applied_by_the_watch() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = project_file(dir.path(), &velos_toml(&[("web", "100")]));
    let daemon = Shared::default();
    let (handle, events) = velos_controller::channel();
    let controller = velos_controller::Controller::new(
        home.path(),
        Targets::Fixed(vec![Target::watched_file(&file)]),
        factory(&daemon),
        Box::new(velos_reconcile::SystemClock),
        options(),
        Some(&handle),
    )
    .expect("controller");
    let thread = std::thread::spawn(move || controller.run(events));
    wait_until("web runs", || running(&daemon) == pairs(&[("web", "100")]));

    // Saved in place.
    std::fs::write(&file, velos_toml(&[("web", "200")])).expect("write");
    wait_until("the save is applied", || running(&daemon) == pairs(&[("web", "200")]));

    // Saved as editors do: a new file renamed over the old one (the folder is watched, not the inode).
    let temporary = dir.path().join(".velos.toml.swp");
    std::fs::write(&temporary, velos_toml(&[("web", "300")])).expect("write");
    std::fs::rename(&temporary, &file).expect("rename");
    wait_until("the rename is applied", || running(&daemon) == pairs(&[("web", "300")]));

    // A save that does not validate: reported, the last good keeps running.
    std::fs::write(&file, "[apps.web\n").expect("write");
    wait_until("the error is reported", || {
        read_records(home.path()).first().is_some_and(|record| record.state == SyncState::Error)
    });
    assert_eq!(running(&daemon), pairs(&[("web", "300")]));

    assert!(handle.shutdown());
    thread.join().expect("the loop ends");
}

#[test]
fn sync_requests_reach_the_loop_through_the_socket() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    assert!(!request_sync(home.path(), None).expect("no controller"), "no controller: false");

    let file = project_file(dir.path(), &velos_toml(&[("web", "100")]));
    let daemon = Shared::default();
    let clock = TestClock::new();
    let (handle, events) = velos_controller::channel();
    let mut controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    assert!(controller.listen(&handle).expect("listen"));
    let socket = home.path().join(velos_controller::CONTROLLER_SOCKET);
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&socket).expect("socket").permissions().mode() & 0o777, 0o600);
    // A second listener on the same home does not take over.
    let mut other = new_controller(home.path(), vec![], &daemon, &clock);
    assert!(!other.listen(&handle).expect("listen"));

    let thread = std::thread::spawn(move || controller.run(events));
    wait_until("web runs", || running(&daemon) == pairs(&[("web", "100")]));
    std::fs::write(&file, velos_toml(&[("web", "200")])).expect("write");
    assert!(request_sync(home.path(), Some("shop")).expect("sync"));
    wait_until("the sync is applied", || running(&daemon) == pairs(&[("web", "200")]));
    std::fs::write(&file, velos_toml(&[("web", "300")])).expect("write");
    assert!(request_sync(home.path(), None).expect("sync all"));
    wait_until("the sync of all is applied", || running(&daemon) == pairs(&[("web", "300")]));

    // A bad request is answered, not obeyed.
    use std::io::{Read as _, Write as _};
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    stream.write_all(b"sync ../../etc\n").expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("error: "), "{answer}");

    assert!(handle.shutdown());
    thread.join().expect("the loop ends");
    assert!(!socket.exists(), "the socket is removed with its controller");
    assert!(!request_sync(home.path(), None).expect("gone"));
}

#[test]
fn a_first_look_that_fails_is_reported_under_the_folder_name_until_the_file_parses() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let folder = dir.path().join("storefront");
    std::fs::create_dir(&folder).expect("mkdir");
    let file = project_file(&folder, "[project]\nname = \"shop\"\n[apps.web]\n");
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);
    controller.reconcile_all();
    let error = record(home.path(), "storefront");
    assert_eq!((error.state, error.revision.as_str()), (SyncState::Error, ""), "{error:?}");
    assert!(error.message.contains("missing `command` in [apps.web]"), "{}", error.message);
    let live = daemon.lock().expect("daemon").list().expect("list");
    let shown = status(home.path(), &live).expect("status");
    assert_eq!((shown.len(), shown[0].project.as_str(), shown[0].state), (1, "storefront", SyncState::Error));

    std::fs::write(&file, velos_toml(&[("web", "100")])).expect("write");
    controller.reconcile_all();
    let projects: Vec<String> = read_records(home.path()).into_iter().map(|record| record.project).collect();
    assert_eq!(projects, ["shop"]);
    assert_eq!(record(home.path(), "shop").state, SyncState::Synced);
}

#[test]
fn a_reconcile_waits_for_a_velos_command_holding_the_edit_lock() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("project");
    let file = project_file(dir.path(), &velos_toml(&[("web", "100")]));
    let daemon = Shared::default();
    let clock = TestClock::new();
    let mut controller = new_controller(home.path(), vec![Target::watched_file(&file)], &daemon, &clock);

    // `velos apply` (or an edit of the watched file) holds the lock: the controller does not interleave.
    let command = velos_reconcile::history::lock_edits(home.path()).expect("lock");
    let reconciling = std::thread::spawn(move || {
        controller.reconcile_all();
        controller
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(requests(&daemon).is_empty(), "nothing listed or applied while the command runs");
    assert!(!reconciling.is_finished());

    // The command applied the file meanwhile, and recorded it.
    let project = velos_config::load(&file).expect("load");
    let live = daemon.lock().expect("daemon").list().expect("list");
    let plan = velos_reconcile::plan(&project, &live).expect("plan");
    let report = velos_reconcile::apply(&plan, &mut Arc::clone(&daemon), options().apply, &mut |_| {});
    assert!(report.ok(), "{report:?}");
    velos_reconcile::record_apply(home.path(), &project, "", &plan, &report, 1).expect("record");
    drop(command);

    let controller = reconciling.join().expect("the reconcile ends once the lock is free");
    drop(controller);
    assert_eq!(running(&daemon), pairs(&[("web", "100")]));
    assert_eq!(record(home.path(), "shop").state, SyncState::Synced);
    assert_eq!(
        History::open(home.path()).expect("history").list(Some("shop")).expect("list").len(),
        1,
        "what the command applied is not applied (nor recorded) twice"
    );
}
