//! The REST scenarios: `GET /v1/apps` latency with 100 apps, a `/metrics` scrape with 1,000 apps, and the
//! API process's resident memory when idle. A plain HTTP/1.1 keep-alive client over std's TcpStream, so
//! the figures are the server's and loopback's, not a client library's.
use crate::scenarios::Row;
use crate::{median, Home};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `velos serve` on a loopback port of `home`; killed on drop.
struct Server {
    child: Child,
    address: String,
    token: String,
}

impl Server {
    fn start(home: &Home, velos: &Path) -> Server {
        let mut child = Command::new(velos)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("VELOS_HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("velos serve");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        let address = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).expect("serve output") > 0, "velos serve exited");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().expect("address").to_string();
            }
        };
        let tokens = std::fs::read_to_string(home.path().join("api.token")).expect("api.token");
        let token = tokens
            .lines()
            .find_map(|line| line.strip_prefix("read-only "))
            .expect("read-only token")
            .trim()
            .to_string();
        Server { child, address, token }
    }

    fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse::<u64>().ok())
            .expect("VmRSS")
            * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive connection.
struct Connection {
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Connection {
    fn open(server: &Server, path: &str) -> Connection {
        let stream = TcpStream::connect(&server.address).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
            server.address, server.token
        );
        Connection { reader: BufReader::new(stream), request: request.into_bytes() }
    }

    /// One request, the whole response read; returns the body's length.
    fn get(&mut self) -> usize {
        self.reader.get_mut().write_all(&self.request).expect("send");
        let mut line = String::new();
        let mut length = 0usize;
        let mut status_ok = false;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("response head");
            if line.starts_with("HTTP/1.1 ") {
                status_ok = line.starts_with("HTTP/1.1 200");
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().expect("content-length");
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("body");
        assert!(status_ok, "non-200 answer: {}", String::from_utf8_lossy(&body));
        length
    }
}

fn apps_config(count: usize) -> String {
    let mut text = String::from("[project]\nname = \"bench\"\n\n");
    for index in 0..count {
        text.push_str(&format!("[apps.app-{index:04}]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n\n"));
    }
    text
}

fn home_with_apps(velos: &Path, count: usize) -> Home {
    let home = Home::new(velos);
    home.velos(&["daemon"]);
    let file = home.path().join("velos.toml");
    std::fs::write(&file, apps_config(count)).expect("write config");
    home.velos(&["apply", &file.display().to_string()]);
    home
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

/// Latencies in ms of `count` sequential requests on one keep-alive connection, sorted.
fn latencies(server: &Server, path: &str, count: usize) -> Vec<f64> {
    let mut connection = Connection::open(server, path);
    for _ in 0..20 {
        connection.get(); // warm-up: first-touch pages, the history cache
    }
    let mut times: Vec<f64> = (0..count)
        .map(|_| {
            let began = Instant::now();
            connection.get();
            began.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

pub fn api_scenarios(velos: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let home = home_with_apps(velos, 100);
    let server = Server::start(&home, velos);
    std::thread::sleep(Duration::from_millis(500));
    rows.push(Row {
        scenario: "API process RSS, idle (started, 100 apps)".into(),
        figure: format!("{:.1} MiB", server.rss_bytes() as f64 / (1024.0 * 1024.0)),
        target: "<= 15 MiB",
    });
    let apps = latencies(&server, "/v1/apps", 10_000);
    rows.push(Row {
        scenario: "REST GET /v1/apps, 100 apps, 10,000 requests".into(),
        figure: format!("p50 {:.2} ms, p99 {:.2} ms", percentile(&apps, 0.5), percentile(&apps, 0.99)),
        target: "p50 <= 2 ms, p99 <= 10 ms",
    });
    rows.push(Row {
        scenario: "API process RSS after the 10,000 requests".into(),
        figure: format!("{:.1} MiB", server.rss_bytes() as f64 / (1024.0 * 1024.0)),
        target: "",
    });
    drop(server);
    drop(home);

    let home = home_with_apps(velos, 1000);
    let server = Server::start(&home, velos);
    let scrapes = latencies(&server, "/metrics", 50);
    rows.push(Row {
        scenario: "GET /metrics, 1000 apps (median of 50)".into(),
        figure: format!("{:.2} ms", median(scrapes)),
        target: "<= 5 ms",
    });
    rows
}
