//! Edits of desired state: format-preserving, validated, written atomically.
use std::path::Path;
use velos_config::{apply_edits, write_atomically, ConfigError, DesiredState, Edit};

const PATH: &str = "/srv/shop/velos.toml";

const SOURCE: &str = r#"#:schema ../../schemas/velos.schema.json
# The shop: a web front and a worker.
[project]
name = "shop"

# Serves the site.
[apps.web]
command = "python3 -m http.server 8000"   # dev server for now
env = { PORT = "8000" }

# Drains the queue.
[apps.worker]
command = "/bin/sleep"
args = ["3600"]
state = "running"  # until we scale it down
depends_on = ["web"]
"#;

fn edit(source: &str, edits: &[Edit]) -> Result<(String, velos_config::Project), ConfigError> {
    apply_edits(source, Path::new(PATH), edits)
}

fn edited(source: &str, edits: &[Edit]) -> String {
    edit(source, edits).map(|(text, _)| text).unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

fn stop(app: &str) -> Edit {
    Edit::SetState { app: app.into(), state: DesiredState::Stopped }
}

#[test]
fn set_state_keeps_comments_blank_lines_and_layout() {
    let text = edited(SOURCE, &[stop("web"), stop("worker")]);
    let expected = SOURCE
        .replace("env = { PORT = \"8000\" }\n", "env = { PORT = \"8000\" }\nstate = \"stopped\"\n")
        .replace("state = \"running\"  # until", "state = \"stopped\"  # until");
    assert_eq!(text, expected);
    let (_, project) = edit(SOURCE, &[stop("web")]).unwrap_or_else(|error| panic!("{}", error.render()));
    assert_eq!(project.app("web").map(|app| app.state), Some(DesiredState::Stopped));
    assert_eq!(project.app("worker").map(|app| app.state), Some(DesiredState::Running));
}

#[test]
fn starting_an_app_that_runs_by_default_changes_nothing() {
    let start = Edit::SetState { app: "web".into(), state: DesiredState::Running };
    assert_eq!(edited(SOURCE, &[start]), SOURCE);
    let one = Edit::SetInstances { app: "web".into(), instances: 1 };
    assert_eq!(edited(SOURCE, &[one]), SOURCE);
}

#[test]
fn scale_set_and_unset() {
    let text = edited(
        SOURCE,
        &[
            Edit::SetInstances { app: "worker".into(), instances: 3 },
            Edit::Set { app: "web".into(), key: "env.PORT".into(), value: "8081".into() },
            Edit::Set { app: "web".into(), key: "kill_timeout".into(), value: "10s".into() },
            Edit::Set { app: "worker".into(), key: "log.max_size".into(), value: "10M".into() },
            Edit::Unset { app: "worker".into(), key: "args".into() },
            Edit::Unset { app: "worker".into(), key: "env.NOT_THERE".into() },
        ],
    );
    insta::assert_snapshot!(text);
    let (_, project) = edit(&text, &[]).unwrap_or_else(|error| panic!("{}", error.render()));
    let names: Vec<&str> = project.apps.iter().map(|app| app.spec.name.as_str()).collect();
    assert_eq!(names, ["web", "worker-0", "worker-1", "worker-2"]);
}

#[test]
fn add_and_remove_apps() {
    let mut table = toml_edit::Table::new();
    table["command"] = toml_edit::value("/usr/bin/node");
    table["args"] = toml_edit::value(toml_edit::Array::from_iter(["server.js"]));
    let added = edited(SOURCE, &[Edit::AddApp { app: "api".into(), table: table.clone() }]);
    assert_eq!(added, format!("{SOURCE}\n[apps.api]\ncommand = \"/usr/bin/node\"\nargs = [\"server.js\"]\n"));

    let removed = edited(&added, &[Edit::RemoveApp { app: "api".into() }]);
    assert_eq!(removed, SOURCE);

    // A fresh file holding only the schema line keeps it first.
    let fresh =
        edited("#:schema ../../schemas/velos.schema.json\n", &[Edit::AddApp { app: "api".into(), table }]);
    assert_eq!(
        fresh,
        "#:schema ../../schemas/velos.schema.json\n\n[apps.api]\ncommand = \"/usr/bin/node\"\nargs = [\"server.js\"]\n"
    );

    match edit(SOURCE, &[Edit::AddApp { app: "web".into(), table: toml_edit::Table::new() }]) {
        Err(ConfigError::AppExists { app, .. }) => assert_eq!(app, "web"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_app_is_an_error() {
    for unknown in [
        stop("wbe"),
        Edit::RemoveApp { app: "wbe".into() },
        Edit::Unset { app: "wbe".into(), key: "env".into() },
    ] {
        match edit(SOURCE, &[unknown]) {
            Err(error @ ConfigError::UnknownApp { .. }) => {
                assert_eq!(
                    error.render(),
                    "error: /srv/shop/velos.toml: no app named `wbe`\n  = help: did you mean `web`?\n"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn an_edit_producing_an_invalid_file_is_refused() {
    let bad_duration = Edit::Set { app: "web".into(), key: "kill_timeout".into(), value: "5 parsecs".into() };
    let error = edit(SOURCE, &[bad_duration]).expect_err("must be refused");
    insta::assert_snapshot!(error.render());

    // Removing an app another one depends on.
    let error = edit(SOURCE, &[Edit::RemoveApp { app: "web".into() }]).expect_err("must be refused");
    assert!(
        error.render().contains("`worker` depends on `web`, which is not an app of this file"),
        "{}",
        error.render()
    );

    let typo = Edit::Set { app: "web".into(), key: "comand".into(), value: "x".into() };
    let error = edit(SOURCE, &[typo]).expect_err("must be refused");
    assert!(error.render().contains("did you mean `command`?"), "{}", error.render());

    let not_a_table = Edit::Set { app: "web".into(), key: "command.x".into(), value: "x".into() };
    match edit(SOURCE, &[not_a_table]) {
        Err(ConfigError::BadEdit { reason, .. }) => {
            assert_eq!(reason, "`command` is not a table, so `command.x` cannot be set")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsetting_what_set_added_gives_the_file_back() {
    let set = Edit::Set { app: "worker".into(), key: "env.PORT".into(), value: "8081".into() };
    let with_port = edited(SOURCE, &[set]);
    assert!(with_port.contains("env = { PORT = \"8081\" }"), "{with_port}");
    let unset = Edit::Unset { app: "worker".into(), key: "env.PORT".into() };
    assert_eq!(edited(&with_port, &[unset]), SOURCE, "the table emptied by unset goes too");
    // A table that keeps other keys stays; unsetting an absent key leaves an empty table alone.
    let unset_web = Edit::Unset { app: "web".into(), key: "env.PORT".into() };
    assert!(!edited(SOURCE, &[unset_web]).contains("env ="));
    let empty = SOURCE.replace("args = [\"3600\"]\n", "args = [\"3600\"]\nenv = {}\n");
    let absent = Edit::Unset { app: "worker".into(), key: "env.NOT_THERE".into() };
    assert_eq!(edited(&empty, &[absent]), empty);
}

#[test]
fn edits_work_on_dotted_and_inline_apps() {
    let dotted = edited("apps.web.command = \"/bin/sleep\"\n", &[stop("web")]);
    assert_eq!(dotted, "apps.web.command = \"/bin/sleep\"\napps.web.state = \"stopped\"\n");
    let inline = edited(
        "[apps]\nweb = { command = \"/bin/sleep\" }\n",
        &[
            Edit::Unset { app: "web".into(), key: "command".into() },
            Edit::Set { app: "web".into(), key: "command".into(), value: "/bin/true".into() },
        ],
    );
    assert_eq!(inline, "[apps]\nweb = { command = \"/bin/true\" }\n");
}

#[cfg(unix)]
#[test]
fn write_atomically_replaces_the_file_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let directory = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let path = directory.path().join("velos.toml");
    let mode = |path: &Path| {
        std::fs::metadata(path).map(|metadata| metadata.permissions().mode() & 0o777).unwrap_or(0)
    };

    write_atomically(&path, "first\n").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "first\n");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640))
        .unwrap_or_else(|error| panic!("{error}"));
    write_atomically(&path, "second\n").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "second\n");
    assert_eq!(mode(&path), 0o640);

    // Through a symlink, the file it points to is replaced and the link stays a link.
    let link = directory.path().join("link.toml");
    std::os::unix::fs::symlink(&path, &link).unwrap_or_else(|error| panic!("{error}"));
    write_atomically(&link, "third\n").unwrap_or_else(|error| panic!("{error}"));
    assert!(std::fs::symlink_metadata(&link)
        .map(|metadata| metadata.file_type().is_symlink())
        .unwrap_or(false));
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "third\n");
    assert_eq!(mode(&path), 0o640);

    // No temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(directory.path())
        .map(|entries| {
            entries.flatten().map(|entry| entry.file_name().to_string_lossy().into_owned()).collect()
        })
        .unwrap_or_default();
    names.sort();
    assert_eq!(names, ["link.toml", "velos.toml"]);

    // A directory that does not exist is an error, and nothing is created.
    let nowhere = directory.path().join("missing").join("velos.toml");
    assert!(write_atomically(&nowhere, "x").is_err());
}
