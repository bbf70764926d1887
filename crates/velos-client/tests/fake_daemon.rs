//! The client's public API against a fake daemon: a thread on a Unix socket in a temporary VELOS_HOME that
//! speaks the protocol from docs/PROTOCOL.md through velos-core's codec.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use rmpv::Value;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use velos_client::{Client, ClientError, PIPELINE_DEPTH_MAX};
use velos_core::{encode_frame, AppSpec, ErrorCode, FrameDecoder, Op, StartSpec, Status, Stream};

/// One decoded request.
#[derive(Debug, Clone)]
struct Request {
    id: u32,
    op: u8,
    args: Value,
}

fn decode_request(payload: &[u8]) -> Request {
    let value = rmpv::decode::read_value(&mut &payload[..]).unwrap();
    let map = value.as_map().unwrap();
    let keys: Vec<&str> = map.iter().map(|(key, _)| key.as_str().unwrap()).collect();
    assert_eq!(keys, ["id", "op", "args"], "request keys in protocol order");
    Request {
        id: map[0].1.as_u64().unwrap() as u32,
        op: map[1].1.as_u64().unwrap() as u8,
        args: map[2].1.clone(),
    }
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(key, value)| (Value::from(key), value)).collect())
}

fn frame(value: Value) -> Vec<u8> {
    let mut payload = Vec::new();
    rmpv::encode::write_value(&mut payload, &value).unwrap();
    encode_frame(&payload).unwrap()
}

fn ok(id: u32, data: Value) -> Vec<u8> {
    frame(map(vec![("id", id.into()), ("ok", true.into()), ("data", data)]))
}

fn error(id: u32, code: &str, message: &str) -> Vec<u8> {
    frame(map(vec![
        ("id", id.into()),
        ("ok", false.into()),
        ("error", map(vec![("code", code.into()), ("message", message.into())])),
    ]))
}

fn end(id: u32) -> Vec<u8> {
    frame(map(vec![("id", id.into()), ("ok", true.into()), ("end", true.into())]))
}

fn record(name: &str, status: &str, pid: u32) -> Value {
    map(vec![
        ("name", name.into()),
        ("pid", pid.into()),
        ("status", status.into()),
        ("restarts", 0.into()),
        ("cpu", Value::F64(0.0)),
        ("memory", 0.into()),
        ("uptime_ms", 0.into()),
        ("exit_code", Value::Nil),
        ("exit_signal", Value::Nil),
        ("last_error", Value::Nil),
        ("spec", map(vec![("name", name.into()), ("command", "/bin/sleep".into()), ("cwd", "/".into())])),
    ])
}

fn arg<'a>(request: &'a Request, key: &str) -> &'a Value {
    request
        .args
        .as_map()
        .unwrap()
        .iter()
        .find(|(name, _)| name.as_str() == Some(key))
        .map(|(_, value)| value)
        .unwrap()
}

/// A fake daemon serving one connection. `handle` gets every request (and the requests received so far
/// that are not answered yet) and returns the bytes to write, possibly none for now.
struct FakeDaemon {
    home: tempfile::TempDir,
    thread: Option<JoinHandle<()>>,
    log: Arc<Mutex<Vec<Request>>>,
}

impl FakeDaemon {
    fn new(mut handle: impl FnMut(&mut Vec<Request>) -> Vec<u8> + Send + 'static) -> FakeDaemon {
        let home = tempfile::Builder::new().prefix("velos-client-").tempdir_in("/tmp").unwrap();
        let listener = UnixListener::bind(home.path().join("velos.sock")).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let thread_log = Arc::clone(&log);
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut decoder = FrameDecoder::new();
            let mut pending = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let count = match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => return,
                    Ok(count) => count,
                };
                decoder.push(&buffer[..count]);
                while let Some(payload) = decoder.next_frame().unwrap() {
                    let request = decode_request(&payload);
                    thread_log.lock().unwrap().push(request.clone());
                    pending.push(request);
                }
                let reply = handle(&mut pending);
                if !reply.is_empty() && stream.write_all(&reply).is_err() {
                    return;
                }
            }
        });
        FakeDaemon { home, thread: Some(thread), log }
    }

    fn client(&self) -> Client {
        Client::connect(self.home.path()).unwrap()
    }

    fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        // The client is gone by now (it is dropped first in each test), so the thread sees EOF.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers each request at once with `answer`.
fn answering(mut answer: impl FnMut(&Request) -> Vec<u8> + Send + 'static) -> FakeDaemon {
    FakeDaemon::new(move |pending| pending.drain(..).flat_map(|request| answer(&request)).collect())
}

#[test]
fn ping_and_list_are_typed() {
    let daemon = answering(|request| match Op::from_code(request.op) {
        Some(Op::Ping) => ok(
            request.id,
            map(vec![
                ("pid", 42.into()),
                ("version", "0.1.0".into()),
                ("uptime_ms", 5.into()),
                ("apps", 2.into()),
            ]),
        ),
        Some(Op::ProcessList) => {
            ok(request.id, Value::Array(vec![record("a", "running", 10), record("b", "stopped", 0)]))
        }
        _ => error(request.id, "bad_request", "unexpected"),
    });
    let mut client = daemon.client();
    let ping = client.ping().unwrap();
    assert_eq!((ping.pid, ping.apps, ping.version.as_str()), (42, 2, "0.1.0"));
    let list = client.list().unwrap();
    assert_eq!(
        list.iter().map(|record| (record.name.as_str(), record.status)).collect::<Vec<_>>(),
        [("a", Status::Running), ("b", Status::Stopped)]
    );
    drop(client);
    let requests = daemon.requests();
    assert_eq!(requests.iter().map(|request| request.id).collect::<Vec<_>>(), [1, 2], "ids count up from 1");
    assert_eq!(requests[1].args, Value::Map(Vec::new()), "LIST args is an empty map");
}

#[test]
fn a_daemon_error_is_remote_with_its_code() {
    let daemon = answering(|request| error(request.id, "not_found", "no app named \"ghost\""));
    let mut client = daemon.client();
    match client.info("ghost") {
        Err(ClientError::Remote { code: ErrorCode::NotFound, message }) => {
            assert_eq!(message, "no app named \"ghost\"")
        }
        other => panic!("{other:?}"),
    }
    // The connection stays usable after an error reply.
    assert!(matches!(client.stop("ghost"), Err(ClientError::Remote { code: ErrorCode::NotFound, .. })));
    drop(client);
    assert_eq!(arg(&daemon.requests()[0], "name").as_str(), Some("ghost"));
}

#[test]
fn start_many_pipelines_instead_of_waiting_for_each_reply() {
    // This daemon answers only once a whole window of requests is in (or all of them): a client that
    // waited for each reply before sending the next would hang and time out.
    const APPS: usize = 150;
    let mut answered = 0;
    let daemon = FakeDaemon::new(move |pending| {
        let window_full = pending.len() >= PIPELINE_DEPTH_MAX || answered + pending.len() == APPS;
        if !window_full {
            return Vec::new();
        }
        answered += pending.len();
        pending
            .drain(..)
            .flat_map(|request| {
                let name = arg(&request, "name").as_str().unwrap().to_string();
                if name == "app-007" {
                    error(request.id, "exists", "app-007 exists with a different spec")
                } else {
                    ok(request.id, record(&name, "running", 1000 + request.id))
                }
            })
            .collect()
    });
    let specs: Vec<StartSpec> = (0..APPS)
        .map(|index| StartSpec::plain(AppSpec::new(format!("app-{index:03}"), "/bin/sleep", "/")))
        .collect();
    let mut client = daemon.client();
    client.set_timeout(Duration::from_secs(2)).unwrap();
    let began = Instant::now();
    let results = client.start_many(&specs).unwrap();
    assert!(began.elapsed() < Duration::from_secs(2));
    assert_eq!(results.len(), APPS);
    for (index, result) in results.iter().enumerate() {
        if index == 7 {
            assert!(matches!(result, Err(ClientError::Remote { code: ErrorCode::Exists, .. })), "{result:?}");
        } else {
            let record = result.as_ref().unwrap();
            assert_eq!(record.name, format!("app-{index:03}"), "results are in spec order");
        }
    }
    drop(client);
    let requests = daemon.requests();
    assert_eq!(requests.len(), APPS);
    assert!(requests.iter().all(|request| request.op == Op::ProcessStart.code()));
}

#[test]
fn log_stream_yields_chunks_until_the_end() {
    let daemon = answering(|request| {
        assert_eq!(request.op, Op::LogStream.code());
        let chunk = |text: &[u8]| ok(request.id, map(vec![("data", Value::Binary(text.to_vec()))]));
        [chunk(b"one\n"), chunk(b"two\n"), chunk(b"three\n"), end(request.id)].concat()
    });
    let client = daemon.client();
    let chunks: Vec<Vec<u8>> =
        client.log_stream("web", Stream::Err, 5).unwrap().map(Result::unwrap).collect();
    assert_eq!(chunks, [b"one\n".to_vec(), b"two\n".to_vec(), b"three\n".to_vec()]);
    let request = &daemon.requests()[0];
    assert_eq!(arg(request, "stream").as_str(), Some("err"));
    assert_eq!(arg(request, "lines").as_u64(), Some(5));
}

#[test]
fn a_stopper_ends_a_stream_blocked_waiting_for_output() {
    // One chunk, then silence: the reader blocks until the stopper closes the connection.
    let daemon = answering(|request| ok(request.id, map(vec![("data", Value::Binary(b"one\n".to_vec()))])));
    let mut stream = daemon.client().log_stream("web", Stream::Out, 5).unwrap();
    assert_eq!(stream.next().unwrap().unwrap(), b"one\n");
    let stopper = stream.stopper().unwrap();
    let reader = std::thread::spawn(move || stream.map(|chunk| chunk.is_ok()).collect::<Vec<bool>>());
    std::thread::sleep(std::time::Duration::from_millis(50)); // let it block in the read
    stopper.stop();
    let rest = reader.join().unwrap();
    assert_eq!(rest, [false], "one error (the closed connection), then the end");
}

#[test]
fn log_read_returns_raw_bytes() {
    let daemon = answering(|request| ok(request.id, map(vec![("data", Value::Binary(vec![0xff, b'\n']))])));
    let mut client = daemon.client();
    assert_eq!(client.log_read("web", Stream::Out, 20).unwrap(), [0xff, b'\n']);
}

#[test]
fn a_reply_to_another_request_is_a_protocol_error() {
    let daemon = answering(|request| ok(request.id + 100, Value::Map(Vec::new())));
    let mut client = daemon.client();
    assert!(matches!(client.ping(), Err(ClientError::Protocol { .. })));
}

#[test]
fn a_silent_daemon_times_out() {
    let daemon = FakeDaemon::new(|_| Vec::new());
    let mut client = daemon.client();
    client.set_timeout(Duration::from_millis(50)).unwrap();
    let began = Instant::now();
    assert!(matches!(client.ping(), Err(ClientError::Timeout { .. })));
    assert!(began.elapsed() < Duration::from_secs(2));
}

#[test]
fn wait_for_polls_until_the_predicate_holds() {
    let mut infos = 0;
    let daemon = answering(move |request| {
        infos += 1;
        let status = if infos < 4 { "stopping" } else { "stopped" };
        ok(request.id, record("web", status, if infos < 4 { 7 } else { 0 }))
    });
    let mut client = daemon.client();
    let deadline = Instant::now() + Duration::from_secs(5);
    let stopped = client.wait_for("web", |record| record.status == Status::Stopped, deadline).unwrap();
    assert_eq!(stopped.pid, 0);
    drop(client);
    assert_eq!(daemon.requests().len(), 4);

    // And gives up at the deadline, naming the last status.
    let daemon = answering(|request| ok(request.id, record("web", "stopping", 7)));
    let mut client = daemon.client();
    let error = client.wait_for("web", |_| false, Instant::now() + Duration::from_millis(30)).unwrap_err();
    assert!(error.to_string().contains("still stopping"), "{error}");
}

#[test]
fn wait_gone_ends_on_not_found() {
    let mut infos = 0;
    let daemon = answering(move |request| {
        infos += 1;
        if infos < 3 {
            ok(request.id, record("web", "stopping", 7))
        } else {
            error(request.id, "not_found", "no app named \"web\"")
        }
    });
    let mut client = daemon.client();
    client.wait_gone("web", Instant::now() + Duration::from_secs(5)).unwrap();
}

#[test]
fn a_torn_frame_times_out_instead_of_returning_garbage() {
    // A header announcing 255 bytes that never come.
    let daemon = FakeDaemon::new(|_| b"VE\x01\xff\x00\x00\x00".to_vec());
    let mut client = daemon.client();
    client.set_timeout(Duration::from_millis(50)).unwrap();
    assert!(matches!(client.ping(), Err(ClientError::Timeout { .. })));
}

#[test]
fn a_frame_with_a_bad_magic_is_a_protocol_error() {
    let daemon = FakeDaemon::new(|_| b"HTTP/1.1 400 Bad Request\r\n".to_vec());
    let mut client = daemon.client();
    assert!(matches!(client.ping(), Err(ClientError::Protocol { .. })));
}
