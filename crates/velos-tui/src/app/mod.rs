//! The dashboard's whole state, changed only by [`App::update`] with an [`Event`]: no terminal, no
//! daemon, no clock, so every behaviour is testable by feeding events. What the state asks the outside
//! world to do comes back as an [`Effect`].
mod history;
mod keys;
pub mod logs;
pub mod table;

pub use history::{History, Samples, SAMPLES_MAX};
pub use logs::{Level, LogBuffer, LogLine};
pub use table::{app_of, instance_of, project_of, SortKey, ViewRow};

use crate::daemon::{Action, DaemonError, Outcome, ProjectSync};
use ratatui::crossterm::event::KeyEvent;
use std::collections::BTreeMap;
use std::time::Duration;
use velos_core::{ProcessRecord, Stream};

/// In "all apps" mode, at most this many apps are followed (each stream is one daemon connection, and
/// the daemon serves 128): the first ones shown in the table.
pub const FOLLOW_APPS_MAX: usize = 24;
/// Lines asked for when following one app, and per app in "all apps" mode.
pub const BACKLOG_LINES_ONE: u32 = 200;
pub const BACKLOG_LINES_ALL: u32 = 20;

/// Something that happened: a key, a refresh, a chunk of log, an action's result.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    /// The terminal's size, at start and on each change: a narrow one shows the table alone.
    Resize {
        width: u16,
        height: u16,
    },
    /// One refresh: the records of one `PROCESS_LIST`.
    Listed(Vec<ProcessRecord>),
    /// The projects' sync states (read less often than the list).
    Projects(Vec<ProjectSync>),
    /// With each refresh: the health of the apps that have a check, by instance name.
    Health(BTreeMap<String, String>),
    /// The daemon did not answer the refresh: why, and what would start it.
    Down {
        message: String,
        hint: Option<String>,
    },
    /// Output of a followed stream; `generation` is [`App::log_generation`] when the follow began.
    Log {
        generation: u64,
        name: String,
        stream: Stream,
        chunk: Vec<u8>,
    },
    /// Which lines of a followed app to point out (its log model, read when the follow began).
    Marks {
        generation: u64,
        name: String,
        marks: std::sync::Arc<velos_ops::LogMarks>,
    },
    /// A confirmed action finished.
    Done {
        action: Action,
        result: Result<Outcome, DaemonError>,
    },
}

/// What the state asks the runtime to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Carry out a confirmed action, then send [`Event::Done`].
    Run(Action),
    /// Put this text in the terminal's clipboard (OSC 52).
    Copy(String),
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Table,
    Logs,
    Details,
}

/// Whose output the log pane follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Selected,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// No answer yet.
    Connecting,
    Up,
    Down {
        message: String,
        hint: Option<String>,
    },
}

/// A line being typed at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// `/` in the table: filters the rows as it is typed.
    Filter,
    /// `/` in the log pane: the text to find.
    Search,
    /// How many instances of this app.
    Scale { app: String },
}

/// A box over the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    /// An action waiting for `y`.
    Confirm(Action),
    /// A report to read (a plan, an apply's results), scrolled by `scroll` lines.
    Report {
        title: String,
        lines: Vec<String>,
        scroll: usize,
        project: Option<String>,
    },
}

/// The last action's result, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

/// The log pane's own state.
#[derive(Debug, Default)]
pub struct LogView {
    pub buffer: LogBuffer,
    /// The line the cursor is on (an index into the buffer); `None` follows the newest line.
    pub cursor: Option<usize>,
    pub wrap: bool,
    pub full_screen: bool,
    pub search: String,
}

impl LogView {
    /// The line under the cursor: the chosen one, or the newest while following.
    pub fn cursor_line(&self) -> Option<usize> {
        match self.cursor {
            Some(index) => Some(index.min(self.buffer.len().saturating_sub(1))),
            None => self.buffer.len().checked_sub(1),
        }
    }
}

/// Everything the dashboard shows.
#[derive(Debug)]
pub struct App {
    pub records: Vec<ProcessRecord>,
    pub projects: BTreeMap<String, ProjectSync>,
    /// `healthy`, `unhealthy` or `unknown` for each instance with a check (the HEALTH column).
    pub health: BTreeMap<String, String>,
    pub rows: Vec<ViewRow>,
    /// The selected app's name: kept across refreshes even when rows move.
    pub selected: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    pub filter: String,
    pub focus: Pane,
    pub log_target: LogTarget,
    /// Bumped whenever the log pane starts over (another app, all apps): older chunks are ignored.
    pub log_generation: u64,
    pub logs: LogView,
    pub history: History,
    pub link: Link,
    pub prompt: Option<Prompt>,
    pub overlay: Option<Overlay>,
    /// The action being carried out now: one at a time.
    pub busy: Option<Action>,
    pub notice: Option<Notice>,
    pub interval: Duration,
    pub colour: bool,
    /// The terminal is too small for more than the table.
    pub narrow: bool,
    /// Shown in the header: which VELOS_HOME this is.
    pub home: String,
}

impl App {
    pub fn new(home: impl Into<String>, interval: Duration, colour: bool) -> App {
        App {
            records: Vec::new(),
            projects: BTreeMap::new(),
            health: BTreeMap::new(),
            rows: Vec::new(),
            selected: None,
            sort: SortKey::Name,
            descending: false,
            filter: String::new(),
            focus: Pane::Table,
            log_target: LogTarget::Selected,
            log_generation: 0,
            logs: LogView::default(),
            history: History::default(),
            link: Link::Connecting,
            prompt: None,
            overlay: None,
            busy: None,
            notice: None,
            interval,
            colour,
            narrow: false,
            home: home.into(),
        }
    }

    pub fn update(&mut self, event: Event) -> Option<Effect> {
        match event {
            Event::Key(key) => return keys::handle(self, key),
            Event::Resize { width, height } => {
                self.narrow = crate::ui::is_narrow(ratatui::layout::Rect::new(0, 0, width, height));
                if self.narrow {
                    // Only the table is drawn: keys must act on what is seen.
                    self.focus = Pane::Table;
                    self.logs.full_screen = false;
                }
            }
            Event::Listed(records) => self.listed(records),
            Event::Projects(projects) => {
                self.projects = projects.into_iter().map(|sync| (sync.project.clone(), sync)).collect();
            }
            Event::Health(health) => self.health = health,
            Event::Down { message, hint } => self.link = Link::Down { message, hint },
            Event::Log { generation, name, stream, chunk } => {
                if generation == self.log_generation {
                    self.logs.buffer.push_chunk(&name, stream, &chunk);
                }
            }
            Event::Marks { generation, name, marks } => {
                if generation == self.log_generation {
                    self.logs.buffer.set_marks(&name, marks);
                }
            }
            Event::Done { action, result } => self.done(action, result),
        }
        None
    }

    fn listed(&mut self, records: Vec<ProcessRecord>) {
        if let Link::Down { .. } = self.link {
            // Back after a restart: the follows begin again with their backlog, which must not be shown
            // twice.
            self.restart_logs();
        }
        self.link = Link::Up;
        self.history.record(&records);
        self.records = records;
        self.rebuild_rows();
    }

    fn done(&mut self, action: Action, result: Result<Outcome, DaemonError>) {
        self.busy = None;
        match result {
            Ok(outcome) => {
                self.notice = Some(Notice { ok: true, text: outcome.summary.clone() });
                let project = match &action {
                    Action::Plan { project } => Some(project.clone()),
                    _ => None,
                };
                // A plan is read, and so is an apply's report; one-line results stay in the status bar.
                if matches!(action, Action::Plan { .. } | Action::Apply { .. }) {
                    let title = format!("{} {}", action.verb(), action.target());
                    self.overlay = Some(Overlay::Report { title, lines: outcome.lines, scroll: 0, project });
                }
            }
            Err(error) => {
                let text = match &error {
                    DaemonError::Failed { message, hint: Some(hint) } => format!("{message} (hint: {hint})"),
                    other => other.to_string(),
                };
                self.notice = Some(Notice { ok: false, text: format!("{} failed: {text}", action.verb()) });
            }
        }
    }

    /// Recomputes the rows after the records, filter or sort changed, keeping the selection on its app
    /// (or the nearest row when that app is gone).
    pub(crate) fn rebuild_rows(&mut self) {
        let before = self.selected_row();
        self.rows = table::build(&self.records, &self.filter, self.sort, self.descending);
        let still_there = self.selected.as_deref().is_some_and(|name| self.row_of(name).is_some());
        if !still_there {
            let nearest = before.unwrap_or(0).min(self.rows.len().saturating_sub(1));
            let name = self.app_at_or_after(nearest).map(|record| record.name.clone());
            self.select(name);
        }
    }

    fn app_at_or_after(&self, row: usize) -> Option<&ProcessRecord> {
        let after = self.rows.iter().skip(row);
        let before = self.rows.iter().take(row).rev();
        after.chain(before).find_map(|view_row| match view_row {
            ViewRow::App(index) => self.records.get(*index),
            ViewRow::Project { .. } => None,
        })
    }

    pub(crate) fn select(&mut self, name: Option<String>) {
        if name != self.selected {
            self.selected = name;
            if self.log_target == LogTarget::Selected {
                self.restart_logs();
            }
        }
    }

    /// The log pane starts over: cleared, and the runtime follows afresh.
    pub(crate) fn restart_logs(&mut self) {
        self.log_generation += 1;
        self.logs.buffer.clear();
        self.logs.cursor = None;
    }

    pub fn row_of(&self, name: &str) -> Option<usize> {
        self.rows.iter().position(|row| match row {
            ViewRow::App(index) => self.records.get(*index).is_some_and(|record| record.name == name),
            ViewRow::Project { .. } => false,
        })
    }

    /// The table row the selection is on.
    pub fn selected_row(&self) -> Option<usize> {
        self.selected.as_deref().and_then(|name| self.row_of(name))
    }

    pub fn selected_record(&self) -> Option<&ProcessRecord> {
        let name = self.selected.as_deref()?;
        self.records.iter().find(|record| record.name == name)
    }

    /// The apps whose output the log pane wants now: the runtime follows exactly these (none while the
    /// pane is not drawn).
    pub fn follows(&self) -> Vec<String> {
        if !matches!(self.link, Link::Up) || self.narrow {
            return Vec::new();
        }
        match self.log_target {
            LogTarget::Selected => self.selected.iter().cloned().collect(),
            LogTarget::All => self
                .rows
                .iter()
                .filter_map(|row| match row {
                    ViewRow::App(index) => self.records.get(*index).map(|record| record.name.clone()),
                    ViewRow::Project { .. } => None,
                })
                .take(FOLLOW_APPS_MAX)
                .collect(),
        }
    }

    /// Lines of backlog to ask for when a follow begins.
    pub fn backlog_lines(&self) -> u32 {
        match self.log_target {
            LogTarget::Selected => BACKLOG_LINES_ONE,
            LogTarget::All => BACKLOG_LINES_ALL,
        }
    }

    /// How many apps "all apps" mode would follow, and how many it does.
    pub fn apps_shown(&self) -> usize {
        self.rows.iter().filter(|row| matches!(row, ViewRow::App(_))).count()
    }
}
