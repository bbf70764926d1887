//! `[velos]` and `[velos.git]`: resolved settings, defaults, the errors a user sees, and the promise that
//! none of it touches an app's spec.
//! After a deliberate wording change: `INSTA_UPDATE=always cargo test -p velos-config --test controller`.
use std::path::Path;
use velos_config::{
    parse, transport, ControllerSettings, GitAuth, GitSource, Project, TokenSource, Transport,
};

const FILE: &str = "/srv/shop/velos.toml";
const APPS: &str =
    "[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n\n[apps.api]\ncommand = \"/bin/sleep 60\"\n";

fn project(source: &str) -> Project {
    parse(source, Path::new(FILE)).unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

/// The rendered error for `source` as `deploy/velos.toml`; fails the test if it is accepted.
fn render(source: &str) -> String {
    match parse(source, Path::new("deploy/velos.toml")) {
        Ok(project) => panic!("accepted: {:#?}", project.controller),
        Err(error) => error.render(),
    }
}

#[test]
fn no_velos_table_means_no_controller() {
    assert_eq!(project(APPS).controller, None);
}

#[test]
fn an_empty_velos_table_gives_the_defaults() {
    let settings = project(&format!("{APPS}\n[velos]\n")).controller.expect("settings");
    assert_eq!(settings, ControllerSettings::default());
    assert_eq!(
        settings,
        ControllerSettings {
            watch: false,
            self_heal: true,
            resync_ms: 30_000,
            git: None,
            api: None,
            otlp: None
        }
    );
    assert!(!settings.wants_controller());
}

#[test]
fn every_key_is_resolved() {
    let source = format!(
        "{APPS}
[velos]
watch = true
self_heal = false
resync = \"1m30s\"

[velos.git]
repo = \"file:///srv/deploy.git\"
ref = \"v1.2.0\"
path = \"./deploy/velos.toml\"
poll = \"5s\"
"
    );
    let settings = project(&source).controller.expect("settings");
    assert_eq!(
        settings,
        ControllerSettings {
            watch: true,
            self_heal: false,
            resync_ms: 90_000,
            git: Some(GitSource {
                repo: "file:///srv/deploy.git".into(),
                ref_name: "v1.2.0".into(),
                path: "deploy/velos.toml".into(),
                poll_ms: 5_000,
                auth: GitAuth::default(),
            }),
            api: None,
            otlp: None,
        }
    );
    assert!(settings.wants_controller());
    assert_eq!(
        settings.git.as_ref().map(GitSource::describe).as_deref(),
        Some("file:///srv/deploy.git@v1.2.0:deploy/velos.toml")
    );
}

#[test]
fn git_defaults_and_repository_paths() {
    let git = |repo: &str| {
        let source = format!("[velos.git]\nrepo = {repo:?}\n");
        project(&source).controller.and_then(|settings| settings.git).expect("git")
    };
    let relative = git("../deploy.git");
    assert_eq!(relative.repo, "/srv/shop/../deploy.git", "relative to the file's folder, `..` kept");
    assert_eq!((relative.ref_name.as_str(), relative.path.as_str()), ("main", "velos.toml"));
    assert_eq!(relative.poll_ms, 30_000);
    assert_eq!(git("./repos/deploy.git").repo, "/srv/shop/repos/deploy.git");
    assert_eq!(git("/srv/deploy.git").repo, "/srv/deploy.git");
    assert_eq!(git("git://127.0.0.1:9418/deploy.git").repo, "git://127.0.0.1:9418/deploy.git");
    // A file that follows git need declare no app: its apps come from the repository.
    assert!(project("[velos.git]\nrepo = \"/srv/deploy.git\"\n").apps.is_empty());
}

#[test]
fn the_velos_table_changes_no_spec_hash() {
    let plain = project(APPS);
    let followed = project(&format!(
        "{APPS}\n[velos]\nwatch = true\nself_heal = false\nresync = \"5s\"\n[velos.git]\nrepo = \"/srv/d.git\"\n"
    ));
    let hashes =
        |project: &Project| project.apps.iter().map(|app| app.spec.spec_hash.clone()).collect::<Vec<_>>();
    assert_eq!(hashes(&plain), hashes(&followed));
    let specs = |project: &Project| {
        project
            .apps
            .iter()
            .map(|app| {
                let mut spec = app.spec.clone();
                spec.labels.remove("source_rev"); // the file's bytes differ, so its revision does
                spec
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(specs(&plain), specs(&followed));
}

#[test]
fn settings_round_trip_through_json() {
    let project = project(&format!("{APPS}\n[velos]\nwatch = true\n"));
    let json = serde_json::to_string(&project).expect("json");
    let back: Project = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, project);
    // A project without `[velos]` serializes as before (no `controller` key).
    let plain = serde_json::to_value(self::project(APPS)).expect("json");
    assert!(plain.get("controller").is_none(), "{plain}");
}

#[test]
fn unknown_keys_get_a_suggestion() {
    insta::assert_snapshot!(render(
        "[velos]\nwatsh = true\nself-heal = false\n\n[velos.git]\nrepo = \"/srv/deploy.git\"\nbranch = \"main\"\n"
    ));
}

#[test]
fn bad_durations_and_intervals() {
    insta::assert_snapshot!(render(
        "[velos]\nresync = \"30\"\n\n[velos.git]\nrepo = \"/srv/deploy.git\"\npoll = \"10ms\"\n"
    ));
}

#[test]
fn wrong_types() {
    insta::assert_snapshot!(render("[velos]\nwatch = \"yes\"\nresync = 30\ngit = \"/srv/deploy.git\"\n"));
}

#[test]
fn missing_repo() {
    insta::assert_snapshot!(render("[velos.git]\nref = \"main\"\n"));
}

#[test]
fn bad_repository_ref_and_path() {
    insta::assert_snapshot!(render(
        "[velos.git]\nrepo = \"https://bot:ghp_secret@github.com/acme/deploy.git\"\nref = \"my branch\"\npath = \"../velos.toml\"\n"
    ));
    insta::assert_snapshot!(
        "ssh_and_absolute_path",
        render("[velos.git]\nrepo = \"git@github.com:acme/deploy.git\"\npath = \"/etc/velos.toml\"\ntoken_env = \"GIT_TOKEN\"\n")
    );
    insta::assert_snapshot!(
        "credentials_that_do_not_fit",
        render(
            "[velos.git]\nrepo = \"http://git.example.com/deploy.git\"\ntoken_file = \"token\"\ntoken_env = \"ghp_abc-123\"\nssh_key = \"~/.ssh/id\"\n"
        )
    );
    insta::assert_snapshot!(
        "token_over_plain_http",
        render("[velos.git]\nrepo = \"http://git.example.com/deploy.git\"\ntoken_env = \"GIT_TOKEN\"\n")
    );
}

#[test]
fn the_agent_policy_grants_nothing_by_default() {
    use velos_config::AgentPolicy;
    assert_eq!(AgentPolicy::of_source("[apps.web]\ncommand = \"x\"\n"), AgentPolicy::default());
    assert_eq!(AgentPolicy::of_source("[velos]\nwatch = true\n"), AgentPolicy::default());
    assert_eq!(AgentPolicy::of_source("not toml ["), AgentPolicy::default());
    let both = AgentPolicy::of_source("[velos.agents]\napply = true\nrestart = true\n");
    assert_eq!(both, AgentPolicy { apply: true, restart: true });
    let project =
        velos_config::parse("[velos.agents]\napply = true\n", std::path::Path::new("/srv/x/velos.toml"));
    assert!(
        project.is_ok_and(|project| !project.controller.is_some_and(|settings| settings.wants_controller()))
    );
    let typo =
        velos_config::parse("[velos.agents]\naply = true\n", std::path::Path::new("/srv/x/velos.toml"));
    let message = typo.err().map(|error| error.render()).unwrap_or_default();
    assert!(message.contains("did you mean `apply`?"), "{message}");
}

#[test]
fn remote_repositories_and_where_their_credentials_are() {
    let git = |text: &str| project(text).controller.and_then(|settings| settings.git).expect("git");
    let https = git(
        "[velos.git]\nrepo = \"https://git.example.com/acme/deploy.git\"\nusername = \"oauth2\"\ntoken_file = \"secrets/token\"\n",
    );
    assert_eq!(https.repo, "https://git.example.com/acme/deploy.git");
    assert_eq!(https.auth.username(), "oauth2");
    assert_eq!(https.auth.token, Some(TokenSource::File("/srv/shop/secrets/token".into())));
    let by_env = git("[velos.git]\nrepo = \"https://git.example.com/d.git\"\ntoken_env = \"GIT_TOKEN\"\n");
    assert_eq!(by_env.auth.token, Some(TokenSource::Env("GIT_TOKEN".into())));
    assert_eq!(by_env.auth.username(), "git");
    // Plain http carries a token only on loopback.
    let local = git("[velos.git]\nrepo = \"http://127.0.0.1:8080/d.git\"\ntoken_env = \"T\"\n");
    assert_eq!(local.auth.token, Some(TokenSource::Env("T".into())));
    let ssh = git(
        "[velos.git]\nrepo = \"git@git.example.com:acme/deploy.git\"\nssh_key = \"/etc/velos/deploy_key\"\nknown_hosts = \"known_hosts\"\naccept_new_host_keys = true\n",
    );
    assert_eq!(ssh.auth.ssh_key, Some("/etc/velos/deploy_key".into()));
    assert_eq!(ssh.auth.known_hosts, Some("/srv/shop/known_hosts".into()));
    assert!(ssh.auth.accept_new_host_keys);
    assert_eq!(transport(&ssh.repo), Transport::Ssh);
    let public = git("[velos.git]\nrepo = \"ssh://git@[::1]:2222/deploy.git\"\n");
    assert_eq!(public.auth, GitAuth::default());
    // The secret is never part of the resolved settings, only where it is.
    let json = serde_json::to_string(&https).expect("json");
    assert!(json.contains("secrets/token") && !json.contains("password"), "{json}");
}
