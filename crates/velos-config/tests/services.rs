//! `[velos.api]` and `[velos.otlp]`: resolved settings, the errors a user sees (file:line:col), and that
//! either makes a project want the controller without touching any app's spec.
//! After a deliberate wording change: `INSTA_UPDATE=always cargo test -p velos-config --test services`.
use std::path::{Path, PathBuf};
use velos_config::{parse, ApiSettings, OtlpSettings, Project};

const APPS: &str = "[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n";

fn project(source: &str) -> Project {
    parse(source, Path::new("/srv/shop/velos.toml"))
        .unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

fn render(source: &str) -> String {
    match parse(source, Path::new("deploy/velos.toml")) {
        Ok(project) => panic!("accepted: {:#?}", project.controller),
        Err(error) => error.render(),
    }
}

#[test]
fn the_api_table_resolves_and_wants_the_controller() {
    let source = format!(
        "{APPS}\n[velos.api]\nlisten = \"127.0.0.1:9700\"\nunix = \"./run/api.sock\"\nallow_hosts = [\"b.example\", \"a.example\", \"b.example\"]\n"
    );
    let settings = project(&source).controller.expect("settings");
    assert_eq!(
        settings.api,
        Some(ApiSettings {
            listen: Some("127.0.0.1:9700".parse().expect("address")),
            unix: Some(PathBuf::from("/srv/shop/run/api.sock")),
            allow_hosts: vec!["a.example".into(), "b.example".into()],
        })
    );
    assert!(settings.wants_controller());
    let ipv6 = project("[velos.api]\nlisten = \"[::1]:9800\"\n").controller.and_then(|settings| settings.api);
    assert_eq!(ipv6.and_then(|api| api.listen).map(|address| address.port()), Some(9800));
    // Part of no spec: adding the table restarts nothing.
    let hashes =
        |project: Project| project.apps.into_iter().map(|app| app.spec.spec_hash).collect::<Vec<_>>();
    assert_eq!(hashes(project(APPS)), hashes(project(&source)));
}

#[test]
fn the_otlp_table_resolves_with_defaults() {
    let settings =
        project("[velos.otlp]\nendpoint = \"http://127.0.0.1:4318/\"\n").controller.expect("settings");
    assert_eq!(
        settings.otlp,
        Some(OtlpSettings {
            endpoint: "http://127.0.0.1:4318".into(),
            headers: Default::default(),
            interval_ms: 10_000
        })
    );
    assert!(settings.wants_controller());
    let with_all =
        "[velos.otlp]\nendpoint = \"http://collector:4318\"\ninterval = \"2s\"\nheaders = { X-Tenant = \"shop\", x-shard = 3 }\n";
    let otlp = project(with_all).controller.and_then(|settings| settings.otlp).expect("otlp");
    assert_eq!(otlp.interval_ms, 2_000);
    assert_eq!(otlp.headers.get("x-tenant").map(String::as_str), Some("shop"));
    assert_eq!(otlp.headers.get("x-shard").map(String::as_str), Some("3"));
}

#[test]
fn bad_api_tables() {
    insta::assert_snapshot!(render("[velos.api]\nlisten = \"localhost:9700\"\n"));
    insta::assert_snapshot!(render("[velos.api]\nlisten = \"0.0.0.0\"\n"));
    insta::assert_snapshot!(render("[velos.api]\nallow_hosts = [\"x.example\"]\n"));
    insta::assert_snapshot!(render("[velos.api]\nlisten = \"127.0.0.1:9700\"\nport = 9700\n"));
    insta::assert_snapshot!(render("[velos.api]\nunix = \"~/api.sock\"\n"));
}

#[test]
fn bad_otlp_tables() {
    insta::assert_snapshot!(render("[velos.otlp]\nendpoint = \"https://collector:4318\"\n"));
    insta::assert_snapshot!(render("[velos.otlp]\nendpoint = \"http://collector\"\ninterval = \"10ms\"\n"));
    insta::assert_snapshot!(render("[velos.otlp]\ninterval = \"5s\"\n"));
}
