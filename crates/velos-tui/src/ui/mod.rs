//! Drawing: a pure function of the [`App`] into a ratatui frame. The layout degrades with the terminal:
//! table, logs and details when there is room; the table alone on a narrow or short terminal.
mod details;
mod format;
mod logs;
mod overlay;
mod table;
mod theme;

pub use theme::Theme;

use crate::app::{App, Link, Pane, PromptKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Below this many columns or rows only the table is drawn.
pub const WIDTH_MIN_PANES: u16 = 80;
pub const HEIGHT_MIN_PANES: u16 = 18;

/// Which panes fit in this area.
pub fn is_narrow(area: Rect) -> bool {
    area.width < WIDTH_MIN_PANES || area.height < HEIGHT_MIN_PANES
}

pub fn render(app: &App, frame: &mut Frame<'_>) {
    let theme = Theme::new(app.colour);
    let area = frame.area();
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(header_line(app, theme), header);
    frame.render_widget(footer_line(app, theme, is_narrow(area)), footer);
    if is_narrow(area) {
        table::render(app, frame, body, theme, true);
    } else if app.logs.full_screen {
        logs::render(app, frame, body, theme, true);
    } else {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
        table::render(app, frame, top, theme, app.focus == Pane::Table);
        logs::render(app, frame, left, theme, app.focus == Pane::Logs);
        details::render(app, frame, right, theme, app.focus == Pane::Details);
    }
    if let Link::Down { message, hint } = &app.link {
        overlay::daemon_down(frame, body, theme, message, hint.as_deref(), app.interval);
    }
    if let Some(overlay) = &app.overlay {
        overlay::render(frame, body, theme, overlay);
    }
}

fn header_line(app: &App, theme: Theme) -> Paragraph<'static> {
    let projects = app.apps_projects();
    let link = match app.link {
        Link::Up => Span::styled("● daemon up", theme.good()),
        Link::Connecting => Span::styled("… connecting", theme.dim()),
        Link::Down { .. } => Span::styled("✖ daemon down", theme.bad()),
    };
    let order = if app.descending { "↓" } else { "↑" };
    let mut spans = vec![
        Span::styled(" velos monit ", theme.title()),
        Span::raw(format!("· {} apps in {projects} projects · ", app.records.len())),
        link,
        Span::raw(format!(
            " · sort {} {order} · every {} ",
            app.sort.label(),
            format::duration_ms(app.interval.as_millis() as u64,)
        )),
    ];
    if !app.filter.is_empty() {
        spans.push(Span::styled(format!("· filter {:?} ", app.filter), theme.heading()));
    }
    spans.push(Span::styled(format!("· {}", app.home), theme.dim()));
    Paragraph::new(Line::from(spans))
}

fn footer_line(app: &App, theme: Theme, narrow: bool) -> Paragraph<'static> {
    let line = if let Some(prompt) = &app.prompt {
        let label = match &prompt.kind {
            PromptKind::Filter => "filter: ".to_string(),
            PromptKind::Search => "search logs: ".to_string(),
            PromptKind::Scale { app } => format!("instances of {app}: "),
        };
        Line::from(vec![
            Span::styled(label, theme.heading()),
            Span::raw(prompt.text.clone()),
            Span::styled("█", theme.dim()),
            Span::styled("  Enter ok · Esc cancel", theme.dim()),
        ])
    } else if let Some(busy) = &app.busy {
        Line::from(Span::styled(format!("… {} {}", busy.verb(), busy.target()), theme.heading()))
    } else if let Some(notice) = &app.notice {
        let (mark, style) = if notice.ok { ("✔ ", theme.good()) } else { ("✖ ", theme.bad()) };
        Line::from(vec![Span::styled(mark, style), Span::raw(notice.text.clone())])
    } else {
        let hints = if narrow {
            "q quit · ? help · / filter · r restart · wider: logs"
        } else {
            "q quit · ? help · Tab pane · / filter · r restart · x stop · u start · c scale · p plan · \
             a apply · t all logs"
        };
        Line::from(Span::styled(hints, theme.dim()))
    };
    Paragraph::new(line)
}

impl App {
    /// How many distinct projects the listed apps belong to.
    fn apps_projects(&self) -> usize {
        let mut projects: Vec<&str> = self.records.iter().map(crate::app::project_of).collect();
        projects.sort_unstable();
        projects.dedup();
        projects.len()
    }
}
