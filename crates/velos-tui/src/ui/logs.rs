//! The log pane: the newest lines that fit (or those around the cursor), each marked with its stream
//! (`out│` / `err│`) and, when following all apps, its app; coloured by level; search matches marked.
use super::Theme;
use crate::app::{App, LogLine, LogTarget, FOLLOW_APPS_MAX};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;
use velos_core::Stream;
use velos_ops::LogMark;

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: Theme, focused: bool) {
    let block = Block::bordered()
        .title(Span::styled(title(app), theme.border(focused)))
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    let all = app.log_target == LogTarget::All;
    let name_width =
        if all { app.logs.buffer.iter().map(|line| line.app.len()).max().unwrap_or(0) } else { 0 };
    let cursor = app.logs.cursor.and_then(|_| app.logs.cursor_line());
    // Following: the newest line at the bottom. Paused: the cursor's line half-way up, so what came
    // after it shows too.
    let last = match (cursor, app.logs.cursor_line()) {
        (Some(cursor), _) => {
            (cursor + inner.height as usize / 2).min(app.logs.buffer.len().saturating_sub(1))
        }
        (None, Some(last)) => last,
        (None, None) => {
            let empty = Paragraph::new(Span::styled(empty_text(app), theme.dim())).block(block);
            frame.render_widget(empty, area);
            return;
        }
    };
    // Walk back from the line to show last until the pane is full.
    let mut lines = Vec::new();
    let mut rows_used = 0usize;
    for index in (0..=last).rev() {
        let Some(log) = app.logs.buffer.get(index) else { break };
        let line = styled(log, name_width, &app.logs.search, theme, Some(index) == cursor);
        let rows = if app.logs.wrap { line.width().div_ceil(inner.width.max(1) as usize).max(1) } else { 1 };
        if rows_used + rows > inner.height as usize {
            break;
        }
        rows_used += rows;
        lines.push(line);
    }
    lines.reverse();
    let mut paragraph = Paragraph::new(lines).block(block);
    if app.logs.wrap {
        paragraph = paragraph.wrap(Wrap { trim: false });
    }
    frame.render_widget(paragraph, area);
}

fn title(app: &App) -> String {
    let mut title = match app.log_target {
        LogTarget::Selected => format!(" logs · {} ", app.selected.as_deref().unwrap_or("no app selected")),
        LogTarget::All => {
            let apps = app.apps_shown();
            if apps > FOLLOW_APPS_MAX {
                format!(" logs · all apps ({FOLLOW_APPS_MAX} of {apps} followed: / to filter) ")
            } else {
                " logs · all apps ".to_string()
            }
        }
    };
    title.push_str(if app.logs.cursor.is_some() { "· paused (G follows) " } else { "· following " });
    if app.logs.wrap {
        title.push_str("· wrap ");
    }
    if !app.logs.search.is_empty() {
        title.push_str(&format!("· search {:?} (n/N) ", app.logs.search));
    }
    title
}

fn empty_text(app: &App) -> String {
    match (app.log_target, &app.selected) {
        (LogTarget::Selected, None) => "select an app to follow its output (t: all apps)".into(),
        _ => "no output yet".into(),
    }
}

fn styled(log: &LogLine, name_width: usize, search: &str, theme: Theme, cursor: bool) -> Line<'static> {
    let mut spans = Vec::with_capacity(4);
    if name_width > 0 {
        spans.push(Span::styled(format!("{:<name_width$} ", log.app), theme.dim()));
    }
    // A mark takes the width of one, before the stream's: lines stay aligned whether marked or not.
    spans.push(match log.mark {
        Some(LogMark::New) => Span::styled("+", theme.new_mark()),
        Some(LogMark::Spike) => Span::styled("!", theme.new_mark()),
        None => Span::raw(" "),
    });
    spans.push(match log.stream {
        Stream::Out => Span::styled("out│", theme.dim()),
        Stream::Err => Span::styled("err│", theme.stderr_mark()),
    });
    let style = theme.level(log.level);
    spans.extend(highlight(&log.text, search, style, theme.search_match()));
    let line = Line::from(spans);
    if cursor {
        line.style(theme.selected())
    } else {
        line
    }
}

/// The text cut into spans, the parts matching `search` (case-insensitive) in `matched`.
fn highlight(
    text: &str,
    search: &str,
    style: ratatui::style::Style,
    matched: ratatui::style::Style,
) -> Vec<Span<'static>> {
    let lower = text.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII; then show the line unmarked rather than cut a
    // character in two.
    if search.is_empty() || lower.len() != text.len() {
        return vec![Span::styled(text.to_string(), style)];
    }
    let needle = search.to_lowercase();
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&needle) {
        let start = at + found;
        let end = start + needle.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        if start > at {
            spans.push(Span::styled(text[at..start].to_string(), style));
        }
        spans.push(Span::styled(text[start..end].to_string(), matched));
        at = end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), style));
    }
    spans
}
