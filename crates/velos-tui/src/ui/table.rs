//! The app table: one heading per project, then its apps; columns dropped from the right by priority
//! when the terminal is narrow.
use super::{format, Theme};
use crate::app::{instance_of, project_of, App, Link, ViewRow};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use ratatui::Frame;
use velos_core::ProcessRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Project,
    Instance,
    Status,
    Health,
    Pid,
    Cpu,
    Memory,
    Restarts,
    Uptime,
    Sync,
}

/// Display order.
const COLUMNS: [Column; 11] = [
    Column::Name,
    Column::Project,
    Column::Instance,
    Column::Status,
    Column::Health,
    Column::Pid,
    Column::Cpu,
    Column::Memory,
    Column::Restarts,
    Column::Uptime,
    Column::Sync,
];

/// Which columns survive first when space is short.
const PRIORITY: [Column; 11] = [
    Column::Name,
    Column::Status,
    Column::Health,
    Column::Cpu,
    Column::Memory,
    Column::Restarts,
    Column::Uptime,
    Column::Sync,
    Column::Pid,
    Column::Project,
    Column::Instance,
];

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Name => "NAME",
            Column::Project => "PROJECT",
            Column::Instance => "INST",
            Column::Status => "STATUS",
            Column::Health => "HEALTH",
            Column::Pid => "PID",
            Column::Cpu => "CPU",
            Column::Memory => "MEM",
            Column::Restarts => "RESTARTS",
            Column::Uptime => "UPTIME",
            Column::Sync => "SYNC",
        }
    }

    fn width(self) -> u16 {
        match self {
            Column::Name => 16,
            Column::Project => 12,
            Column::Instance => 4,
            Column::Status => 9,
            Column::Health => 9,
            Column::Pid => 7,
            Column::Cpu => 6,
            Column::Memory => 7,
            Column::Restarts => 8,
            Column::Uptime => 6,
            Column::Sync => 11,
        }
    }
}

/// The columns that fit in `width`; HEALTH only when some app has a check (`health`), so a host without
/// checks keeps the table it always had.
fn fitting(width: u16, health: bool) -> Vec<Column> {
    let mut left = width.saturating_sub(4); // borders and the selection mark
    let mut chosen = Vec::new();
    for column in PRIORITY.into_iter().filter(|column| health || *column != Column::Health) {
        let needed = column.width() + 1;
        if needed > left {
            break; // strictly by priority: a small low column never displaces a bigger higher one
        }
        left -= needed;
        chosen.push(column);
    }
    COLUMNS.into_iter().filter(|column| chosen.contains(column)).collect()
}

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: Theme, focused: bool) {
    let columns = fitting(area.width, !app.health.is_empty());
    let stale = !matches!(app.link, Link::Up);
    let rows = app.rows.iter().map(|row| match row {
        ViewRow::Project { name, shown } => project_row(app, &columns, name, *shown, theme),
        ViewRow::App(index) => match app.records.get(*index) {
            Some(record) => app_row(app, &columns, record, theme, stale),
            None => Row::default(),
        },
    });
    let widths = columns.iter().map(|column| match column {
        Column::Name => Constraint::Min(column.width()),
        _ => Constraint::Length(column.width()),
    });
    let header = Row::new(columns.iter().map(|column| column.title())).style(theme.dim());
    let title = if app.rows.is_empty() && matches!(app.link, Link::Up) {
        if app.filter.is_empty() {
            " apps · none yet: velos apply, or velos start PROGRAM ".to_string()
        } else {
            format!(" apps · none match {:?} (/ then Esc clears) ", app.filter)
        }
    } else {
        format!(" apps · {} shown ", app.apps_shown())
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.border(focused)))
        .border_style(theme.border(focused));
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶ ");
    let mut state = TableState::default().with_selected(app.selected_row());
    frame.render_stateful_widget(table, area, &mut state);
}

fn project_row<'a>(app: &App, columns: &[Column], name: &str, shown: usize, theme: Theme) -> Row<'a> {
    let sync = app.projects.get(name);
    let cells = columns.iter().map(|column| match column {
        Column::Name => Cell::from(format!("▾ {name} ({shown})")).style(theme.heading()),
        Column::Sync => match sync {
            Some(sync) => Cell::from(sync.state.clone()).style(theme.sync(&sync.state)),
            None => Cell::from(""),
        },
        _ => Cell::from(""),
    });
    Row::new(cells)
}

fn app_row<'a>(app: &App, columns: &[Column], record: &ProcessRecord, theme: Theme, stale: bool) -> Row<'a> {
    let sync = app.projects.get(project_of(record));
    let cells = columns.iter().map(|column| {
        let text = match column {
            Column::Name => format!("  {}", record.name),
            Column::Project => project_of(record).to_string(),
            Column::Instance => instance_of(record).unwrap_or("-").to_string(),
            Column::Status => return Cell::from(record.status.as_str()).style(theme.status(record.status)),
            Column::Health => match app.health.get(&record.name) {
                Some(health) => return Cell::from(health.clone()).style(theme.health(health)),
                None => "-".to_string(),
            },
            Column::Pid => match record.pid {
                0 => "-".to_string(),
                pid => pid.to_string(),
            },
            Column::Cpu => format::cpu(record.cpu),
            Column::Memory => format::bytes(record.memory),
            Column::Restarts => record.restarts.to_string(),
            Column::Uptime => format::uptime(record.uptime_ms),
            Column::Sync => match sync {
                Some(sync) => return Cell::from(sync.state.clone()).style(theme.sync(&sync.state)),
                None => "-".to_string(),
            },
        };
        Cell::from(text)
    });
    let row = Row::new(cells);
    if stale {
        row.style(theme.dim())
    } else {
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_tables_keep_the_columns_that_matter_most() {
        assert_eq!(fitting(50, false), vec![Column::Name, Column::Status, Column::Cpu, Column::Memory]);
        assert_eq!(fitting(200, false).len(), COLUMNS.len() - 1, "no check, no HEALTH column");
        assert_eq!(fitting(200, true).len(), COLUMNS.len());
        assert_eq!(fitting(50, true), vec![Column::Name, Column::Status, Column::Health, Column::Cpu]);
    }
}
