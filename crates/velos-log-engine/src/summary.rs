//! The summary of an app's log for a token budget: level counts, top templates with one example each,
//! templates new since the last apply or restart, anomalies, and the last error with its context. The
//! full summary is built first, then cut, least useful first, until its rendering fits the budget; what
//! was cut is counted so the reader knows it exists.
use crate::app_log::{Anomaly, AppLog, LastError};
use crate::budget::{clip, estimate_tokens};
use crate::level::Severity;
use crate::time::{format_duration, format_utc};
use crate::window::{Window, WindowFrom};
use serde::Serialize;
use std::collections::BTreeMap;

pub const BUDGET_TOKENS_DEFAULT: usize = 400;
/// Below this no summary can say anything useful (`--budget` refuses less).
pub const BUDGET_TOKENS_MIN: usize = 100;
const LIST_MAX: usize = 10;
/// An app that logged at least this many lines and then nothing for `SILENCE_GAPS` usual gaps is silent.
const SILENCE_LINES_MIN: u64 = 20;
const SILENCE_GAPS: i64 = 20;
const SILENCE_MS_MIN: i64 = 60_000;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TemplateLine {
    pub template_id: String,
    pub count: u64,
    pub severity_text: &'static str,
    pub template: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub example: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnomalyLine {
    /// `rate_spike`, `error_spike`, `silence`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Omitted {
    pub top_templates: usize,
    pub new_templates: usize,
    pub anomalies: usize,
}

impl Omitted {
    fn is_empty(&self) -> bool {
        self.top_templates + self.new_templates + self.anomalies == 0
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub app: String,
    /// Lines in the window.
    pub lines: u64,
    /// The window's start (absent: the whole log), by default the last apply or restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The window's end (absent: now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Where the window comes from: `last_apply`, `last_restart`, `asked` or `all`.
    pub window: WindowFrom,
    pub levels: BTreeMap<&'static str, u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top_templates: Vec<TemplateLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_templates: Vec<TemplateLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<AnomalyLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<LastError>,
    #[serde(skip_serializing_if = "Omitted::is_empty")]
    pub omitted: Omitted,
    pub budget_tokens: usize,
    /// Our estimate of what the rendering costs (≤ `budget_tokens`).
    pub tokens: usize,
}

/// How to summarize.
#[derive(Debug, Clone)]
pub struct Request {
    pub app: String,
    pub budget_tokens: usize,
    /// Now, for silence; injected so that a summary is a pure function of its inputs.
    pub now_ms: i64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SummaryError {
    #[error("a budget of {budget} tokens is too small: the shortest summary needs {needed}")]
    BudgetTooSmall { budget: usize, needed: usize },
}

/// The output formats a budget applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Summary {
    /// Builds the summary of the model's window (since its last apply or restart) and cuts it to
    /// `request.budget_tokens` as rendered in `format`.
    pub fn build(log: &AppLog, request: &Request, format: Format) -> Result<(Summary, String), SummaryError> {
        Summary::build_for(log, None, request, format)
    }

    /// [`Summary::build`] over `window` (counted by [`crate::window::WindowCounter`]), or the model's own
    /// when None.
    pub fn build_for(
        log: &AppLog,
        window: Option<Window>,
        request: &Request,
        format: Format,
    ) -> Result<(Summary, String), SummaryError> {
        // Lines still held for header learning count too (only a young model holds any: a cheap copy).
        let settled;
        let log = if log.unsettled() {
            let mut copy = log.clone();
            copy.settle();
            settled = copy;
            &settled
        } else {
            log
        };
        let window = window.unwrap_or_else(|| Window::of_epoch(log));
        let mut summary = full(log, &window, request);
        let mut step = 0;
        loop {
            let rendered = summary.render(format);
            let tokens = estimate_tokens(&rendered);
            if tokens <= request.budget_tokens {
                summary.tokens = tokens;
                // The count of tokens is part of the JSON; render again so it is the true figure.
                let rendered = summary.render(format);
                return Ok((summary, rendered));
            }
            if !summary.shrink(&mut step) {
                return Err(SummaryError::BudgetTooSmall { budget: request.budget_tokens, needed: tokens });
            }
        }
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.render_text(),
            Format::Json => serde_json::to_string(self).unwrap_or_default(),
        }
    }

    /// Cuts the least useful remaining part; false when nothing is left to cut.
    fn shrink(&mut self, step: &mut usize) -> bool {
        loop {
            let changed = match *step {
                0 => self.last_error.as_mut().is_some_and(|error| error.after.pop().is_some()),
                1 => self.last_error.as_mut().is_some_and(|error| error.before.pop().is_some()),
                2 => clip_all(self, 60, false),
                3 => pop(&mut self.top_templates, 3, &mut self.omitted.top_templates),
                4 => pop(&mut self.new_templates, 2, &mut self.omitted.new_templates),
                5 => pop(&mut self.anomalies, 2, &mut self.omitted.anomalies),
                6 => clip_all(self, 0, false),
                7 => clip_all(self, 60, true),
                8 => pop(&mut self.top_templates, 1, &mut self.omitted.top_templates),
                9 => pop(&mut self.new_templates, 1, &mut self.omitted.new_templates),
                10 => pop(&mut self.anomalies, 1, &mut self.omitted.anomalies),
                11 => self.last_error.take().is_some(),
                12 => pop(&mut self.anomalies, 0, &mut self.omitted.anomalies),
                13 => pop(&mut self.new_templates, 0, &mut self.omitted.new_templates),
                14 => pop(&mut self.top_templates, 0, &mut self.omitted.top_templates),
                _ => return false,
            };
            if changed {
                return true;
            }
            *step += 1;
        }
    }

    fn render_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let window = match (&self.since, &self.until, self.window) {
            (None, None, _) => "in all".to_string(),
            (Some(since), None, WindowFrom::Asked) => format!("since {since}"),
            (Some(since), None, from) => format!("since {since} ({})", from.text()),
            (None, Some(until), _) => format!("until {until}"),
            (Some(since), Some(until), _) => format!("from {since} until {until}"),
        };
        let levels: Vec<String> =
            self.levels.iter().map(|(level, count)| format!("{level} {count}")).collect();
        let _ = writeln!(out, "{}: {} lines {window}; {}", self.app, self.lines, levels.join(", "));
        let line = |out: &mut String, t: &TemplateLine| {
            let _ = write!(out, "  {} ×{} {} {}", t.template_id, t.count, t.severity_text, t.template);
            if !t.example.is_empty() {
                let _ = write!(out, " | e.g. {}", t.example);
            }
            out.push('\n');
        };
        if !self.top_templates.is_empty() {
            out.push_str("top:\n");
            self.top_templates.iter().for_each(|t| line(&mut out, t));
        }
        if !self.new_templates.is_empty() {
            let _ = match self.window {
                WindowFrom::LastApply => writeln!(out, "new since the last apply:"),
                WindowFrom::LastRestart => writeln!(out, "new since the last restart:"),
                WindowFrom::Asked | WindowFrom::All => writeln!(out, "new in this window:"),
            };
            self.new_templates.iter().for_each(|t| line(&mut out, t));
        }
        if !self.anomalies.is_empty() {
            out.push_str("anomalies:\n");
            for anomaly in &self.anomalies {
                let _ = writeln!(out, "  {}", anomaly.text);
            }
        }
        if let Some(error) = &self.last_error {
            let _ = writeln!(
                out,
                "last error {} (t{}): {}",
                format_utc(error.at_ms),
                error.template_id,
                error.line
            );
            for before in &error.before {
                let _ = writeln!(out, "  before: {before}");
            }
            for after in &error.after {
                let _ = writeln!(out, "  after: {after}");
            }
        }
        let Omitted { top_templates, new_templates, anomalies } = self.omitted;
        if top_templates + new_templates + anomalies > 0 {
            let _ = writeln!(
                out,
                "(not shown: {top_templates} templates, {new_templates} new, {anomalies} anomalies; a larger --budget or --templates shows more)"
            );
        }
        out
    }
}

fn pop<T>(list: &mut Vec<T>, keep: usize, omitted: &mut usize) -> bool {
    if list.len() > keep {
        list.pop();
        *omitted += 1;
        return true;
    }
    false
}

/// Cuts examples (or, with `templates`, template texts) to `chars`; 0 removes examples.
fn clip_all(summary: &mut Summary, chars: usize, templates: bool) -> bool {
    let mut changed = false;
    for line in summary.top_templates.iter_mut().chain(summary.new_templates.iter_mut()) {
        let field = if templates { &mut line.template } else { &mut line.example };
        let clipped = if chars == 0 { String::new() } else { clip(field, chars) };
        if clipped != *field {
            *field = clipped;
            changed = true;
        }
    }
    if let Some(error) = summary.last_error.as_mut().filter(|_| !templates && chars > 0) {
        let clipped = clip(&error.line, chars);
        changed |= clipped != error.line;
        error.line = clipped;
    }
    changed
}

fn full(log: &AppLog, window: &Window, request: &Request) -> Summary {
    let templates = log.templates();
    let window_count = |id: &u32| window.counts.get(id).copied().unwrap_or(0);
    let line = |id: u32, stats: &crate::app_log::TemplateStats| TemplateLine {
        template_id: format!("t{id}"),
        count: window_count(&id),
        severity_text: stats.severity.text(),
        template: log.miner().render(id),
        example: stats.example.clone(),
    };
    let mut ranked: Vec<_> = templates.iter().filter(|(id, _)| window_count(id) > 0).collect();
    ranked.sort_by(|a, b| window_count(b.0).cmp(&window_count(a.0)).then(a.0.cmp(b.0)));
    let omitted_top = ranked.len().saturating_sub(LIST_MAX);
    let top_templates = ranked.iter().take(LIST_MAX).map(|(&id, stats)| line(id, stats)).collect();

    // "New" only means something when the app logged before the window.
    let logged_before = window.since_ms.is_some_and(|since| log.first_ms.is_some_and(|first| first < since));
    let mut fresh: Vec<_> =
        templates.iter().filter(|(_, stats)| logged_before && window.contains(stats.first_seen_ms)).collect();
    fresh.sort_by(|a, b| b.1.severity.cmp(&a.1.severity).then(b.1.count.cmp(&a.1.count)).then(a.0.cmp(b.0)));
    let omitted_new = fresh.len().saturating_sub(LIST_MAX);
    let new_templates = fresh.iter().take(LIST_MAX).map(|(&id, stats)| line(id, stats)).collect();

    let mut anomalies = anomaly_lines(log, window, request.now_ms);
    let omitted_anomalies = anomalies.len().saturating_sub(LIST_MAX);
    anomalies.truncate(LIST_MAX);

    let last_error = window.last_error.clone().map(|mut error| {
        error.template_id = log.find(error.template_id);
        error
    });
    Summary {
        app: request.app.clone(),
        lines: window.lines,
        since: window.since_ms.map(format_utc),
        until: window.until_ms.map(format_utc),
        window: window.from,
        levels: Severity::ALL
            .iter()
            .zip(window.levels)
            .filter(|(_, count)| *count > 0)
            .map(|(severity, count)| (severity.text(), count))
            .collect(),
        top_templates,
        new_templates,
        anomalies,
        last_error,
        omitted: Omitted {
            top_templates: omitted_top,
            new_templates: omitted_new,
            anomalies: omitted_anomalies,
        },
        budget_tokens: request.budget_tokens,
        tokens: 0,
    }
}

/// Newest first: the spikes recorded in the window, then silence.
fn anomaly_lines(log: &AppLog, window: &Window, now_ms: i64) -> Vec<AnomalyLine> {
    let mut lines = Vec::new();
    // Silence is about now: a window that ends earlier has none.
    if let Some(silence) = silence(log, now_ms).filter(|_| window.until_ms.is_none()) {
        lines.push(silence);
    }
    let mut recorded = log.anomalies();
    recorded.reverse();
    for anomaly in recorded {
        match anomaly {
            Anomaly::RateSpike { template_id, spike } if window.contains(spike.at_ms) => {
                let id = log.find(template_id);
                lines.push(AnomalyLine {
                    kind: "rate_spike",
                    template_id: Some(format!("t{id}")),
                    text: format!(
                        "t{id}: {} lines in the minute at {}, usually {:.1}",
                        spike.count,
                        format_utc(spike.at_ms),
                        spike.usual
                    ),
                });
            }
            Anomaly::ErrorSpike { spike } if window.contains(spike.at_ms) => lines.push(AnomalyLine {
                kind: "error_spike",
                template_id: None,
                text: format!(
                    "errors: {} in the minute at {}, usually {:.1}",
                    spike.count,
                    format_utc(spike.at_ms),
                    spike.usual
                ),
            }),
            _ => {}
        }
    }
    lines
}

fn silence(log: &AppLog, now_ms: i64) -> Option<AnomalyLine> {
    let (first, last) = (log.first_ms?, log.last_ms?);
    if log.lines < SILENCE_LINES_MIN || last <= first {
        return None;
    }
    let usual_gap = (last - first) / (log.lines as i64 - 1);
    let quiet = now_ms - last;
    (quiet > SILENCE_MS_MIN.max(usual_gap * SILENCE_GAPS)).then(|| AnomalyLine {
        kind: "silence",
        template_id: None,
        text: format!(
            "silent for {} (last line {}), usually a line every {}",
            format_duration(quiet),
            format_utc(last),
            format_duration(usual_gap.max(1000))
        ),
    })
}
