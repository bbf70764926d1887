//! How an apply shows itself as it goes: the plan, then on a terminal the running action (or the wait) on
//! a line rewritten in place, then each result; elsewhere each result as a line when it ends. The system
//! project (the controller app) is shown only when it changes something. Nothing in `--json` mode.
use crate::error::CliError;
use std::io::Write;
use velos_ops::Progress;
use velos_reconcile::ApplyEvent;

pub struct Printer<'o> {
    out: &'o mut dyn Write,
    terminal: bool,
    colour: bool,
    quiet: bool,
    /// The plan being applied is the system project's, and it is empty: say nothing of it.
    silent_system: bool,
    /// A transient line is on screen (terminal only).
    transient: bool,
    /// An empty plan of the project is not shown as it comes ("No changes"): apply shows it once it knows
    /// the apps are ready.
    hold_empty_plan: bool,
    error: Option<std::io::Error>,
}

impl<'o> Printer<'o> {
    pub fn new(out: &'o mut dyn Write, quiet: bool) -> Printer<'o> {
        let colour = !quiet && super::colour();
        let terminal = !quiet && std::io::IsTerminal::is_terminal(&std::io::stdout());
        Printer {
            out,
            terminal,
            colour,
            quiet,
            silent_system: false,
            transient: false,
            hold_empty_plan: false,
            error: None,
        }
    }

    /// Leaves an empty plan of the project unsaid, for the caller to say after its wait.
    pub fn holding_empty_plan(mut self) -> Printer<'o> {
        self.hold_empty_plan = true;
        self
    }

    pub fn colour(&self) -> bool {
        self.colour
    }

    pub fn event(&mut self, progress: Progress<'_>) {
        if self.quiet || self.error.is_some() {
            return;
        }
        let written = match progress {
            Progress::Edited { file, changed: true } => {
                self.line(&format!("Edited {}.\n", file.display()), false)
            }
            Progress::Edited { .. } => Ok(()),
            Progress::Planned { plan, system } => {
                self.silent_system = system && plan.is_empty();
                if self.silent_system || (!system && self.hold_empty_plan && plan.is_empty()) {
                    Ok(())
                } else {
                    self.line(&velos_reconcile::render(plan, self.colour), false)
                }
            }
            Progress::Apply { event, .. } if !self.silent_system => self.apply_event(event),
            Progress::Apply { .. } => Ok(()),
        };
        if let Err(error) = written {
            self.error = Some(error);
        }
    }

    fn apply_event(&mut self, event: ApplyEvent<'_>) -> std::io::Result<()> {
        match event {
            ApplyEvent::ActionStarted { index, total, action } if self.terminal => self.line(
                &format!("  [{}/{total}] {} {}...", index + 1, action.kind.kind().verb(), action.name),
                true,
            ),
            ApplyEvent::ActionFinished { result, .. } => {
                self.line(&velos_reconcile::render_result(result, self.colour), false)
            }
            ApplyEvent::Waiting { running, wanted } if self.terminal => {
                self.line(&format!("  waiting for the apps to run: {running}/{wanted}"), true)
            }
            _ => Ok(()),
        }
    }

    fn line(&mut self, text: &str, transient: bool) -> std::io::Result<()> {
        let clear = if self.transient { "\r\x1b[2K" } else { "" };
        self.transient = transient;
        write!(self.out, "{clear}{text}")?;
        self.out.flush()
    }

    /// Clears a transient line; returns the first write error, if any.
    pub fn finish(mut self) -> Result<(), CliError> {
        if let Some(error) = self.error.take() {
            return Err(error.into());
        }
        if self.transient {
            write!(self.out, "\r\x1b[2K")?;
        }
        Ok(())
    }
}
