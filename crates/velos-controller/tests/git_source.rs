//! GitSource against real repositories made by the `git` program: clone, new commits, a force-push, tags
//! and commit ids, and each bad input with its error class.
mod gitrepo;

use gitrepo::{git, velos_toml, Repos};
use std::path::Path;
use velos_controller::{checkout_dir, load, repository_name, ErrorClass, GitSource, Source, SourceError};

fn source(repos: &Repos, home: &Path, ref_name: &str, path: &str) -> GitSource {
    let settings = velos_config::GitSource {
        repo: repos.url(),
        ref_name: ref_name.into(),
        path: path.into(),
        poll_ms: 30_000,
        auth: Default::default(),
    };
    GitSource::new(home, &settings)
}

#[test]
fn clones_then_follows_new_commits_and_a_force_push() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let first = repos.push_file("deploy/velos.toml", &velos_toml(&[("web", "100")]));
    let mut git_source = source(&repos, home.path(), "main", "deploy/velos.toml");

    let fetched = git_source.fetch().expect("first fetch clones");
    assert_eq!(fetched.revision, format!("git:{first}"));
    assert!(fetched.text.contains("\"100\""));
    assert_eq!(fetched.origin, format!("deploy/velos.toml@{}", &first[..12]));
    assert!(git_source.checkout_dir().starts_with(home.path().canonicalize().expect("home")));

    let second = repos.push_file("deploy/velos.toml", &velos_toml(&[("web", "200")]));
    let fetched = git_source.fetch().expect("second fetch");
    assert_eq!(fetched.revision, format!("git:{second}"));
    assert!(fetched.text.contains("\"200\""));

    // Rewrite history: drop `second`, push another commit in its place, force.
    git(&repos.work, &["reset", "--quiet", "--hard", &first]);
    repos.write("deploy/velos.toml", &velos_toml(&[("web", "300")]));
    let rewritten = repos.commit_and_push("rewrite", true);
    let fetched = git_source.fetch().expect("fetch after force-push");
    assert_eq!(fetched.revision, format!("git:{rewritten}"));
    assert!(fetched.text.contains("\"300\""));

    // A new GitSource on the same checkout (a restarted controller) fetches into it again.
    let mut again = source(&repos, home.path(), "main", "deploy/velos.toml");
    assert_eq!(again.fetch().expect("fetch").revision, format!("git:{rewritten}"));
}

#[test]
fn parsed_projects_carry_the_commit_and_keep_their_hashes() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let text = velos_toml(&[("web", "100")]);
    let first = repos.push_file("velos.toml", &text);
    let mut git_source = source(&repos, home.path(), "main", "velos.toml");
    let (fetched, project) = load(&mut git_source).expect("load");
    assert_eq!(project.revision, format!("git:{first}"));
    let web = project.app("web").expect("web");
    assert_eq!(web.spec.labels["source_rev"], format!("git:{first}"));
    assert_eq!(web.spec.cwd, git_source.checkout_dir().display().to_string());
    assert_eq!(project.file, git_source.parse_path());

    // Materialized, the work tree holds the commit's files (the apps' `cwd` exists).
    git_source.materialize(&fetched).expect("materialize");
    assert_eq!(std::fs::read_to_string(git_source.parse_path()).expect("checked out"), text);

    // Another commit, same velos.toml: same specs, same hashes (nothing to restart).
    repos.write("README", "docs\n");
    let second = repos.commit_and_push("docs", false);
    let (fetched, again) = load(&mut git_source).expect("load");
    assert_eq!(again.revision, format!("git:{second}"));
    assert_eq!(again.app("web").expect("web").spec.spec_hash, web.spec.spec_hash);
    git_source.materialize(&fetched).expect("materialize");
    assert!(git_source.checkout_dir().join("README").is_file());
}

#[test]
fn tags_and_commit_ids_are_refs_too() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let first = repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    git(&repos.work, &["tag", "v1"]);
    git(&repos.work, &["push", "--quiet", "origin", "v1"]);
    let second = repos.push_file("velos.toml", &velos_toml(&[("web", "2")]));

    let by_tag = source(&repos, home.path(), "v1", "velos.toml").fetch().expect("tag");
    assert_eq!(by_tag.revision, format!("git:{first}"));
    let by_commit = source(&repos, home.path(), &first, "velos.toml").fetch().expect("commit id");
    assert_eq!(by_commit.revision, format!("git:{first}"));
    let by_prefix = source(&repos, home.path(), &first[..10], "velos.toml").fetch().expect("prefix");
    assert_eq!(by_prefix.revision, format!("git:{first}"));
    let by_full_ref = source(&repos, home.path(), "refs/heads/main", "velos.toml").fetch().expect("ref");
    assert_eq!(by_full_ref.revision, format!("git:{second}"));
}

#[test]
fn an_unknown_ref_is_terminal_and_names_what_exists() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    let error = source(&repos, home.path(), "release", "velos.toml").fetch().expect_err("no such ref");
    assert!(matches!(error, SourceError::MissingRef { .. }), "{error:?}");
    assert_eq!(error.class(), ErrorClass::Terminal);
    assert!(error.to_string().contains("no branch, tag or commit `release`"), "{error}");
    assert!(error.to_string().contains("(it has: main)"), "{error}");
}

#[test]
fn a_deleted_branch_is_a_missing_ref_not_a_stale_commit() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    git(&repos.work, &["push", "--quiet", "origin", "main:release"]);
    let mut release = source(&repos, home.path(), "release", "velos.toml");
    release.fetch().expect("release exists");
    git(&repos.work, &["push", "--quiet", "origin", "--delete", "release"]);
    let error = release.fetch().expect_err("release is gone");
    assert!(matches!(error, SourceError::MissingRef { .. }), "{error:?}");
}

#[test]
fn a_path_missing_from_the_commit_is_terminal() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    let mut git_source = source(&repos, home.path(), "main", "velos.toml");
    git_source.fetch().expect("there at first");
    git(&repos.work, &["rm", "--quiet", "velos.toml"]);
    let commit = repos.commit_and_push("remove it", false);
    let error = git_source.fetch().expect_err("removed");
    assert!(matches!(error, SourceError::MissingPath { .. }), "{error:?}");
    assert_eq!(error.class(), ErrorClass::Terminal);
    assert_eq!(error.to_string(), format!("commit {} has no file velos.toml", &commit[..12]));

    repos.push_file("deploy/velos.toml", &velos_toml(&[("web", "1")]));
    let folder = source(&repos, home.path(), "main", "deploy").fetch().expect_err("a folder");
    assert!(matches!(folder, SourceError::NotAFile { .. }), "{folder:?}");
}

#[test]
fn a_file_that_does_not_parse_is_terminal_and_points_at_the_commit() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let commit = repos.push_file("velos.toml", "[apps.web]\ncomand = \"/bin/sleep\"\n");
    let error = load(&mut source(&repos, home.path(), "main", "velos.toml")).expect_err("invalid");
    assert!(matches!(error, SourceError::Invalid { .. }), "{error:?}");
    assert_eq!(error.class(), ErrorClass::Terminal);
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("velos.toml@{}:2:1: unknown key `comand`", &commit[..12])),
        "{message}"
    );
}

#[test]
fn an_unreachable_repository_is_transient() {
    let home = tempfile::tempdir().expect("home");
    let settings = velos_config::GitSource {
        repo: home.path().join("no-such-repo.git").display().to_string(),
        ref_name: "main".into(),
        path: "velos.toml".into(),
        poll_ms: 30_000,
        auth: Default::default(),
    };
    let error = GitSource::new(home.path(), &settings).fetch().expect_err("unreachable");
    assert!(matches!(error, SourceError::Unreachable { .. }), "{error:?}");
    assert_eq!(error.class(), ErrorClass::Transient);
    assert!(error.to_string().starts_with("cannot reach the repository "), "{error}");
}

#[test]
fn a_plain_path_and_git_daemon_work_too() {
    let repos = Repos::new();
    let home = tempfile::tempdir().expect("home");
    let commit = repos.push_file("velos.toml", &velos_toml(&[("web", "1")]));
    let by_path = velos_config::GitSource {
        repo: repos.bare.display().to_string(),
        ref_name: "main".into(),
        path: "velos.toml".into(),
        poll_ms: 30_000,
        auth: Default::default(),
    };
    assert_eq!(
        GitSource::new(home.path(), &by_path).fetch().expect("path").revision,
        format!("git:{commit}")
    );

    // `git daemon` on 127.0.0.1, a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let base = repos.bare.parent().expect("server").to_path_buf();
    let mut daemon = std::process::Command::new("git")
        .args(["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(&base)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("git daemon");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "git daemon did not listen");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let by_git = velos_config::GitSource {
        repo: format!("git://127.0.0.1:{port}/deploy.git"),
        ref_name: "main".into(),
        path: "velos.toml".into(),
        poll_ms: 30_000,
        auth: Default::default(),
    };
    let fetched = GitSource::new(home.path(), &by_git).fetch();
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!(fetched.expect("git://").revision, format!("git:{commit}"));
}

#[test]
fn checkouts_are_per_repository_and_ref_and_named_after_the_repository() {
    let home = Path::new("/v");
    let main = checkout_dir(home, "file:///srv/deploy.git", "main");
    assert_eq!(main.file_name().and_then(|name| name.to_str()), Some("deploy"));
    assert!(main.starts_with("/v/sources"));
    assert_ne!(main, checkout_dir(home, "file:///srv/deploy.git", "release"));
    assert_ne!(main, checkout_dir(home, "file:///srv/other/deploy.git", "main"));
    assert_eq!(main, checkout_dir(home, "file:///srv/deploy.git", "main"));
    assert_eq!(repository_name("git://127.0.0.1:9418/team/shop.git"), "shop");
    assert_eq!(repository_name("/srv/My Shop/"), "My-Shop");
    assert_eq!(repository_name("/"), "repo");
}
