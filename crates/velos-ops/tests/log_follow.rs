//! `logs_follow` can be ended from another thread: a reader blocked waiting for output returns at once,
//! the iterator ends, and no connection is left open (the REST and dashboard follows rely on this).
mod common;

use common::Host;
use std::time::{Duration, Instant};
use velos_core::Stream;
use velos_ops::{LineAssembler, LogChunk, LogsRequest, OpErrorKind, StreamChoice};

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

#[test]
fn an_open_follow_takes_instances_as_they_come_and_ends_only_when_stopped() {
    let host = host_with_web();
    host.start("/bin/sleep", &["300"], Some("jobs")).expect("start jobs");
    let (mut follow, adder) = host.ops.follow_open(StreamChoice::Out);
    adder.add("web", 5).expect("add web");
    assert_eq!(follow.next().expect("web's backlog").expect("ok").bytes, b"one\ntwo\n");
    adder.add("jobs", 5).expect("add jobs");
    assert_eq!(follow.next().expect("jobs' backlog").expect("ok").name, "jobs");
    assert_eq!(adder.add("ghost", 0).expect_err("no such app").kind, OpErrorKind::NotFound);
    wait_until("two streams open", || host.fake.lock().streams_open == 2);
    follow.stopper().stop();
    assert!(follow.next().is_none());
    wait_until("every stream to close", || host.fake.lock().streams_open == 0);
}

fn chunk(name: &str, stream: Stream, bytes: &[u8]) -> LogChunk {
    LogChunk { name: name.into(), stream, bytes: bytes.to_vec() }
}

#[test]
fn lines_are_cut_across_chunks_and_labelled_with_their_app_and_level() {
    let host = host_with_web();
    let live = host.fake.lock().daemon.records();
    let mut lines = LineAssembler::new(host.ops.clone());
    lines.know(&live);
    let first = lines.push(chunk("web", Stream::Err, b"GET / 200\nERR"));
    assert_eq!(first.len(), 1, "the unfinished line waits");
    assert_eq!((first[0].body.as_str(), first[0].app.as_str()), ("GET / 200", "web"));
    let second = lines.push(chunk("web", Stream::Err, b"OR: disk full\r\n"));
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].body, "ERROR: disk full");
    assert_eq!((second[0].severity_text.as_str(), second[0].severity_number), ("ERROR", 17));
    // Streams are cut apart: out's unfinished line is not err's.
    assert!(lines.push(chunk("web", Stream::Out, b"half")).is_empty());
    assert_eq!(lines.push(chunk("web", Stream::Err, b"x\n"))[0].body, "x");
    // A line longer than 64 KiB is shipped cut, with its length.
    let long = vec![b'a'; 70 * 1024];
    let cut = lines.push(chunk("web", Stream::Out, &long));
    assert_eq!((cut.len(), cut[0].body.len(), cut[0].cut_from), (1, 64 * 1024, Some(70 * 1024 + 4)));
}
