//! The dashboard's behaviour, driven by events as the runtime sends them.
mod support;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::{app, fleet, key, keys, record};
use velos_core::{Status, Stream};
use velos_tui::app::{Link, LogTarget, Overlay, Pane, FOLLOW_APPS_MAX};
use velos_tui::{Action, DaemonError, Effect, Event, Outcome};

fn listed() -> velos_tui::App {
    let mut app = app();
    app.update(Event::Listed(fleet()));
    app
}

#[test]
fn the_selection_stays_on_its_app_when_rows_move() {
    let mut app = listed();
    keys(&mut app, "jj"); // backup → metrics → proxy
    assert_eq!(app.selected.as_deref(), Some("proxy"));
    // Sorted by CPU, proxy moves; the selection goes with it.
    key(&mut app, KeyCode::Char('l'));
    key(&mut app, KeyCode::Char('l'));
    assert_eq!(app.sort.label(), "cpu");
    assert_eq!(app.selected.as_deref(), Some("proxy"));
    // proxy goes away: the selection falls on the nearest app, never on a project heading.
    let without: Vec<_> = fleet().into_iter().filter(|record| record.name != "proxy").collect();
    app.update(Event::Listed(without));
    assert!(app.selected.is_some());
    assert_ne!(app.selected.as_deref(), Some("proxy"));
}

#[test]
fn a_filter_narrows_the_table_as_it_is_typed_and_esc_clears_it() {
    let mut app = listed();
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "queue");
    assert_eq!(app.apps_shown(), 3);
    assert!(app.selected.as_deref().is_some_and(|name| name.starts_with("queue")));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.filter, "queue");
    key(&mut app, KeyCode::Char('/'));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.apps_shown(), 12);
}

#[test]
fn a_restart_is_confirmed_before_it_runs_and_its_result_is_shown() {
    let mut app = listed();
    assert_eq!(key(&mut app, KeyCode::Char('r')), None);
    assert_eq!(app.overlay, Some(Overlay::Confirm(Action::Restart { name: "backup".into() })));
    let effect = key(&mut app, KeyCode::Char('y'));
    assert_eq!(effect, Some(Effect::Run(Action::Restart { name: "backup".into() })));
    // One action at a time.
    key(&mut app, KeyCode::Char('x'));
    assert!(app.overlay.is_none());
    assert!(app.notice.as_ref().is_some_and(|notice| notice.text.contains("still running")));
    let outcome = Outcome { summary: "restarted backup (pid 4200)".into(), lines: Vec::new() };
    app.update(Event::Done { action: Action::Restart { name: "backup".into() }, result: Ok(outcome) });
    assert!(app.busy.is_none());
    assert_eq!(app.notice.as_ref().map(|notice| notice.text.as_str()), Some("restarted backup (pid 4200)"));
}

#[test]
fn n_or_esc_cancels_a_confirmation() {
    let mut app = listed();
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(app.overlay, Some(Overlay::Confirm(Action::Stop { app: "backup".into() })));
    assert_eq!(key(&mut app, KeyCode::Esc), None);
    assert!(app.overlay.is_none());
    assert!(app.busy.is_none());
}

#[test]
fn stop_start_and_scale_act_on_the_app_of_the_selected_instance() {
    let mut app = listed();
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "queue-1");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.selected.as_deref(), Some("queue-1"));
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(app.overlay, Some(Overlay::Confirm(Action::Start { app: "queue".into() })));
    key(&mut app, KeyCode::Char('n'));
    // Scale proposes the current count, which is replaced by what is typed.
    key(&mut app, KeyCode::Char('c'));
    assert_eq!(app.prompt.as_ref().map(|prompt| prompt.text.as_str()), Some("3"));
    key(&mut app, KeyCode::Backspace);
    keys(&mut app, "5");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Some(Overlay::Confirm(Action::Scale { app: "queue".into(), instances: 5 })));
}

#[test]
fn a_bad_instance_count_is_refused_with_a_reason() {
    let mut app = listed();
    key(&mut app, KeyCode::Char('c'));
    key(&mut app, KeyCode::Backspace);
    keys(&mut app, "many");
    key(&mut app, KeyCode::Enter);
    assert!(app.overlay.is_none());
    assert!(app.notice.as_ref().is_some_and(|notice| !notice.ok && notice.text.contains("\"many\"")));
}

#[test]
fn a_plan_runs_at_once_and_apply_from_it_is_confirmed() {
    let mut app = listed();
    let effect = key(&mut app, KeyCode::Char('p'));
    assert_eq!(effect, Some(Effect::Run(Action::Plan { project: "infra".into() })));
    let outcome = Outcome { summary: "1 change".into(), lines: vec!["+ create metrics".into()] };
    app.update(Event::Done { action: Action::Plan { project: "infra".into() }, result: Ok(outcome) });
    assert!(matches!(&app.overlay, Some(Overlay::Report { lines, .. }) if lines == &["+ create metrics"]));
    key(&mut app, KeyCode::Char('a'));
    assert_eq!(app.overlay, Some(Overlay::Confirm(Action::Apply { project: "infra".into() })));
}

#[test]
fn a_failed_action_says_why_and_what_to_do() {
    let mut app = listed();
    key(&mut app, KeyCode::Char('x'));
    key(&mut app, KeyCode::Enter);
    let error = DaemonError::Failed {
        message: "shop follows git".into(),
        hint: Some("commit to /srv/deploy.git".into()),
    };
    app.update(Event::Done { action: Action::Stop { app: "backup".into() }, result: Err(error) });
    let notice = app.notice.clone().expect("a notice");
    assert!(!notice.ok);
    assert_eq!(notice.text, "stop failed: shop follows git (hint: commit to /srv/deploy.git)");
}

#[test]
fn nothing_is_acted_on_while_the_daemon_is_down() {
    let mut app = listed();
    app.update(Event::Down { message: "not running".into(), hint: None });
    assert_eq!(key(&mut app, KeyCode::Char('r')), None);
    assert!(app.overlay.is_none());
    assert!(app.follows().is_empty(), "no follows while down");
}

#[test]
fn logs_follow_the_selection_and_old_chunks_are_ignored() {
    let mut app = listed();
    assert_eq!(app.follows(), ["backup"]);
    let old = app.log_generation;
    app.update(Event::Log {
        generation: old,
        name: "backup".into(),
        stream: Stream::Out,
        chunk: b"one\n".to_vec(),
    });
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(app.follows(), ["metrics"]);
    assert!(app.logs.buffer.is_empty(), "another app: the pane starts over");
    app.update(Event::Log {
        generation: old,
        name: "backup".into(),
        stream: Stream::Out,
        chunk: b"late\n".to_vec(),
    });
    assert!(app.logs.buffer.is_empty(), "a chunk of the previous follow is dropped");
}

#[test]
fn all_apps_mode_follows_a_bounded_number() {
    let mut app = app();
    let many: Vec<_> =
        (0..100).map(|at| record(&format!("w-{at:03}"), "big", at, Status::Running, 0.0, 1)).collect();
    app.update(Event::Listed(many));
    key(&mut app, KeyCode::Char('t'));
    assert_eq!(app.log_target, LogTarget::All);
    assert_eq!(app.follows().len(), FOLLOW_APPS_MAX);
    key(&mut app, KeyCode::Char('t'));
    assert_eq!(app.follows().len(), 1);
}

#[test]
fn the_daemon_coming_back_restarts_the_log_pane() {
    let mut app = listed();
    let generation = app.log_generation;
    app.update(Event::Log { generation, name: "backup".into(), stream: Stream::Out, chunk: b"x\n".to_vec() });
    app.update(Event::Down { message: "gone".into(), hint: None });
    app.update(Event::Listed(fleet()));
    assert_eq!(app.link, Link::Up);
    assert!(app.logs.buffer.is_empty(), "the backlog comes again with the new follow");
    assert_ne!(app.log_generation, generation);
}

#[test]
fn y_copies_the_line_under_the_cursor() {
    let mut app = listed();
    let generation = app.log_generation;
    app.update(Event::Log {
        generation,
        name: "backup".into(),
        stream: Stream::Out,
        chunk: b"first\nsecond\n".to_vec(),
    });
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Logs);
    assert_eq!(key(&mut app, KeyCode::Char('y')), Some(Effect::Copy("second".into())));
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(key(&mut app, KeyCode::Char('y')), Some(Effect::Copy("first".into())));
    key(&mut app, KeyCode::Char('G'));
    assert_eq!(app.logs.cursor, None, "G follows again");
}

#[test]
fn quitting_and_leaving_states() {
    let mut app = listed();
    key(&mut app, KeyCode::Char('f'));
    assert_eq!(key(&mut app, KeyCode::Esc), None, "Esc leaves full screen first");
    assert!(!app.logs.full_screen);
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(key(&mut app, KeyCode::Char('q')), None, "q closes help");
    assert_eq!(key(&mut app, KeyCode::Char('q')), Some(Effect::Quit));
    assert_eq!(key(&mut app, KeyCode::Esc), Some(Effect::Quit));
    key(&mut app, KeyCode::Char('?'));
    let control_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.update(Event::Key(control_c)), Some(Effect::Quit), "Ctrl-C quits from anywhere");
}

#[test]
fn a_narrow_terminal_keeps_the_keys_on_the_table_and_follows_nothing() {
    let mut app = listed();
    key(&mut app, KeyCode::Char('f'));
    app.update(Event::Resize { width: 60, height: 30 });
    assert!(!app.logs.full_screen, "full screen logs are not drawn when narrow");
    assert!(app.follows().is_empty(), "the log pane is not drawn: nothing to follow");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Table);
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(app.selected.as_deref(), Some("metrics"));
    app.update(Event::Resize { width: 120, height: 40 });
    assert_eq!(app.follows(), ["metrics"]);
}
