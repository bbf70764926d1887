//! Rolling updates with real processes: a replace rolls instance by instance and stops at one that is not
//! ready (the rest keep their old version); `velos reload` is a rolling restart; and an HTTP app on one
//! port, updated start-first under continuous requests, loses none of them (stop-first, the control,
//! does).
#![allow(clippy::unwrap_used)]
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use velos_e2e::{wait_until, Velos};

/// `velos.toml` of project `rolling` in a folder of its own, with `apps` (each given the test marker).
fn write_project(velos: &Velos, dir: &Path, apps: &str) -> PathBuf {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let text =
        format!("[project]\nname = \"rolling\"\n\n{}", apps.replace("MARK", &format!("{key} = \"{value}\"")));
    let file = dir.join("velos.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn apply(velos: &Velos, file: &Path) -> (Option<i32>, String, String) {
    let output = velos.run(&["apply", file.to_str().unwrap()]);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Three instances; version `version` of instance 1 exits at once (the others run).
fn three(version: u32, strategy: &str) -> String {
    format!(
        "[apps.web]\ncommand = \"/bin/sh\"\nargs = [\"-c\", \"if [ $VELOS_INSTANCE = 1 ] && [ $V = 3 ]; then echo broken >&2; exit 3; fi; exec sleep 3600\"]\n\
         instances = 3\nmin_uptime = \"300ms\"\nbackoff = {{ initial = \"50ms\", max = \"100ms\" }}\n\
         rollout = {{ strategy = \"{strategy}\", max_unavailable = 1 }}\nenv = {{ V = \"{version}\", MARK }}\n"
    )
}

#[test]
fn a_rolling_replace_stops_at_the_instance_that_is_not_ready() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_project(&velos, dir.path(), &three(1, "stop-first"));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");

    write_project(&velos, dir.path(), &three(2, "stop-first"));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("~ replace web-0 (rolling, 1 at a time, stop-first)"), "{stdout}");
    for name in ["web-0", "web-1", "web-2"] {
        assert_eq!(velos.env_of(name, "V").as_deref(), Some("2"), "{name}");
    }

    // Version 3 breaks instance 1: web-0 is replaced, web-1 fails, web-2 keeps version 2 and runs.
    write_project(&velos, dir.path(), &three(3, "stop-first"));
    let web_2 = velos.pid("web-2");
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("web-1"), "the error names the instance: {stderr}");
    assert!(stdout.contains("web-1 is not ready"), "{stdout}");
    assert!(stdout.contains("stopped at web-1"), "{stdout}");
    assert_eq!(velos.env_of("web-0", "V").as_deref(), Some("3"));
    assert_eq!(velos.pid("web-2"), web_2, "web-2 was not touched");
    assert_eq!(velos.env_of("web-2", "V").as_deref(), Some("2"), "web-2 keeps its old version");
}

#[test]
fn reload_restarts_each_instance_in_turn_and_start_first_leaves_no_surge() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let file = write_project(&velos, dir.path(), &three(1, "start-first"));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let before: Vec<u32> = ["web-0", "web-1", "web-2"].iter().map(|name| velos.pid(name)).collect();
    let out = velos.ok(&["reload", "web"]);
    assert!(out.contains("reload web (rolling, 1 at a time, start-first)"), "{out}");
    for (name, pid) in ["web-0", "web-1", "web-2"].iter().zip(&before) {
        assert!(out.contains(&format!("reloaded {name} (pid {pid} -> ")), "{out}");
        let now = velos.pid(name);
        assert!(now != 0 && now != *pid, "{name}: {pid} -> {now}");
        assert_eq!(velos.status(name), "running");
    }
    let names: Vec<String> =
        velos.list().iter().map(|app| app["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["web-0", "web-1", "web-2"], "no surge left");
    // An action, not an edit: the project is still in sync.
    let (code, stdout, _) = apply(&velos, &file);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("No changes"), "{stdout}");
    let error = velos.fails(&["reload", "wbe"]);
    assert!(error.contains("did you mean `web`?"), "{error}");
}

/// An HTTP server sharing its port (SO_REUSEPORT) that answers with `$VERSION`. On its kill signal it
/// stops accepting only after taking every connection already queued on its listener, then exits.
const SERVER: &str = r#"
import os, signal, socket, sys
version = os.environ["VERSION"].encode()
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
listener.bind(("127.0.0.1", int(os.environ["PORT"])))
listener.listen(512)
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

def serve(connection):
    with connection:
        connection.settimeout(2)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(version), version))

listener.settimeout(0.05)
while not stopping:
    try:
        connection, _ = listener.accept()
    except (socket.timeout, InterruptedError):
        continue
    serve(connection)
listener.setblocking(False)
while True:
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        break
    connection.setblocking(True)
    serve(connection)
listener.close()
sys.exit(0)
"#;

fn http_app(port: u16, version: u32, strategy: &str, instances: u32) -> String {
    format!(
        "[apps.web]\ncommand = \"python3\"\nargs = [\"server.py\"]\ninstances = {instances}\nmin_uptime = \"500ms\"\n\
         rollout = {{ strategy = \"{strategy}\" }}\nenv = {{ PORT = \"{port}\", VERSION = \"{version}\", MARK }}\n"
    )
}

/// One GET: the body, or what went wrong.
fn get(port: u16) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|error| format!("connect: {error}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).map_err(|error| error.to_string())?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").map_err(|error| format!("write: {error}"))?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|error| format!("read: {error}"))?;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_string()),
        _ => Err(format!("bad response {response:?}")),
    }
}

/// Requests sent one after another from a thread until stopped: the bodies seen and the failures.
struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<(Vec<String>, Vec<String>)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(port: u16) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new((Vec::new(), Vec::new())));
        let (flag, record) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let result = get(port);
                let mut seen = record.lock().unwrap();
                match result {
                    Ok(body) => seen.0.push(body),
                    Err(error) => seen.1.push(error),
                }
            }
        });
        Load { stop, seen, thread: Some(thread) }
    }

    fn saw(&self, body: &str) -> bool {
        self.seen.lock().unwrap().0.iter().any(|seen| seen == body)
    }

    /// (successes, failures).
    fn finish(mut self) -> (Vec<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const MIGRATE_REQ: &str = "/proc/sys/net/ipv4/tcp_migrate_req";

/// Sets `net.ipv4.tcp_migrate_req = 1` for this network namespace when the test may (root), so closing one
/// of two SO_REUSEPORT listeners hands its queued connections to the other (docs/CONFIG.md, rollout);
/// puts the old value back when dropped. Without it the server's drain keeps the loss to a tiny window.
struct MigrateReq(Option<String>);

impl MigrateReq {
    fn enable() -> MigrateReq {
        let old = std::fs::read_to_string(MIGRATE_REQ).ok();
        let set = old.is_some() && std::fs::write(MIGRATE_REQ, "1").is_ok();
        if !set {
            eprintln!("note: cannot set {MIGRATE_REQ}; relying on the server's drain alone");
        }
        MigrateReq(old.filter(|_| set))
    }
}

impl Drop for MigrateReq {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            let _ = std::fs::write(MIGRATE_REQ, old.trim());
        }
    }
}

/// Applies version 1, puts load on it, applies version 2 with `strategy`, waits until version 2 answers
/// alone, and returns (successes, failures).
fn update_under_load(strategy: &str, instances: u32) -> (Vec<String>, Vec<String>, String) {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.py"), SERVER).unwrap();
    let port = free_port();
    let file = write_project(&velos, dir.path(), &http_app(port, 1, strategy, instances));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    wait_until(Duration::from_secs(10), "version 1 to answer", || get(port).is_ok_and(|body| body == "1"));
    let load = Load::start(port);
    wait_until(Duration::from_secs(10), "the load to get answers", || load.saw("1"));

    write_project(&velos, dir.path(), &http_app(port, 2, strategy, instances));
    let (code, stdout, stderr) = apply(&velos, &file);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    wait_until(Duration::from_secs(10), "version 2 to answer", || load.saw("2"));
    // A little more load on version 2 alone: every old process is gone by now.
    wait_until(Duration::from_secs(10), "more answers", || {
        load.seen.lock().unwrap().0.iter().rev().take(50).filter(|body| *body == "2").count() == 50
    });
    let (ok, failed) = load.finish();
    (ok, failed, stdout)
}

#[test]
fn start_first_loses_no_request_and_stop_first_does() {
    let migrate = MigrateReq::enable();
    let (ok, failed, stdout) = update_under_load("start-first", 2);
    assert!(stdout.contains("(rolling, 1 at a time, start-first)"), "{stdout}");
    assert!(ok.len() >= 200, "enough requests to mean something: {}", ok.len());
    assert!(ok.iter().any(|body| body == "1") && ok.iter().any(|body| body == "2"));
    let total = ok.len() + failed.len();
    if migrate.0.is_some() {
        assert!(
            failed.is_empty(),
            "{} of {total} requests failed during a start-first update: {failed:?}",
            failed.len()
        );
    } else {
        // Without tcp_migrate_req the kernel resets what is queued on a closing listener (measured here:
        // 3 in 22,000 requests over 3 runs). Never more than one burst per listener closed (2 instances,
        // each closing its old process and its surge), and never a refused connection: the port is
        // always served.
        assert!(failed.len() <= 4, "{} of {total} requests failed: {failed:?}", failed.len());
        assert!(failed.iter().all(|error| error.contains("reset")), "{failed:?}");
    }
    eprintln!("start-first: {total} requests, {} failed", failed.len());

    // The control: one stop-first instance leaves the port closed while it restarts.
    let (ok, failed, _) = update_under_load("stop-first", 1);
    assert!(!failed.is_empty(), "stop-first with one instance should drop requests ({} ok)", ok.len());
    eprintln!("stop-first: {} requests, {} failed", ok.len() + failed.len(), failed.len());
}
