//! Colours, or none (`--no-color`, `NO_COLOR`): without colour every distinction that matters is still
//! made by a mark, a word or a modifier (bold, reversed), never by colour alone.
use crate::app::Level;
use ratatui::style::{Color, Modifier, Style};
use velos_core::Status;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    colour: bool,
}

impl Theme {
    pub fn new(colour: bool) -> Theme {
        Theme { colour }
    }

    fn fg(self, colour: Color) -> Style {
        if self.colour {
            Style::new().fg(colour)
        } else {
            Style::new()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn border(self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::DarkGray)
        }
    }

    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn heading(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn status(self, status: Status) -> Style {
        match status {
            Status::Running => self.fg(Color::Green),
            Status::Starting | Status::Waiting | Status::Stopping => self.fg(Color::Yellow),
            Status::Errored => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            // A job that ran to the end: at rest, and nothing wrong.
            Status::Completed => self.fg(Color::Blue),
            Status::Stopped | Status::Unknown => self.dim(),
        }
    }

    pub fn sync(self, state: &str) -> Style {
        match state {
            "synced" => self.fg(Color::Green),
            "progressing" | "out_of_sync" | "degraded" => self.fg(Color::Yellow),
            "error" => self.fg(Color::Red),
            _ => self.dim(),
        }
    }

    pub fn health(self, health: &str) -> Style {
        match health {
            "healthy" => self.fg(Color::Green),
            "unhealthy" => self.fg(Color::Red),
            _ => self.dim(),
        }
    }

    pub fn level(self, level: Level) -> Style {
        match level {
            Level::Error => self.fg(Color::Red),
            Level::Warn => self.fg(Color::Yellow),
            Level::Info | Level::Plain => Style::new(),
            Level::Debug => self.dim(),
        }
    }

    /// The `err│` mark of a line from stderr.
    pub fn stderr_mark(self) -> Style {
        self.fg(Color::Magenta)
    }

    /// The mark of a line whose template is new since the last apply or restart, or spiking.
    pub fn new_mark(self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn search_match(self) -> Style {
        if self.colour {
            Style::new().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }

    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
}
