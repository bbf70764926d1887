//! The selected app in detail: how it runs (command, cwd, env names — never values, they may be
//! secrets), its policy, how it last ended, and CPU and memory over the last minutes.
use super::{format, Theme};
use crate::app::App;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline, Wrap};
use ratatui::Frame;
use velos_core::ProcessRecord;

pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, theme: Theme, focused: bool) {
    let Some(record) = app.selected_record() else {
        let block = Block::bordered().title(" details ").border_style(theme.border(focused));
        frame.render_widget(Paragraph::new("no app selected").style(theme.dim()).block(block), area);
        return;
    };
    let block = Block::bordered()
        .title(Span::styled(format!(" details · {} ", record.name), theme.border(focused)))
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text_area, cpu_area, memory_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(3), Constraint::Length(3)]).areas(inner);
    frame.render_widget(Paragraph::new(facts(record, theme)).wrap(Wrap { trim: false }), text_area);

    let samples = app.history.get(&record.name);
    let width = cpu_area.width as usize;
    let tail = |values: Option<&std::collections::VecDeque<u64>>| -> Vec<u64> {
        values
            .map(|values| values.iter().skip(values.len().saturating_sub(width)).copied().collect())
            .unwrap_or_default()
    };
    let cpu = tail(samples.map(|samples| &samples.cpu_tenths));
    let memory = tail(samples.map(|samples| &samples.memory_bytes));
    let span = format::uptime(cpu.len() as u64 * app.interval.as_millis() as u64);
    let cpu_peak = cpu.iter().max().copied().unwrap_or(0) as f64 / 10.0;
    let cpu_title = format!("cpu {} · peak {} · last {span}", format::cpu(record.cpu), format::cpu(cpu_peak));
    let memory_peak = memory.iter().max().copied().unwrap_or(0);
    let memory_title = format!(
        "memory {} · peak {} · last {span}",
        format::bytes(record.memory),
        format::bytes(memory_peak)
    );
    let sparkline = |title: String, data: Vec<u64>, style| {
        Sparkline::default()
            .block(Block::new().title(Span::styled(title, theme.dim())))
            .data(data)
            .style(style)
    };
    frame.render_widget(sparkline(cpu_title, cpu, theme.good()), cpu_area);
    frame.render_widget(sparkline(memory_title, memory, theme.heading()), memory_area);
}

fn facts(record: &ProcessRecord, theme: Theme) -> Vec<Line<'static>> {
    let spec = &record.spec;
    let mut command = vec![spec.command.clone()];
    command.extend(spec.args.iter().cloned());
    let env_names: Vec<&str> =
        spec.env.iter().map(|entry| entry.split('=').next().unwrap_or(entry)).collect();
    let limit = match spec.max_memory_bytes {
        0 => "no memory limit".to_string(),
        bytes => format!("restart above {}", format::bytes(bytes)),
    };
    let policy = format!(
        "{}, {} in {}, backoff {}→{}, {limit}",
        spec.restart.as_str(),
        spec.max_restarts,
        format::duration_ms(spec.restart_window_ms),
        format::duration_ms(spec.backoff_initial_ms),
        format::duration_ms(spec.backoff_max_ms),
    );
    let stop = format!(
        "{}, SIGKILL after {}",
        signal_name(spec.kill_signal),
        format::duration_ms(spec.kill_timeout_ms)
    );
    let last_exit = match (record.exit_code, record.exit_signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
        (None, None) => "none yet".to_string(),
    };
    let revision =
        spec.labels.get("source_rev").map_or("-".to_string(), |rev| rev.chars().take(12).collect());
    let field = |name: &'static str, value: String| {
        Line::from(vec![Span::styled(format!("{name:<10}"), theme.dim()), Span::raw(value)])
    };
    let mut lines = vec![
        field("command", command.join(" ")),
        field("cwd", spec.cwd.clone()),
        field("env", if env_names.is_empty() { "-".into() } else { env_names.join(" ") }),
        field("policy", policy),
        field("stop", stop),
        field("last exit", last_exit),
        field("revision", revision),
    ];
    if let Some(error) = &record.last_error {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", "error"), theme.dim()),
            Span::styled(error.clone(), theme.bad()),
        ]));
    }
    lines
}

fn signal_name(signal: u8) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        12 => "SIGUSR2",
        15 => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}
