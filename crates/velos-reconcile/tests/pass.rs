//! The one converge pass on the fake daemon: its rules for recording, held plans and failed plans.
mod common;

use common::{app, project};
use velos_reconcile::clock::{Clock, TestClock};
use velos_reconcile::history::read_projects;
use velos_reconcile::testing::FakeDaemon;
use velos_reconcile::{ApplyOptions, ConvergeError, Gate, History, LastResult, Pass, Scope};

fn pass<'a>(home: &'a std::path::Path, project: &'a velos_config::Project, scope: Scope<'a>) -> Pass<'a> {
    Pass { home, project, text: "# the file", scope, options: ApplyOptions::default() }
}

#[test]
fn an_applied_pass_is_recorded_once_and_a_held_one_never() {
    let home = tempfile::tempdir().expect("home");
    let shop = project("shop", [app("web"), app("api")]);
    let mut daemon = FakeDaemon::new();
    let mut clock = TestClock::new();
    let mut planned = Vec::new();
    let held = pass(home.path(), &shop, Scope::Project)
        .run(
            &mut daemon,
            &mut clock,
            &mut |plan, _, _| {
                planned.push(plan.describe_actions());
                Gate::Hold
            },
            &mut |_| {},
        )
        .expect("held");
    assert!(held.held && held.entry.is_none());
    assert!(daemon.request_log().is_empty(), "a held plan does nothing");
    assert!(read_projects(home.path()).expect("registry").is_empty(), "and records nothing");

    let applied = pass(home.path(), &shop, Scope::Project)
        .run(&mut daemon, &mut clock, &mut |_, _, _| Gate::Apply, &mut |_| {})
        .expect("applied");
    assert!(applied.report.ok());
    assert_eq!(applied.entry.as_ref().map(|entry| entry.time_unix_ms), Some(clock.unix_ms()));
    let again = pass(home.path(), &shop, Scope::Project)
        .run(&mut daemon, &mut clock, &mut |_, _, _| Gate::Apply, &mut |_| {})
        .expect("again");
    assert!(
        again.plan.is_empty() && again.entry.is_none(),
        "an empty plan of a recorded revision records nothing"
    );
    assert_eq!(History::open(home.path()).expect("history").list(None).expect("list").len(), 1);
    assert_eq!(planned, [vec!["create api".to_string(), "create web".to_string()]]);
}

#[test]
fn an_app_scope_touches_only_that_app_and_a_failed_plan_is_recorded_as_such() {
    let home = tempfile::tempdir().expect("home");
    let shop = project("shop", [app("web"), app("api")]);
    let mut daemon = FakeDaemon::new();
    let mut clock = TestClock::new();
    let one = pass(home.path(), &shop, Scope::App("web"))
        .run(&mut daemon, &mut clock, &mut |_, _, _| Gate::Apply, &mut |_| {})
        .expect("web only");
    assert_eq!(one.plan.describe_actions(), ["create web"]);
    assert_eq!(daemon.request_log(), ["create web"]);

    // Another project takes `api`: shop's plan cannot be made, and the registry says so.
    let blog = project("blog", [app("api")]);
    pass(home.path(), &blog, Scope::Project)
        .run(&mut daemon, &mut clock, &mut |_, _, _| Gate::Apply, &mut |_| {})
        .expect("blog");
    let error = pass(home.path(), &shop, Scope::Project)
        .run(&mut daemon, &mut clock, &mut |_, _, _| Gate::Apply, &mut |_| {})
        .expect_err("api is blog's");
    assert!(matches!(error, ConvergeError::Plan { unrecorded: None, .. }), "{error:?}");
    let shop_record =
        read_projects(home.path()).expect("registry").into_iter().find(|record| record.project == "shop");
    assert_eq!(shop_record.map(|record| record.last_result), Some(LastResult::Failed));
}
