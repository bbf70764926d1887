//! The planner over many (desired, live) pairs, as `velos plan` prints it (insta snapshots), and its JSON.
mod common;

use common::{app, instances, live, project, project_at, set_status};
use velos_core::Status;
use velos_reconcile::{plan, render, ActionType, Plan, PlanError};

fn rendered(desired: &velos_config::Project, live: &[velos_core::ProcessRecord]) -> String {
    render(&plan(desired, live).expect("plan"), false)
}

fn kinds(plan: &Plan) -> Vec<String> {
    plan.actions.iter().map(|action| format!("{} {}", action.kind.kind().as_str(), action.name)).collect()
}

#[test]
fn nothing_live_creates_everything() {
    let shop = project("shop", [app("web"), app("api"), app("cron").stopped()]);
    insta::assert_snapshot!(rendered(&shop, &[]));
}

#[test]
fn unchanged_is_in_sync() {
    let shop = project("shop", [app("web"), app("api"), app("cron").stopped()]);
    let live = live(&shop);
    let plan = plan(&shop, &live).expect("plan");
    assert!(plan.is_empty(), "{plan:?}");
    insta::assert_snapshot!(render(&plan, false), @"No changes: shop is in sync (3 apps).\n");
    let one = project("one", [app("web")]);
    insta::assert_snapshot!(render(&plan_of(&one), false), @"No changes: one is in sync (1 app).\n");
}

fn plan_of(project: &velos_config::Project) -> Plan {
    plan(project, &live(project)).expect("plan")
}

#[test]
fn env_change_masks_secrets() {
    let before = project(
        "shop",
        [app("web")
            .env("PORT", "8080")
            .env("API_TOKEN", "old-secret")
            .env("DB_PASSWORD", "hunter2")
            .env("OLD", "1")],
    );
    let after = project(
        "shop",
        [app("web")
            .env("PORT", "8081")
            .env("API_TOKEN", "new-secret")
            .env("DB_PASSWORD", "hunter2")
            .env("NEW", "2")
            .env("SIGNING_KEY", "k3y")],
    );
    let plan = plan(&after, &live(&before)).expect("plan");
    let text = render(&plan, false);
    let json = serde_json::to_string(&plan).expect("json");
    for secret in ["old-secret", "new-secret", "hunter2", "k3y"] {
        assert!(!text.contains(secret) && !json.contains(secret), "{secret} leaked");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn command_args_and_cwd_changes() {
    let before = project("shop", [app("web"), app("api")]);
    let after = project(
        "shop",
        [
            app("web")
                .command("/usr/bin/python3")
                .args(&["-m", "http.server", "8080"])
                .cwd("/srv/web/current"),
            app("api").kill_timeout_ms(10_000).with(|spec| {
                spec.restart = velos_core::RestartPolicy::Always;
                spec.kill_signal = 2;
                spec.min_uptime_ms = 90_000;
            }),
        ],
    );
    insta::assert_snapshot!(rendered(&after, &live(&before)));
}

#[test]
fn removed_app_is_deleted() {
    let before = project("shop", [app("web"), app("old-worker")]);
    let after = project("shop", [app("web")]);
    insta::assert_snapshot!(rendered(&after, &live(&before)));
}

#[test]
fn rename_is_delete_then_create() {
    let before = project("shop", [app("worker")]);
    let after = project("shop", [app("jobs")]);
    let plan = plan(&after, &live(&before)).expect("plan");
    assert_eq!(kinds(&plan), ["delete worker", "create jobs"]);
    insta::assert_snapshot!(render(&plan, false));
}

#[test]
fn scale_up_two_to_three() {
    let before = project("shop", instances("web", 2));
    let after = project("shop", instances("web", 3));
    let plan = plan(&after, &live(&before)).expect("plan");
    assert_eq!(kinds(&plan), ["create web-2"]);
    insta::assert_snapshot!(render(&plan, false));
}

#[test]
fn scale_down_three_to_one() {
    let before = project("shop", instances("web", 3));
    let after = project("shop", instances("web", 1));
    insta::assert_snapshot!(rendered(&after, &live(&before)));
}

#[test]
fn stopped_state_both_ways() {
    let before = project("shop", [app("web"), app("cron").stopped()]);
    let after = project("shop", [app("web").stopped(), app("cron")]);
    let plan = plan(&after, &live(&before)).expect("plan");
    assert_eq!(kinds(&plan), ["stop web", "start cron"]);
    insta::assert_snapshot!(render(&plan, false));
}

#[test]
fn completed_or_errored_app_with_an_unchanged_spec_is_left_alone() {
    let shop = project("shop", [app("web"), app("jobs"), app("migrate")]);
    let live = set_status(live(&shop), "jobs", Status::Errored);
    let live = set_status(live, "migrate", Status::Completed);
    assert!(
        plan(&shop, &live).expect("plan").is_empty(),
        "a finished job or a given-up app is not restarted"
    );
    // A stopped app wanted running is still started.
    let live = set_status(live, "web", Status::Stopped);
    assert_eq!(kinds(&plan(&shop, &live).expect("plan")), ["start web"]);
}

#[test]
fn apps_in_transit_are_left_alone() {
    // Starting and waiting (restart backoff) are on their way to running; stopping on its way to stopped.
    let shop = project("shop", [app("a"), app("b"), app("c").stopped()]);
    let live = set_status(set_status(live(&shop), "a", Status::Starting), "b", Status::Waiting);
    let live = set_status(live, "c", Status::Stopping);
    assert!(plan(&shop, &live).expect("plan").is_empty());
    // Wanted running but being stopped: start it again.
    let live = set_status(live, "a", Status::Stopping);
    assert_eq!(kinds(&plan(&shop, &live).expect("plan")), ["start a"]);
}

#[test]
fn dependency_order_forward_and_reverse() {
    let full = project(
        "shop",
        [app("web").depends_on(&["api"]), app("api").depends_on(&["db"]), app("db"), app("cache")],
    );
    let created = plan(&full, &[]).expect("plan");
    assert_eq!(kinds(&created), ["create cache", "create db", "create api", "create web"]);
    insta::assert_snapshot!("dependency_create", render(&created, false));

    // Everything removed from the file: deleted dependents first, from the live labels.
    let empty = project("shop", []);
    let deleted = plan(&empty, &live(&full)).expect("plan");
    assert_eq!(kinds(&deleted), ["delete web", "delete api", "delete cache", "delete db"]);
    insta::assert_snapshot!("dependency_delete", render(&deleted, false));

    // Everything stopped: stops in reverse too.
    let stopped = project(
        "shop",
        [
            app("web").depends_on(&["api"]).stopped(),
            app("api").depends_on(&["db"]).stopped(),
            app("db").stopped(),
            app("cache").stopped(),
        ],
    );
    let plan = plan(&stopped, &live(&full)).expect("plan");
    assert_eq!(kinds(&plan), ["stop web", "stop api", "stop cache", "stop db"]);
}

#[test]
fn removed_dependent_goes_before_its_dependency_stops() {
    let before = project("shop", [app("db"), app("report").depends_on(&["db"])]);
    let after = project("shop", [app("db").stopped()]);
    let plan = plan(&after, &live(&before)).expect("plan");
    assert_eq!(kinds(&plan), ["delete report", "stop db"]);
}

#[test]
fn another_projects_apps_are_untouched() {
    let blog = project("blog", [app("blog-web"), app("blog-db")]);
    let shop = project("shop", [app("web")]);
    let mut live = live(&blog);
    live.extend(common::live(&project("shop", [app("web"), app("old")])));
    let plan = plan(&shop, &live).expect("plan");
    assert_eq!(kinds(&plan), ["delete old"]);
    insta::assert_snapshot!(render(&plan, false));
    // And a project with no apps prunes only its own.
    let emptied = velos_reconcile::plan(&project("blog", []), &live).expect("plan");
    assert_eq!(kinds(&emptied), ["delete blog-db", "delete blog-web"]);
}

#[test]
fn a_name_owned_by_another_project_is_an_error() {
    let blog = project("blog", [app("web")]);
    let shop = project("shop", [app("web"), app("api")]);
    let error = plan(&shop, &live(&blog)).expect_err("must fail");
    assert_eq!(error, PlanError::NameOwnedElsewhere { name: "web".into(), owner: Some("blog".into()) });
    insta::assert_snapshot!(error.to_string(), @"the app name `web` is already used by project `blog` on this host");

    let mut unlabelled = live(&blog);
    unlabelled[0].spec.labels.clear();
    let error = plan(&shop, &unlabelled).expect_err("must fail");
    insta::assert_snapshot!(error.to_string(), @"the app name `web` is already used on this host by a process outside any project");
}

#[test]
fn update_in_place() {
    let before = project("shop", [app("worker").max_memory(256 << 20), app("web")]);
    let after = project("shop", [app("worker").max_memory(512 << 20).log_timestamps(), app("web")]);
    let plan = plan(&after, &live(&before)).expect("plan");
    assert_eq!(kinds(&plan), ["update_in_place worker"]);
    insta::assert_snapshot!(render(&plan, false));
}

#[test]
fn a_changed_check_is_an_update_in_place_and_an_unchanged_one_nothing() {
    let check = |url: &str| {
        velos_config::Check::new(
            velos_config::Probe::Http { url: url.into(), body: None },
            velos_config::CheckUse::Readiness,
        )
    };
    let with =
        |url: &'static str| app("web").with_in_place(move |in_place| in_place.readiness = Some(check(url)));
    let before = project("shop", [with("http://127.0.0.1:8000/health")]);
    assert!(plan(&before, &live(&before)).expect("plan").actions.is_empty(), "the label reads back equal");
    let after = project("shop", [with("http://127.0.0.1:8000/ready")]);
    let plan = plan(&after, &live(&before)).expect("plan");
    assert_eq!(kinds(&plan), ["update_in_place web"]);
    insta::assert_snapshot!(render(&plan, false), @r"
    velos plan for project shop (file:3f9a0c1d…)
      ~ update web (in place)
          readiness: http http://127.0.0.1:8000/health → http http://127.0.0.1:8000/ready
    Plan: 1 to update in place.
    ");
}

/// The plan of the crate documentation: one of each.
fn everything() -> (velos_config::Project, Vec<velos_core::ProcessRecord>) {
    let before = project(
        "shop",
        [
            app("web").env("PORT", "8080"),
            app("worker").max_memory(256 << 20),
            app("jobs"),
            app("cron"),
            app("old-worker"),
        ],
    );
    let live = set_status(live(&before), "jobs", Status::Stopped);
    let after = project(
        "shop",
        [
            app("api"),
            app("web").env("PORT", "8081"),
            app("worker").max_memory(512 << 20),
            app("jobs"),
            app("cron").stopped(),
        ],
    );
    (after, live)
}

#[test]
fn one_of_each() {
    let (after, live) = everything();
    insta::assert_snapshot!(rendered(&after, &live));
}

#[test]
fn one_of_each_in_colour() {
    let (after, live) = everything();
    let text = render(&plan(&after, &live).expect("plan"), true);
    assert!(text.contains("\x1b[32m+ create\x1b[0m api"), "{text:?}");
    assert!(text.contains("\x1b[31m- delete\x1b[0m old-worker"), "{text:?}");
    assert!(!rendered(&after, &live).contains('\x1b'));
}

#[test]
fn json_contract() {
    let (after, live) = everything();
    let plan = plan(&after, &live).expect("plan");
    insta::assert_snapshot!(serde_json::to_string_pretty(&plan).expect("json"));
    let value = serde_json::to_value(&plan).expect("json");
    let replace = value["actions"]
        .as_array()
        .and_then(|actions| actions.iter().find(|action| action["action"] == "replace"))
        .expect("a replace");
    assert_eq!(replace["name"], "web");
    assert_eq!(replace["changes"][0], serde_json::json!({"field": "env.PORT", "old": "8080", "new": "8081"}));
}

#[test]
fn scale_json() {
    let plan = plan(&project("shop", instances("web", 3)), &live(&project("shop", instances("web", 2))))
        .expect("plan");
    let value = serde_json::to_value(&plan).expect("json");
    assert_eq!(value["scale"], serde_json::json!([{"app": "web", "from": 2, "to": 3}]));
    assert_eq!(plan.actions.iter().map(|a| a.kind.kind()).collect::<Vec<_>>(), [ActionType::Create]);
}

#[test]
fn deterministic_whatever_the_order_of_the_live_list() {
    let (after, live) = everything();
    let first = plan(&after, &live).expect("plan");
    let mut reversed = live.clone();
    reversed.reverse();
    let second = plan(&after, &reversed).expect("plan");
    assert_eq!(render(&first, false), render(&second, false));
    assert_eq!(serde_json::to_string(&first).expect("json"), serde_json::to_string(&second).expect("json"));
    assert_eq!(first, second);
}

#[test]
fn a_new_revision_alone_changes_nothing() {
    // source_rev is a label, not part of the spec hash: editing a comment restarts nothing.
    let before = project_at("shop", "file:1111111111111111", [app("web")]);
    let after = project_at("shop", "file:2222222222222222", [app("web")]);
    assert!(plan(&after, &live(&before)).expect("plan").is_empty());
}

#[test]
fn bad_desired_input_is_an_error_not_a_panic() {
    let cycle = project("shop", [app("a").depends_on(&["b"]), app("b").depends_on(&["a"])]);
    assert_eq!(plan(&cycle, &[]), Err(PlanError::DependencyCycle { names: vec!["a".into(), "b".into()] }));
    let unknown = project("shop", [app("a").depends_on(&["ghost"])]);
    assert!(matches!(plan(&unknown, &[]), Err(PlanError::UnknownDependency { .. })));
    let twice = project("shop", [app("a"), app("a")]);
    assert!(matches!(plan(&twice, &[]), Err(PlanError::DuplicateName { .. })));
}

#[test]
fn from_a_real_velos_toml() {
    let source = r#"
[project]
name = "shop"

[apps.db]
command = "/bin/sleep"
args = ["3600"]

[apps.web]
command = "/bin/sleep"
args = ["3600"]
instances = 2
depends_on = ["db"]
env = { PORT = 8080, API_TOKEN = "s3cr3t" }
max_memory = "256M"
"#;
    let desired = velos_config::parse(source, std::path::Path::new("/srv/shop/velos.toml")).expect("valid");
    let created = plan(&desired, &[]).expect("plan");
    assert_eq!(kinds(&created), ["create db", "create web-0", "create web-1"]);
    let live = live(&desired);
    assert!(plan(&desired, &live).expect("plan").is_empty());
    let changed = velos_config::parse(
        &source.replace("8080", "8081").replace("256M", "512M"),
        std::path::Path::new("/srv/shop/velos.toml"),
    )
    .expect("valid");
    let plan = plan(&changed, &live).expect("plan");
    insta::assert_snapshot!(render(&plan, false));
}

#[test]
fn a_plan_read_back_from_json_says_the_same_and_is_not_applied() {
    let before = project("shop", [app("web"), app("db")]);
    let after = project("shop", [app("web").env("PORT", "8081"), app("api")]);
    let made = plan(&after, &live(&before)).expect("plan");
    assert!(made.is_applicable());
    let json = serde_json::to_string(&made).expect("json");
    let read: Plan = serde_json::from_str(&json).expect("reads back");
    assert_eq!(serde_json::to_string(&read).expect("json"), json, "the same JSON again");
    assert_eq!(read.describe_actions(), made.describe_actions());
    assert!(!read.is_applicable());
    let mut daemon = velos_reconcile::testing::FakeDaemon::new();
    let report =
        velos_reconcile::apply(&read, &mut daemon, velos_reconcile::ApplyOptions::default(), &mut |_| {});
    assert!(!report.ok());
    assert!(daemon.request_log().is_empty(), "nothing sent: {:?}", daemon.request_log());
}
