//! `velos mcp` over stdio: the time of a `list_apps` call with 100 apps (client writes the request, reads
//! the answer line), and the server's resident memory after the calls. Raw JSON-RPC lines, so no client
//! library's overhead is in the figure.
use crate::scenarios::Row;
use crate::{median, Home};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const APPS: usize = 100;
const CALLS: usize = 300;

pub fn mcp_scenarios(velos: &Path) -> Vec<Row> {
    let home = Home::new(velos);
    let file = home.path().join("velos.toml");
    let mut text = String::from("[project]\nname = \"bench\"\n");
    for index in 0..APPS {
        text.push_str(&format!("\n[apps.idle-{index:03}]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n"));
    }
    std::fs::write(&file, text).expect("write velos.toml");
    home.velos(&["apply", &file.display().to_string()]);

    let mut server = Command::new(velos)
        .arg("mcp")
        .env("VELOS_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("velos mcp");
    let mut input = server.stdin.take().expect("stdin");
    let mut output = BufReader::new(server.stdout.take().expect("stdout"));
    let mut exchange = |line: String| -> String {
        input.write_all(line.as_bytes()).expect("write");
        input.write_all(b"\n").expect("write");
        input.flush().expect("flush");
        let mut answer = String::new();
        output.read_line(&mut answer).expect("read");
        answer
    };
    exchange(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#.into());
    // A notification has no answer: write it with the first call.
    let mut times_ms = Vec::with_capacity(CALLS);
    let mut first = true;
    for id in 1..=CALLS {
        let call = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"list_apps","arguments":{{"budget":4000}}}}}}"#
        );
        let line = if first {
            format!("{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}}\n{call}")
        } else {
            call
        };
        first = false;
        let began = Instant::now();
        let answer = exchange(line);
        times_ms.push(began.elapsed().as_secs_f64() * 1000.0);
        let reply: serde_json::Value = serde_json::from_str(&answer).expect("JSON-RPC answer");
        let total = reply["result"]["structuredContent"]["total"].as_u64();
        assert_eq!(total, Some(APPS as u64), "list_apps answered {answer}");
    }
    let rss = rss_mib(server.id(), "VmRSS:");
    let peak = rss_mib(server.id(), "VmHWM:");
    let _ = server.kill();
    let _ = server.wait();
    let p99 = {
        let mut sorted = times_ms.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)]
    };
    vec![
        Row {
            scenario: format!("MCP list_apps, {APPS} apps, over stdio"),
            figure: format!("{:.2} ms (p99 {p99:.2})", median(times_ms)),
            target: "<= 10 ms a call",
        },
        Row {
            scenario: "velos mcp RSS after the calls".into(),
            figure: format!("{rss:.1} MiB (peak {peak:.1})"),
            target: "<= 15 MiB",
        },
    ]
}

fn rss_mib(pid: u32, key: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}
