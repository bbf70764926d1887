//! `readiness`, `liveness` and `depends_on` conditions: what a valid file resolves to, and what a user sees
//! for each mistake (snapshots: `INSTA_UPDATE=always cargo test -p velos-config --test checks` after a
//! deliberate wording change).
use std::path::Path;
use velos_config::{parse, Check, Condition, Probe, Project};

fn project(source: &str) -> Project {
    parse(source, Path::new("/srv/shop/velos.toml"))
        .unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

fn render(source: &str) -> String {
    match parse(source, Path::new("deploy/velos.toml")) {
        Ok(project) => panic!("accepted: {project:#?}"),
        Err(error) => error.render(),
    }
}

#[test]
fn checks_resolve_with_their_defaults_and_overrides() {
    let project = project(
        r#"
[apps.web]
command = "python3 server.py"
readiness = { http = "http://127.0.0.1:8000/health", body = "ok", interval = "500ms", timeout = "2s", failure_threshold = 5 }
liveness = { tcp = "127.0.0.1:8000" }

[apps.db]
command = "postgres"
readiness = { exec = "pg_isready -h 127.0.0.1", initial_delay = "1s", success_threshold = 2 }
liveness = { log = "^ready$", interval = "10s" }

[apps.worker]
command = "worker"
readiness = { exec = ["sh", "-c", "test -f /tmp/ready"] }
"#,
    );
    let web = &project.app("web").expect("web").in_place;
    let readiness = web.readiness.as_ref().expect("readiness");
    assert_eq!(
        readiness.probe,
        Probe::Http { url: "http://127.0.0.1:8000/health".into(), body: Some("ok".into()) }
    );
    assert_eq!((readiness.interval_ms, readiness.timeout_ms, readiness.failure_threshold), (500, 2_000, 5));
    assert_eq!((readiness.initial_delay_ms, readiness.success_threshold), (0, 1));
    let liveness = web.liveness.as_ref().expect("liveness");
    assert_eq!(liveness.probe, Probe::Tcp { address: "127.0.0.1:8000".into() });
    assert_eq!((liveness.interval_ms, liveness.timeout_ms, liveness.failure_threshold), (5_000, 1_000, 3));
    let db = &project.app("db").expect("db").in_place;
    let readiness: &Check = db.readiness.as_ref().expect("readiness");
    assert_eq!(
        readiness.probe,
        Probe::Exec { argv: vec!["pg_isready".into(), "-h".into(), "127.0.0.1".into()] }
    );
    assert_eq!(
        (readiness.initial_delay_ms, readiness.success_threshold, readiness.interval_ms),
        (1_000, 2, 1_000)
    );
    assert_eq!(
        db.liveness.as_ref().map(|check| &check.probe),
        Some(&Probe::Log { pattern: "^ready$".into() })
    );
    let worker = &project.app("worker").expect("worker").in_place;
    let argv = ["sh", "-c", "test -f /tmp/ready"].map(String::from).to_vec();
    assert_eq!(worker.readiness.as_ref().map(|check| &check.probe), Some(&Probe::Exec { argv }));
}

#[test]
fn a_check_is_not_part_of_the_spec_hash() {
    let plain = project("[apps.web]\ncommand = \"/bin/sleep 60\"\n");
    let checked =
        project("[apps.web]\ncommand = \"/bin/sleep 60\"\nreadiness = { tcp = \"127.0.0.1:80\" }\n");
    assert_eq!(plain.apps[0].spec.spec_hash, checked.apps[0].spec.spec_hash);
    assert_ne!(plain.apps[0].in_place, checked.apps[0].in_place);
}

#[test]
fn depends_on_conditions_name_every_instance() {
    let project = project(
        r#"
[apps.db]
command = "postgres"
instances = 2

[apps.migrate]
command = "migrate"
restart = "never"

[apps.cache]
command = "redis-server"

[apps.web]
command = "web"
depends_on = { db = "healthy", migrate = "completed_successfully", cache = "started" }

[apps.admin]
command = "admin"
depends_on = ["db", "cache"]
"#,
    );
    let web = project.app("web").expect("web");
    assert_eq!(web.depends_on, ["cache", "db-0", "db-1", "migrate"]);
    let conditions: Vec<(&str, Condition)> =
        web.conditions.iter().map(|(name, condition)| (name.as_str(), *condition)).collect();
    assert_eq!(
        conditions,
        [
            ("db-0", Condition::Healthy),
            ("db-1", Condition::Healthy),
            ("migrate", Condition::CompletedSuccessfully)
        ]
    );
    let admin = project.app("admin").expect("admin");
    assert_eq!(admin.depends_on, ["cache", "db-0", "db-1"]);
    assert!(admin.conditions.is_empty(), "the list form means started");
}

#[test]
fn check_mistakes() {
    insta::assert_snapshot!(render(
        r#"
[apps.web]
command = "web"
readiness = { http = "https://127.0.0.1/health", interval = "10ms" }
liveness = { tcp = "8000", exec = "true" }

[apps.db]
command = "db"
readiness = { log = "ready (", timout = "1s" }
liveness = { interval = "1s" }

[apps.job]
command = "job"
readiness = { exec = "pg_isready | grep ok", failure_threshold = 0 }
liveness = { tcp = "127.0.0.1:80", body = "ok" }
"#
    ));
}

#[test]
fn depends_on_mistakes() {
    insta::assert_snapshot!(render(
        r#"
[apps.db]
command = "db"

[apps.web]
command = "web"
depends_on = { db = "service_healthy", dbb = "healthy" }

[apps.api]
command = "api"
depends_on = { db = "ready", web = 1 }
"#
    ));
}
