//! What the user sees when a command fails: `error: <message>`, `  caused by: …` lines, `hint: <next step>`;
//! a velos.toml problem as velos-config renders it (file:line:column, the line, a caret, help).
use std::fmt::Write as _;
use velos_ops::OpError;

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
    /// stdout went away (`velos list | head -1`): stop quietly, exit 0.
    pub broken_pipe: bool,
    /// Text rendered elsewhere (a velos.toml's diagnostics), printed as is instead of `error: message`.
    pub preformatted: Option<String>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            broken_pipe: false,
            preformatted: None,
        }
    }

    /// The problems were printed already (`velos validate`): exit 1 without another line.
    pub fn reported(message: impl Into<String>) -> CliError {
        let mut cli_error = CliError::new(message);
        cli_error.preformatted = Some(String::new());
        cli_error
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    pub fn cause(mut self, cause: impl Into<String>) -> CliError {
        self.causes.push(cause.into());
        self
    }

    /// The stderr text.
    pub fn render(&self) -> String {
        let mut text = match &self.preformatted {
            Some(text) => text.clone(),
            None => {
                let mut text = format!("error: {}\n", self.message);
                for cause in &self.causes {
                    let _ = writeln!(text, "  caused by: {cause}");
                }
                text
            }
        };
        if let Some(hint) = &self.hint {
            let _ = writeln!(text, "hint: {hint}");
        }
        text
    }
}

impl From<OpError> for CliError {
    fn from(error: OpError) -> CliError {
        let mut cli_error = CliError::new(error.message.clone());
        cli_error.causes = error.causes.clone();
        cli_error.hint = error.hint.as_ref().map(|hint| hint.text.clone());
        if let Some(first) = error.diagnostics.first() {
            let mut text =
                error.diagnostics.iter().map(|diagnostic| diagnostic.render()).collect::<Vec<_>>().join("\n");
            if error.diagnostics.len() > 1 {
                let _ = writeln!(
                    text,
                    "\nerror: {} problems in {}",
                    error.diagnostics.len(),
                    first.file.display()
                );
            }
            cli_error.preformatted = Some(text);
        }
        cli_error
    }
}

impl From<std::io::Error> for CliError {
    /// Only used for writes to stdout.
    fn from(error: std::io::Error) -> CliError {
        let mut cli_error = CliError::new("could not write the output").cause(error.to_string());
        cli_error.broken_pipe = error.kind() == std::io::ErrorKind::BrokenPipe;
        cli_error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_ops::OpErrorKind;

    #[test]
    fn rendering() {
        let error = CliError::new("the velos daemon did not start: it exited at once (exit code 1)")
            .cause("daemon.log: error: VELOS_HOME is unusable")
            .hint("velos daemon --foreground");
        assert_eq!(
            error.render(),
            "error: the velos daemon did not start: it exited at once (exit code 1)\n  caused by: daemon.log: \
             error: VELOS_HOME is unusable\nhint: velos daemon --foreground\n"
        );
    }

    #[test]
    fn an_op_error_keeps_its_hint_and_causes() {
        let error =
            OpError::new(OpErrorKind::NotFound, "no app named \"ghost\"").hint("velos list").cause("why");
        assert_eq!(
            CliError::from(error).render(),
            "error: no app named \"ghost\"\n  caused by: why\nhint: velos list\n"
        );
    }
}
