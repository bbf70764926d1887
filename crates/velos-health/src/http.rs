//! The `http` and `tcp` probes over a plain `TcpStream`: connect with a timeout, and for http one HTTP/1.1
//! GET with `Connection: close`, the status line parsed and at most [`BODY_BYTES_MAX`] of the body read.
//! A health endpoint answers a few bytes; a full HTTP client would be weight for nothing.
use crate::check::{split_host_port, CheckError};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The most of a response (headers and body) an http probe reads.
pub const BODY_BYTES_MAX: usize = 64 * 1024;

/// An `http://host[:port][/path]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url<'u> {
    pub(crate) host: &'u str,
    pub(crate) port: u16,
    /// `host` or `host:port`, as the `Host` header wants it.
    pub(crate) authority: &'u str,
    pub(crate) path: &'u str,
}

impl<'u> Url<'u> {
    pub(crate) fn parse(url: &'u str) -> Result<Url<'u>, CheckError> {
        if url.starts_with("https://") {
            return Err(CheckError::Https);
        }
        let bad = || CheckError::HttpUrl(url.to_string());
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') || path.contains(char::is_whitespace) {
            return Err(bad());
        }
        let (host, port) = if authority.ends_with(']') || !authority.contains(':') {
            (authority.trim_start_matches('[').trim_end_matches(']'), 80)
        } else {
            split_host_port(authority).ok_or_else(bad)?
        };
        Ok(Url { host, port, authority, path })
    }
}

/// Connects to `host:port` within `timeout` (each resolved address in turn).
pub(crate) fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let began = Instant::now();
    let addresses: Vec<SocketAddr> =
        (host, port).to_socket_addrs().map_err(|error| format!("cannot resolve {host}: {error}"))?.collect();
    let mut last = format!("{host} has no address");
    for address in addresses {
        let left = timeout.saturating_sub(began.elapsed());
        if left.is_zero() {
            return Err(format!("no connection to {host}:{port} within {}", ms(timeout)));
        }
        match TcpStream::connect_timeout(&address, left) {
            Ok(stream) => return Ok(stream),
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {
                last = format!("no connection to {address} within {}", ms(timeout));
            }
            Err(error) => last = format!("connect to {address}: {error}"),
        }
    }
    Err(last)
}

/// GETs `url`; Ok when it answers 2xx or 3xx and (given `body`) the body matches.
pub(crate) fn get(url: &str, body: Option<&regex::Regex>, timeout: Duration) -> Result<(), String> {
    let began = Instant::now();
    let parsed = Url::parse(url).map_err(|error| error.to_string())?;
    let mut stream = connect(parsed.host, parsed.port, timeout)?;
    let left = || timeout.saturating_sub(began.elapsed()).max(Duration::from_millis(1));
    stream.set_write_timeout(Some(left())).map_err(|error| error.to_string())?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: velos-health\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        parsed.path, parsed.authority
    );
    stream.write_all(request.as_bytes()).map_err(|error| format!("sending the request: {error}"))?;
    let response = read_bounded(&mut stream, began, timeout)?;
    let text = String::from_utf8_lossy(&response);
    let status = status_code(&text).ok_or_else(|| {
        let first = text.lines().next().unwrap_or_default();
        format!("not an HTTP response: {:?}", first.chars().take(60).collect::<String>())
    })?;
    if !(200..400).contains(&status) {
        return Err(format!("HTTP {status}"));
    }
    if let Some(pattern) = body {
        let content = text.split_once("\r\n\r\n").map_or("", |(_, content)| content);
        if !pattern.is_match(content) {
            return Err(format!("HTTP {status}, but the body does not match {:?}", pattern.as_str()));
        }
    }
    Ok(())
}

/// Reads until the server closes, [`BODY_BYTES_MAX`] is reached, or the deadline passes (which is an error
/// only when nothing came at all: a server that keeps the connection open still answered).
fn read_bounded(stream: &mut TcpStream, began: Instant, timeout: Duration) -> Result<Vec<u8>, String> {
    let mut response = Vec::new();
    let mut buffer = [0u8; 8192];
    while response.len() < BODY_BYTES_MAX {
        let left = timeout.saturating_sub(began.elapsed());
        if left.is_zero() {
            break;
        }
        stream.set_read_timeout(Some(left)).map_err(|error| error.to_string())?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => response.extend_from_slice(&buffer[..count.min(BODY_BYTES_MAX - response.len())]),
            Err(error)
                if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                break
            }
            Err(error) if response.is_empty() => return Err(format!("reading the response: {error}")),
            Err(_) => break,
        }
    }
    if response.is_empty() {
        return Err(format!("no response within {}", ms(timeout)));
    }
    Ok(response)
}

/// `HTTP/1.1 204 No Content` → 204.
fn status_code(response: &str) -> Option<u16> {
    let line = response.lines().next()?;
    let mut words = line.split_whitespace();
    words.next().filter(|version| version.starts_with("HTTP/"))?;
    words.next()?.parse().ok()
}

fn ms(duration: Duration) -> String {
    crate::check::format_ms(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_parse_into_host_port_and_path() {
        let url = Url::parse("http://127.0.0.1:8000/health?deep=1").expect("url");
        assert_eq!(
            (url.host, url.port, url.authority, url.path),
            ("127.0.0.1", 8000, "127.0.0.1:8000", "/health?deep=1")
        );
        let url = Url::parse("http://localhost").expect("url");
        assert_eq!((url.host, url.port, url.path), ("localhost", 80, "/"));
        let url = Url::parse("http://[::1]:81/").expect("url");
        assert_eq!((url.host, url.port), ("::1", 81));
        assert!(Url::parse("http://user@host/").is_err());
        assert!(Url::parse("ftp://host/").is_err());
        assert_eq!(status_code("HTTP/1.0 503 Service Unavailable\r\n"), Some(503));
        assert_eq!(status_code("SSH-2.0-OpenSSH\r\n"), None);
    }

    /// A one-shot server answering `response` to the first connection.
    fn serve(response: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        format!("http://{address}/health")
    }

    #[test]
    fn status_and_body_decide() {
        let timeout = Duration::from_secs(2);
        let ok = serve("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nstatus=up");
        assert_eq!(get(&ok, None, timeout), Ok(()));
        let ok = serve("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nstatus=up");
        let up = crate::check::compile("status=(up|ok)").expect("regex");
        assert_eq!(get(&ok, Some(&up), timeout), Ok(()));
        let down = serve("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nstatus=down");
        assert_eq!(
            get(&down, Some(&up), timeout),
            Err("HTTP 200, but the body does not match \"status=(up|ok)\"".into())
        );
        let failing = serve("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(get(&failing, None, timeout), Err("HTTP 503".into()));
        let redirect = serve("HTTP/1.1 302 Found\r\nLocation: /\r\n\r\n");
        assert_eq!(get(&redirect, None, timeout), Ok(()));
    }

    #[test]
    fn nobody_listening_and_a_silent_server_fail_within_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        let refused = get(&format!("http://{address}/"), None, Duration::from_secs(1));
        assert!(refused.as_ref().is_err_and(|error| error.contains("refused")), "{refused:?}");
        // Accepts (the backlog does) but never answers.
        let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", silent.local_addr().expect("address"));
        let began = Instant::now();
        let result = get(&url, None, Duration::from_millis(200));
        assert_eq!(result, Err("no response within 200ms".into()));
        assert!(began.elapsed() < Duration::from_secs(2), "bounded: {:?}", began.elapsed());
    }
}
