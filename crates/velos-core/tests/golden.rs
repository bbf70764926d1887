//! The golden frames in `schemas/ipc/` (described in its README.md): the Rust codec must produce and read
//! exactly these bytes, as the Zig codec does in `zig build test`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::PathBuf;
use velos_core::{
    encode_request, AppSpec, Empty, ErrorCode, FrameDecoder, FrameError, LogArgs, LogData, LogFormat,
    NameArgs, Op, PingInfo, ProcessRecord, Reply, ReplyBody, RestartPolicy, StartSpec, Status, Stream,
};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/ipc")
}

/// `#` comments to end of line; otherwise whitespace-separated hex byte pairs.
fn parse_hex(text: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in text.lines() {
        let data = line.split('#').next().unwrap_or("");
        for pair in data.split_whitespace() {
            assert_eq!(pair.len(), 2, "not a byte: {pair:?}");
            bytes.push(u8::from_str_radix(pair, 16).unwrap_or_else(|_| panic!("not hex: {pair:?}")));
        }
    }
    bytes
}

fn golden(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    parse_hex(&text)
}

/// The whole payload of a golden frame, checked through the decoder (header and length included).
fn payload_of(name: &str) -> Vec<u8> {
    let bytes = golden(name);
    let mut decoder = FrameDecoder::new();
    decoder.push(&bytes);
    let payload = decoder.next_frame().unwrap().unwrap_or_else(|| panic!("{name}: incomplete frame"));
    assert_eq!(decoder.pending_len(), 0, "{name}: bytes after the frame");
    payload
}

fn reply(name: &str) -> Reply {
    Reply::decode(&payload_of(name)).unwrap()
}

fn data<T: serde::de::DeserializeOwned>(reply: Reply) -> T {
    reply.into_data::<T>().unwrap().unwrap()
}

/// SPEC of the README.
fn golden_spec() -> AppSpec {
    let mut spec = AppSpec::new("web", "/bin/sleep", "/srv/web");
    spec.args = vec!["3600".into()];
    spec.env = vec!["PATH=/usr/bin:/bin".into(), "PORT=8080".into()];
    spec.restart = RestartPolicy::Always;
    spec.max_restarts = 5;
    spec.restart_window_ms = 60_000;
    spec.backoff_initial_ms = 100;
    spec.backoff_max_ms = 5_000;
    spec.min_uptime_ms = 1_000;
    spec.kill_signal = 15;
    spec.kill_timeout_ms = 3_000;
    spec.spec_hash = "9f2c4e1a7b3d5f60".into();
    spec.labels = BTreeMap::from([("app".into(), "web".into()), ("project".into(), "demo".into())]);
    spec
}

/// SPEC_INPLACE of the README: SPEC with the four in-place keys off their defaults.
fn golden_inplace_spec() -> AppSpec {
    let mut spec = golden_spec();
    spec.max_memory_bytes = 8_589_934_592;
    spec.log_max_size_bytes = 20_971_520;
    spec.log_max_files = 3;
    spec.log_timestamps = true;
    spec
}

#[test]
fn every_golden_file_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".hex"))
        .collect();
    names.sort();
    let covered = [
        "bad_magic.hex",
        "bad_version.hex",
        "error_reply.hex",
        "info_counters_reply.hex",
        "info_inplace_reply.hex",
        "list_reply.hex",
        "log_read_request.hex",
        "log_reply.hex",
        "ping_reply.hex",
        "ping_request.hex",
        "ping_tracking_reply.hex",
        "start_by_name_request.hex",
        "start_inplace_request.hex",
        "start_log_format_request.hex",
        "start_request.hex",
        "stream_end_reply.hex",
        "too_large.hex",
        "truncated_header.hex",
    ];
    assert_eq!(names, covered, "a golden file was added or removed: test it here");
}

// ---- requests: byte-identical ----------------------------------------------------------------------

#[test]
fn ping_request() {
    assert_eq!(encode_request(1, Op::Ping, &Empty {}).unwrap(), golden("ping_request.hex"));
}

#[test]
fn start_request() {
    let frame = encode_request(7, Op::ProcessStart, &StartSpec::plain(golden_spec())).unwrap();
    assert_eq!(frame.len(), 7 + 305);
    assert_eq!(frame, golden("start_request.hex"));
}

#[test]
fn start_request_with_expected_hash_adds_the_key_before_replace() {
    let start = StartSpec { expected_hash: Some(String::new()), ..StartSpec::plain(golden_spec()) };
    let frame = encode_request(7, Op::ProcessStart, &start).unwrap();
    let golden = golden("start_request.hex");
    // 17 entries instead of 16, and `expected_hash: ""` right before `replace: false`.
    let replace = [0xa7, b'r', b'e', b'p', b'l', b'a', b'c', b'e', 0xc2];
    let mut expected = golden[7..golden.len() - replace.len()].to_vec();
    let args_at = expected.windows(3).position(|window| window == [0xde, 0x00, 0x10]).unwrap();
    expected[args_at + 2] = 0x11;
    expected.extend_from_slice(b"\xadexpected_hash\xa0");
    expected.extend_from_slice(&replace);
    assert_eq!(&frame[7..], &expected[..]);
}

#[test]
fn start_inplace_request() {
    let spec = golden_inplace_spec();
    let start = StartSpec { autostart: false, ..StartSpec::plain(spec.clone()) };
    let frame = encode_request(10, Op::ProcessStart, &start).unwrap();
    assert_eq!(frame.len(), 7 + 397);
    assert_eq!(frame, golden("start_inplace_request.hex"));
    // Only in-place keys differ from start_request's spec: the same restart-relevant hash.
    assert_eq!(spec.compute_hash(), golden_spec().compute_hash());
}

#[test]
fn start_log_format_request() {
    let mut spec = golden_spec();
    spec.log_format = LogFormat::Json;
    let frame = encode_request(11, Op::ProcessStart, &StartSpec::plain(spec.clone())).unwrap();
    assert_eq!(frame, golden("start_log_format_request.hex"));
    // An in-place key: the same restart-relevant hash.
    assert_eq!(spec.compute_hash(), golden_spec().compute_hash());
}

#[test]
fn start_by_name_request() {
    let frame = encode_request(8, Op::ProcessStart, &NameArgs { name: "web" }).unwrap();
    assert_eq!(frame, golden("start_by_name_request.hex"));
}

#[test]
fn log_read_request() {
    let frame =
        encode_request(9, Op::LogRead, &LogArgs { name: "web", stream: Stream::Err, lines: 20 }).unwrap();
    assert_eq!(frame, golden("log_read_request.hex"));
}

// ---- replies: exactly the documented values -----------------------------------------------------------

#[test]
fn ping_reply() {
    let reply = reply("ping_reply.hex");
    assert_eq!(reply.id, 1);
    let ping: PingInfo = data(reply);
    assert_eq!(
        ping,
        PingInfo { pid: 4242, version: "0.1.0".into(), uptime_ms: 1500, apps: 3, tracking: None }
    );
}

#[test]
fn ping_tracking_reply() {
    let reply = reply("ping_tracking_reply.hex");
    assert_eq!(reply.id, 2);
    let ping: PingInfo = data(reply);
    assert_eq!(
        ping,
        PingInfo {
            pid: 4242,
            version: "0.1.0".into(),
            uptime_ms: 1500,
            apps: 3,
            tracking: Some("procfs".into())
        }
    );
}

#[test]
fn list_reply() {
    let reply = reply("list_reply.hex");
    assert_eq!(reply.id, 5);
    let records: Vec<ProcessRecord> = data(reply);
    let stored_spec = golden_spec();
    assert_eq!(
        records,
        vec![ProcessRecord {
            name: "web".into(),
            pid: 31337,
            status: Status::Running,
            restarts: 2,
            cpu: 1.5,
            memory: 10_485_760,
            uptime_ms: 65_000,
            exit_code: Some(1),
            exit_signal: None,
            last_error: None,
            spec: stored_spec,
            cpu_time_ms: 0,
            log_out_lines: 0,
            log_out_bytes: 0,
            log_err_lines: 0,
            log_err_bytes: 0,
        }]
    );
}

#[test]
fn info_inplace_reply() {
    let reply = reply("info_inplace_reply.hex");
    assert_eq!(reply.id, 11);
    let record: ProcessRecord = data(reply);
    assert_eq!(
        record,
        ProcessRecord {
            name: "web".into(),
            pid: 31337,
            status: Status::Running,
            restarts: 1,
            cpu: 1.5,
            memory: 10_485_760,
            uptime_ms: 65_000,
            exit_code: None,
            exit_signal: Some(15),
            last_error: Some("restarted by the daemon: memory 9000 MiB above max_memory 8192 MiB".into()),
            // `replace` false and `autostart` true: absent from a record, their defaults.
            spec: golden_inplace_spec(),
            cpu_time_ms: 0,
            log_out_lines: 0,
            log_out_bytes: 0,
            log_err_lines: 0,
            log_err_bytes: 0,
        }
    );
}

#[test]
fn info_counters_reply() {
    let reply = reply("info_counters_reply.hex");
    assert_eq!(reply.id, 12);
    let record: ProcessRecord = data(reply);
    assert_eq!(
        (record.cpu_time_ms, record.log_counts(Stream::Out), record.log_counts(Stream::Err)),
        (2250, (3000, 300_000), (2, 70))
    );
    assert_eq!((record.name.as_str(), record.restarts, record.spec), ("web", 2, golden_spec()));
}

#[test]
fn error_reply() {
    let reply = reply("error_reply.hex");
    assert_eq!(
        reply,
        Reply {
            id: 7,
            body: ReplyBody::Error { code: ErrorCode::NotFound, message: "no app named \"api\"".into() }
        }
    );
}

#[test]
fn log_reply() {
    let reply = reply("log_reply.hex");
    assert_eq!(reply.id, 9);
    let log: LogData = data(reply);
    assert_eq!(log.data, b"hello\nworld\n");
}

#[test]
fn stream_end_reply() {
    assert_eq!(reply("stream_end_reply.hex"), Reply { id: 9, body: ReplyBody::End });
}

#[test]
fn replies_decode_when_fed_one_byte_at_a_time() {
    for name in [
        "ping_reply.hex",
        "list_reply.hex",
        "info_inplace_reply.hex",
        "info_counters_reply.hex",
        "error_reply.hex",
        "log_reply.hex",
        "stream_end_reply.hex",
    ] {
        let bytes = golden(name);
        let mut decoder = FrameDecoder::new();
        let mut frames = Vec::new();
        for byte in &bytes {
            decoder.push(std::slice::from_ref(byte));
            if let Some(frame) = decoder.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames, vec![bytes[7..].to_vec()], "{name}");
    }
}

#[test]
fn all_replies_back_to_back_in_one_buffer() {
    let names =
        ["ping_reply.hex", "list_reply.hex", "error_reply.hex", "log_reply.hex", "stream_end_reply.hex"];
    let mut decoder = FrameDecoder::new();
    decoder.push(&names.iter().flat_map(|name| golden(name)).collect::<Vec<u8>>());
    let ids: Vec<u32> = std::iter::from_fn(|| decoder.next_frame().unwrap())
        .map(|payload| Reply::decode(&payload).unwrap().id)
        .collect();
    assert_eq!(ids, [1, 5, 7, 9, 9]);
}

// ---- bad headers: the exact error --------------------------------------------------------------------

fn decode_header_file(name: &str) -> Result<Option<Vec<u8>>, FrameError> {
    let mut decoder = FrameDecoder::new();
    decoder.push(&golden(name));
    decoder.next_frame()
}

#[test]
fn bad_headers() {
    assert_eq!(decode_header_file("bad_magic.hex"), Err(FrameError::BadMagic));
    assert_eq!(decode_header_file("bad_version.hex"), Err(FrameError::BadVersion(2)));
    assert_eq!(decode_header_file("too_large.hex"), Err(FrameError::TooLarge(16 * 1024 * 1024 + 1)));
    assert_eq!(decode_header_file("truncated_header.hex"), Ok(None));
    assert_eq!(velos_core::decode_header(&golden("truncated_header.hex")), Ok(None));
}
