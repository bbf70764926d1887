//! The command line as clap reads it.
use super::*;
use clap::CommandFactory;
use std::path::Path;
use std::time::Duration;
use velos_core::RestartPolicy;
use velos_ops::Scale;

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

fn parse(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("velos").chain(args.iter().copied())).expect("parses")
}

fn start(args: &[&str]) -> StartArgs {
    match parse(args).command {
        Command::Start(start) => start,
        other => panic!("not start: {other:?}"),
    }
}

#[test]
fn program_arguments_pass_through_unchanged() {
    let args = start(&["start", "/bin/sh", "-c", "echo hi"]);
    assert_eq!(args.program, "/bin/sh");
    assert_eq!(args.args, ["-c", "echo hi"]);

    let args =
        start(&["start", "--name", "web", "--env", "A=1", "python3", "-m", "http.server", "--name", "x"]);
    assert_eq!(args.name.as_deref(), Some("web"));
    assert_eq!(args.env, [("A".to_string(), "1".to_string())]);
    assert_eq!(args.args, ["-m", "http.server", "--name", "x"], "after the program, nothing is ours");

    // A `--` right after the program is taken as the separator (PM2 habit); later ones are passed on.
    let args = start(&["start", "/bin/sleep", "--", "10"]);
    assert_eq!(args.args, ["10"]);
    let args = start(&["start", "/bin/echo", "a", "--", "b"]);
    assert_eq!(args.args, ["a", "--", "b"]);
    let args = start(&["start", "--", "/bin/echo", "--name"]);
    assert_eq!((args.program.as_str(), args.args.as_slice()), ("/bin/echo", &["--name".to_string()][..]));
}

#[test]
fn start_options() {
    let args = start(&[
        "start",
        "--restart",
        "always",
        "--max-restarts",
        "3",
        "--backoff-initial",
        "10ms",
        "--kill-signal",
        "SIGINT",
        "--kill-timeout",
        "700ms",
        "--cwd",
        "/tmp",
        "-e",
        "K=V",
        "--inherit-env",
        "/bin/true",
    ]);
    assert_eq!(args.restart, Some(RestartPolicy::Always));
    assert_eq!(args.max_restarts, Some(3));
    assert_eq!(args.backoff_initial, Some(Duration::from_millis(10)));
    assert_eq!(args.kill_signal, Some(2));
    assert_eq!(args.kill_timeout, Some(Duration::from_millis(700)));
    assert!(args.inherit_env);
}

#[test]
fn bad_values_are_usage_errors() {
    for args in [
        &["velos", "start", "--restart", "sometimes", "x"][..],
        &["velos", "start", "--kill-timeout", "5", "x"],
        &["velos", "start", "--kill-signal", "SIGNOPE", "x"],
        &["velos", "start", "--env", "=x", "x"],
        &["velos", "list", "--json", "--ai"],
        &["velos", "daemon", "--detached"],
        &["velos", "start"],
    ] {
        let error = Cli::try_parse_from(args).expect_err("must be refused");
        assert_eq!(crate::exit::usage(&error), 1, "{args:?}: a usage error exits 1, never 2");
    }
}

#[test]
fn declarative_commands_and_their_defaults() {
    match parse(&["apply"]).command {
        Command::Apply(apply) => {
            assert_eq!(apply.file, PathBuf::from("velos.toml"));
            assert!(!apply.json && !apply.wait.no_wait);
            assert_eq!(apply.wait.timeout, Duration::from_secs(60));
        }
        other => panic!("{other:?}"),
    }
    match parse(&["apply", "deploy/velos.toml", "--json", "--no-wait", "--timeout", "1m30s"]).command {
        Command::Apply(apply) => {
            assert_eq!(apply.file, PathBuf::from("deploy/velos.toml"));
            assert!(apply.json && apply.wait.no_wait);
            assert_eq!(apply.wait.timeout, Duration::from_secs(90));
        }
        other => panic!("{other:?}"),
    }
    match parse(&["plan", "--json"]).command {
        Command::Plan(plan) => assert!(plan.json && plan.file == Path::new("velos.toml")),
        other => panic!("{other:?}"),
    }
    match parse(&["diff"]).command {
        Command::Diff(diff) => {
            assert_eq!((diff.file.as_path(), diff.against.as_str()), (Path::new("velos.toml"), "live"))
        }
        other => panic!("{other:?}"),
    }
    match parse(&["diff", "a.toml", "--against", "origin/main", "--json"]).command {
        Command::Diff(diff) => {
            assert!(diff.json && diff.against == "origin/main" && diff.file == Path::new("a.toml"))
        }
        other => panic!("{other:?}"),
    }
    match parse(&["validate", "a.toml", "b.toml"]).command {
        Command::Validate(validate) => {
            assert_eq!(validate.files, [PathBuf::from("a.toml"), PathBuf::from("b.toml")])
        }
        other => panic!("{other:?}"),
    }
    match parse(&["validate"]).command {
        Command::Validate(validate) => assert_eq!(validate.files, [PathBuf::from("velos.toml")]),
        other => panic!("{other:?}"),
    }
    match parse(&["rollback"]).command {
        Command::Rollback(rollback) => assert_eq!((rollback.steps, rollback.project), (1, None)),
        other => panic!("{other:?}"),
    }
    match parse(&["rollback", "3", "--project", "shop", "--no-wait"]).command {
        Command::Rollback(rollback) => {
            assert_eq!((rollback.steps, rollback.project.as_deref()), (3, Some("shop")));
            assert!(rollback.wait.no_wait);
        }
        other => panic!("{other:?}"),
    }
    match parse(&["history", "--project", "shop", "--json"]).command {
        Command::History(history) => assert!(history.json && history.project.as_deref() == Some("shop")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse(&["status", "--json"]).command,
        Command::Status(StatusArgs { json: true, all: false })
    ));
    assert!(matches!(parse(&["schema"]).command, Command::Schema));
}

#[test]
fn edit_commands() {
    for (typed, scale) in [("3", Scale::To(3)), ("+2", Scale::By(2)), ("-1", Scale::By(-1))] {
        match parse(&["scale", "web", typed]).command {
            Command::Scale(args) => assert_eq!((args.name.as_str(), args.instances), ("web", scale)),
            other => panic!("{other:?}"),
        }
    }
    match parse(&["set", "web", "env.PORT=8081", "kill_timeout=10s", "args=[\"-v\"]"]).command {
        Command::Set(set) => {
            let shown: Vec<(&str, &str)> =
                set.assignments.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
            assert_eq!(shown, [("env.PORT", "8081"), ("kill_timeout", "10s"), ("args", "[\"-v\"]")]);
        }
        other => panic!("{other:?}"),
    }
    match parse(&["unset", "web", "env.DEBUG", "max_memory"]).command {
        Command::Unset(unset) => assert_eq!(unset.keys, ["env.DEBUG", "max_memory"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_declarative_arguments_are_usage_errors() {
    for args in [
        &["velos", "rollback", "0"][..],
        &["velos", "rollback", "-1"],
        &["velos", "scale", "web"],
        &["velos", "scale", "web", "many"],
        &["velos", "set", "web"],
        &["velos", "set", "web", "kill_timeout"],
        &["velos", "set", "web", "=5"],
        &["velos", "unset", "web"],
        &["velos", "apply", "--timeout", "5"],
        &["velos", "diff", "--against"],
    ] {
        let error = Cli::try_parse_from(args).expect_err("must be refused");
        assert_eq!(crate::exit::usage(&error), 1, "{args:?}: a usage error exits 1, never 2");
    }
}

fn apply(args: &[&str]) -> ApplyArgs {
    match parse(args).command {
        Command::Apply(apply) => apply,
        other => panic!("not apply: {other:?}"),
    }
}

#[test]
fn apply_from_git_and_in_the_foreground() {
    let args = apply(&["apply", "--git", "/srv/deploy.git", "--ref", "main", "--path", "velos.toml"]);
    assert_eq!(args.git.as_deref(), Some("/srv/deploy.git"));
    assert_eq!((args.git_ref.as_deref(), args.path.as_deref()), (Some("main"), Some("velos.toml")));
    assert!(!args.watch && !args.json);
    assert_eq!(args.file, PathBuf::from("velos.toml"), "FILE keeps its default, unused with --git");

    let args = apply(&["apply", "--git", "file:///srv/deploy.git"]);
    assert_eq!((args.git_ref, args.path), (None, None), "the defaults are [velos.git]'s: main, velos.toml");

    let args = apply(&["apply", "--git", "git://127.0.0.1/deploy.git", "--json", "--no-wait"]);
    assert!(args.json && args.wait.no_wait);

    let args = apply(&["apply", "deploy/velos.toml", "--watch", "--timeout", "10s"]);
    assert!(args.watch && args.git.is_none());
    assert_eq!((args.file, args.wait.timeout), (PathBuf::from("deploy/velos.toml"), Duration::from_secs(10)));
    assert!(apply(&["apply", "--watch", "--git", "/srv/deploy.git"]).watch);
}

#[test]
fn sync_hook_controller_and_the_all_flags() {
    match parse(&["sync"]).command {
        Command::Sync(sync) => assert_eq!(sync.project, None),
        other => panic!("{other:?}"),
    }
    match parse(&["sync", "shop"]).command {
        Command::Sync(sync) => assert_eq!(sync.project.as_deref(), Some("shop")),
        other => panic!("{other:?}"),
    }
    match parse(&["hook", "install", "/srv/deploy.git"]).command {
        Command::Hook(HookArgs { command: HookCommand::Install(install) }) => {
            assert_eq!(install.repo, PathBuf::from("/srv/deploy.git"))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(parse(&["controller"]).command, Command::Controller));
    match parse(&["list", "--all", "--json"]).command {
        Command::List(list) => assert!(list.all && list.json && !list.ai),
        other => panic!("{other:?}"),
    }
    match parse(&["ls", "--ai"]).command {
        Command::List(list) => assert!(!list.all && list.ai),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse(&["status", "--all"]).command,
        Command::Status(StatusArgs { json: false, all: true })
    ));
}

#[test]
fn bad_gitops_arguments_are_usage_errors() {
    for args in [
        &["velos", "apply", "--ref", "main"][..],
        &["velos", "apply", "--path", "velos.toml"],
        &["velos", "apply", "velos.toml", "--git", "/srv/deploy.git"],
        &["velos", "apply", "--git"],
        &["velos", "apply", "--watch", "--json"],
        &["velos", "sync", "../etc"],
        &["velos", "sync", "a", "b"],
        &["velos", "hook"],
        &["velos", "hook", "install"],
        &["velos", "hook", "remove", "/srv/deploy.git"],
        &["velos", "controller", "extra"],
    ] {
        let error = Cli::try_parse_from(args).expect_err("must be refused");
        assert_eq!(crate::exit::usage(&error), 1, "{args:?}: a usage error exits 1, never 2");
    }
}

#[test]
fn aliases_and_globals() {
    assert!(matches!(parse(&["ls"]).command, Command::List(_)));
    assert!(matches!(parse(&["rm", "web"]).command, Command::Delete(_)));
    let cli = parse(&["list", "--home", "/tmp/v"]);
    assert_eq!(cli.home, Some(PathBuf::from("/tmp/v")));
    match parse(&["logs", "web", "-f", "-n", "5", "--stderr"]).command {
        Command::Logs(logs) => {
            assert!(logs.follow && logs.stderr && logs.lines == 5 && logs.stream == "both")
        }
        other => panic!("{other:?}"),
    }
}
