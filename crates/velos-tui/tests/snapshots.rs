//! What the dashboard looks like in its main states, drawn into ratatui's TestBackend.
mod support;

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::Terminal;
use support::{app, fleet, key, keys};
use velos_core::{Status, Stream};
use velos_tui::{App, Event, ProjectSync};

fn draw(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|frame| velos_tui::render(app, frame)).expect("drawing");
    terminal.backend().to_string()
}

fn with_fleet() -> App {
    let mut app = app();
    app.update(Event::Listed(fleet()));
    app.update(Event::Projects(vec![
        ProjectSync { project: "shop".into(), state: "synced".into(), message: String::new() },
        ProjectSync {
            project: "jobs".into(),
            state: "out_of_sync".into(),
            message: "1 change pending".into(),
        },
        ProjectSync { project: "infra".into(), state: "error".into(), message: "file gone".into() },
    ]));
    app
}

fn with_logs(app: &mut App) {
    let name = app.selected.clone().expect("a selection");
    let generation = app.log_generation;
    let out =
        b"2026-11-30T08:00:01Z INFO listening on :8000\nGET /health 200 0.4ms\nGET /api/cart 200 12ms\n";
    let err = b"WARN slow query: 812ms\nERROR upstream timed out after 5s\n";
    app.update(Event::Log { generation, name: name.clone(), stream: Stream::Out, chunk: out.to_vec() });
    app.update(Event::Log { generation, name, stream: Stream::Err, chunk: err.to_vec() });
}

#[test]
fn many_apps() {
    let mut app = with_fleet();
    with_logs(&mut app);
    insta::assert_snapshot!(draw(&app, 130, 40));
}

#[test]
fn one_app_selected_with_its_history() {
    let mut app = with_fleet();
    // A minute of samples: the sparklines have something to draw.
    for second in 0..60u32 {
        let mut records = fleet();
        records[5].cpu = f64::from(second % 10) * 2.5;
        records[5].memory = (100 + u64::from(second)) * 1024 * 1024;
        app.update(Event::Listed(records));
    }
    for _ in 0..5 {
        key(&mut app, KeyCode::Down); // backup, metrics, proxy, redis, mailer, queue-0
    }
    assert_eq!(app.selected.as_deref(), Some("queue-0"));
    with_logs(&mut app);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    insta::assert_snapshot!(draw(&app, 130, 40));
}

#[test]
fn log_full_screen_with_a_search() {
    let mut app = with_fleet();
    with_logs(&mut app);
    key(&mut app, KeyCode::Enter); // table → logs
    key(&mut app, KeyCode::Char('f'));
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "slow");
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(draw(&app, 100, 24));
}

#[test]
fn help() {
    let mut app = with_fleet();
    key(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!(draw(&app, 110, 30));
}

#[test]
fn confirmation_of_a_restart() {
    let mut app = with_fleet();
    key(&mut app, KeyCode::Char('r'));
    insta::assert_snapshot!(draw(&app, 110, 30));
}

#[test]
fn daemon_down() {
    let mut app = with_fleet();
    app.update(Event::Down {
        message: "the velos daemon is not running (VELOS_HOME=/home/op/.velos)".into(),
        hint: Some("its state file holds 12 apps (7 to run): velos resurrect brings them back".into()),
    });
    insta::assert_snapshot!(draw(&app, 110, 30));
}

#[test]
fn too_narrow_shows_the_table_only() {
    let mut app = with_fleet();
    with_logs(&mut app);
    app.update(Event::Resize { width: 60, height: 24 });
    insta::assert_snapshot!(draw(&app, 60, 24));
}

#[test]
fn no_apps_yet() {
    let mut app = app();
    app.update(Event::Listed(Vec::new()));
    insta::assert_snapshot!(draw(&app, 90, 20));
}

#[test]
fn stale_records_are_drawn_but_the_status_says_down() {
    let mut app = with_fleet();
    app.update(Event::Down { message: "gone".into(), hint: None });
    let screen = draw(&app, 130, 40);
    assert!(screen.contains("✖ daemon down"), "{screen}");
    assert!(screen.contains("api-0"), "{screen}");
    // Nothing else of the fleet changed.
    assert_eq!(app.records.iter().filter(|record| record.status == Status::Running).count(), 7);
}

#[test]
fn a_health_column_once_an_app_has_a_check() {
    let mut app = with_fleet();
    let plain = draw(&app, 130, 40);
    assert!(!plain.contains("HEALTH"), "no check, no column:\n{plain}");
    let names: Vec<String> = fleet().iter().map(|record| record.name.clone()).collect();
    app.update(Event::Health(
        [(names[0].clone(), "healthy".to_string()), (names[1].clone(), "unhealthy".to_string())].into(),
    ));
    let drawn = draw(&app, 130, 40);
    assert!(drawn.contains("HEALTH"), "{drawn}");
    let row = |name: &str| {
        drawn.lines().find(|line| line.contains(&format!("  {name} "))).unwrap_or("").to_string()
    };
    assert!(row(&names[0]).contains("healthy"), "{drawn}");
    assert!(row(&names[1]).contains("unhealthy"), "{drawn}");
    let mailer = row("mailer");
    assert!(mailer.contains("errored   -"), "an app without a check shows -: {mailer}");
}
