//! What each key does, by what is on screen: an overlay first, then a prompt, then the focused pane.
//! Every action is reachable by a letter (F-keys clash with tmux and Zellij).
use super::{
    app_of, project_of, table::NO_PROJECT, App, Effect, Link, LogTarget, Notice, Overlay, Pane, Prompt,
    PromptKind, ViewRow,
};
use crate::daemon::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Rows moved by PageUp / PageDown.
const PAGE_ROWS: isize = 10;

pub(super) fn handle(app: &mut App, key: KeyEvent) -> Option<Effect> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c')) {
        return Some(Effect::Quit);
    }
    if let Some(overlay) = app.overlay.take() {
        return overlay_key(app, overlay, key.code);
    }
    if let Some(prompt) = app.prompt.take() {
        prompt_key(app, prompt, key.code);
        return None;
    }
    normal_key(app, key.code)
}

fn overlay_key(app: &mut App, overlay: Overlay, code: KeyCode) -> Option<Effect> {
    match overlay {
        Overlay::Help => {
            if !matches!(code, KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter) {
                app.overlay = Some(Overlay::Help);
            }
            None
        }
        Overlay::Confirm(action) => match code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                app.busy = Some(action.clone());
                app.notice = None;
                Some(Effect::Run(action))
            }
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                app.notice = Some(Notice { ok: true, text: format!("{} cancelled", action.verb()) });
                None
            }
            _ => {
                app.overlay = Some(Overlay::Confirm(action));
                None
            }
        },
        Overlay::Report { title, lines, scroll, project } => {
            let scroll = match code {
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => return None,
                KeyCode::Char('a') if project.is_some() => {
                    let project = project.unwrap_or_default();
                    app.overlay = Some(Overlay::Confirm(Action::Apply { project }));
                    return None;
                }
                KeyCode::Down | KeyCode::Char('j') => scroll + 1,
                KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
                KeyCode::PageDown => scroll + PAGE_ROWS as usize,
                KeyCode::PageUp => scroll.saturating_sub(PAGE_ROWS as usize),
                _ => scroll,
            };
            let scroll = scroll.min(lines.len().saturating_sub(1));
            app.overlay = Some(Overlay::Report { title, lines, scroll, project });
            None
        }
    }
}

fn prompt_key(app: &mut App, mut prompt: Prompt, code: KeyCode) {
    match code {
        KeyCode::Esc => {
            if prompt.kind == PromptKind::Filter {
                app.filter.clear();
                app.rebuild_rows();
            }
            return;
        }
        KeyCode::Enter => return submit(app, prompt),
        KeyCode::Backspace => {
            prompt.text.pop();
        }
        KeyCode::Char(c) => prompt.text.push(c),
        _ => {}
    }
    if prompt.kind == PromptKind::Filter {
        // The table narrows as the filter is typed.
        app.filter = prompt.text.clone();
        app.rebuild_rows();
    }
    app.prompt = Some(prompt);
}

fn submit(app: &mut App, prompt: Prompt) {
    match prompt.kind {
        PromptKind::Filter => {}
        PromptKind::Search => {
            app.logs.search = prompt.text;
            find(app, true);
        }
        PromptKind::Scale { app: name } => match prompt.text.trim().parse::<u32>() {
            Ok(instances) => app.overlay = Some(Overlay::Confirm(Action::Scale { app: name, instances })),
            Err(_) => {
                let text =
                    format!("scale {name}: {:?} is not a number of instances (0 or more)", prompt.text);
                app.notice = Some(Notice { ok: false, text });
            }
        },
    }
}

fn normal_key(app: &mut App, code: KeyCode) -> Option<Effect> {
    match code {
        KeyCode::Char('q') => return Some(Effect::Quit),
        KeyCode::Esc if app.logs.full_screen => app.logs.full_screen = false,
        KeyCode::Esc => return Some(Effect::Quit),
        KeyCode::Char('?') => app.overlay = Some(Overlay::Help),
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Char('f') if app.narrow => {
            app.notice =
                Some(Notice { ok: false, text: "a wider terminal shows the logs and details".into() });
        }
        KeyCode::Tab => app.focus = next_pane(app.focus, 1),
        KeyCode::BackTab => app.focus = next_pane(app.focus, -1),
        KeyCode::Down | KeyCode::Char('j') => move_cursor(app, 1),
        KeyCode::Up | KeyCode::Char('k') => move_cursor(app, -1),
        KeyCode::PageDown => move_cursor(app, PAGE_ROWS),
        KeyCode::PageUp => move_cursor(app, -PAGE_ROWS),
        KeyCode::Home | KeyCode::Char('g') => move_cursor(app, isize::MIN / 2),
        KeyCode::End | KeyCode::Char('G') => move_cursor(app, isize::MAX / 2),
        KeyCode::Left | KeyCode::Char('h') => sort_by(app, app.sort.step(-1)),
        KeyCode::Right | KeyCode::Char('l') => sort_by(app, app.sort.step(1)),
        KeyCode::Char('s') => {
            app.descending = !app.descending;
            app.rebuild_rows();
        }
        KeyCode::Enter if app.narrow => {}
        KeyCode::Enter => match app.focus {
            Pane::Table => {
                app.focus = Pane::Logs;
                if app.log_target == LogTarget::All {
                    app.log_target = LogTarget::Selected;
                    app.restart_logs();
                }
            }
            Pane::Logs => app.logs.full_screen = !app.logs.full_screen,
            Pane::Details => {}
        },
        KeyCode::Char('f') => app.logs.full_screen = !app.logs.full_screen,
        KeyCode::Char('w') => app.logs.wrap = !app.logs.wrap,
        KeyCode::Char('t') => {
            app.log_target = match app.log_target {
                LogTarget::Selected => LogTarget::All,
                LogTarget::All => LogTarget::Selected,
            };
            app.restart_logs();
        }
        KeyCode::Char('/') => {
            let (kind, text) = match app.focus {
                Pane::Logs => (PromptKind::Search, app.logs.search.clone()),
                Pane::Table | Pane::Details => (PromptKind::Filter, app.filter.clone()),
            };
            app.prompt = Some(Prompt { kind, text });
        }
        KeyCode::Char('n') => find(app, true),
        KeyCode::Char('N') => find(app, false),
        KeyCode::Char('y') => return copy_line(app),
        KeyCode::Char(letter @ ('r' | 'x' | 'u' | 'c' | 'p' | 'a')) => return act(app, letter),
        _ => {}
    }
    None
}

fn next_pane(pane: Pane, delta: isize) -> Pane {
    const ORDER: [Pane; 3] = [Pane::Table, Pane::Logs, Pane::Details];
    let index = ORDER.iter().position(|at| *at == pane).unwrap_or(0) as isize;
    ORDER[(index + delta).rem_euclid(ORDER.len() as isize) as usize]
}

fn sort_by(app: &mut App, key: super::SortKey) {
    app.sort = key;
    app.descending = key.descending_by_default();
    app.rebuild_rows();
}

/// Moves the table selection (over app rows only) or the log cursor, by the focused pane.
fn move_cursor(app: &mut App, delta: isize) {
    if app.focus == Pane::Logs || app.logs.full_screen {
        let last = app.logs.buffer.len().saturating_sub(1);
        let from = app.logs.cursor_line().unwrap_or(0) as isize;
        let to = (from.saturating_add(delta)).clamp(0, last as isize) as usize;
        // Reaching the newest line goes back to following.
        app.logs.cursor = if to >= last { None } else { Some(to) };
        return;
    }
    let apps: Vec<usize> = app
        .rows
        .iter()
        .enumerate()
        .filter(|(_, row)| matches!(row, ViewRow::App(_)))
        .map(|(at, _)| at)
        .collect();
    if apps.is_empty() {
        return;
    }
    let current = app.selected_row().and_then(|row| apps.iter().position(|at| *at == row)).unwrap_or(0);
    let target = (current as isize).saturating_add(delta).clamp(0, apps.len() as isize - 1) as usize;
    let name = match app.rows[apps[target]] {
        ViewRow::App(index) => app.records.get(index).map(|record| record.name.clone()),
        ViewRow::Project { .. } => None,
    };
    app.select(name);
}

fn find(app: &mut App, forward: bool) {
    let from = app.logs.cursor_line().unwrap_or(0);
    match app.logs.buffer.find(&app.logs.search, from, forward) {
        Some(index) => {
            app.logs.cursor = Some(index);
            app.focus = Pane::Logs;
        }
        None if !app.logs.search.is_empty() => {
            let text = format!("no line contains {:?}", app.logs.search);
            app.notice = Some(Notice { ok: false, text });
        }
        None => {}
    }
}

fn copy_line(app: &mut App) -> Option<Effect> {
    let line = app.logs.cursor_line().and_then(|index| app.logs.buffer.get(index))?;
    let text = line.text.clone();
    app.notice = Some(Notice { ok: true, text: format!("copied {} characters", text.chars().count()) });
    Some(Effect::Copy(text))
}

/// The action a letter asks for on the selection: confirmed first, except a plan, which changes nothing.
fn act(app: &mut App, letter: char) -> Option<Effect> {
    let refuse = |app: &mut App, text: String| {
        app.notice = Some(Notice { ok: false, text });
        None
    };
    if let Some(busy) = &app.busy {
        let text = format!("wait: {} {} is still running", busy.verb(), busy.target());
        return refuse(app, text);
    }
    if let Link::Down { .. } = app.link {
        return refuse(app, "the daemon is not running: nothing to act on".into());
    }
    let Some(record) = app.selected_record() else {
        return refuse(app, "select an app first (j/k)".into());
    };
    let (name, application, project) =
        (record.name.clone(), app_of(record).to_string(), project_of(record).to_string());
    let action = match letter {
        'r' => Action::Restart { name },
        'x' => Action::Stop { app: application },
        'u' => Action::Start { app: application },
        'c' => {
            let running = app.records.iter().filter(|other| app_of(other) == application).count();
            let kind = PromptKind::Scale { app: application };
            app.prompt = Some(Prompt { kind, text: running.to_string() });
            return None;
        }
        _ if project == NO_PROJECT => {
            return refuse(app, format!("{name} belongs to no project: nothing to plan or apply"));
        }
        'p' => {
            let action = Action::Plan { project };
            app.busy = Some(action.clone());
            return Some(Effect::Run(action));
        }
        _ => Action::Apply { project },
    };
    app.overlay = Some(Overlay::Confirm(action));
    None
}
