//! The verbs over the fake daemon: addressing, PM2 habits, the edit engine, and each error kind.
mod common;

use common::{Host, SHOP};
use velos_ops::{
    Against, ApplyRequest, ApplySource, DeleteRequest, DiffRequest, ErrorDetail, ForgetRequest, InfoRequest,
    ListRequest, LogsRequest, OpErrorKind, PingRequest, RestartRequest, Scale, ScaleRequest, StatusRequest,
    StopRequest, ValidateRequest, WaitOptions,
};

fn apply(host: &Host, file: &std::path::Path) -> velos_ops::ApplyOutcome {
    host.ops
        .apply(ApplyRequest {
            source: ApplySource::File { path: file.to_path_buf() },
            wait: WaitOptions::default(),
            force_local: false,
        })
        .unwrap_or_else(|error| panic!("{error:?}"))
}

#[test]
fn read_verbs_never_start_the_daemon_and_say_how_to() {
    let host = Host::new();
    let error = host.ops.list(ListRequest::default()).expect_err("no daemon");
    assert_eq!(error.kind, OpErrorKind::DaemonNotRunning);
    assert!(error.hint_text().is_some_and(|hint| hint.contains("velos daemon")), "{error:?}");
    for error in [
        host.ops.info(InfoRequest { name: "web".into() }).expect_err("info"),
        host.ops.logs(LogsRequest::new("web")).expect_err("logs"),
        host.ops.ping(PingRequest {}).expect_err("ping"),
        host.ops.status(StatusRequest::default()).expect_err("status"),
    ] {
        assert_eq!(error.kind, OpErrorKind::DaemonNotRunning, "{error:?}");
    }
    assert!(!host.fake.lock().running, "still not running");
    // A write starts it.
    host.start("/bin/sleep", &["300"], Some("sl")).expect("start");
    assert!(host.fake.lock().running);
    assert_eq!(host.ops.list(ListRequest::default()).expect("list").apps.len(), 1);
}

#[test]
fn the_hint_counts_the_apps_the_state_file_holds() {
    let host = Host::new();
    #[derive(serde::Serialize)]
    struct Saved<'a> {
        version: u32,
        apps: Vec<std::collections::BTreeMap<&'a str, &'a str>>,
    }
    let apps = vec![[("desired", "running")].into(), [("desired", "stopped")].into()];
    std::fs::create_dir_all(host.ops.home().root()).expect("home");
    std::fs::write(
        host.ops.home().state_file(),
        rmp_serde::to_vec_named(&Saved { version: 1, apps }).expect("encode"),
    )
    .expect("write");
    let error = host.ops.list(ListRequest::default()).expect_err("no daemon");
    assert_eq!(
        error.hint_text().map(|hint| hint.contains("2 apps (1 to run): velos resurrect")),
        Some(true),
        "{error:?}"
    );
    assert!(matches!(
        error.detail.as_deref(),
        Some(ErrorDetail::DaemonNotRunning { saved_apps: 2, running: 1, .. })
    ));
}

#[test]
fn an_app_is_addressed_by_name_and_one_instance_by_its_own() {
    let host = Host::new();
    let file = host.file("shop/velos.toml", SHOP);
    apply(&host, &file);
    assert_eq!(host.names(), ["api-0", "api-1", "web"]);

    let info = host.ops.info(InfoRequest { name: "api".into() }).expect("info api");
    assert_eq!(info.apps.iter().map(|app| app.record.name.as_str()).collect::<Vec<_>>(), ["api-0", "api-1"]);
    assert!(info.apps[0].out_log.ends_with("logs/api-0-out.log"));
    assert_eq!(host.ops.info(InfoRequest { name: "api-1".into() }).expect("one").apps.len(), 1);

    let (old0, old1, old_web) = (host.pid("api-0"), host.pid("api-1"), host.pid("web"));
    let restarted = host.ops.restart(RestartRequest { name: "api".into() }).expect("restart api");
    assert_eq!(
        restarted.restarted.iter().map(|one| one.name.as_str()).collect::<Vec<_>>(),
        ["api-0", "api-1"]
    );
    assert!(host.pid("api-0") != old0 && host.pid("api-1") != old1 && host.pid("web") == old_web);
    let one = host.ops.restart(RestartRequest { name: "api-1".into() }).expect("restart api-1");
    assert_eq!(one.restarted.len(), 1);
    let all = host.ops.restart(RestartRequest { name: "all".into() }).expect("restart all");
    assert_eq!(all.restarted.len(), 3);

    let stopped = host.ops.stop(StopRequest { name: "api".into() }).expect("stop api");
    assert_eq!(stopped.apps[0].instances.len(), 2);
    assert!(std::fs::read_to_string(&file).expect("read").contains("state = \"stopped\""));
    let error = host.ops.stop(StopRequest { name: "api-0".into() }).expect_err("an instance is not edited");
    assert_eq!(error.kind, OpErrorKind::InvalidInput);
    assert!(error.hint_text().is_some_and(|hint| hint.contains("velos stop api acts on every instance")));
}

#[test]
fn an_unknown_name_gets_did_you_mean_on_every_verb() {
    let host = Host::new();
    apply(&host, &host.file("shop/velos.toml", SHOP));
    let errors = [
        host.ops.info(InfoRequest { name: "wbe".into() }).expect_err("info"),
        host.ops.restart(RestartRequest { name: "wbe".into() }).expect_err("restart"),
        host.ops.stop(StopRequest { name: "wbe".into() }).expect_err("stop"),
        host.ops.delete(DeleteRequest { name: "wbe".into() }).expect_err("delete"),
        host.ops
            .scale(ScaleRequest { app: "wbe".into(), scale: Scale::To(2), wait: WaitOptions::default() })
            .expect_err("scale"),
    ];
    for error in errors {
        assert_eq!(error.kind, OpErrorKind::NotFound, "{error:?}");
        assert!(error.hint_text().is_some_and(|hint| hint.starts_with("did you mean `web`?")), "{error:?}");
        let Some(ErrorDetail::NotFound { candidates, .. }) = error.detail.as_deref() else {
            panic!("{error:?}")
        };
        assert_eq!(candidates, &["web"]);
    }
}

#[test]
fn scale_is_relative_with_a_sign_and_absolute_without() {
    let host = Host::new();
    let file = host.file("shop/velos.toml", SHOP);
    apply(&host, &file);
    let scale =
        |scale| host.ops.scale(ScaleRequest { app: "api".into(), scale, wait: WaitOptions::default() });
    scale(Scale::By(1)).expect("+1");
    assert_eq!(host.names(), ["api-0", "api-1", "api-2", "web"], "+1 of 2 is 3");
    scale(Scale::By(-2)).expect("-2");
    assert_eq!(host.names(), ["api", "web"]);
    scale(Scale::To(2)).expect("2");
    assert_eq!(host.names(), ["api-0", "api-1", "web"]);
    let error = scale(Scale::By(-5)).expect_err("below zero");
    assert_eq!(error.kind, OpErrorKind::InvalidInput);
    assert!(std::fs::read_to_string(&file).expect("read").contains("instances = 2"), "nothing written");
}

#[test]
fn start_of_a_toml_file_applies_it() {
    let host = Host::new();
    host.file("velos.toml", SHOP);
    let outcome = host.start("velos.toml", &[], None).expect("start velos.toml");
    let applied = outcome.applied.expect("applied as a file");
    assert_eq!(applied.project, "shop");
    assert_eq!(host.names(), ["api-0", "api-1", "web"], "no app named velos");
}

#[test]
fn the_edit_engine_writes_the_file_then_applies_only_that_app() {
    let host = Host::new();
    host.start("/bin/sleep", &["300"], Some("sl")).expect("start");
    let default_file = host.ops.home().default_project_file();
    let text = std::fs::read_to_string(&default_file).expect("default project");
    assert!(text.contains("[apps.sl]\ncommand = \"/bin/sleep\"\nargs = [\"300\"]"), "{text}");
    // The same command again is idempotent.
    host.start("/bin/sleep", &["300"], Some("sl")).expect("again");
    // Another command under the same name: conflict.
    let error = host.start("/bin/sleep", &["9"], Some("sl")).expect_err("another command");
    assert_eq!(error.kind, OpErrorKind::Conflict);
    // Delete removes it from the file and the daemon.
    let deleted = host.ops.delete(DeleteRequest { name: "sl".into() }).expect("delete");
    assert_eq!(deleted.apps[0].instances[0].status, None);
    assert!(host.names().is_empty());
    assert!(!std::fs::read_to_string(&default_file).expect("read").contains("[apps.sl]"));
}

#[test]
fn refusals_name_why() {
    let host = Host::new();
    apply(&host, &host.file("shop/velos.toml", SHOP));
    let error = host.ops.delete(DeleteRequest { name: "api".into() }).expect_err("web depends on it");
    assert_eq!(error.kind, OpErrorKind::Refused);
    assert!(
        matches!(error.detail.as_deref(), Some(ErrorDetail::Refused { apps }) if apps == &["web".to_string()])
    );

    let error =
        host.ops.forget(ForgetRequest { project: "shop".into(), yes: false }).expect_err("running apps");
    assert_eq!(error.kind, OpErrorKind::Refused);
    assert_eq!(error.hint_text(), Some("velos forget shop --yes"));
    assert_eq!(host.names().len(), 3, "nothing deleted");
    let forgotten = host.ops.forget(ForgetRequest { project: "shop".into(), yes: true }).expect("forget");
    assert_eq!(forgotten.deleted, ["api-0", "api-1", "web"]);
    assert!(host.names().is_empty());
    assert!(host.ops.status(StatusRequest::default()).expect("status").projects.is_empty());
    let error = host.ops.forget(ForgetRequest { project: "shop".into(), yes: true }).expect_err("gone");
    assert_eq!(error.kind, OpErrorKind::NotFound);
}

#[test]
fn a_refused_apply_registers_nothing() {
    let host = Host::new();
    host.start("/bin/sleep", &["300"], Some("web")).expect("start web in the default project");
    let file = host.file("shop/velos.toml", SHOP);
    let error = host
        .ops
        .apply(ApplyRequest {
            source: ApplySource::File { path: file },
            wait: WaitOptions::default(),
            force_local: false,
        })
        .expect_err("web belongs to the default project");
    assert_eq!(error.kind, OpErrorKind::Conflict);
    let projects = host.ops.status(StatusRequest::default()).expect("status").projects;
    assert!(projects.iter().all(|status| status.project != "shop"), "{projects:?}");
}

#[test]
fn an_apply_that_does_not_complete_is_incomplete_with_its_report() {
    let host = Host::new();
    host.fake.lock().daemon.fail_spawn("web");
    let file = host.file("shop/velos.toml", SHOP);
    let error = host
        .ops
        .apply(ApplyRequest {
            source: ApplySource::File { path: file },
            wait: WaitOptions::default(),
            force_local: false,
        })
        .expect_err("web cannot start");
    assert_eq!(error.kind, OpErrorKind::Incomplete);
    let Some(ErrorDetail::Incomplete { report, .. }) = error.detail.as_deref() else { panic!("{error:?}") };
    assert!(!report.ok());
    assert!(error.hint_text().is_some_and(|hint| hint.starts_with("velos logs web --stderr")), "{error:?}");
}

#[test]
fn apply_reports_each_apps_readiness_and_a_reapply_sees_an_errored_app() {
    let host = Host::new();
    let file = host.file("shop/velos.toml", SHOP);
    let outcome = apply(&host, &file);
    let ready: Vec<(&str, bool)> =
        outcome.ready.iter().map(|app| (app.name.as_str(), app.is_ready())).collect();
    assert_eq!(ready, [("api-0", true), ("api-1", true), ("web", true)]);

    // web gives up behind apply's back: the plan stays empty (an errored app with an unchanged spec is
    // left alone), but the apply is not "all well".
    {
        let mut fake = host.fake.lock();
        let mut web = fake.daemon.record("web").cloned().expect("web runs");
        web.status = velos_core::Status::Errored;
        web.last_error = Some("too many restarts".into());
        fake.daemon.insert(web);
    }
    let error = host
        .ops
        .apply(ApplyRequest {
            source: ApplySource::File { path: file },
            wait: WaitOptions::default(),
            force_local: false,
        })
        .expect_err("web is errored");
    assert_eq!(error.kind, OpErrorKind::Incomplete);
    assert_eq!(error.message, "web is not ready: errored: too many restarts");
    assert!(error.hint_text().is_some_and(|hint| hint.contains("velos restart web")), "{error:?}");
    let Some(ErrorDetail::Incomplete { plan, ready, .. }) = error.detail.as_deref() else {
        panic!("{error:?}")
    };
    assert!(plan.is_empty());
    let not_ready: Vec<&str> =
        ready.iter().filter(|app| !app.is_ready()).map(|app| app.name.as_str()).collect();
    assert_eq!(not_ready, ["web"]);
}

#[test]
fn invalid_input_carries_diagnostics_and_plans_need_no_daemon() {
    let host = Host::new();
    let bad = host.file("bad/velos.toml", "[apps.web]\ncomand = \"/bin/sleep\"\n");
    let outcome = host.ops.validate(ValidateRequest { files: vec![bad.clone()] }).expect("validate");
    assert_eq!(outcome.invalid, 1);
    let error = outcome.files[0].error.as_ref().expect("invalid");
    assert_eq!(error.kind, OpErrorKind::InvalidInput);
    assert_eq!((error.diagnostics[0].line, error.diagnostics[0].column), (2, 1));
    let missing =
        host.ops.plan(velos_ops::PlanRequest { file: host.path().join("nope.toml") }).expect_err("missing");
    assert_eq!(missing.kind, OpErrorKind::NotFound);

    let file = host.file("shop/velos.toml", SHOP);
    let diff = host.ops.diff(DiffRequest { file, against: Against::Live }).expect("diff");
    assert!(diff.changes);
    assert_eq!(diff.warnings[0].kind, velos_ops::WarningKind::DaemonNotRunning);
    assert!(!host.fake.lock().running, "plan and diff never start the daemon");
}

#[test]
fn a_symlinked_edit_lock_is_refused() {
    let host = Host::new();
    std::fs::create_dir_all(host.ops.home().root()).expect("home");
    let target = host.path().join("elsewhere");
    std::fs::write(&target, "").expect("target");
    std::os::unix::fs::symlink(&target, host.ops.home().root().join("edit.lock")).expect("symlink");
    let error = host.start("/bin/sleep", &["1"], Some("x")).expect_err("refused");
    assert_eq!(error.kind, OpErrorKind::Io);
    assert!(error.message.contains("symbolic link"), "{error:?}");
}

#[test]
fn a_project_checked_out_from_git_is_changed_in_git() {
    let host = Host::new();
    // The controller's checkouts live under VELOS_HOME/sources: a project applied from one follows git.
    let checkout = host.ops.home().root().join("sources").join("0123").join("deploy");
    std::fs::create_dir_all(&checkout).expect("checkout");
    let file = checkout.join("velos.toml");
    std::fs::write(&file, SHOP).expect("write");
    apply(&host, &file);
    let error = host.ops.stop(StopRequest { name: "web".into() }).expect_err("follows git");
    assert_eq!(error.kind, OpErrorKind::FollowsGit);
    assert!(
        matches!(error.detail.as_deref(), Some(ErrorDetail::FollowsGit { project, .. }) if project == "shop")
    );
    assert!(error.hint_text().is_some_and(|hint| hint.contains("commit the change")), "{error:?}");
    assert!(std::fs::read_to_string(&file).expect("read").find("state").is_none(), "nothing written");
}
