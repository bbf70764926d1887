//! The renderings, with fixed records.
use super::*;
use velos_core::AppSpec;
use velos_core::{ProcessRecord, Status};

pub fn record(name: &str, status: Status, pid: u32) -> ProcessRecord {
    let mut spec = AppSpec::new(name, "/bin/sleep", "/tmp");
    spec.args = vec!["3600".into()];
    spec.spec_hash = spec.compute_hash();
    velos_reconcile::testing::record_for(&spec, status, pid)
}

fn fixed_records() -> Vec<ProcessRecord> {
    let mut api = record("api", Status::Running, 4242);
    api.cpu = 12.345;
    api.memory = 25 * 1024 * 1024 + 300 * 1024;
    api.uptime_ms = 3 * 3_600_000 + 5_000;
    api.restarts = 2;
    let mut worker = record("worker-long-name", Status::Errored, 0);
    worker.exit_code = Some(3);
    worker.restarts = 10;
    worker.last_error = Some("restarted 10 times within 1m".into());
    vec![api, worker, record("web", Status::Stopped, 0)]
}

#[test]
fn table_without_colour() {
    let expected = "\
NAME               PID  STATUS   RESTARTS    CPU    MEMORY  UPTIME
api               4242  running         2  12.3%  25.3 MiB      3h
worker-long-name     -  errored        10      -         -       -
web                  -  stopped         0      -         -       -
";
    assert_eq!(list_table(&fixed_records(), false), expected);
}

#[test]
fn table_colours_only_the_status() {
    let table = list_table(&fixed_records(), true);
    let api_line = table.lines().nth(1).expect("api row");
    assert_eq!(api_line, "api               4242  \x1b[32mrunning\x1b[0m         2  12.3%  25.3 MiB      3h");
    assert!(table.lines().nth(2).expect("worker row").contains("\x1b[31merrored\x1b[0m"));
    assert!(!list_table(&fixed_records(), false).contains('\x1b'));
}

#[test]
fn empty_table_is_the_header() {
    assert_eq!(list_table(&[], false), "NAME  PID  STATUS  RESTARTS  CPU  MEMORY  UPTIME\n");
}

#[test]
fn ai_form() {
    let expected = concat!(
        r#"[{"n":"api","s":"running","c":12.3,"m":26521600,"r":2,"u":10805,"p":4242},"#,
        r#"{"n":"worker-long-name","s":"errored","c":0.0,"m":0,"r":10,"u":0,"p":0},"#,
        r#"{"n":"web","s":"stopped","c":0.0,"m":0,"r":0,"u":0,"p":0}]"#
    );
    assert_eq!(list_ai(&fixed_records()), expected);
}

#[test]
fn json_form_has_the_documented_keys() {
    let value: serde_json::Value = serde_json::from_str(&list_json(&fixed_records())).expect("json");
    let first = &value[0];
    for key in [
        "name",
        "pid",
        "status",
        "restarts",
        "cpu",
        "memory",
        "uptime_ms",
        "exit_code",
        "exit_signal",
        "last_error",
        "spec_hash",
    ] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
    assert_eq!(first["memory"], 26521600);
    assert_eq!(value[1]["exit_code"], 3);
    assert_eq!(value[1]["last_error"], "restarted 10 times within 1m");
    assert_eq!(value[2]["exit_code"], serde_json::Value::Null);
}

#[test]
fn human_units() {
    assert_eq!(uptime_short(0), "0s");
    assert_eq!(uptime_short(59_999), "59s");
    assert_eq!(uptime_short(60_000), "1m");
    assert_eq!(uptime_short(7_200_000), "2h");
    assert_eq!(uptime_short(3 * 86_400_000), "3d");
    assert_eq!(uptime_long(42_000), "42s");
    assert_eq!(uptime_long(303_000), "5m 3s");
    assert_eq!(uptime_long(3 * 3_600_000 + 12 * 60_000), "3h 12m");
    assert_eq!(uptime_long(86_400_000 + 3_600_000), "1d 1h");
    assert_eq!(duration_exact(100), "100ms");
    assert_eq!(duration_exact(5_000), "5s");
    assert_eq!(duration_exact(90_000), "1m30s");
    assert_eq!(duration_exact(1_500), "1s500ms", "as velos.toml reads it back");
    assert_eq!(duration_exact(60_000), "1m");
    assert_eq!(bytes_human(0), "0 B");
    assert_eq!(bytes_human(1023), "1023 B");
    assert_eq!(bytes_human(1536), "1.5 KiB");
    assert_eq!(bytes_human(5 * 1024 * 1024 * 1024), "5.0 GiB");
}

#[test]
fn utc_times_and_ages() {
    assert_eq!(utc_time(0), "1970-01-01 00:00:00");
    assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00:00");
    assert_eq!(utc_time(1_700_000_000_123), "2023-11-14 22:13:20");
    assert_eq!(utc_time(4_102_444_799_000), "2099-12-31 23:59:59");
    assert_eq!(ago(100_000, 40_000), "1m ago");
    assert_eq!(ago(100_000, 99_000), "1s ago");
    assert_eq!(ago(100_000, 200_000), "just now");
    assert_eq!(plural(1, "app"), "1 app");
    assert_eq!(plural(2, "process"), "2 processes");
}

#[test]
fn status_table_snapshot() {
    use velos_core::Status;
    use velos_reconcile::{AppStatus, LastApply, LastResult, ProjectStatus, Readiness, SyncState};
    let now = 1_700_000_000_000;
    let status = |project: &str, state, message: &str, last: Option<(u64, LastResult, &str)>| ProjectStatus {
        project: project.into(),
        source: format!("/srv/{project}/velos.toml"),
        revision: "file:3f9a0c1d22334455".into(),
        state,
        message: message.into(),
        hint: None,
        last_apply: last.map(|(ago_ms, result, message)| LastApply {
            seq: Some(3),
            time_unix_ms: now - ago_ms,
            result,
            message: message.into(),
        }),
        apps: Vec::new(),
    };
    let app = |name: &str, readiness: Readiness, reason: &str| AppStatus {
        name: name.into(),
        readiness,
        status: Some(Status::Running),
        restarts: 0,
        reason: reason.into(),
        health: None,
    };
    let mut shop = status("shop", SyncState::Synced, "", Some((120_000, LastResult::Ok, "ok")));
    shop.apps = vec![app("cart", Readiness::Ready, ""), app("pay", Readiness::Ready, "")];
    let mut jobs = status(
        "jobs",
        SyncState::Degraded,
        "not ready: crashy (restarted 3 times, last exit code 1)",
        Some((1_000, LastResult::Ok, "ok")),
    );
    jobs.apps = vec![app("crashy", Readiness::CrashLoop, "restarted 3 times, last exit code 1")];
    let statuses = [
        ProjectStatus {
            hint: Some("the server refused the credentials in [velos.git]".into()),
            ..status("blog", SyncState::Error, "/srv/blog/velos.toml: cannot read", None)
        },
        jobs,
        shop,
        status(
            "web",
            SyncState::OutOfSync,
            "1 change pending: replace api",
            Some((5_000, LastResult::Failed, "failed: replace api")),
        ),
    ];
    insta::assert_snapshot!(status_table(&statuses, now, false), @r"
    PROJECT  STATE        READY  REVISION        SOURCE                LAST APPLY      MESSAGE
    blog     error        -      file:3f9a0c1d…  /srv/blog/velos.toml  -               /srv/blog/velos.toml: cannot read
    jobs     degraded     0/1    file:3f9a0c1d…  /srv/jobs/velos.toml  1s ago, ok      not ready: crashy (restarted 3 times, last exit code 1)
    shop     synced       2/2    file:3f9a0c1d…  /srv/shop/velos.toml  2m ago, ok      -
    web      out of sync  -      file:3f9a0c1d…  /srv/web/velos.toml   5s ago, failed  1 change pending: replace api
    hint: blog: the server refused the credentials in [velos.git]
    ");
    assert!(status_table(&statuses, now, true).contains("\x1b[32msynced"));
}

#[test]
fn history_table_and_json() {
    let entry = |seq: u64, ok: bool, actions: serde_json::Value| velos_reconcile::HistoryEntry {
        seq,
        project: "shop".into(),
        file: "/srv/shop/velos.toml".into(),
        revision: format!("file:{seq:016x}"),
        source_text: "[apps.web]\ncommand = \"/bin/true\"\n".into(),
        time_unix_ms: 1_700_000_000_000 + seq * 60_000,
        plan: serde_json::json!({ "actions": actions }),
        report: serde_json::json!({ "ok": ok }),
        ready: None,
    };
    let entries = [
        entry(
            1,
            true,
            serde_json::json!([{"action": "create", "name": "web"}, {"action": "create", "name": "db"}]),
        ),
        entry(
            2,
            false,
            serde_json::json!([{"action": "replace", "name": "web"}, {"action": "delete", "name": "db"}]),
        ),
        entry(3, true, serde_json::json!([])),
    ];
    insta::assert_snapshot!(history_table(&entries), @r"
    #  PROJECT  REVISION        TIME (UTC)           RESULT  CHANGES
    1  shop     file:00000000…  2023-11-14 22:14:20  ok      2 create
    2  shop     file:00000000…  2023-11-14 22:15:20  failed  1 replace, 1 delete
    3  shop     file:00000000…  2023-11-14 22:16:20  ok      no changes
    ");
    let json: serde_json::Value = serde_json::from_str(&history_json(&entries)).expect("json");
    assert_eq!(json[1]["ok"], false);
    assert_eq!(json[0]["seq"], 1);
    assert!(json[0].get("source_text").is_none(), "the file texts stay out");
}

#[test]
fn shell_quoting() {
    assert_eq!(shell_words(["/bin/sh", "-c", "echo hi"]), "/bin/sh -c 'echo hi'");
    assert_eq!(shell_words(["echo", "it's", ""]), "echo 'it'\\''s' ''");
    assert_eq!(
        shell_words(["python3", "-m", "http.server", "--bind=127.0.0.1"]),
        "python3 -m http.server --bind=127.0.0.1"
    );
}

#[test]
fn info_view() {
    let mut web = record("web", Status::Running, 1234);
    web.uptime_ms = 303_000;
    web.memory = 2 * 1024 * 1024;
    web.cpu = 0.5;
    web.exit_signal = Some(9);
    web.spec.args = vec!["-c".into(), "echo hi; sleep 9".into()];
    web.spec.command = "/bin/sh".into();
    web.spec.env = vec!["PATH=/bin".into(), "TOKEN=secret".into()];
    web.spec.labels.insert("app".into(), "web".into());
    web.spec.spec_hash = "0123456789abcdef".into();
    let home = velos_ops::Home::new("/h").expect("home");
    let app = velos_ops::AppInfo {
        out_log: home.log_file("web", velos_core::Stream::Out),
        err_log: home.log_file("web", velos_core::Stream::Err),
        tracking: Some("procfs".into()),
        schedule: None,
        health: None,
        record: web,
    };
    let expected = "\
name        web
status      running
pid         1234
command     /bin/sh -c 'echo hi; sleep 9'
cwd         /tmp
uptime      5m 3s
restarts    0
cpu         0.5%
memory      2.0 MiB
last exit   killed by SIGKILL
last error  -
restart     on-failure (at most 10 in 1m, backoff 100ms to 5s, reset after 1s up)
stop        SIGTERM to the process tree, SIGKILL after 5s
tracking    procfs: the whole process tree, setsid and double forks included
env         PATH TOKEN
out log     /h/logs/web-out.log
err log     /h/logs/web-err.log
spec hash   0123456789abcdef
labels      app=web
";
    assert_eq!(info_text(&app), expected);
    assert!(!info_text(&app).contains("secret"), "env values are not shown");
}

#[test]
fn what_a_verb_did() {
    let change =
        |pid_before, pid, status| velos_ops::InstanceChange { name: "web".into(), pid_before, pid, status };
    assert_eq!(started(&change(0, 7, Some(Status::Starting))), "started web (pid 7)");
    assert_eq!(started(&change(7, 7, Some(Status::Running))), "web is already running (pid 7)");
    assert_eq!(stopped(&change(7, 0, Some(Status::Stopped))), "stopped web (was pid 7)");
    assert_eq!(stopped(&change(0, 0, Some(Status::Stopped))), "web is not running (stopped)");
    assert_eq!(deleted(&change(7, 0, None)), "deleted web (stopped pid 7)");
    assert_eq!(
        valid(std::path::Path::new("velos.toml"), "shop", 2, 3),
        "velos.toml: valid (project shop, 2 apps, 3 processes)"
    );
}

#[test]
fn info_view_with_schedules() {
    use velos_controller::schedule::{AppScheduleStatus, ScheduledRestart, Trigger};
    let home = velos_ops::Home::new("/h").expect("home");
    let runner = AppScheduleStatus {
        watched_folders: 3,
        watch_problems: vec!["/srv/app/gone: No such file or directory (os error 2)".into()],
        cron_restarts: 1,
        last_restart: Some(ScheduledRestart {
            by: Trigger::CronRestart,
            at: "2026-11-30T03:00:00+01:00".into(),
            reason: "0 3 * * *".into(),
            error: None,
        }),
        ..AppScheduleStatus::default()
    };
    let app = velos_ops::AppInfo {
        out_log: home.log_file("web", velos_core::Stream::Out),
        err_log: home.log_file("web", velos_core::Stream::Err),
        tracking: None,
        health: None,
        schedule: Some(velos_ops::AppSchedule {
            cron_restart: Some("0 3 * * *".into()),
            next_restart: Some("2026-12-01T03:00:00+01:00".into()),
            watch: Some(velos_schedule::WatchSpec {
                paths: vec!["/srv/app/src".into()],
                ignore: vec!["*.log".into()],
                debounce_ms: 500,
            }),
            runner: Some(runner),
        }),
        record: record("web", Status::Running, 1234),
    };
    let text = info_text(&app);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("sched") || line.contains("watch") || line.contains("cron"))
        .collect();
    assert_eq!(
        lines,
        [
            "cron restart    0 3 * * * (next 2026-12-01T03:00:00+01:00)",
            "watch           /srv/app/src, ignoring *.log, debounce 500ms, 3 folders watched",
            "watch problem   /srv/app/gone: No such file or directory (os error 2)",
            "last scheduled  restarted by cron_restart at 2026-11-30T03:00:00+01:00 (0 3 * * *)",
        ]
    );
}

fn following_line(following: &velos_ops::Following) -> String {
    super::outcomes::following(following)
}

#[test]
fn following_says_what_the_controller_serves() {
    let following = velos_ops::Following {
        project: "shop".into(),
        source: "/srv/shop/velos.toml".into(),
        git: None,
        watch: true,
        self_heal: true,
        look_ms: 30_000,
        serves: vec!["http://127.0.0.1:9700".into(), "otlp http://127.0.0.1:4318".into()],
    };
    assert_eq!(
        following_line(&following),
        "velos-controller follows project shop: each save of /srv/shop/velos.toml is applied; drift is undone \
         at least every 30s; it serves the API on http://127.0.0.1:9700; it exports metrics and log lines to \
         http://127.0.0.1:4318. velos status shows where it stands."
    );
    let plain = velos_ops::Following { serves: Vec::new(), ..following };
    assert!(!following_line(&plain).contains("serves"), "nothing served, nothing said");
}
