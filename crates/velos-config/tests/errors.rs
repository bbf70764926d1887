//! What a user sees for each kind of bad velos.toml: snapshots of the rendered errors.
//! After a deliberate wording change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`).
use std::path::Path;

/// The rendered error for `source` as `deploy/velos.toml`; fails the test if it is accepted.
fn render(source: &str) -> String {
    match velos_config::parse(source, Path::new("deploy/velos.toml")) {
        Ok(project) => panic!("accepted: {project:#?}"),
        Err(error) => error.render(),
    }
}

#[test]
fn invalid_toml() {
    insta::assert_snapshot!(render("[apps.web]\ncommand = \"/bin/sleep\nargs = [\"3600\"]\n"));
}

#[test]
fn invalid_toml_unclosed_table() {
    insta::assert_snapshot!(render("[apps.web\ncommand = \"/bin/sleep\"\n"));
}

#[test]
fn duplicate_key() {
    insta::assert_snapshot!(render("[apps.web]\ncommand = \"/bin/sleep\"\ncommand = \"/bin/true\"\n"));
}

#[test]
fn unknown_key_with_suggestion() {
    insta::assert_snapshot!(render(
        "[project]\nname = \"shop\"\n\n[apps.web]\ncomand = \"/bin/sleep\"\nargs = [\"3600\"]\n"
    ));
}

#[test]
fn unknown_keys_everywhere() {
    insta::assert_snapshot!(render(
        "\
[projet]
name = \"shop\"

[apps.web]
command = \"/bin/sleep\"
colour = \"blue\"
log = { max_sise = \"10M\" }
backoff = { inital = \"1s\" }
"
    ));
}

#[test]
fn keys_from_other_process_managers() {
    insta::assert_snapshot!(render(
        "[apps.api]\nscript = \"server.js\"\nmax_memory_restart = \"300M\"\nname = \"api\"\n"
    ));
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = [\"/bin/sleep\", \"3600\"]
args = \"3600\"
instances = \"2\"
kill_timeout = 5
env = { PORT = 8080, RATIO = 0.5 }
log = { timestamps = \"yes\" }
"
    ));
}

#[test]
fn apps_as_an_array_of_tables() {
    insta::assert_snapshot!(render("[[apps]]\ncommand = \"/bin/sleep\"\n"));
}

#[test]
fn missing_command() {
    insta::assert_snapshot!(render(
        "[apps.web]\nargs = [\"3600\"]\n\n[apps.worker]\ncommand = \"/bin/sleep\"\n"
    ));
}

#[test]
fn empty_command() {
    insta::assert_snapshot!(render("[apps.web]\ncommand = \"  \"\n"));
}

#[test]
fn dependency_cycle() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"/bin/sleep\"
depends_on = [\"api\"]

[apps.api]
command = \"/bin/sleep\"
depends_on = [\"db\"]

[apps.db]
command = \"/bin/sleep\"
depends_on = [\"web\"]

[apps.self]
command = \"/bin/sleep\"
depends_on = [\"self\"]
"
    ));
}

#[test]
fn unknown_dependency() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"/bin/sleep\"
depends_on = [\"dbb\", \"cache\"]

[apps.db]
command = \"/bin/sleep\"
"
    ));
}

#[test]
fn bad_durations() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"/bin/sleep\"
kill_timeout = \"5\"
min_uptime = \"1.5s\"
restart_window = \"30s1m\"
backoff = { initial = \"10 seconds\", max = \"forever\" }
"
    ));
}

#[test]
fn backoff_initial_longer_than_max() {
    insta::assert_snapshot!(render(
        "[apps.web]\ncommand = \"/bin/sleep\"\nbackoff = { initial = \"10s\" }\n"
    ));
}

#[test]
fn bad_words_signals_and_sizes() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"/bin/sleep\"
restart = \"on_failure\"
state = \"stoped\"
kill_signal = \"SIGTREM\"
max_memory = \"1.5G\"
log = { max_size = \"10 parsecs\" }

[apps.worker]
command = \"/bin/sleep\"
restart = \"unless-stopped\"
kill_signal = 64
max_memory = 0
"
    ));
}

#[test]
fn command_with_spaces_and_args() {
    insta::assert_snapshot!(render(
        "[apps.web]\ncommand = \"python3 -m http.server\"\nargs = [\"8000\", \"--bind\", \"127.0.0.1\"]\n"
    ));
}

#[test]
fn shell_syntax_in_command() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"python3 -m http.server $PORT\"

[apps.logger]
command = \"node app.js > out.log\"

[apps.quote]
command = \"echo 'unclosed\"

[apps.home]
command = \"~/bin/server --port 80\"
"
    ));
}

#[test]
fn instances_out_of_range() {
    insta::assert_snapshot!(render(
        "[apps.web]\ncommand = \"/bin/sleep\"\ninstances = 0\n\n[apps.api]\ncommand = \"/bin/sleep\"\ninstances = 101\n"
    ));
}

#[test]
fn instance_names_collide() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"/bin/sleep\"
instances = 2

[apps.web-1]
command = \"/bin/sleep\"
"
    ));
}

#[test]
fn invalid_names() {
    insta::assert_snapshot!(render(
        "\
[project]
name = \"my shop\"

[apps.\".hidden\"]
command = \"/bin/sleep\"

[apps.\"a/b\"]
command = \"/bin/sleep\"
"
    ));
}

#[test]
fn bad_environment() {
    insta::assert_snapshot!(render(
        "\
[project]
env = { \"A=B\" = \"x\" }

[apps.web]
command = \"/bin/sleep\"
instances = 2
env = { VELOS_INSTANCE = \"7\", \"\" = \"empty\" }
"
    ));
}

#[test]
fn bad_cwd() {
    insta::assert_snapshot!(render(
        "[apps.web]\ncommand = \"/bin/sleep\"\ncwd = \"~/web\"\n\n[apps.api]\ncommand = \"/bin/sleep\"\ncwd = \"\"\n"
    ));
}

#[test]
fn one_line_summary_names_the_first_problem() {
    let error = velos_config::parse(
        "[apps.web]\ncommand = \"/bin/sleep\"\nkill_timeout = 5\nmin_uptime = 1\n",
        Path::new("velos.toml"),
    )
    .expect_err("must be refused");
    assert_eq!(
        error.to_string(),
        "velos.toml:3:16: wrong type for `apps.web.kill_timeout`: expected a duration such as \"5s\", \
         found the integer 5 (and 1 more)"
    );
    let first = &error.diagnostics()[0];
    assert_eq!((first.line, first.column, first.span_len), (3, 16, 1));
    assert_eq!(
        first.help.as_deref(),
        Some("write `kill_timeout = \"5s\"` for seconds or `\"5ms\"` for milliseconds")
    );
}

/// Problems of shape (keys, types) and of values are reported together (the example in docs/CONFIG.md).
#[test]
fn shape_and_value_problems_together() {
    insta::assert_snapshot!(render(
        "[project]\nname = \"shop\"\n[apps.web]\ncomand = \"/bin/sleep\"\nargs = [\"3600\"]\nkill_timeout = \"5\"\n"
    ));
}

/// Issue 8, finding 1: a file `velos validate` accepted crashed the daemon (a kill timeout of 2^64 - 1 ms
/// overflowed its clock) or was refused only at apply (`max_restarts = 1000000`). Every number now has one
/// range, checked here with the value's `file:line:col`.
#[test]
fn numbers_out_of_their_range() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"/bin/sleep\"
max_restarts = 1000000
kill_timeout = \"18446744073709551615ms\"
restart_window = \"500ms\"
min_uptime = \"2h\"
backoff = { initial = \"2h\", max = \"3h\" }
max_memory = \"65T\"
log = { max_size = \"512\", max_files = 1001 }

[velos]
resync = \"2d\"
"
    ));
}

#[test]
fn bad_log_format() {
    insta::assert_snapshot!(render(
        "\
[apps.web]
command = \"/bin/sleep\"
log = { format = \"jsno\" }

[apps.worker]
command = \"/bin/sleep\"
log = { format = \"yaml\" }

[apps.api]
command = \"/bin/sleep\"
log = { format = true }
"
    ));
}
