//! `[velos.git]` on real remotes, served on loopback: `git http-backend` behind an HTTP server that wants a
//! token, and a throwaway `sshd` with a deploy key. A push is applied by `velos sync`; a refused token, an
//! unknown or changed host key is an error in `velos status` with a hint, the apps untouched; and no secret
//! is ever written under VELOS_HOME.
#![allow(clippy::unwrap_used)]
mod remotes;

use remotes::http::GitHttpServer;
use remotes::sshd::Sshd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use velos_e2e::git::{one_web_app, GitRepo as Repo};
use velos_e2e::{wait_until, Velos};

const TOKEN: &str = "tok-3f9a0c1d-right";
const WRONG_TOKEN: &str = "tok-77aa55ee-wrong";

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            found.push(path);
        }
    }
    found
}

/// The host's file that follows the repository: where to fetch from and where the credentials are.
fn follow_file(dir: &Path, git_table: &str) -> PathBuf {
    let file = dir.join("velos.toml");
    std::fs::write(&file, format!("[velos.git]\n{git_table}poll = \"1h\"\n")).unwrap();
    file
}

#[test]
fn https_with_a_token_applies_pushes_and_a_refused_token_keeps_the_apps() {
    let velos = Velos::new();
    let repo = Repo::new();
    let server = GitHttpServer::start(repo.root(), "deploy", TOKEN);
    let host = tempfile::tempdir().unwrap();
    let token_file = host.path().join("git-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let file = follow_file(
        host.path(),
        &format!(
            "repo = \"{}\"\nusername = \"deploy\"\ntoken_file = \"git-token\"\n",
            server.url("deploy.git")
        ),
    );

    // Without the token the server says 401: proven before Velos is trusted with it.
    let anonymous = Command::new("git")
        .args(["ls-remote", &server.url("deploy.git")])
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(!anonymous.status.success(), "the server must refuse a fetch without a token");

    let first = repo.push(&one_web_app(&velos, "remote", 8001), "change");
    velos.ok(&["apply", file.to_str().unwrap()]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8001"));
    assert!(server.seen().iter().any(|seen| seen.accepted), "fetched with the token: {:?}", server.seen());
    wait_until(Duration::from_secs(10), "status synced at the first commit", || {
        let status = velos.project_status("remote");
        status["state"] == "synced" && status["revision"].as_str().unwrap_or("").contains(&first)
    });

    // A push, then `velos sync`: applied.
    let second = repo.push(&one_web_app(&velos, "remote", 8002), "change");
    velos.ok(&["sync"]);
    wait_until(Duration::from_secs(10), "the pushed commit to run", || {
        velos.env_of("web", "PORT").as_deref() == Some("8002")
    });
    wait_until(Duration::from_secs(10), "status at the second commit", || {
        velos.project_status("remote")["revision"].as_str().unwrap_or("").contains(&second)
    });
    let pid = velos.pid("web");

    // The token is revoked (a wrong one in the file): error with a hint, the app untouched.
    std::fs::write(&token_file, WRONG_TOKEN).unwrap();
    velos.ok(&["sync"]);
    wait_until(Duration::from_secs(10), "status error", || {
        velos.project_status("remote")["state"] == "error"
    });
    let status = velos.project_status("remote");
    let message = status["message"].as_str().unwrap_or("");
    assert!(message.contains("refused the credentials"), "says why: {status}");
    let hint = status["hint"].as_str().unwrap_or("");
    assert!(hint.contains("token") && hint.contains("velos sync"), "a hint naming the next step: {status}");
    let output = velos.run(&["status"]);
    assert_eq!(output.status.code(), Some(1), "a project in error fails the status gate: {output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("hint: remote: "), "the table shows the hint: {table}");

    // A commit pushed meanwhile waits: each fetch is refused, the app keeps running the last good commit.
    let refused = |server: &GitHttpServer| {
        let seen = server.seen();
        let wrong: Vec<_> =
            seen.iter().filter(|seen| seen.authorization.is_some() && !seen.accepted).collect();
        assert!(wrong.iter().all(|seen| seen.path.starts_with("/deploy.git/")), "{wrong:?}");
        wrong.len()
    };
    let refused_before = refused(&server);
    assert!(refused_before > 0, "the wrong token was sent and refused: {:?}", server.seen());
    repo.push(&one_web_app(&velos, "remote", 8003), "change");
    velos.ok(&["sync"]);
    wait_until(Duration::from_secs(10), "the next fetch to be refused", || refused(&server) > refused_before);
    assert_eq!(velos.project_status("remote")["state"], "error");
    assert_eq!(
        velos.pid("web"),
        pid,
        "the app keeps running (now on port {:?})",
        velos.env_of("web", "PORT")
    );
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8002"), "at the last good commit");

    // The right token again: the waiting commit is applied.
    std::fs::write(&token_file, TOKEN).unwrap();
    velos.ok(&["sync"]);
    wait_until(Duration::from_secs(10), "the next commit to run", || {
        velos.env_of("web", "PORT").as_deref() == Some("8003")
    });
    wait_until(Duration::from_secs(10), "status synced", || {
        velos.project_status("remote")["state"] == "synced"
    });

    // No secret reached VELOS_HOME: status, history, the controller's logs, the checkouts.
    for secret in [TOKEN, WRONG_TOKEN] {
        assert_eq!(
            files_containing(velos.home(), secret),
            Vec::<PathBuf>::new(),
            "{secret} written under VELOS_HOME"
        );
    }
}

#[test]
fn ssh_with_a_deploy_key_refuses_unknown_and_changed_host_keys() {
    let velos = Velos::new();
    let repo = Repo::new();
    let sshd = Sshd::start();
    let host = tempfile::tempdir().unwrap();
    let known_hosts = host.path().join("known_hosts");
    std::fs::write(&known_hosts, "").unwrap();
    let file = follow_file(
        host.path(),
        &format!(
            "repo = \"{}\"\nssh_key = \"{}\"\nknown_hosts = \"known_hosts\"\n",
            sshd.url(&repo.bare()),
            sshd.deploy_key().display()
        ),
    );
    repo.push(&one_web_app(&velos, "remote", 8101), "change");

    // The host is not in known_hosts: refused, nothing applied, and the hint says how to trust it.
    let refused = velos.fails(&["apply", file.to_str().unwrap()]);
    assert!(refused.contains("not in") && refused.contains("unknown host"), "{refused}");
    let scan = format!("ssh-keyscan -p {} 127.0.0.1 >> {}", sshd.port, known_hosts.display());
    assert!(refused.contains(&scan) && refused.contains("accept_new_host_keys"), "{refused}");
    assert_eq!(velos.app_processes(), Vec::<i32>::new(), "nothing was started");
    assert_eq!(std::fs::read_to_string(&known_hosts).unwrap(), "", "known_hosts untouched");

    // Trust on first use when asked: applied, and the key recorded in known_hosts.
    let strict = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, strict.replace("known_hosts = ", "accept_new_host_keys = true\nknown_hosts = "))
        .unwrap();
    velos.ok(&["apply", file.to_str().unwrap()]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8101"));
    let recorded = std::fs::read_to_string(&known_hosts).unwrap();
    let server_key: Vec<String> =
        sshd.known_hosts_line().split_whitespace().skip(1).map(String::from).collect();
    assert!(recorded.contains(&server_key.join(" ")), "the server's key recorded: {recorded}");

    // Strict again, with its key written by the test: fetched with the deploy key.
    std::fs::write(&file, &strict).unwrap();
    std::fs::write(&known_hosts, sshd.known_hosts_line()).unwrap();
    velos.ok(&["apply", file.to_str().unwrap()]);
    repo.push(&one_web_app(&velos, "remote", 8102), "change");
    velos.ok(&["sync"]);
    wait_until(Duration::from_secs(10), "the pushed commit to run", || {
        velos.env_of("web", "PORT").as_deref() == Some("8102")
    });
    let pid = velos.pid("web");

    // The server's key changes (another key recorded for it): refused in status, the app untouched.
    let other = host.path().join("other_key");
    let status =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&other).status();
    assert!(status.unwrap().success());
    let other_public = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let mut words = other_public.split_whitespace();
    let (kind, key) = (words.next().unwrap(), words.next().unwrap());
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{} {kind} {key}\n", sshd.port)).unwrap();
    velos.ok(&["sync"]);
    wait_until(Duration::from_secs(10), "status error", || {
        velos.project_status("remote")["state"] == "error"
    });
    let status = velos.project_status("remote");
    assert!(status["message"].as_str().unwrap_or("").contains("does not match"), "{status}");
    let forget = format!("ssh-keygen -R [127.0.0.1]:{} -f {}", sshd.port, known_hosts.display());
    assert!(status["hint"].as_str().unwrap_or("").contains(&forget), "{status}");
    assert_eq!(velos.pid("web"), pid, "the app keeps running");
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8102"));

    // A commit pushed now is not fetched: nothing reaches the host until the key question is settled.
    let record = velos.home().join("controller/remote.json");
    let updated = || -> u64 {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default()["updated_unix_ms"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = updated();
    assert!(before > 0, "the controller's record of the project: {}", record.display());
    repo.push(&one_web_app(&velos, "remote", 8103), "change");
    velos.ok(&["sync"]);
    wait_until(Duration::from_secs(10), "another look at the repository", || updated() > before);
    assert_eq!(velos.project_status("remote")["state"], "error");
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8102"), "the pushed commit was not applied");
}
