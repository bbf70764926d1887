//! A real `velos serve` on a loopback port for the API tests, stopped on drop.
use crate::python::python_script;
use crate::{process_alive, signal, Velos};
use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

pub struct ApiServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub read_token: String,
    pub write_token: String,
    pub webhook_secret: String,
}

impl ApiServer {
    /// Starts `velos serve --listen 127.0.0.1:0` in `velos`'s home and waits until it listens.
    pub fn start(velos: &Velos) -> ApiServer {
        ApiServer::start_with(velos, &["--listen", "127.0.0.1:0"])
    }

    pub fn start_with(velos: &Velos, args: &[&str]) -> ApiServer {
        let mut child = velos
            .command()
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("velos serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[velos serve] {line}");
                let _ = sender.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = receiver.recv_timeout(left).expect("velos serve says where it listens within 10 s");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().expect("url").to_string();
            }
        };
        let text = std::fs::read_to_string(velos.home().join("api.token")).expect("api.token");
        let token = |kind: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(kind).map(|rest| rest.trim().to_string()))
                .unwrap_or_else(|| panic!("no {kind} line in api.token"))
        };
        ApiServer {
            url,
            read_token: token("read-only "),
            write_token: token("read-write "),
            webhook_secret: token("webhook "),
            child,
        }
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid")
    }

    /// Runs scenario `scenario` of tests/python/api_e2e.py against this server; panics with its output
    /// when it fails.
    pub fn python(&self, velos: &Velos, scenario: &str, env: &[(&str, &str)]) -> Output {
        let mut command = python_script("api_e2e.py");
        command
            .arg(scenario)
            .env("VELOS_HOME", velos.home())
            .env("VELOS_API_URL", &self.url)
            .env("VELOS_API_READ", &self.read_token)
            .env("VELOS_API_WRITE", &self.write_token)
            .env("VELOS_API_WEBHOOK", &self.webhook_secret);
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().expect("python3 runs");
        assert!(
            output.status.success(),
            "scenario {scenario} failed:\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let pid = self.pid();
        signal(pid, "TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if process_alive(pid) {
            signal(pid, "KILL");
        }
        let _ = self.child.wait();
    }
}
