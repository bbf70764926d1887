//! `cron_restart` and `watch`: resolved settings, the errors a user sees (pointing at the wrong cron
//! field), and the promise that neither touches an app's spec hash (they change in place).
//! After a deliberate wording change: `INSTA_UPDATE=always cargo test -p velos-config --test schedule`.
use std::path::Path;
use velos_config::{parse, Project, WatchSpec};

const FILE: &str = "/srv/shop/velos.toml";

fn project(source: &str) -> Project {
    parse(source, Path::new(FILE)).unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

fn render(source: &str) -> String {
    match parse(source, Path::new("deploy/velos.toml")) {
        Ok(project) => panic!("accepted: {:#?}", project.apps),
        Err(error) => error.render(),
    }
}

fn app(extra: &str) -> String {
    format!("[apps.web]\ncommand = \"/bin/sleep 3600\"\ncwd = \"app\"\n{extra}\n")
}

#[test]
fn cron_restart_is_kept_as_written() {
    let project = project(&app("cron_restart = \" 0 3 * * mon-fri \""));
    assert_eq!(project.apps[0].in_place.cron_restart.as_deref(), Some("0 3 * * mon-fri"));
    assert_eq!(project.apps[0].in_place.watch, None);
}

#[test]
fn watch_true_watches_the_cwd() {
    let project = project(&app("watch = true"));
    let expected = WatchSpec { paths: vec!["/srv/shop/app".into()], ignore: vec![], debounce_ms: 500 };
    assert_eq!(project.apps[0].in_place.watch, Some(expected));
    assert_eq!(self::project(&app("watch = false")).apps[0].in_place.watch, None);
}

#[test]
fn watch_paths_are_relative_to_the_cwd() {
    let project = project(&app(
        "watch = { paths = [\"src\", \"./lib/../conf\", \"/etc/shop\", \"src/\"], ignore = [\"*.log\", \"node_modules/\"], debounce = \"2s\" }",
    ));
    let watch = project.apps[0].in_place.watch.clone().expect("a watch");
    assert_eq!(watch.paths, ["/etc/shop", "/srv/shop/app/conf", "/srv/shop/app/src"]);
    assert_eq!(watch.ignore, ["*.log", "node_modules/"]);
    assert_eq!(watch.debounce_ms, 2_000);
    // The label the controller reads back.
    assert_eq!(WatchSpec::from_label(&watch.to_label()), Some(watch));
}

#[test]
fn schedules_change_no_spec_hash() {
    let plain = project(&app(""));
    let scheduled = project(&app("cron_restart = \"@daily\"\nwatch = { paths = [\"src\"] }"));
    assert_eq!(plain.apps[0].spec.spec_hash, scheduled.apps[0].spec.spec_hash);
    assert_ne!(plain.apps[0].in_place, scheduled.apps[0].in_place);
}

#[test]
fn a_bad_cron_field_is_pointed_at() {
    insta::assert_snapshot!(render(&app("cron_restart = \"0 25 * * *\"")));
}

#[test]
fn a_cron_with_seconds_or_an_impossible_day() {
    insta::assert_snapshot!(render(&app(
        "cron_restart = \"0 0 3 * * *\"\n[apps.other]\ncommand = \"/bin/true\"\ncron_restart = \"0 0 30 feb *\""
    )));
}

#[test]
fn bad_watch_settings() {
    insta::assert_snapshot!(render(&app(
        "watch = { paths = [], ignore = [\"[ab\"], debounce = \"1ms\" }\n[apps.other]\ncommand = \"/bin/true\"\nwatch = \"src\"\n[apps.third]\ncommand = \"/bin/true\"\nwatch = { path = [\"src\"] }\nignore_watch = [\"x\"]"
    )));
}

#[test]
fn a_watch_too_large_for_a_label() {
    let paths: Vec<String> = (0..200).map(|index| format!("\"folder-number-{index:04}\"")).collect();
    let text = render(&app(&format!("watch = {{ paths = [{}] }}", paths.join(", "))));
    assert!(text.contains("more than the 4096 an app can carry"), "{text}");
}
