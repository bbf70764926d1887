//! Boxes over the panes: help, a confirmation, a report (plan, apply results), the daemon being down.
use super::Theme;
use crate::app::Overlay;
use crate::daemon::Action;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;
use std::time::Duration;

/// Every key, in the help box. Kept next to the drawing so help and footer never disagree.
pub const HELP: &[(&str, &str)] = &[
    ("↑↓ / j k", "move the selection (table) or the cursor (logs); PgUp PgDn g G"),
    ("← → / h l", "sort by the previous / next column; s reverses the order"),
    ("Tab / S-Tab", "next / previous pane: table, logs, details"),
    ("Enter", "table: follow the selected app's logs; logs: full screen"),
    ("/", "table: filter (name, project, status); logs: search, n / N"),
    ("t", "logs of the selected app / of all apps"),
    ("f · w", "logs full screen · wrap long lines"),
    ("y", "copy the log line under the cursor (OSC 52)"),
    ("r", "restart the selected process"),
    ("x · u", "stop · start the selected app (all its instances)"),
    ("c", "scale: set how many instances the app runs"),
    ("p · a", "plan · apply the selected app's project"),
    ("?", "this help"),
    ("q · Esc · Ctrl-C", "quit (Esc first leaves full screen or a box)"),
];

pub fn render(frame: &mut Frame<'_>, area: Rect, theme: Theme, overlay: &Overlay) {
    match overlay {
        Overlay::Help => {
            let lines: Vec<Line<'_>> = HELP
                .iter()
                .map(|(keys, what)| {
                    Line::from(vec![Span::styled(format!("{keys:<17}"), theme.heading()), Span::raw(*what)])
                })
                .collect();
            let rect = centred(area, 90, HELP.len() as u16 + 2);
            show(frame, rect, " keys · any of ? q Esc closes ", Paragraph::new(lines), theme);
        }
        Overlay::Confirm(action) => {
            let lines = vec![
                Line::from(question(action)),
                Line::from(""),
                Line::from(Span::styled(format!("  {}", action.command_line()), theme.dim())),
                Line::from(""),
                Line::from(vec![
                    Span::styled("y", theme.heading()),
                    Span::raw(" / Enter: do it   "),
                    Span::styled("n", theme.heading()),
                    Span::raw(" / Esc: cancel"),
                ]),
            ];
            let rect = centred(area, 64, 7);
            show(frame, rect, " confirm ", Paragraph::new(lines).wrap(Wrap { trim: false }), theme);
        }
        Overlay::Report { title, lines, scroll, project } => {
            let body: Vec<Line<'_>> =
                lines.iter().skip(*scroll).map(|line| Line::raw(line.as_str())).collect();
            let close = if project.is_some() { "a apply · Esc close" } else { "Esc close" };
            let title = format!(" {title} · {close} ");
            let rect = centred(area, 100, area.height.saturating_sub(2));
            show(frame, rect, &title, Paragraph::new(body), theme);
        }
    }
}

fn question(action: &Action) -> String {
    match action {
        Action::Restart { name } => format!("Restart {name}? Its process is replaced by a new one."),
        Action::Stop { app } => format!("Stop {app}? Every instance stops, and its velos.toml says stopped."),
        Action::Start { app } => format!("Start {app}? Its velos.toml says running again."),
        Action::Scale { app, instances } => {
            format!("Run {instances} instance(s) of {app}? (edits its velos.toml)")
        }
        Action::Plan { project } => format!("Plan project {project}?"),
        Action::Apply { project } => format!("Apply project {project}'s velos.toml to this host?"),
    }
}

pub fn daemon_down(
    frame: &mut Frame<'_>,
    area: Rect,
    theme: Theme,
    message: &str,
    hint: Option<&str>,
    interval: Duration,
) {
    let hint = hint.unwrap_or("velos daemon starts it");
    let retry =
        format!("Trying again every {} ms; the table shows the last apps seen.", interval.as_millis());
    let lines = vec![
        Line::from(Span::styled(message.to_string(), theme.bad())),
        Line::from(vec![Span::styled("hint: ", theme.heading()), Span::raw(hint.to_string())]),
        Line::from(""),
        Line::from(retry),
    ];
    let rect = centred(area, 80, 8);
    show(frame, rect, " daemon not reachable ", Paragraph::new(lines).wrap(Wrap { trim: false }), theme);
}

fn show(frame: &mut Frame<'_>, rect: Rect, title: &str, paragraph: Paragraph<'_>, theme: Theme) {
    let block =
        Block::bordered().title(Span::styled(title.to_string(), theme.title())).border_style(theme.title());
    frame.render_widget(Clear, rect);
    frame.render_widget(paragraph.block(block), rect);
}

/// A rectangle of at most `width` × `height` in the middle of `area`.
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let [row] =
        Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [rect] =
        Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(row);
    rect
}
