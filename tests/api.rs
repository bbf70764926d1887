//! The REST API end to end: a real `velos serve` on loopback, a real daemon, real HTTP clients (Python
//! requests and websocket-client, driven by tests/python/api_e2e.py), every response validated against the
//! served OpenAPI document.
#![allow(clippy::unwrap_used)]
use std::path::Path;
use std::time::Duration;
use velos_e2e::api::ApiServer;
use velos_e2e::git::{one_web_app, GitRepo as Repo};
use velos_e2e::{environ_of, wait_until, Velos};

#[test]
fn the_document_is_valid_openapi_3_1() {
    let velos = Velos::new();
    let server = ApiServer::start(&velos);
    server.python(&velos, "openapi", &[]);
}

#[test]
fn every_guarded_route_wants_a_token_and_writes_want_the_write_token() {
    let velos = Velos::new();
    let server = ApiServer::start(&velos);
    server.python(&velos, "auth", &[]);
}

#[test]
fn bodies_and_headers_are_bounded() {
    let velos = Velos::new();
    let server = ApiServer::start(&velos);
    server.python(&velos, "limits", &[]);
}

#[test]
fn the_token_file_is_private_and_a_second_start_keeps_it() {
    let velos = Velos::new();
    let first = ApiServer::start(&velos);
    let path = velos.home().join("api.token");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let tokens = (first.read_token.clone(), first.write_token.clone());
    drop(first);
    let second = ApiServer::start(&velos);
    assert_eq!((second.read_token.clone(), second.write_token.clone()), tokens);
}

#[test]
fn a_non_loopback_address_without_tokens_is_refused() {
    let velos = Velos::new();
    std::fs::create_dir_all(velos.home()).unwrap();
    let path = velos.home().join("api.token");
    std::fs::write(&path, "# no tokens\n").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let stderr = velos.fails(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(stderr.contains("refusing to listen on 0.0.0.0:0 without a bearer token"), "{stderr}");
}

#[test]
fn metrics_parse_with_the_prometheus_parser_and_follow_the_daemon() {
    let velos = Velos::new();
    velos.start("alpha", &["/bin/sleep", "3600"], &[]);
    velos.start("beta", &["/bin/sleep", "3600"], &[]);
    velos.ok(&["stop", "beta"]);
    let server = ApiServer::start(&velos);
    server.python(&velos, "metrics", &[("VELOS_EXPECT_UP", "alpha"), ("VELOS_EXPECT_PROJECT", "default")]);
    // `velos metrics` prints the same families without a server.
    let text = velos.ok(&["metrics"]);
    assert!(text.contains("velos_process_up{project=\"default\",app=\"alpha\",name=\"alpha\"} 1"), "{text}");
    velos.ok(&["delete", "beta"]);
    server.python(&velos, "metrics", &[("VELOS_EXPECT_UP", "alpha")]);
    assert!(!velos.ok(&["metrics"]).contains("name=\"beta\""), "a deleted app's series are gone");
}

#[test]
fn the_cpu_counter_counts_the_time_an_app_burns() {
    let velos = Velos::new();
    // Busy for a moment, then asleep in the same process (exec keeps the pid and its CPU time).
    let burn = "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; exec sleep 3600";
    velos.start("burner", &["/bin/sh", "-c", burn], &[]);
    let cpu_seconds = |velos: &Velos| -> f64 {
        let text = velos.ok(&["metrics"]);
        text.lines()
            .find(|line| {
                line.starts_with("velos_process_cpu_seconds_total{") && line.contains("name=\"burner\"")
            })
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0.0)
    };
    wait_until(Duration::from_secs(30), "the burner's CPU time to be counted", || cpu_seconds(&velos) >= 0.2);
    let counted = cpu_seconds(&velos);
    velos.ok(&["restart", "burner"]);
    wait_until(Duration::from_secs(30), "the counter to go on past a restart", || {
        cpu_seconds(&velos) > counted
    });
}

/// A sample of `velos metrics` for one instance, e.g. `velos_log_lines_total` of `talker`'s `out`.
fn sample(text: &str, family: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .find(|line| {
            line.starts_with(&format!("{family}{{")) && labels.iter().all(|label| line.contains(label))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[test]
fn log_lines_and_bytes_are_counted_per_stream_across_restarts() {
    let velos = Velos::new();
    // Three lines (9 bytes) out and one (5 bytes) err per run, then quiet.
    let talk = "printf 'a\\nbb\\nccc\\n'; printf 'oops\\n' >&2; exec sleep 3600";
    velos.start("talker", &["/bin/sh", "-c", talk], &[]);
    let counts = |velos: &Velos| -> [Option<f64>; 4] {
        let text = velos.ok(&["metrics"]);
        let name = "name=\"talker\"";
        [
            sample(&text, "velos_log_lines_total", &[name, "stream=\"out\""]),
            sample(&text, "velos_log_bytes_total", &[name, "stream=\"out\""]),
            sample(&text, "velos_log_lines_total", &[name, "stream=\"err\""]),
            sample(&text, "velos_log_bytes_total", &[name, "stream=\"err\""]),
        ]
    };
    wait_until(Duration::from_secs(30), "the first run's lines to be counted", || {
        counts(&velos) == [Some(3.0), Some(9.0), Some(1.0), Some(5.0)]
    });
    velos.ok(&["restart", "talker"]);
    wait_until(Duration::from_secs(30), "the counters to go on past a restart", || {
        counts(&velos) == [Some(6.0), Some(18.0), Some(2.0), Some(10.0)]
    });
    // The same numbers on the wire, for any client: `velos info --json` carries the record.
    let info: String = velos.ok(&["info", "talker", "--json"]).split_whitespace().collect();
    assert!(info.contains("\"log_out_lines\":6") && info.contains("\"log_err_bytes\":10"), "{info}");
}

#[test]
fn a_signed_push_syncs_its_project_and_a_bad_signature_changes_nothing() {
    let velos = Velos::new();
    let repo = Repo::new();
    repo.push(&one_web_app(&velos, "hooked", 8001), "change");
    let bare = repo.bare().display().to_string();
    velos.ok(&["apply", "--git", &bare, "--ref", "main", "--path", "velos.toml"]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8001"));
    let server = ApiServer::start(&velos);
    repo.push(&one_web_app(&velos, "hooked", 8002), "change");
    let env = [("VELOS_REPO", bare.as_str()), ("VELOS_PROJECT", "hooked")];

    server.python(&velos, "webhook_bad", &env);
    velos.ok(&["status"]);
    assert_eq!(velos.env_of("web", "PORT").as_deref(), Some("8001"), "a refused delivery syncs nothing");

    server.python(&velos, "webhook_good", &env);
    wait_until(Duration::from_secs(10), "the pushed commit to run", || {
        velos.env_of("web", "PORT").as_deref() == Some("8002")
    });
}

/// An app that prints `MARKER-<contents>` each time the file `trigger` appears (then removes it).
fn start_talker(velos: &Velos, trigger: &Path) {
    let script = format!(
        "while true; do if [ -f {t} ]; then echo MARKER-$(cat {t}); rm -f {t}; fi; sleep 0.02; done",
        t = trigger.display()
    );
    velos.start("talker", &["/bin/sh", "-c", &script], &[]);
    velos.wait_status("talker", "running", Duration::from_secs(5));
}

#[test]
fn a_websocket_follow_gets_the_lines_written_after_it_connected() {
    let velos = Velos::new();
    let trigger = velos.home().join("trigger");
    start_talker(&velos, &trigger);
    velos.start("quiet", &["/bin/sleep", "3600"], &[]);
    let server = ApiServer::start(&velos);
    server.python(&velos, "follow", &[("VELOS_TRIGGER", trigger.to_str().unwrap())]);
}

#[test]
fn a_slow_websocket_client_is_dropped_and_the_daemon_is_not_slowed() {
    let velos = Velos::new();
    // ~6 MB/s of output for a few seconds, into the temporary home that the test removes.
    let spew = "import sys, time\nline = 'x' * 1000 + '\\n'\nwhile True:\n    sys.stdout.write(line * 32)\n    sys.stdout.flush()\n    time.sleep(0.005)\n";
    velos.start("spew", &["/usr/bin/env", "python3", "-c", spew], &[]);
    velos.wait_status("spew", "running", Duration::from_secs(5));
    let server = ApiServer::start(&velos);
    let log = velos.log_path("spew", "out");
    server.python(&velos, "slow_client", &[("VELOS_SPEW_LOG", log.to_str().unwrap())]);
    assert_eq!(velos.status("spew"), "running");
}

#[test]
fn the_events_stream_reports_state_changes_and_applies() {
    let velos = Velos::new();
    start_talker(&velos, &velos.home().join("trigger"));
    let server = ApiServer::start(&velos);
    let bin = velos_e2e::velos_bin();
    server.python(&velos, "events", &[("VELOS_BIN", bin.to_str().unwrap())]);
}

/// A project `shop` in its own folder: `web` says hello and sleeps, `jobs` sleeps; with comments that a
/// patch must keep.
fn shop(velos: &Velos) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("velos-api-shop-").tempdir_in("/tmp").unwrap();
    let mark = velos.mark();
    let (key, value) = mark.split_once('=').unwrap();
    let text = format!(
        "# the shop's project file\n[project]\nname = \"shop\"\n\n\
         # the shop's web front\n[apps.web]\ncommand = \"/bin/sh\"\n\
         args = [\"-c\", \"echo hello from web; exec sleep 3600\"]\n\
         env = {{ {key} = \"{value}\", PORT = \"8001\" }}  # the port it listens on\n\n\
         # background jobs\n[apps.jobs]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\nenv = {{ {key} = \"{value}\" }}\n"
    );
    let file = dir.path().join("velos.toml");
    std::fs::write(&file, text).unwrap();
    velos.ok(&["apply", file.to_str().unwrap()]);
    wait_until(Duration::from_secs(5), "web to say hello", || {
        std::fs::read_to_string(velos.log_path("web", "out")).unwrap_or_default().contains("hello from web")
    });
    dir
}

#[test]
fn reads_answer_like_the_cli_in_the_documented_shape() {
    let velos = Velos::new();
    let _shop = shop(&velos);
    let server = ApiServer::start(&velos);
    server.python(&velos, "reads", &[]);
}

#[test]
fn a_merge_patch_restarts_only_the_app_it_changes_and_stale_or_invalid_ones_write_nothing() {
    let velos = Velos::new();
    let shop = shop(&velos);
    let server = ApiServer::start(&velos);
    server.python(&velos, "patch", &[]);
    let web = velos.pid("web");
    assert!(environ_of(web).contains(&"PORT=8002".to_string()), "web runs with the patched env");
    let status = velos.ok(&["status"]);
    assert!(status.contains("synced"), "the host runs the patched file: {status}");
    drop(shop);
}

#[test]
fn the_app_verbs_work_over_http() {
    let velos = Velos::new();
    let _shop = shop(&velos);
    let server = ApiServer::start(&velos);
    server.python(&velos, "writes", &[]);
    assert!(velos.app("web").is_none(), "deleted over HTTP");
}

/// One HTTP/1.1 request over a Unix socket; the status line and the body.
fn unix_get(socket: &Path, path: &str, token: Option<&str>) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    let auth = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

#[test]
fn a_unix_socket_server_is_private_and_still_wants_a_token() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let velos = Velos::new();
    velos.start("alpha", &["/bin/sleep", "3600"], &[]);
    let socket = velos.home().join("api.sock");
    let server = ApiServer::start_with(&velos, &["--unix", socket.to_str().unwrap()]);
    assert_eq!(server.url, format!("unix:{}", socket.display()));
    let metadata = std::fs::symlink_metadata(&socket).unwrap();
    assert!(metadata.file_type().is_socket());
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "the socket is the owner's only");
    assert_eq!(unix_get(&socket, "/healthz", None).0, "HTTP/1.1 200 OK");
    assert_eq!(unix_get(&socket, "/v1/apps", None).0, "HTTP/1.1 401 Unauthorized");
    let (status, body) = unix_get(&socket, "/v1/apps", Some(&server.read_token));
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("\"alpha\""), "{body}");
    // A second server on the same path is refused while the first listens.
    let stderr = velos.fails(&["serve", "--unix", socket.to_str().unwrap()]);
    assert!(stderr.contains("another server listens on"), "{stderr}");
    drop(server);
    assert!(!socket.exists(), "the socket is removed when the server stops");
}

#[test]
fn metrics_are_pushed_to_an_otlp_collector() {
    let velos = Velos::new();
    velos.start("alpha", &["/bin/sleep", "3600"], &[]);
    let (address, received) = velos_e2e::otlp::receiver();
    let endpoint = format!("http://{address}");
    let _server = ApiServer::start_with(
        &velos,
        &["--listen", "127.0.0.1:0", "--otlp-endpoint", &endpoint, "--otlp-interval", "200ms"],
    );
    let (request_line, export) =
        received.recv_timeout(Duration::from_secs(10)).expect("an export within 10 s");
    // Each push sends the metrics first, then the log lines waiting (none: alpha writes nothing).
    assert_eq!(request_line, "POST /v1/metrics HTTP/1.1");
    let metrics =
        export["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].as_array().cloned().unwrap_or_default();
    let up = metrics.iter().find(|metric| metric["name"] == "velos_process_up").expect("velos_process_up");
    let points = up["gauge"]["dataPoints"].as_array().unwrap();
    let alpha = points
        .iter()
        .find(|point| {
            point["attributes"].as_array().unwrap().iter().any(|a| a["value"]["stringValue"] == "alpha")
        })
        .expect("a point for alpha");
    assert_eq!(alpha["asInt"], "1", "{alpha}");
    // The next push comes by itself.
    received.recv_timeout(Duration::from_secs(10)).expect("a second export");
    // An app's lines are pushed too, from when it is first seen (OTLP logs).
    velos.start("chatty", &["/bin/sh", "-c", "while :; do echo WARN low disk; sleep 0.1; done"], &[]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let record = loop {
        assert!(std::time::Instant::now() < deadline, "no log record of chatty within 20 s");
        let Ok((line, export)) = received.recv_timeout(Duration::from_secs(5)) else { continue };
        if line != "POST /v1/logs HTTP/1.1" {
            continue;
        }
        let records = export["resourceLogs"][0]["scopeLogs"][0]["logRecords"].as_array().cloned().unwrap();
        if let Some(record) = records.into_iter().next() {
            break record;
        }
    };
    assert_eq!(record["body"]["stringValue"], "WARN low disk", "{record}");
    assert_eq!(
        (record["severityText"].as_str(), record["severityNumber"].as_u64()),
        (Some("WARN"), Some(13))
    );
    let attributes = record["attributes"].as_array().unwrap();
    assert!(
        attributes.iter().any(|a| a["key"] == "app" && a["value"]["stringValue"] == "chatty"),
        "{record}"
    );
}
