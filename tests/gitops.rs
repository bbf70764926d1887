//! GitOps end to end: a host driven by pushes to a real bare repository (post-receive hook → controller),
//! a bad commit that leaves the last good state running, a force-push back to an earlier commit, a watched
//! file, and drift healed at resync. The controller runs as the daemon-supervised system app.
#![allow(clippy::unwrap_used)]
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;
use velos_e2e::git::{git, one_web_app, GitRepo as Repo};
use velos_e2e::{wait_until, Velos};

#[test]
fn a_push_is_applied_through_the_hook_and_a_bad_commit_changes_nothing() {
    let velos = Velos::new();
    let repo = Repo::new();
    let first = repo.push(&one_web_app(&velos, "gitops", 8001), "first");
    let bare = repo.bare().display().to_string();

    velos.ok(&["apply", "--git", &bare, "--ref", "main", "--path", "velos.toml"]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8001"));
    let all = velos.ok(&["list", "--all", "--json"]);
    assert!(all.contains("velos-controller"), "the controller is a supervised system app: {all}");
    wait_until(Duration::from_secs(10), "status synced at the first commit", || {
        let status = velos.project_status("gitops");
        status["state"] == "synced" && status["revision"].as_str().unwrap_or("").contains(&first)
    });

    velos.ok(&["hook", "install", &bare]);
    assert!(repo.bare().join("hooks/post-receive").exists());

    // A good push: applied within 5 s, through the hook (polling is at its 30 s default).
    let second = repo.push(&one_web_app(&velos, "gitops", 8002), "second");
    wait_until(Duration::from_secs(5), "the pushed change to run", || {
        velos.env_of("web", "PORT").as_deref() == Some("8002")
    });
    wait_until(Duration::from_secs(5), "status at the second commit", || {
        velos.project_status("gitops")["revision"].as_str().unwrap_or("").contains(&second)
    });
    let pid = velos.pid("web");

    // A commit whose velos.toml does not parse: status error, the app untouched.
    repo.push("[apps.web]\ncomand = \"/bin/sleep\"\n", "broken");
    wait_until(Duration::from_secs(5), "status error", || velos.project_status("gitops")["state"] == "error");
    let status = velos.project_status("gitops");
    assert!(status["message"].as_str().unwrap_or("").contains("comand"), "says what is wrong: {status}");
    assert_eq!(velos.pid("web"), pid, "the last good state keeps running");

    // The fix recovers.
    repo.push(&one_web_app(&velos, "gitops", 8003), "fixed");
    wait_until(Duration::from_secs(5), "the fix to run", || {
        velos.env_of("web", "PORT").as_deref() == Some("8003")
    });
    wait_until(Duration::from_secs(5), "status synced", || {
        velos.project_status("gitops")["state"] == "synced"
    });

    // Rollback by force-pushing an earlier commit: history is rewritten and followed.
    git(&repo.work(), &["push", "-q", "--force", "origin", &format!("{first}:main")]);
    git(&repo.bare(), &["rev-parse", "main"]);
    velos.ok(&["sync"]); // a force-push runs the hook too; sync says the same thing explicitly
    wait_until(Duration::from_secs(5), "the first commit to run again", || {
        velos.env_of("web", "PORT").as_deref() == Some("8001")
    });
}

#[test]
fn bad_git_sources_are_clear_errors_and_apply_nothing() {
    let velos = Velos::new();
    let repo = Repo::new();
    repo.push(&one_web_app(&velos, "gitops", 8001), "first");
    let bare = repo.bare().display().to_string();

    let missing_repo = velos.fails(&["apply", "--git", "/no/such/repo.git"]);
    assert!(missing_repo.contains("/no/such/repo.git"), "{missing_repo}");
    let missing_ref = velos.fails(&["apply", "--git", &bare, "--ref", "no-such-branch"]);
    assert!(missing_ref.contains("no-such-branch"), "{missing_ref}");
    let missing_path = velos.fails(&["apply", "--git", &bare, "--path", "deploy/none.toml"]);
    assert!(missing_path.contains("deploy/none.toml"), "{missing_path}");
    // Nothing applied, not even the daemon started: and a read (list) does not start it either.
    let listed = velos.fails(&["list"]);
    assert!(listed.contains("the velos daemon is not running"), "{listed}");
}

#[test]
fn a_watched_file_is_applied_on_save_and_drift_is_healed_at_resync() {
    let velos = Velos::new();
    let dir = tempfile::Builder::new().prefix("velos-watch-").tempdir_in("/tmp").unwrap();
    let file = dir.path().join("velos.toml");
    let watched = |port: u32| {
        one_web_app(&velos, "gitops", port)
            .replace("name = \"gitops\"\n", "name = \"watched\"\n\n[velos]\nwatch = true\nresync = \"1s\"\n")
    };
    std::fs::write(&file, watched(8101)).unwrap();
    velos.ok(&["apply", &file.display().to_string()]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8101"));

    // A save is applied by the controller.
    std::fs::write(&file, watched(8102)).unwrap();
    wait_until(Duration::from_secs(5), "the saved change to run", || {
        velos.env_of("web", "PORT").as_deref() == Some("8102")
    });

    // Drift: the app is deleted behind Velos's back, straight through the daemon socket.
    delete_behind_velos_back(&velos, "web");
    wait_until(Duration::from_secs(5), "web to be gone", || velos.app("web").is_none());
    wait_until(Duration::from_secs(5), "web restored at resync", || velos.status("web") == "running");
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8102"));
}

/// Sends a raw PROCESS_DELETE frame: `{id: 1, op: 4, args: {name: NAME}}`.
fn delete_behind_velos_back(velos: &Velos, name: &str) {
    let mut payload =
        vec![0x83, 0xa2, b'i', b'd', 0x01, 0xa2, b'o', b'p', 0x04, 0xa4, b'a', b'r', b'g', b's', 0x81];
    payload.extend_from_slice(&[0xa4, b'n', b'a', b'm', b'e', 0xa0 | name.len() as u8]);
    payload.extend_from_slice(name.as_bytes());
    let mut frame = vec![0x56, 0x45, 0x01];
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&payload);
    let mut stream = UnixStream::connect(velos.home().join("velos.sock")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(&frame).unwrap();
    let mut header = [0u8; 7];
    stream.read_exact(&mut header).unwrap();
    let mut reply = vec![0u8; u32::from_le_bytes(header[3..7].try_into().unwrap()) as usize];
    stream.read_exact(&mut reply).unwrap();
    assert!(!reply.windows(5).any(|window| window == b"error"), "delete refused: {reply:?}");
}

#[test]
fn a_clone_of_a_followed_repository_is_refused_until_forced_local_and_forget_stops_following() {
    let velos = Velos::new();
    let repo = Repo::new();
    repo.push(&one_web_app(&velos, "gitops", 8201), "first");
    let bare = repo.bare().display().to_string();
    velos.ok(&["apply", "--git", &bare]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8201"));

    // The PM2 reflex in the clone: edit the file, apply it. The project follows git: refused.
    let local = repo.work().join("velos.toml");
    std::fs::write(&local, one_web_app(&velos, "gitops", 8202)).unwrap();
    let local_arg = local.display().to_string();
    let stderr = velos.fails(&["apply", &local_arg]);
    assert!(stderr.contains("follows git") && stderr.contains(&bare), "names the repository: {stderr}");
    assert!(stderr.contains("--force-local"), "{stderr}");
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8201"), "nothing applied");

    // Planning that clone's file is fine (a read), and a file that names the repository plans its apps.
    let follows = repo.root().join("follows.toml");
    std::fs::write(&follows, format!("[project]\nname = \"gitops\"\n\n[velos.git]\nrepo = \"{bare}\"\n\n[apps.local]\ncommand = \"/bin/true\"\n")).unwrap();
    let plan = velos.ok(&["plan", &follows.display().to_string()]);
    assert!(plan.contains("No changes") && !plan.contains("local"), "the repository's apps: {plan}");

    // --force-local takes the project off git: applied, and the controller no longer undoes it.
    velos.ok(&["apply", "--force-local", &local_arg]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8202"));
    assert_eq!(velos.project_status("gitops")["source"], local_arg.as_str(), "status shows the file");
    let targets = velos.home().join("controller").join("targets");
    assert_eq!(std::fs::read_dir(&targets).map(|dir| dir.count()).unwrap_or(0), 0, "nothing followed");

    // Followed again, then forgotten: its apps go and the repository is no longer followed.
    velos.ok(&["apply", "--git", &bare]);
    assert_eq!(std::fs::read_dir(&targets).unwrap().count(), 1);
    let said = velos.ok(&["forget", "gitops", "--yes"]);
    assert!(said.contains("deleted web") && said.contains("no longer following git:"), "{said}");
    assert_eq!(std::fs::read_dir(&targets).unwrap().count(), 0);
    assert!(velos.app("web").is_none());
}
