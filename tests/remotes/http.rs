//! A git server over HTTP on loopback, written for the tests: `git http-backend` (the CGI program git ships)
//! behind a small HTTP/1.1 server that demands basic auth with one user and token, as a forge does.
//! One connection at a time, `Connection: close` on every answer: git's requests are sequential.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const BACKEND: &str = "/usr/lib/git-core/git-http-backend";
const HEADER_BYTES_MAX: usize = 64 * 1024;

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    /// The `Authorization` header, as sent.
    pub authorization: Option<String>,
    pub accepted: bool,
}

pub struct GitHttpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl GitHttpServer {
    /// Serves the repositories under `root` at `http://127.0.0.1:PORT/NAME.git` to `user` with `token`.
    pub fn start(root: &Path, user: &str, token: &str) -> GitHttpServer {
        assert!(Path::new(BACKEND).exists(), "{BACKEND} is missing (it comes with git)");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let expected = format!("Basic {}", base64(format!("{user}:{token}").as_bytes()));
        let (root, thread_stop, thread_seen) = (root.to_path_buf(), stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Some(seen) = serve(stream, &root, &expected) {
                    thread_seen.lock().unwrap().push(seen);
                }
            }
        });
        GitHttpServer { port, stop, thread: Some(thread), seen }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

fn serve(stream: TcpStream, root: &PathBuf, expected: &str) -> Option<Seen> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let request = read_request(&mut reader)?;
    let mut stream = stream;
    let authorization = request.header("authorization").map(str::to_string);
    let accepted = authorization.as_deref() == Some(expected);
    let path = request.target.split('?').next().unwrap_or("").to_string();
    if accepted {
        let answer = run_backend(&request, root);
        let _ = stream.write_all(&answer);
    } else {
        let _ = stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"velos-test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let _ = stream.flush();
    Some(Seen { path, authorization, accepted })
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
    let mut headers = Vec::new();
    let mut total = 0;
    loop {
        let mut header = String::new();
        total += reader.read_line(&mut header).ok()?;
        if total > HEADER_BYTES_MAX {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (key, value) = header.split_once(':')?;
        headers.push((key.trim().to_string(), value.trim().to_string()));
    }
    let mut request = Request { method, target, headers, body: Vec::new() };
    if request.header("transfer-encoding").is_some_and(|value| value.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            request.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) =
        request.header("content-length").and_then(|value| value.parse::<usize>().ok())
    {
        request.body = vec![0; length];
        reader.read_exact(&mut request.body).ok()?;
    }
    Some(request)
}

/// Runs the CGI program and turns its answer (`Status:` and headers, a blank line, the body) into HTTP.
fn run_backend(request: &Request, root: &PathBuf) -> Vec<u8> {
    let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    let mut command = Command::new(BACKEND);
    command
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &request.method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .env("REMOTE_USER", "deploy")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(kind) = request.header("content-type") {
        command.env("CONTENT_TYPE", kind);
    }
    if let Some(protocol) = request.header("git-protocol") {
        command.env("GIT_PROTOCOL", protocol);
    }
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let body = request.body.clone();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output().unwrap();
    let _ = writer.join();
    let text = output.stdout;
    let split = text.windows(4).position(|w| w == b"\r\n\r\n").map(|at| (at, 4));
    let split = split.or_else(|| text.windows(2).position(|w| w == b"\n\n").map(|at| (at, 2)));
    let Some((at, gap)) = split else {
        return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_vec();
    };
    let head = String::from_utf8_lossy(&text[..at]).to_string();
    let mut status = "200 OK".to_string();
    let mut answer = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((key, value)) if key.eq_ignore_ascii_case("status") => status = value.trim().to_string(),
            Some(_) => answer.push_str(&format!("{}\r\n", line.trim_end())),
            None => {}
        }
    }
    let mut bytes = format!("HTTP/1.1 {status}\r\n{answer}Connection: close\r\n\r\n").into_bytes();
    bytes.extend_from_slice(&text[at + gap..]);
    bytes
}

/// RFC 4648 base64 with padding (the `Authorization: Basic` encoding).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let value = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for index in 0..4 {
            if index <= chunk.len() {
                text.push(ALPHABET[(value >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}

#[test]
fn base64_matches_the_rfc_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
    ];
    for (input, expected) in cases {
        assert_eq!(base64(input.as_bytes()), expected);
    }
}
