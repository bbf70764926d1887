//! Bad input gets a clear error and loses nothing: unknown names, missing or non-executable programs,
//! malformed and oversized frames. (A spent restart budget is in supervision.rs; no daemon and a second
//! daemon are in lifecycle.rs.)
#![allow(clippy::unwrap_used)]
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use velos_e2e::Velos;

#[test]
fn an_unknown_app_name_is_an_error_with_a_hint() {
    let velos = Velos::new();
    velos.ok(&["daemon"]);
    for command in [
        &["stop", "ghost"][..],
        &["restart", "ghost"],
        &["delete", "ghost"],
        &["info", "ghost"],
        &["logs", "ghost"],
    ] {
        let stderr = velos.fails(command);
        assert!(stderr.contains("error:") && stderr.contains("ghost"), "{command:?}: {stderr}");
        assert!(stderr.contains("hint:") && stderr.contains("velos list"), "{command:?}: {stderr}");
    }
}

#[test]
fn a_missing_program_is_errored_at_once_not_a_crash_loop() {
    let velos = Velos::new();
    let stderr = velos.fails(&["start", "--name", "nothing", "/no/such/program"]);
    assert!(stderr.contains("/no/such/program"), "names the path: {stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    let app = velos.app("nothing").expect("the app stays listed");
    assert_eq!(app["status"], "errored");
    assert_eq!(app["restarts"], 0, "no restart loop");
    assert!(app["last_error"].as_str().unwrap().contains("/no/such/program"));
}

#[test]
fn a_program_not_in_path_is_a_clear_error() {
    let velos = Velos::new();
    let stderr = velos.fails(&["start", "--name", "typo", "definitely-not-a-real-program-xyz"]);
    assert!(stderr.contains("definitely-not-a-real-program-xyz"), "{stderr}");
    assert_eq!(velos.status("typo"), "errored");
}

#[test]
fn a_file_that_is_not_executable_is_a_clear_error() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("server.sh");
    std::fs::write(&script, "#!/bin/sh\nsleep 3600\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let stderr = velos.fails(&["start", "--name", "noexec", script.to_str().unwrap()]);
    assert!(stderr.contains("server.sh"), "{stderr}");
    assert_eq!(velos.status("noexec"), "errored");
}

/// Sends raw bytes on a fresh connection; returns the reply payload bytes and whether the daemon closed it.
fn send_raw(velos: &Velos, bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut stream = UnixStream::connect(velos.home().join("velos.sock")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(bytes).unwrap();
    let mut header = [0u8; 7];
    stream.read_exact(&mut header).unwrap();
    assert_eq!(&header[..3], &[0x56, 0x45, 0x01], "a framed reply");
    let length = u32::from_le_bytes(header[3..7].try_into().unwrap()) as usize;
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).unwrap();
    let mut rest = [0u8; 1];
    let closed = matches!(stream.read(&mut rest), Ok(0));
    (payload, closed)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[test]
fn malformed_and_oversized_frames_close_only_that_connection() {
    let velos = Velos::new();
    velos.start("survivor", &["/bin/sleep", "3600"], &[]);
    let survivor = velos.pid("survivor");

    let cases: [(&str, Vec<u8>); 4] = [
        ("wrong magic", vec![0x58, 0x58, 0x01, 0x01, 0, 0, 0, 0x80]),
        ("wrong version", vec![0x56, 0x45, 0x09, 0x01, 0, 0, 0, 0x80]),
        ("over 16 MiB", {
            let mut frame = vec![0x56, 0x45, 0x01];
            frame.extend_from_slice(&(16 * 1024 * 1024 + 1u32).to_le_bytes());
            frame
        }),
        ("undecodable payload", vec![0x56, 0x45, 0x01, 0x03, 0, 0, 0, 0xc1, 0xc1, 0xc1]),
    ];
    for (what, bytes) in cases {
        let (payload, closed) = send_raw(&velos, &bytes);
        assert!(contains(&payload, b"bad_frame"), "{what}: reply is a bad_frame error: {payload:?}");
        assert!(closed, "{what}: the connection is closed");
    }
    // The daemon and its apps carry on.
    velos.ok(&["ping"]);
    assert_eq!(velos.pid("survivor"), survivor);
    assert_eq!(velos.status("survivor"), "running");
}

#[test]
fn an_unknown_op_is_a_bad_request_and_the_connection_stays_usable() {
    let velos = Velos::new();
    velos.ok(&["daemon"]);
    // {id: 5, op: 0x7f, args: {}} then {id: 6, op: PING, args: {}} on the same connection.
    let frame = |id: u8, op: u8| {
        let payload = [0x83, 0xa2, b'i', b'd', id, 0xa2, b'o', b'p', op, 0xa4, b'a', b'r', b'g', b's', 0x80];
        let mut bytes = vec![0x56, 0x45, 0x01, payload.len() as u8, 0, 0, 0];
        bytes.extend_from_slice(&payload);
        bytes
    };
    let mut stream = UnixStream::connect(velos.home().join("velos.sock")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(&[frame(5, 0x7f), frame(6, 0x30)].concat()).unwrap();
    let mut replies = Vec::new();
    for _ in 0..2 {
        let mut header = [0u8; 7];
        stream.read_exact(&mut header).unwrap();
        let mut payload = vec![0u8; u32::from_le_bytes(header[3..7].try_into().unwrap()) as usize];
        stream.read_exact(&mut payload).unwrap();
        replies.push(payload);
    }
    assert!(contains(&replies[0], b"bad_request"), "{:?}", replies[0]);
    assert!(contains(&replies[1], b"version"), "the ping after it is answered: {:?}", replies[1]);
}
