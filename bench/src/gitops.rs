//! The controller scenarios: a file save applied by the watcher, and a git push applied through the
//! post-receive hook and, without a hook, by polling.
use crate::scenarios::Row;
use crate::{median, wait_for, Home};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn app_config(project: &str, port: u32, velos_section: &str) -> String {
    format!(
        "[project]\nname = \"{project}\"\n{velos_section}\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = {{ PORT = \"{port}\" }}\n"
    )
}

/// True once `web` runs with `PORT=port` in its environment.
fn runs_with_port(home: &Home, port: u32) -> bool {
    let Some(web) = home.list().into_iter().find(|app| app["name"] == "web") else { return false };
    let pid = web["pid"].as_u64().unwrap_or(0);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let wanted = format!("PORT={port}");
    pid > 0 && environ.split(|byte| *byte == 0).any(|entry| entry == wanted.as_bytes())
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .output()
        .expect("git");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn figure(samples: Vec<f64>, timed_out: usize) -> String {
    let max = samples.iter().copied().fold(0.0, f64::max);
    let lost = if timed_out > 0 { format!(", {timed_out} timed out") } else { String::new() };
    format!("{:.0} ms (max {max:.0}){lost}", median(samples))
}

pub fn controller_scenarios(velos: &Path) -> Vec<Row> {
    vec![file_save(velos), push(velos, true), push(velos, false)]
}

fn file_save(velos: &Path) -> Row {
    let home = Home::new(velos);
    let file = home.path().join("velos.toml");
    let section = "[velos]\nwatch = true\n";
    std::fs::write(&file, app_config("watched", 8000, section)).expect("write");
    home.velos(&["apply", &file.display().to_string()]);
    let (mut samples, mut timed_out) = (Vec::new(), 0);
    for port in 8001..8011 {
        let began = Instant::now();
        std::fs::write(&file, app_config("watched", port, section)).expect("write");
        match wait_for(Duration::from_secs(5), || runs_with_port(&home, port)) {
            Some(_) => samples.push(began.elapsed().as_secs_f64() * 1000.0),
            None => timed_out += 1,
        }
    }
    Row {
        scenario: "file save -> change applied (median of 10)".into(),
        figure: figure(samples, timed_out),
        target: "<= 200 ms",
    }
}

fn push(velos: &Path, with_hook: bool) -> Row {
    let home = Home::new(velos);
    let root = home.path().join("git");
    std::fs::create_dir_all(&root).expect("git dir");
    git(&root, &["init", "-q", "--bare", "-b", "main", "deploy.git"]);
    git(&root, &["clone", "-q", "deploy.git", "work"]);
    let work = root.join("work");
    git(&work, &["checkout", "-q", "-b", "main"]);
    let commit_and_push = |port: u32| {
        std::fs::write(work.join("velos.toml"), app_config("pushed", port, "")).expect("write");
        git(&work, &["commit", "-q", "-am", &format!("port {port}")]);
        git(&work, &["push", "-q", "origin", "main"]);
    };
    std::fs::write(work.join("velos.toml"), app_config("pushed", 8000, "")).expect("write");
    git(&work, &["add", "velos.toml"]);
    git(&work, &["commit", "-q", "-m", "first"]);
    git(&work, &["push", "-q", "origin", "main"]);
    let bare = root.join("deploy.git").display().to_string();
    if with_hook {
        home.velos(&["apply", "--git", &bare]);
        home.velos(&["hook", "install", &bare]);
    } else {
        // A bootstrap file following the repository with a 1 s poll and no hook.
        let bootstrap = home.path().join("bootstrap.toml");
        let section = format!("[velos.git]\nrepo = \"{bare}\"\npoll = \"1s\"\n");
        std::fs::write(&bootstrap, format!("[project]\nname = \"pushed\"\n{section}")).expect("bootstrap");
        home.velos(&["apply", &bootstrap.display().to_string()]);
    }
    let (mut samples, mut timed_out) = (Vec::new(), 0);
    for port in 8001..8006 {
        let began = Instant::now();
        commit_and_push(port);
        match wait_for(Duration::from_secs(10), || runs_with_port(&home, port)) {
            Some(_) => samples.push(began.elapsed().as_secs_f64() * 1000.0),
            None => timed_out += 1,
        }
    }
    Row {
        scenario: if with_hook {
            "git push -> applied, post-receive hook (median of 5)".into()
        } else {
            "git push -> applied, polling every 1 s (median of 5)".into()
        },
        figure: figure(samples, timed_out),
        target: if with_hook { "within seconds (issue: <= 5 s)" } else { "<= poll interval + apply" },
    }
}
