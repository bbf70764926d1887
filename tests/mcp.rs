//! `velos mcp` end to end, with the official Python MCP SDK as the client (tests/python/mcp_session.py)
//! against a real daemon: discover and initialize, the tool list (a golden file), every read tool within
//! its budget on an app that wrote 1,000,000 lines, propose changes nothing, the CLI approves exactly that
//! app, a stale proposal is refused, write tools follow the policy, stdout carries only JSON-RPC.
#![allow(clippy::unwrap_used)]
use serde_json::Value;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;
use velos_e2e::{python, repository, wait_until, Velos};

/// Lines the chatty app writes before it sleeps; one in a thousand says ERROR.
const CHATTY_LINES: u32 = 1_000_000;

struct Shop {
    velos: Velos,
    dir: tempfile::TempDir,
}

impl Shop {
    /// A project `shop` (web, worker, chatty) applied, and chatty done writing its million lines.
    fn applied(policy: &str) -> Shop {
        let velos = Velos::new();
        let dir = tempfile::Builder::new().prefix("mcp-shop-").tempdir_in("/tmp").unwrap();
        let shop = Shop { velos, dir };
        std::fs::write(shop.file(), shop.text(policy)).unwrap();
        shop.velos.ok(&["apply", &shop.file().display().to_string()]);
        let log = shop.velos.log_path("chatty", "out");
        wait_until(Duration::from_secs(60), "chatty's million lines", || {
            // The daemon dates each line (log.timestamps, on by default): the text follows the time.
            last_line(&log).is_some_and(|line| line.contains(&format!(" line {CHATTY_LINES} ")))
        });
        shop
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("velos.toml")
    }

    fn text(&self, policy: &str) -> String {
        let mark = self.velos.mark();
        let (key, value) = mark.split_once('=').unwrap();
        let env = format!("env = {{ {key} = \"{value}\", PORT = \"8000\" }}");
        let chatty = format!(
            "awk 'BEGIN {{ for (i = 1; i <= {CHATTY_LINES}; i++) if (i % 1000 == 0) print \"line \" i \" ERROR db timeout after 3000 ms\"; else print \"line \" i \" info request served in 3 ms\" }}'; exec /bin/sleep 3600"
        );
        format!(
            "# The shop, for the MCP test.\n[project]\nname = \"shop\"\n\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n{env} # the front\n\n[apps.worker]\ncommand = \"/bin/sleep\"\nargs = [\"3601\"]\n{env}\n\n[apps.chatty]\ncommand = \"/bin/sh\"\nargs = [\"-c\", {chatty:?}]\n{env}\n{policy}"
        )
    }

    /// Runs a scenario of mcp_session.py; its last stdout line is the report.
    fn session(&self, scenario: &str, args: &[&str]) -> Value {
        let output = python("mcp_session.py")
            .arg(scenario)
            .arg(velos_e2e::velos_bin())
            .arg(self.velos.home())
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "mcp_session.py {scenario} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap()
    }

    fn pids(&self) -> Vec<(String, u64)> {
        self.velos
            .list()
            .iter()
            .map(|app| (app["name"].as_str().unwrap().into(), app["pid"].as_u64().unwrap()))
            .collect()
    }
}

/// The last line of a file, reading only its end.
fn last_line(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(200))).ok()?;
    let mut tail = String::new();
    file.read_to_string(&mut tail).ok()?;
    tail.lines().last().map(str::to_string)
}

/// Compares the tool list with tests/golden/mcp_tools.json; `VELOS_BLESS=1` rewrites it.
fn check_golden(tools: &Value) {
    let path = repository().join("tests/golden/mcp_tools.json");
    let text = format!("{}\n", serde_json::to_string_pretty(tools).unwrap());
    if std::env::var_os("VELOS_BLESS").is_some_and(|value| value == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error}; run VELOS_BLESS=1 cargo test -p velos-e2e --test mcp",
            path.display()
        )
    });
    assert!(golden == text, "the MCP tool list changed; review it and run VELOS_BLESS=1 cargo test -p velos-e2e --test mcp\n{text}");
}

#[test]
fn an_agent_reads_within_budget_and_proposes_and_a_human_approves() {
    let shop = Shop::applied("");
    let before_text = std::fs::read_to_string(shop.file()).unwrap();
    let before = shop.pids();

    let report = shop.session("read", &["chatty", "shop", &shop.file().display().to_string()]);
    assert_eq!(report["protocol"], "2026-07-28");
    check_golden(&report["tools"]);
    for (call, tokens) in report["sizes"].as_object().unwrap() {
        assert!(tokens.as_u64().unwrap() <= 2000, "{call}: {tokens} tokens");
    }
    // Proposing changed nothing on the host.
    assert_eq!(std::fs::read_to_string(shop.file()).unwrap(), before_text);
    assert_eq!(shop.pids(), before);

    let id = report["proposal"].as_str().unwrap();
    let listed = shop.velos.ok(&["proposals", "list"]);
    assert!(listed.contains(id) && listed.contains("port clash on 8000"), "{listed}");
    let shown = shop.velos.ok(&["proposals", "show", id]);
    assert!(shown.contains("+env = {") && shown.contains("~ replace web"), "{shown}");
    let approved = shop.velos.ok(&["proposals", "approve", id]);
    assert!(approved.contains("replace web"), "{approved}");
    let after = shop.pids();
    let changed: Vec<&str> =
        after.iter().filter(|entry| !before.contains(entry)).map(|(name, _)| name.as_str()).collect();
    assert_eq!(changed, ["web"], "exactly web is replaced");
    let text = std::fs::read_to_string(shop.file()).unwrap();
    assert_eq!(
        text,
        before_text.replacen("PORT = \"8000\" } # the front", "PORT = \"8081\" } # the front", 1)
    );
    let history = shop.velos.ok(&["proposals", "show", id, "--json"]);
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history["state"], "approved");
    assert!(history["decision"]["history_seq"].as_u64().is_some(), "{history}");
}

#[test]
fn a_stale_proposal_is_refused_and_the_old_revision_serves_legacy_clients() {
    let shop = Shop::applied("");
    let report =
        shop.session("propose", &["shop", r#"{"apps": {"worker": {"args": ["42"]}}}"#, "shorter sleep"]);
    let id = report["proposal"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(shop.file()).unwrap();
    std::fs::write(shop.file(), format!("# edited by hand\n{text}")).unwrap();
    let refused = shop.velos.fails(&["proposals", "approve", &id]);
    assert!(refused.contains("stale") && refused.contains("propose again"), "{refused}");
    assert!(std::fs::read_to_string(shop.file()).unwrap().contains("args = [\"3601\"]"));
    let listed = shop.velos.ok(&["proposals", "list"]);
    assert!(listed.contains("stale"), "{listed}");

    let legacy = shop.session("legacy", &[]);
    assert_eq!(legacy["protocol"], "2025-06-18");
    assert_eq!(legacy["stderr"], "", "velos mcp wrote to stderr");
}

#[test]
fn write_tools_follow_the_policy_and_a_daemon_that_is_down_is_a_clear_error() {
    let shop = Shop::applied("\n[velos.agents]\napply = true\nrestart = true\n");
    let before = shop.pids();
    let report = shop.session("apply", &["shop", r#"{"apps": {"worker": {"args": ["3602"]}}}"#]);
    assert!(report["plan"].as_str().unwrap().contains("replace worker"), "{report}");
    let after = shop.pids();
    let changed: Vec<&str> =
        after.iter().filter(|entry| !before.contains(entry)).map(|(name, _)| name.as_str()).collect();
    assert_eq!(changed, ["web", "worker"], "worker replaced by the proposal, web restarted");
    let actions = std::fs::read_to_string(shop.velos.home().join("proposals/actions.log")).unwrap();
    for action in ["propose", "approve", "restart_app", "reload"] {
        assert!(actions.contains(&format!("\"action\":\"{action}\"")), "{action}: {actions}");
    }
    assert!(actions.contains("\"by\":\"mcp\""), "the MCP client's name is recorded: {actions}");

    shop.velos.ok(&["kill"]);
    let down = shop.session("down", &[]);
    assert!(down["error"].as_str().unwrap().contains("daemon_not_running"), "{down}");
}
