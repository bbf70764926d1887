//! Resolving a valid velos.toml into specs: defaults, commands, paths, instances, environments, hashes.
use std::path::{Path, PathBuf};
use velos_config::{parse, ConfigError, DesiredApp, DesiredState, Project, RestartPolicy, DEFAULT_PATH};

const FILE: &str = "/srv/shop/velos.toml";

fn project(source: &str) -> Project {
    parse(source, Path::new(FILE)).unwrap_or_else(|error| panic!("refused:\n{}", error.render()))
}

fn app<'p>(project: &'p Project, name: &str) -> &'p DesiredApp {
    project.app(name).unwrap_or_else(|| panic!("no app {name} in {:?}", project.apps))
}

#[test]
fn smallest_app_gets_the_documented_defaults() {
    let source = "[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n";
    let project = project(source);
    assert_eq!(project.name, "shop");
    assert_eq!(project.file, PathBuf::from(FILE));
    assert_eq!(project.revision, velos_config::revision(source.as_bytes()));
    assert!(project.revision.starts_with("file:") && project.revision.len() == 21, "{}", project.revision);
    assert_eq!(project.apps.len(), 1);
    let web = &project.apps[0];
    assert_eq!((web.app.as_str(), web.instance, web.state), ("web", 0, DesiredState::Running));
    assert!(web.depends_on.is_empty());
    assert_eq!(
        web.in_place,
        velos_config::InPlace { log_timestamps: true, ..velos_config::InPlace::default() },
        "timestamps on, rotation at the daemon's defaults"
    );
    let spec = &web.spec;
    assert_eq!(spec.name, "web");
    assert_eq!(spec.command, "/bin/sleep");
    assert_eq!(spec.args, ["3600"]);
    assert_eq!(spec.cwd, "/srv/shop");
    assert_eq!(spec.env, [format!("PATH={DEFAULT_PATH}")]);
    let defaults = velos_core::AppSpec::new("web", "/bin/sleep", "/srv/shop");
    assert_eq!(spec.restart, RestartPolicy::OnFailure);
    assert_eq!(
        (spec.max_restarts, spec.restart_window_ms, spec.backoff_initial_ms, spec.backoff_max_ms),
        (
            defaults.max_restarts,
            defaults.restart_window_ms,
            defaults.backoff_initial_ms,
            defaults.backoff_max_ms
        )
    );
    assert_eq!(
        (spec.min_uptime_ms, spec.kill_signal, spec.kill_timeout_ms),
        (defaults.min_uptime_ms, defaults.kill_signal, defaults.kill_timeout_ms)
    );
    assert_eq!(spec.spec_hash, spec.compute_hash());
    let labels: Vec<(&str, &str)> =
        spec.labels.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
    assert_eq!(
        labels,
        [("app", "web"), ("instance", "0"), ("project", "shop"), ("source_rev", project.revision.as_str())]
    );
}

#[test]
fn every_key_is_resolved() {
    let project = project(
        r#"
[project]
name = "store"

[apps.web]
command = "/usr/bin/python3"
args = ["-m", "http.server", "8000"]
cwd = "public"
env = { PORT = "8000" }
state = "stopped"
restart = "always"
max_restarts = 3
restart_window = "2m"
backoff = { initial = "250ms", max = "1m30s" }
min_uptime = "2s"
kill_signal = "SIGINT"
kill_timeout = "10s"
max_memory = "512M"
log = { max_size = "10M", max_files = 5, timestamps = true, format = "json" }
"#,
    );
    assert_eq!(project.name, "store");
    let web = app(&project, "web");
    assert_eq!(web.state, DesiredState::Stopped);
    let spec = &web.spec;
    assert_eq!(spec.cwd, "/srv/shop/public");
    assert_eq!(spec.restart, RestartPolicy::Always);
    assert_eq!((spec.max_restarts, spec.restart_window_ms), (3, 120_000));
    assert_eq!((spec.backoff_initial_ms, spec.backoff_max_ms), (250, 90_000));
    assert_eq!((spec.min_uptime_ms, spec.kill_signal, spec.kill_timeout_ms), (2_000, 2, 10_000));
    assert_eq!(
        web.in_place,
        velos_config::InPlace {
            max_memory_bytes: Some(512 << 20),
            log_max_size_bytes: Some(10 << 20),
            log_max_files: Some(5),
            log_timestamps: true,
            log_format: velos_config::LogFormat::Json,
            ..velos_config::InPlace::default()
        }
    );
}

#[test]
fn signals_sizes_and_env_values_in_their_other_forms() {
    let project = project(
        r#"
[apps.web]
command = "/bin/sleep"
kill_signal = 3
max_memory = 1048576
env = { WORKERS = 4, DEBUG = false, NAME = "web" }
[apps.web.log]
max_size = "64KiB"
"#,
    );
    let web = app(&project, "web");
    assert_eq!(web.spec.kill_signal, 3);
    assert_eq!(web.in_place.max_memory_bytes, Some(1 << 20));
    assert_eq!(web.in_place.log_max_size_bytes, Some(64 << 10));
    assert_eq!(web.spec.env, ["DEBUG=false", "NAME=web", &format!("PATH={DEFAULT_PATH}"), "WORKERS=4"]);
}

#[test]
fn a_command_with_spaces_is_split_like_a_shell_would() {
    let project = project(
        r#"
[apps.web]
command = "python3 -m http.server 8000 --bind '127.0.0.1'"

[apps.quoted]
command = "'/opt/My App/bin/server'"
args = ["--port", "80"]

[apps.spaced]
command = "/bin/echo  \"a  b\"  c\\ d"
"#,
    );
    let web = &app(&project, "web").spec;
    assert_eq!(web.command, "python3");
    assert_eq!(web.args, ["-m", "http.server", "8000", "--bind", "127.0.0.1"]);
    let quoted = &app(&project, "quoted").spec;
    assert_eq!(quoted.command, "/opt/My App/bin/server");
    assert_eq!(quoted.args, ["--port", "80"]);
    let spaced = &app(&project, "spaced").spec;
    assert_eq!(spaced.args, ["a  b", "c d"]);
}

#[test]
fn cwd_is_absolute_and_normalized() {
    let project = project(
        r#"
[apps.a]
command = "x"
cwd = "./app/"
[apps.b]
command = "x"
cwd = "app"
[apps.c]
command = "x"
cwd = "/var/lib/c"
[apps.d]
command = "x"
cwd = "../shared"
[apps.e]
command = "x"
cwd = "."
"#,
    );
    let cwd = |name: &str| app(&project, name).spec.cwd.clone();
    assert_eq!(cwd("a"), "/srv/shop/app");
    assert_eq!(cwd("b"), "/srv/shop/app");
    assert_eq!(app(&project, "a").spec.spec_hash, app(&project, "b").spec.spec_hash);
    assert_eq!(cwd("c"), "/var/lib/c");
    // `..` is kept: removing it would be wrong if the folder were a symlink.
    assert_eq!(cwd("d"), "/srv/shop/../shared");
    assert_eq!(cwd("e"), "/srv/shop");
}

#[test]
fn a_missing_cwd_is_not_an_error_when_parsing() {
    let project = project("[apps.web]\ncommand = \"x\"\ncwd = \"does/not/exist\"\n");
    assert_eq!(app(&project, "web").spec.cwd, "/srv/shop/does/not/exist");
}

#[test]
fn instances_are_expanded_and_numbered() {
    let project = project(
        r#"
[apps.db]
command = "/bin/sleep"
instances = 2

[apps.web]
command = "/bin/sleep"
instances = 3
depends_on = ["db", "cache", "db"]

[apps.cache]
command = "/bin/sleep"
"#,
    );
    let names: Vec<&str> = project.apps.iter().map(|app| app.spec.name.as_str()).collect();
    assert_eq!(names, ["cache", "db-0", "db-1", "web-0", "web-1", "web-2"]);
    assert_eq!(project.app_names(), ["cache", "db", "web"]);
    for (index, name) in ["web-0", "web-1", "web-2"].into_iter().enumerate() {
        let web = app(&project, name);
        assert_eq!((web.app.as_str(), web.instance), ("web", u32::try_from(index).unwrap_or(u32::MAX)));
        assert!(web.spec.env.contains(&format!("VELOS_INSTANCE={index}")), "{:?}", web.spec.env);
        assert_eq!(web.spec.labels["instance"], index.to_string());
        assert_eq!(web.spec.labels["app"], "web");
        assert_eq!(web.depends_on, ["cache", "db-0", "db-1"]);
    }
    assert_ne!(app(&project, "web-0").spec.spec_hash, app(&project, "web-1").spec.spec_hash);
    // A single instance keeps the app's name and gets no VELOS_INSTANCE.
    let cache = app(&project, "cache");
    assert!(!cache.spec.env.iter().any(|entry| entry.starts_with("VELOS_INSTANCE=")));
}

#[test]
fn env_is_the_file_only_merged_and_sorted() {
    let project = project(
        r#"
[project]
env = { TZ = "UTC", LOG = "info", PATH = "/opt/bin:/usr/bin" }

[apps.web]
command = "/bin/sleep"
env = { ZED = "1", LOG = "debug", ALPHA = "a=b" }

[apps.worker]
command = "/bin/sleep"
"#,
    );
    assert_eq!(
        app(&project, "web").spec.env,
        ["ALPHA=a=b", "LOG=debug", "PATH=/opt/bin:/usr/bin", "TZ=UTC", "ZED=1"]
    );
    assert_eq!(app(&project, "worker").spec.env, ["LOG=info", "PATH=/opt/bin:/usr/bin", "TZ=UTC"]);
    let without_path = self::project("[apps.web]\ncommand = \"x\"\nenv = { HOME = \"/srv\" }\n");
    assert_eq!(app(&without_path, "web").spec.env, ["HOME=/srv", &format!("PATH={DEFAULT_PATH}")]);
}

#[test]
fn the_hash_does_not_depend_on_layout_or_key_order() {
    let compact = project(
        r#"
[project]
name = "shop"
env = { REGION = "eu" }
[apps.web]
command = "python3 -m http.server 8000"
env = { PORT = "8000", DEBUG = "0" }
backoff = { initial = "1s", max = "10s" }
kill_timeout = "10s"
depends_on = ["db"]
[apps.db]
command = "/bin/sleep"
args = ["3600"]
"#,
    );
    let spread = project(
        r#"
# Same content, other layout: dotted keys, sub-tables, other key order, comments, other quoting.
apps.db.args = ['3600']
apps.db.command = '/bin/sleep'

[apps.web]
depends_on = ["db"]
kill_timeout = "10000ms"   # same duration, other spelling
command = "python3"
args = ["-m", "http.server", "8000"]

[apps.web.env]
DEBUG = "0"
PORT = "8000"

[apps.web.backoff]
max = "10s"
initial = "1000ms"

[project]
env.REGION = "eu"
name = "shop"
"#,
    );
    assert_ne!(compact.revision, spread.revision);
    assert_eq!(compact.apps.len(), spread.apps.len());
    for (one, other) in compact.apps.iter().zip(&spread.apps) {
        assert_eq!(one.spec.spec_hash, other.spec.spec_hash, "{}", one.spec.name);
        let mut other = other.clone();
        other.spec.labels.insert("source_rev".into(), compact.revision.clone());
        assert_eq!(one, &other);
    }
}

#[test]
fn in_place_fields_do_not_change_the_hash_and_restart_fields_do() {
    let hash = |extra: &str| {
        let project = project(&format!("[apps.web]\ncommand = \"/bin/sleep\"\n{extra}\n"));
        app(&project, "web").spec.spec_hash.clone()
    };
    let base = hash("");
    for in_place in [
        "max_memory = \"1G\"",
        "log = { max_size = \"1M\", max_files = 2, timestamps = true }",
        "state = \"stopped\"",
        "depends_on = []",
    ] {
        assert_eq!(hash(in_place), base, "{in_place}");
    }
    for restart in [
        "env = { A = \"1\" }",
        "args = [\"1\"]",
        "cwd = \"x\"",
        "kill_timeout = \"6s\"",
        "restart = \"always\"",
        "kill_signal = \"INT\"",
    ] {
        assert_ne!(hash(restart), base, "{restart}");
    }
}

#[test]
fn an_empty_file_is_a_project_without_apps() {
    let project = project("# nothing yet\n");
    assert!(project.apps.is_empty());
    assert_eq!(project.name, "shop");
}

#[test]
fn the_default_project_name_comes_from_the_folder() {
    let named = |path: &str| parse("", Path::new(path)).map(|project| project.name).unwrap_or_default();
    assert_eq!(named("/home/me/My Shop/velos.toml"), "My-Shop");
    assert_eq!(named("/velos.toml"), "default");
    assert_eq!(named("/srv/api.v2/velos.toml"), "api.v2");
}

#[test]
fn load_reads_the_file_and_reports_io_errors() {
    let directory = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let path = directory.path().join("velos.toml");
    std::fs::write(&path, "[apps.web]\ncommand = \"/bin/sleep\"\n").unwrap_or_else(|error| panic!("{error}"));
    let project = velos_config::load(&path).unwrap_or_else(|error| panic!("{}", error.render()));
    let canonical = std::fs::canonicalize(directory.path()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(project.file, canonical.join("velos.toml"));
    assert_eq!(app(&project, "web").spec.cwd, canonical.to_string_lossy());

    // Whatever path leads to the file, the specs are the same.
    std::fs::create_dir(directory.path().join("other")).unwrap_or_else(|error| panic!("{error}"));
    let roundabout = directory.path().join("other/../velos.toml");
    let same = velos_config::load(&roundabout).unwrap_or_else(|error| panic!("{}", error.render()));
    assert_eq!(same.file, project.file);
    assert_eq!(same.apps, project.apps);

    let missing = directory.path().join("nope.toml");
    match velos_config::load(&missing) {
        Err(ConfigError::Read { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }

    std::fs::write(&path, b"[apps.web]\ncommand = \"caf\xe9\"\n").unwrap_or_else(|error| panic!("{error}"));
    let error = velos_config::load(&path).expect_err("not UTF-8");
    let diagnostic = &error.diagnostics()[0];
    assert_eq!(
        (diagnostic.line, diagnostic.column, diagnostic.message.as_str()),
        (2, 15, "the file is not valid UTF-8")
    );
}

#[test]
fn instances_and_dependents_of_an_app() {
    let project = project(
        "[apps.db]\ncommand = \"/bin/sleep\"\ninstances = 2\n\n[apps.web]\ncommand = \"/bin/sleep\"\ndepends_on = [\"db\"]\n\n[apps.cron]\ncommand = \"/bin/sleep\"\ndepends_on = [\"db\", \"web\"]\n",
    );
    let names = |apps: Vec<&DesiredApp>| apps.iter().map(|app| app.spec.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(project.instances_of("db")), ["db-0", "db-1"]);
    assert_eq!(names(project.instances_of("web")), ["web"]);
    assert!(project.instances_of("ghost").is_empty());
    assert_eq!(project.dependents_of("db"), ["cron", "web"]);
    assert_eq!(project.dependents_of("web"), ["cron"]);
    assert!(project.dependents_of("cron").is_empty());
}

#[test]
fn load_source_and_parse_as_agree_with_load() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let file = dir.path().join("velos.toml");
    let text = "[apps.web]\ncommand = \"/bin/sleep\"\n";
    std::fs::write(&file, text).unwrap_or_else(|error| panic!("{error}"));
    let (source, loaded) =
        velos_config::load_source(&file).unwrap_or_else(|error| panic!("{}", error.render()));
    assert_eq!(source, text);
    assert_eq!(velos_config::load(&file).ok(), Some(loaded.clone()));
    // Another version of the file, named as a git revision in messages, parsed as the same file.
    let shown = std::path::Path::new("HEAD:velos.toml");
    let same = velos_config::parse_as(text, shown, &loaded.file)
        .unwrap_or_else(|error| panic!("{}", error.render()));
    assert_eq!(same, loaded);
    let error = velos_config::parse_as("[apps.web]\ncomand = 1\n", shown, &loaded.file).expect_err("invalid");
    assert!(error.render().contains("--> HEAD:velos.toml:2:1"), "{}", error.render());
}
