//! `rollout` and `[project] on_failure`: resolved settings, defaults, the errors a user sees, and the
//! promise that neither touches an app's spec hash (changing how an app rolls never restarts it).
use std::path::Path;
use velos_config::{parse, OnFailure, Project, Rollout, Strategy};

const FILE: &str = "/srv/shop/velos.toml";

fn project(source: &str) -> Project {
    parse(source, Path::new(FILE)).unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

/// The rendered error for `source` as `deploy/velos.toml`; fails the test if it is accepted.
fn render(source: &str) -> String {
    match parse(source, Path::new("deploy/velos.toml")) {
        Ok(project) => panic!("accepted: {:#?}", project.apps),
        Err(error) => error.render(),
    }
}

#[test]
fn defaults_are_stop_first_one_at_a_time_and_report() {
    let project = project("[apps.web]\ncommand = \"/bin/sleep 60\"\ninstances = 3\n");
    assert_eq!(project.on_failure, OnFailure::Report);
    assert!(project.apps.iter().all(|app| app.rollout == Rollout::default()));
    assert_eq!(Rollout::default(), Rollout { strategy: Strategy::StopFirst, max_unavailable: 1 });
}

#[test]
fn every_instance_gets_the_apps_rollout_and_the_project_its_on_failure() {
    let project = project(
        "[project]\non_failure = \"rollback\"\n\n[apps.web]\ncommand = \"/bin/sleep 60\"\ninstances = 4\n\
         rollout = { strategy = \"start-first\", max_unavailable = 2 }\n\n[apps.db]\ncommand = \"/bin/sleep 60\"\n",
    );
    assert_eq!(project.on_failure, OnFailure::Rollback);
    let expected = Rollout { strategy: Strategy::StartFirst, max_unavailable: 2 };
    for web in project.instances_of("web") {
        assert_eq!(web.rollout, expected, "{}", web.spec.name);
    }
    assert_eq!(project.instances_of("db")[0].rollout, Rollout::default());
    let stop = parse("[project]\non_failure = \"stop\"\n", Path::new(FILE)).expect("valid");
    assert_eq!(stop.on_failure, OnFailure::Stop);
}

#[test]
fn rollout_and_on_failure_are_not_in_the_spec_hash() {
    let plain = project("[apps.web]\ncommand = \"/bin/sleep 60\"\ninstances = 2\n");
    let rolled = project(
        "[project]\non_failure = \"stop\"\n\n[apps.web]\ncommand = \"/bin/sleep 60\"\ninstances = 2\n\
         rollout = { strategy = \"start-first\", max_unavailable = 2 }\n",
    );
    let hashes = |project: &Project| -> Vec<String> {
        project.apps.iter().map(|app| app.spec.spec_hash.clone()).collect()
    };
    assert_eq!(hashes(&plain), hashes(&rolled));
}

#[test]
fn a_bad_strategy_points_at_its_value_with_a_suggestion() {
    let text = render("[apps.web]\ncommand = \"/bin/sleep 60\"\nrollout = { strategy = \"start_first\" }\n");
    assert!(text.contains("deploy/velos.toml:3:24"), "{text}");
    assert!(text.contains("invalid `rollout.strategy` \"start_first\""), "{text}");
    assert!(text.contains("did you mean `start-first`?"), "{text}");
}

#[test]
fn max_unavailable_zero_and_a_bad_on_failure_are_refused_at_once() {
    let text = render(
        "[project]\non_failure = \"rollbak\"\n\n[apps.web]\ncommand = \"/bin/sleep 60\"\n\
         rollout = { max_unavailable = 0 }\n",
    );
    assert!(text.contains("deploy/velos.toml:2:14"), "{text}");
    assert!(text.contains("invalid `on_failure` \"rollbak\""), "{text}");
    assert!(text.contains("did you mean `rollback`?"), "{text}");
    assert!(text.contains("deploy/velos.toml:6:31"), "{text}");
    assert!(text.contains("max_unavailable` must be from 1 to 100, found 0"), "{text}");
}

#[test]
fn unknown_rollout_keys_are_errors() {
    let text = render("[apps.web]\ncommand = \"/bin/sleep 60\"\nrollout = { max_unavailible = 2 }\n");
    assert!(text.contains("max_unavailible"), "{text}");
    assert!(text.contains("max_unavailable"), "did you mean: {text}");
}
