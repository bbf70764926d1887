//! `plan_app`: what an imperative command applies after editing one app — that app's actions only.
mod common;

use common::{app, instances, live, project};
use velos_reconcile::{plan_app, PlanError};

#[test]
fn only_the_edited_apps_actions_are_kept() {
    // The file now says: web stopped (the edit), worker with a new env (a pending hand edit), api new.
    let before = project("shop", [app("web"), app("worker")]);
    let running = live(&before);
    let after = project("shop", [app("web").stopped(), app("worker").env("PORT", "9"), app("api")]);

    let plan = plan_app(&after, &running, "web").expect("plan");
    assert_eq!(plan.describe_actions(), ["stop web"]);
    assert!(plan.desired_running.is_empty(), "web is not waited for: it is wanted stopped");

    let plan = plan_app(&after, &running, "worker").expect("plan");
    assert_eq!(plan.describe_actions(), ["replace worker"]);
    assert_eq!(plan.desired_running, ["worker"]);

    let plan = plan_app(&after, &running, "nothing").expect("plan");
    assert!(plan.is_empty());
}

#[test]
fn scaling_and_removing_cover_the_live_instances_too() {
    let before = project("shop", instances("web", 3).into_iter().chain([app("db")]));
    let running = live(&before);

    // Scale down: the removed instances are found by their live `app` label.
    let after = project("shop", instances("web", 2).into_iter().chain([app("db")]));
    let plan = plan_app(&after, &running, "web").expect("plan");
    assert_eq!(plan.describe_actions(), ["delete web-2"]);
    assert_eq!(plan.scale.len(), 1);
    assert_eq!((plan.scale[0].from, plan.scale[0].to), (3, 2));

    // Removed from the file: every instance is deleted, db is untouched.
    let after = project("shop", [app("db")]);
    let plan = plan_app(&after, &running, "web").expect("plan");
    assert_eq!(plan.describe_actions(), ["delete web-0", "delete web-1", "delete web-2"]);

    // Going from several instances to one renames: the old ones go, `web` comes.
    let after = project("shop", [app("web"), app("db")]);
    let plan = plan_app(&after, &running, "web").expect("plan");
    assert_eq!(plan.describe_actions(), ["delete web-0", "delete web-1", "delete web-2", "create web"]);
}

#[test]
fn an_error_anywhere_in_the_project_is_still_an_error() {
    let other = project("other", [app("api")]);
    let running = live(&other);
    let shop = project("shop", [app("web"), app("api")]);
    match plan_app(&shop, &running, "web") {
        Err(PlanError::NameOwnedElsewhere { name, owner }) => {
            assert_eq!((name.as_str(), owner.as_deref()), ("api", Some("other")))
        }
        other => panic!("{other:?}"),
    }
}
