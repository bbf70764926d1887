//! The checked-in JSON Schema is the one the types generate, and every example is valid by both the loader
//! and the schema (DESIGN §4).
use std::path::{Path, PathBuf};

const BLESS_HINT: &str = "run VELOS_BLESS=1 cargo test -p velos-config to regenerate";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema_path() -> PathBuf {
    repository().join("schemas/velos.schema.json")
}

fn schema() -> serde_json::Value {
    serde_json::from_str(&velos_config::json_schema())
        .unwrap_or_else(|error| panic!("schema is not JSON: {error}"))
}

/// The TOML text as JSON, the way an editor's schema validation sees it.
fn as_json(source: &str) -> serde_json::Value {
    toml_edit::de::from_str(source).unwrap_or_else(|error| panic!("not TOML: {error}"))
}

fn schema_errors(source: &str) -> Vec<String> {
    let schema = schema();
    let validator =
        jsonschema::validator_for(&schema).unwrap_or_else(|error| panic!("invalid schema: {error}"));
    let instance = as_json(source);
    validator.iter_errors(&instance).map(|error| format!("{} at {}", error, error.instance_path())).collect()
}

#[test]
fn checked_in_schema_is_up_to_date() {
    let generated = velos_config::json_schema();
    let path = schema_path();
    if std::env::var_os("VELOS_BLESS").is_some_and(|value| value == "1") {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        return;
    }
    let checked_in = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}; {BLESS_HINT}", path.display()));
    assert!(checked_in == generated, "{} is stale; {BLESS_HINT}", path.display());
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repository().join("examples"))
        .unwrap_or_else(|error| panic!("no examples/: {error}"))
        .flatten()
        .map(|entry| entry.path().join("velos.toml"))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates() {
    let files = examples();
    assert!(files.len() >= 3, "expected at least 3 examples, found {files:?}");
    for file in files {
        let source =
            std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        assert!(
            source.starts_with("#:schema ../../schemas/velos.schema.json\n"),
            "{} must start with `#:schema ../../schemas/velos.schema.json`",
            file.display()
        );
        let project = velos_config::load(&file).unwrap_or_else(|error| panic!("{}", error.render()));
        assert!(!project.apps.is_empty(), "{} declares no app", file.display());
        let errors = schema_errors(&source);
        assert!(errors.is_empty(), "{} does not match the schema:\n{}", file.display(), errors.join("\n"));
    }
}

/// A file using every key in every form is valid for both; the schema is no looser than the loader on
/// the mistakes it can express.
#[test]
fn schema_and_loader_agree() {
    let every_key = r#"
[project]
name = "shop"
env = { REGION = "eu", WORKERS = 4, DEBUG = false }

[apps.web]
command = "python3 -m http.server 8000"
cwd = "."
env = { PORT = "8000" }
instances = 2
state = "stopped"
restart = "always"
max_restarts = 10
restart_window = "1m30s"
backoff = { initial = "100ms", max = "5s" }
min_uptime = "1s"
kill_signal = "SIGTERM"
kill_timeout = "5s"
max_memory = "512M"
depends_on = ["db"]
log = { max_size = "10MiB", max_files = 5, timestamps = true }

[apps.db]
command = "/bin/sleep"
args = ["3600"]
kill_signal = 2
max_memory = 1073741824

[velos]
watch = true
self_heal = false
resync = "1m"

[velos.git]
repo = "file:///srv/deploy.git"
ref = "main"
path = "deploy/velos.toml"
poll = "30s"
"#;
    velos_config::parse(every_key, Path::new("/srv/shop/velos.toml"))
        .unwrap_or_else(|error| panic!("{}", error.render()));
    let errors = schema_errors(every_key);
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    for bad in [
        "[apps.web]\ncomand = \"/bin/sleep\"\n",
        "[apps.web]\nargs = [\"1\"]\n",
        "[apps.web]\ncommand = \"x\"\ninstances = 0\n",
        "[apps.web]\ncommand = \"x\"\nkill_timeout = 5\n",
        "[apps.web]\ncommand = \"x\"\nkill_timeout = \"5 s\"\n",
        "[apps.web]\ncommand = \"x\"\nstate = \"paused\"\n",
        "[apps.web]\ncommand = \"x\"\nrestart = \"on_failure\"\n",
        "[apps.web]\ncommand = \"x\"\nmax_memory = \"1.5G\"\n",
        "[apps.web]\ncommand = \"x\"\nkill_signal = 99\n",
        "[apps.\".web\"]\ncommand = \"x\"\n",
        "[apps.web]\ncommand = \"x\"\nlog = { rotate = true }\n",
        "[velos]\nwatch = \"yes\"\n",
        "[velos]\nwatsh = true\n",
        "[velos.git]\nref = \"main\"\n",
        "[velos.git]\nrepo = \"/srv/deploy.git\"\npoll = \"30\"\n",
        "[velos.git]\nrepo = \"/srv/deploy.git\"\nbranch = \"main\"\n",
    ] {
        assert!(
            velos_config::parse(bad, Path::new("/srv/shop/velos.toml")).is_err(),
            "loader accepts {bad:?}"
        );
        assert!(!schema_errors(bad).is_empty(), "schema accepts {bad:?}");
    }
}
