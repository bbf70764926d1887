//! `[velos.api]` and `[velos.otlp]` served by the controller (the `velos-controller` system app): the same
//! API as `velos serve` (same tokens, same guard) for as long as the project's file asks, then gone; an
//! address that cannot be served is reported by `velos status` with a hint.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
use std::io::{Read, Write};
use std::time::Duration;
use velos_e2e::{wait_until, Velos};

/// A port nobody listens on now (bound and let go: the kernel does not hand it out again at once).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One GET over TCP: the status code, and the body. `None` when nothing listens.
fn get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

fn write_project(velos: &Velos, dir: &std::path::Path, velos_table: &str) -> String {
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let text = format!(
        "[project]\nname = \"served\"\n\n[apps.worker]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n\
         env = {{ {key} = \"{value}\" }}\n\n[velos]\nwatch = true\n{velos_table}"
    );
    let file = dir.join("velos.toml");
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_string()
}

fn token(velos: &Velos, kind: &str) -> String {
    let text = std::fs::read_to_string(velos.home().join("api.token")).expect("api.token");
    text.lines()
        .find_map(|line| line.strip_prefix(kind).map(|rest| rest.trim().to_string()))
        .expect("a token")
}

#[test]
fn the_controller_serves_the_api_a_project_asks_for_and_stops_when_it_no_longer_does() {
    let velos = Velos::new();
    let dir = tempfile::Builder::new().prefix("velos-served-").tempdir_in("/tmp").unwrap();
    let port = free_port();
    let file = write_project(&velos, dir.path(), &format!("\n[velos.api]\nlisten = \"127.0.0.1:{port}\"\n"));
    let applied = velos.ok(&["apply", &file]);
    assert!(applied.contains(&format!("it serves the API on http://127.0.0.1:{port}")), "{applied}");
    wait_until(Duration::from_secs(20), "the controller to serve /healthz", || {
        get(port, "/healthz", None).is_some_and(|(code, _)| code == 200)
    });
    // The tokens of `velos serve`: made on the first start, in $VELOS_HOME/api.token.
    assert_eq!(get(port, "/v1/apps", None).map(|(code, _)| code), Some(401));
    let (code, body) = get(port, "/v1/apps", Some(&token(&velos, "read-only "))).expect("an answer");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"worker\""), "{body}");
    let status = velos.project_status("served");
    assert_eq!(status["state"], "synced", "{status}");

    // The key removed (the project is still watched): the listener goes, the apps stay.
    write_project(&velos, dir.path(), "");
    wait_until(Duration::from_secs(20), "the listener to go", || get(port, "/healthz", None).is_none());
    assert_eq!(velos.status("worker"), "running");

    // Off loopback with no token in the file: refused, and `velos status` says why and what to do.
    std::fs::write(velos.home().join("api.token"), "# no tokens\n").unwrap();
    let outside = free_port();
    write_project(&velos, dir.path(), &format!("\n[velos.api]\nlisten = \"0.0.0.0:{outside}\"\n"));
    wait_until(Duration::from_secs(20), "status to report the refusal", || {
        velos.project_status("served")["state"] == "error"
    });
    let status = velos.project_status("served");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(message.contains("without a bearer token"), "{status}");
    assert!(status["hint"].as_str().unwrap_or_default().contains("api.token"), "{status}");
    assert!(get(outside, "/healthz", None).is_none(), "nothing listens there");
    let text = velos.fails(&["status"]);
    assert!(text.contains("hint:"), "{text}");
}

#[test]
fn the_controller_exports_metrics_and_labelled_log_lines_a_project_asks_for() {
    let velos = Velos::new();
    let dir = tempfile::Builder::new().prefix("velos-exported-").tempdir_in("/tmp").unwrap();
    let (address, received) = velos_e2e::otlp::receiver_with_headers();
    let talk = "i=0; while :; do i=$((i+1)); echo \\\"ERROR job $i failed: timeout\\\" >&2; sleep 0.1; done";
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let text = format!(
        "[project]\nname = \"exported\"\n\n[apps.talker]\ncommand = \"/bin/sh\"\nargs = [\"-c\", \"{talk}\"]\n\
         env = {{ {key} = \"{value}\" }}\n\n\
         [velos.otlp]\nendpoint = \"http://{address}\"\ninterval = \"1s\"\nheaders = {{ x-tenant = \"shop\" }}\n"
    );
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    velos.ok(&["apply", file.to_str().unwrap()]);
    // The app's model of its lines, saved by a summary: exported lines then carry their template's id.
    wait_until(Duration::from_secs(10), "a few lines in the log file", || {
        std::fs::read_to_string(velos.log_path("talker", "err")).unwrap_or_default().lines().count() >= 5
    });
    velos.ok(&["logs", "talker", "--summary"]);
    let attribute = |record: &serde_json::Value, key: &str| -> Option<String> {
        let attributes = record["attributes"].as_array()?;
        let found = attributes.iter().find(|attribute| attribute["key"] == key)?;
        found["value"]["stringValue"].as_str().map(str::to_string)
    };
    let (mut metrics_seen, mut labelled) = (false, None);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (!metrics_seen || labelled.is_none()) && std::time::Instant::now() < deadline {
        let Ok((request_line, headers, body)) = received.recv_timeout(Duration::from_secs(5)) else {
            continue;
        };
        assert!(headers.contains(&("x-tenant".into(), "shop".into())), "the file's headers: {headers:?}");
        if request_line == "POST /v1/metrics HTTP/1.1" {
            let metrics = body["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].as_array().cloned();
            metrics_seen |=
                metrics.unwrap_or_default().iter().any(|metric| metric["name"] == "velos_log_lines_total");
            continue;
        }
        assert_eq!(request_line, "POST /v1/logs HTTP/1.1");
        let records =
            body["resourceLogs"][0]["scopeLogs"][0]["logRecords"].as_array().cloned().unwrap_or_default();
        for record in records {
            assert_eq!(attribute(&record, "app").as_deref(), Some("talker"), "{record}");
            assert_eq!(attribute(&record, "stream").as_deref(), Some("err"), "{record}");
            assert_eq!(
                (record["severityText"].as_str(), record["severityNumber"].as_u64()),
                (Some("ERROR"), Some(17))
            );
            let body = record["body"]["stringValue"].as_str().unwrap_or_default();
            assert!(body.starts_with("ERROR job ") && body.ends_with(" failed: timeout"), "{record}");
            if attribute(&record, "template_id").is_some() {
                labelled = Some(record);
            }
        }
    }
    assert!(metrics_seen, "the metrics, with the log counters, were exported");
    let labelled = labelled.expect("a line labelled with its template id within 30 s");
    assert_eq!(attribute(&labelled, "instance").as_deref(), Some("talker"));
}
