//! The resolved project does not depend on who reads the file: not on their environment, nor on their
//! current directory (given an absolute path). Its own test binary, since it changes process-wide state.
use std::path::Path;

const SOURCE: &str = r#"
[apps.web]
command = "python3 -m http.server 8000"
cwd = "public"
env = { PORT = "8000" }
instances = 2

[apps.worker]
command = "/bin/sleep"
args = ["3600"]
"#;

#[test]
fn the_spec_hash_ignores_the_callers_environment_and_directory() {
    let path = Path::new("/srv/shop/velos.toml");
    let before = velos_config::parse(SOURCE, path).unwrap_or_else(|error| panic!("{}", error.render()));

    // A caller with another PATH, a HOME, and variables the file also names.
    std::env::set_var("PATH", "/home/someone/bin:/usr/bin");
    std::env::set_var("HOME", "/home/someone");
    std::env::set_var("PORT", "9999");
    std::env::set_var("VELOS_INSTANCE", "42");
    std::env::set_var("LANG", "C.UTF-8");
    let elsewhere = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    std::env::set_current_dir(elsewhere.path()).unwrap_or_else(|error| panic!("{error}"));

    let after = velos_config::parse(SOURCE, path).unwrap_or_else(|error| panic!("{}", error.render()));
    assert_eq!(before, after);
    for app in &after.apps {
        assert!(
            !app.spec.env.iter().any(|entry| entry.contains("someone")
                || entry == "PORT=9999"
                || entry == "VELOS_INSTANCE=42"
                || entry.starts_with("LANG=")),
            "{:?}",
            app.spec.env
        );
    }
}
