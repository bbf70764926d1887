//! Patches of a whole file (REST `PATCH`, MCP proposals): RFC 7396 merge patches keep the layout of what
//! they do not touch, and every result is validated with file:line:col diagnostics.
use serde_json::json;
use std::path::Path;
use velos_config::{apply_patch, ConfigError, Patch};

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
depends_on = ["web"]

[apps.worker.env]
QUEUE = "jobs"  # the only queue
"#;

fn patch(source: &str, patch: serde_json::Value) -> Result<(String, velos_config::Project), ConfigError> {
    apply_patch(source, Path::new(PATH), &Patch::Merge(patch))
}

fn patched(source: &str, value: serde_json::Value) -> String {
    patch(source, value).map(|(text, _)| text).unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

#[test]
fn an_env_change_touches_only_that_apps_table() {
    let text = patched(SOURCE, json!({"apps": {"web": {"env": {"PORT": "8081"}}}}));
    assert_eq!(text, SOURCE.replace("PORT = \"8000\"", "PORT = \"8081\""));
    let (_, project) = patch(SOURCE, json!({"apps": {"worker": {"env": {"QUEUE": "mail"}}}}))
        .unwrap_or_else(|error| panic!("{}", error.render()));
    let env = project.app("worker").map(|app| app.spec.env.clone()).unwrap_or_default();
    assert!(env.iter().any(|pair| pair == "QUEUE=mail"), "{env:?}");
    let text = patched(SOURCE, json!({"apps": {"worker": {"env": {"QUEUE": "mail"}}}}));
    assert_eq!(text, SOURCE.replace("QUEUE = \"jobs\"  # the only", "QUEUE = \"mail\"  # the only"));
}

#[test]
fn an_empty_patch_changes_nothing() {
    assert_eq!(patched(SOURCE, json!({})), SOURCE);
    assert_eq!(patched(SOURCE, json!({"apps": {"web": {}}})), SOURCE);
}

#[test]
fn null_deletes_a_key_or_an_app() {
    let text = patched(SOURCE, json!({"apps": {"web": {"env": null}}}));
    assert_eq!(text, SOURCE.replace("env = { PORT = \"8000\" }\n", ""));
    let text = patched(SOURCE, json!({"apps": {"worker": {"depends_on": null}}}));
    assert!(!text.contains("depends_on"), "{text}");
    // Removing an app others depend on is refused by validation, with the place of the dangling name.
    let refused = patch(SOURCE, json!({"apps": {"web": null}})).err();
    let diagnostics = refused.as_ref().map(ConfigError::diagnostics).unwrap_or_default();
    assert!(diagnostics.iter().any(|d| d.message.contains("web")), "{refused:?}");
    let text = patched(SOURCE, json!({"apps": {"worker": null}}));
    assert!(
        !text.contains("[apps.worker") && !text.contains("Drains the queue") && !text.contains("QUEUE"),
        "{text}"
    );
    assert!(text.contains("# Serves the site.\n[apps.web]"), "{text}");
    // Deleting what is absent changes nothing.
    assert_eq!(patched(SOURCE, json!({"apps": {"web": {"kill_timeout": null}}})), SOURCE);
}

#[test]
fn arrays_replace_and_scalars_keep_their_comment() {
    let text = patched(SOURCE, json!({"apps": {"worker": {"args": ["60", "--verbose"]}}}));
    assert!(text.contains("args = [\"60\", \"--verbose\"]\n"), "{text}");
    let text = patched(SOURCE, json!({"apps": {"web": {"command": "/bin/sleep"}}}));
    assert!(text.contains("command = \"/bin/sleep\"   # dev server for now\n"), "{text}");
}

#[test]
fn a_new_app_gets_its_own_table_and_new_keys_go_inline() {
    let text = patched(
        SOURCE,
        json!({"apps": {"cache": {"command": "/bin/sleep", "args": ["9"], "env": {"A": "1", "B": null}}}}),
    );
    assert!(text.starts_with(SOURCE), "{text}");
    assert!(
        text.ends_with("\n[apps.cache]\ncommand = \"/bin/sleep\"\nargs = [\"9\"]\nenv = { A = \"1\" }\n"),
        "{text}"
    );
    let text = patched(SOURCE, json!({"apps": {"web": {"log": {"max_files": 3}}}}));
    assert!(text.contains("env = { PORT = \"8000\" }\nlog = { max_files = 3 }\n"), "{text}");
    let text = patched(SOURCE, json!({"velos": {"self_heal": false}}));
    assert!(text.ends_with("\n[velos]\nself_heal = false\n"), "{text}");
}

#[test]
fn an_invalid_result_is_refused_with_its_place() {
    let refused = patch(SOURCE, json!({"apps": {"web": {"kill_timeout": 5}}})).err();
    let diagnostics = refused.as_ref().map(ConfigError::diagnostics).unwrap_or_default();
    let first = diagnostics.first().map(|d| d.short()).unwrap_or_default();
    assert!(
        first.starts_with("/srv/shop/velos.toml:10:16: wrong type for `apps.web.kill_timeout`"),
        "{first}"
    );
    let refused = patch(SOURCE, json!({"apps": {"web": {"comand": "x"}}})).err();
    let help =
        refused.as_ref().map(ConfigError::diagnostics).and_then(|d| d.first()).and_then(|d| d.help.clone());
    assert_eq!(help.as_deref(), Some("did you mean `command`?"));
}

#[test]
fn patches_toml_cannot_hold_are_refused() {
    for (value, reason) in [
        (json!([1]), "must be an object"),
        (json!({"apps": {"web": {"args": [null]}}}), "no null inside an array"),
        (json!({"apps": {"web": {"max_restarts": u64::MAX}}}), "does not fit"),
    ] {
        let refused = patch(SOURCE, value).err();
        assert!(matches!(refused, Some(ConfigError::BadPatch { .. })), "{refused:?}");
        assert!(refused.map(|error| error.to_string()).unwrap_or_default().contains(reason));
    }
}

#[test]
fn the_whole_file_as_toml_text() {
    let text = SOURCE.replace("8000\" }", "9000\" }");
    let (new, project) = apply_patch(SOURCE, Path::new(PATH), &Patch::Toml(text.clone()))
        .unwrap_or_else(|error| panic!("{}", error.render()));
    assert_eq!(new, text);
    assert_eq!(project.name, "shop");
    let refused = apply_patch(SOURCE, Path::new(PATH), &Patch::Toml("[apps.web\n".into())).err();
    let first =
        refused.as_ref().map(ConfigError::diagnostics).and_then(|d| d.first()).map(|d| (d.line, d.column));
    assert_eq!(first, Some((1, 10)));
}
