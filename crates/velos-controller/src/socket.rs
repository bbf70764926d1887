//! "Sync now" from outside: `$VELOS_HOME/controller.sock`, a Unix stream socket (mode 0600) where a client
//! writes one line, `sync PROJECT\n` or `sync *\n`, and reads `ok\n`. The git hook (`velos sync`) and
//! `velos apply` use it; it only says "look again", like every other trigger.
use crate::{Event, Handle};
use std::io::{BufRead as _, BufReader, ErrorKind, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The socket's file name inside `VELOS_HOME`.
pub const CONTROLLER_SOCKET: &str = "controller.sock";
/// The longest request line read.
const LINE_BYTES_MAX: u64 = 256;
/// How long either side waits for the other's line.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// The listening socket and its thread; stops and removes the socket file when dropped.
#[derive(Debug)]
pub struct SyncListener {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Listens on `home/controller.sock`, sending each request to `handle`. `Ok(None)` when another controller
/// listens there already (a stale socket file, left by a controller that died, is replaced).
pub fn listen(home: &Path, handle: Handle) -> std::io::Result<Option<SyncListener>> {
    let path = home.join(CONTROLLER_SOCKET);
    if UnixStream::connect(&path).is_ok() {
        return Ok(None);
    }
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::Builder::new().name("velos-sync-socket".into()).spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            if let Ok(stream) = stream {
                serve(stream, &handle);
            }
        }
    })?;
    Ok(Some(SyncListener { path, stop, thread: Some(thread) }))
}

impl SyncListener {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SyncListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.path); // wakes the accept
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One request, one answer. A slow or silent client is dropped after [`IO_TIMEOUT`].
fn serve(stream: UnixStream, handle: &Handle) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let mut line = String::new();
    let Ok(reader) = stream.try_clone() else { return };
    if BufReader::new(reader.take(LINE_BYTES_MAX)).read_line(&mut line).is_err() {
        return;
    }
    let answer = match parse_request(&line) {
        Ok(project) => {
            if handle.send(Event::Sync(project)) {
                "ok\n".to_string()
            } else {
                "error: the controller is stopping\n".to_string()
            }
        }
        Err(message) => format!("error: {message}\n"),
    };
    let mut stream = stream;
    let _ = stream.write_all(answer.as_bytes());
}

/// `sync`, `sync *` → all projects; `sync NAME` → one.
fn parse_request(line: &str) -> Result<Option<String>, String> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("sync"), None | Some("*"), None) => Ok(None),
        (Some("sync"), Some(project), None) => match velos_core::validate_name(project) {
            Ok(()) => Ok(Some(project.to_string())),
            Err(error) => Err(error.to_string().replace("the app name", "the project name")),
        },
        _ => Err("expected `sync PROJECT` or `sync *`".into()),
    }
}

/// Asks the controller of `home` to look again at `project` (all projects: `None`) now. `Ok(false)` when no
/// controller is running; an error when one answered something else than `ok`.
pub fn request_sync(home: &Path, project: Option<&str>) -> std::io::Result<bool> {
    let path = home.join(CONTROLLER_SOCKET);
    let mut stream = match UnixStream::connect(&path) {
        Ok(stream) => stream,
        Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Ok(false);
        }
        Err(error) => return Err(error),
    };
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.write_all(format!("sync {}\n", project.unwrap_or("*")).as_bytes())?;
    let mut answer = String::new();
    BufReader::new((&stream).take(LINE_BYTES_MAX)).read_line(&mut answer)?;
    match answer.trim_end() {
        "ok" => Ok(true),
        other => Err(std::io::Error::other(format!(
            "the controller answered {:?}",
            if other.is_empty() { "nothing" } else { other }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_request;

    #[test]
    fn requests() {
        assert_eq!(parse_request("sync\n"), Ok(None));
        assert_eq!(parse_request("sync *\n"), Ok(None));
        assert_eq!(parse_request("sync shop\n"), Ok(Some("shop".into())));
        assert!(parse_request("sync ../etc\n").is_err());
        assert!(parse_request("sync a b\n").is_err());
        assert!(parse_request("apply shop\n").is_err());
        assert!(parse_request("").is_err());
    }
}
