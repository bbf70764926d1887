//! Records and keys for driving an App as the runtime would.
#![allow(dead_code)]
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;
use velos_core::{AppSpec, ProcessRecord, Status};
use velos_tui::{App, Effect, Event};

pub fn record(
    name: &str,
    project: &str,
    instance: u32,
    status: Status,
    cpu: f64,
    memory_mib: u64,
) -> ProcessRecord {
    let app =
        name.rsplit_once('-').filter(|(_, tail)| tail.parse::<u32>().is_ok()).map_or(name, |(app, _)| app);
    let mut spec = AppSpec::new(name, "/usr/bin/python3", format!("/srv/{project}"));
    spec.args = vec!["-m".into(), "http.server".into()];
    spec.env = vec!["PATH=/usr/bin".into(), "PORT=8000".into(), "API_TOKEN=secret-value".into()];
    spec.labels.insert("project".into(), project.into());
    spec.labels.insert("app".into(), app.into());
    spec.labels.insert("instance".into(), instance.to_string());
    spec.labels.insert("source_rev".into(), "9f2c1e0d4b7a55aa".into());
    let running = status == Status::Running;
    let mut record = ProcessRecord::fresh(spec, status, if running { 4100 + instance * 7 } else { 0 });
    record.cpu = cpu;
    record.memory = memory_mib * 1024 * 1024;
    record.uptime_ms = if running { 3 * 3_600_000 + 720_000 } else { 0 };
    if status == Status::Errored {
        record.exit_code = Some(1);
        record.restarts = 10;
        record.last_error = Some("restarted 10 times within 1m: gave up".into());
    }
    record
}

/// A dozen apps in three projects.
pub fn fleet() -> Vec<ProcessRecord> {
    vec![
        record("api-0", "shop", 0, Status::Running, 12.5, 48),
        record("api-1", "shop", 1, Status::Running, 3.0, 45),
        record("web", "shop", 0, Status::Running, 0.4, 22),
        record("cron", "shop", 0, Status::Completed, 0.0, 0),
        record("mailer", "jobs", 0, Status::Errored, 0.0, 0),
        record("queue-0", "jobs", 0, Status::Running, 7.5, 130),
        record("queue-1", "jobs", 1, Status::Running, 6.0, 128),
        record("queue-2", "jobs", 2, Status::Waiting, 0.0, 0),
        record("redis", "infra", 0, Status::Running, 1.2, 9),
        record("proxy", "infra", 0, Status::Running, 0.1, 6),
        record("metrics", "infra", 0, Status::Starting, 0.0, 0),
        record("backup", "infra", 0, Status::Stopped, 0.0, 0),
    ]
}

pub fn app() -> App {
    App::new("/home/op/.velos", Duration::from_secs(1), false)
}

pub fn key(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}
