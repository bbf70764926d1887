//! `logs_follow` can be ended from another thread: a reader blocked waiting for output returns at once,
//! the iterator ends, and no connection is left open (the REST and dashboard follows rely on this).
mod common;

use common::Host;
use std::time::{Duration, Instant};
use velos_ops::{LogsRequest, OpErrorKind, StreamChoice};

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn host_with_web() -> Host {
    let host = Host::running();
    host.start("/bin/sleep", &["300"], Some("web")).expect("start");
    host.fake.lock().logs.insert(("web".into(), "out"), b"one\ntwo\n".to_vec());
    host
}

#[test]
fn a_blocked_follow_ends_when_stopped_from_another_thread() {
    let host = host_with_web();
    let mut follow =
        host.ops.logs_follow(LogsRequest { lines: 5, ..LogsRequest::new("web") }).expect("follow");
    assert_eq!(follow.names, ["web"]);
    let mut backlog = Vec::new();
    for _ in 0..2 {
        let chunk = follow.next().expect("a chunk").expect("no error");
        backlog.push((chunk.stream.as_str(), chunk.bytes));
    }
    backlog.sort();
    assert_eq!(backlog, [("err", Vec::new()), ("out", b"one\ntwo\n".to_vec())]);
    assert_eq!(host.fake.lock().streams_open, 2, "both streams wait for output");

    let stopper = follow.stopper();
    let reader = std::thread::spawn(move || follow.next().is_none());
    stopper.stop();
    assert!(reader.join().expect("reader thread"), "a stopped follow yields nothing more");
    wait_until("every stream to close", || host.fake.lock().streams_open == 0);
}

#[test]
fn dropping_a_follow_closes_its_streams() {
    let host = host_with_web();
    let request = LogsRequest { stream: StreamChoice::Out, ..LogsRequest::new("web") };
    let follow = host.ops.logs_follow(request).expect("follow");
    wait_until("the stream to open", || host.fake.lock().streams_open == 1);
    drop(follow);
    wait_until("the stream to close", || host.fake.lock().streams_open == 0);
}

#[test]
fn following_an_unknown_app_is_not_found() {
    let host = host_with_web();
    let error = host.ops.logs_follow(LogsRequest::new("wbe")).err().expect("no such app");
    assert_eq!(error.kind, OpErrorKind::NotFound);
    assert_eq!(host.fake.lock().streams_open, 0);
}
