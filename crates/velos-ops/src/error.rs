//! [`OpError`]: what went wrong, as data. A kind each face maps in one place (exit code, HTTP status, MCP
//! tool error), the message, causes, a hint naming the next command, config diagnostics, and the facts a
//! face needs to say more (did-you-mean candidates, the repository to commit to, ...).
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use velos_config::Diagnostic;

/// Every kind of failure of a verb. snake_case in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpErrorKind {
    /// No app, instance, project or history entry of that name ([`ErrorDetail::NotFound`] has candidates).
    NotFound,
    /// The name is taken (an app declared elsewhere, another project's app).
    Conflict,
    /// Bad input: a velos.toml with problems (`diagnostics`), a bad flag value, a bad name.
    InvalidInput,
    /// The project follows git: change it in the repository ([`ErrorDetail::FollowsGit`]).
    FollowsGit,
    /// A read verb found no daemon; read verbs never start one ([`ErrorDetail::DaemonNotRunning`]).
    DaemonNotRunning,
    /// The daemon could not be started or reached, or broke the protocol.
    DaemonUnreachable,
    /// The app changed since it was read (optimistic concurrency): read again, then retry.
    Stale,
    /// Not allowed as asked: a system app, an app others depend on, running apps without `yes`.
    Refused,
    /// The apply ran but did not complete: some action failed, or an app did not come up
    /// ([`ErrorDetail::Incomplete`] holds the plan and the report).
    Incomplete,
    /// A file or folder could not be read or written.
    Io,
    /// A bug, or something no other kind describes.
    Internal,
}

impl OpErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpErrorKind::NotFound => "not_found",
            OpErrorKind::Conflict => "conflict",
            OpErrorKind::InvalidInput => "invalid_input",
            OpErrorKind::FollowsGit => "follows_git",
            OpErrorKind::DaemonNotRunning => "daemon_not_running",
            OpErrorKind::DaemonUnreachable => "daemon_unreachable",
            OpErrorKind::Stale => "stale",
            OpErrorKind::Refused => "refused",
            OpErrorKind::Incomplete => "incomplete",
            OpErrorKind::Io => "io",
            OpErrorKind::Internal => "internal",
        }
    }
}

/// The next step, as data: `commands` are the velos command lines the text names (`velos list`), in the
/// order to try them, so a face can turn them into its own terms (a route, a tool); `text` is the CLI's
/// wording.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Hint {
    pub text: String,
    pub commands: Vec<String>,
}

impl Hint {
    /// A hint whose text names `commands` (each written `velos ...`, so they are found in the text).
    pub fn new(text: impl Into<String>) -> Hint {
        let text = text.into();
        Hint { commands: commands_in(&text), text }
    }
}

/// Words that end a command named in prose ("velos list shows the apps").
const PROSE: [&str; 30] = [
    "shows",
    "lists",
    "restarts",
    "starts",
    "applies",
    "deletes",
    "first",
    "then",
    "to",
    "or",
    "and",
    "is",
    "does",
    "removes",
    "stops",
    "checks",
    "brings",
    "finishes",
    "runs",
    "retries",
    "acts",
    "changes",
    "with",
    "on",
    "for",
    "in",
    "registers",
    "again",
    "takes",
    "syncs",
];

/// The `velos ...` commands named in `text`: `velos` and the words after it, up to a punctuation mark or a
/// word of prose.
fn commands_in(text: &str) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word != "velos" {
            continue;
        }
        let mut command = vec!["velos".to_string()];
        while let Some(next) = words.peek() {
            let bare = next.trim_end_matches([';', ',', ')', ':', '.']);
            if bare.is_empty() || PROSE.contains(&bare) || next.starts_with('(') {
                break;
            }
            command.push(bare.to_string());
            let ended = bare.len() != next.len();
            words.next();
            if ended {
                break;
            }
        }
        let command = command.join(" ");
        if command != "velos" && !commands.contains(&command) {
            commands.push(command);
        }
    }
    commands
}

/// The facts behind some kinds, for faces that say more than the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ErrorDetail {
    /// `what` is `app`, `project` or `history entry`; `candidates` are the close names ("did you mean").
    NotFound { what: String, name: String, candidates: Vec<String> },
    /// The project's source is `repository` (at `ref_name`, file `path`): commit the change there.
    FollowsGit { project: String, repository: String, ref_name: String, path: String },
    /// No daemon runs on `home`; its state file holds `saved_apps` apps (`running` of them to be started
    /// again), which `velos resurrect` or `velos daemon` brings back.
    DaemonNotRunning { home: PathBuf, saved_apps: usize, running: usize },
    /// The apply that did not complete; `ready`: what became of each app it waited on, when it waited
    /// (an app that is not ready carries its last exit and stderr tail).
    Incomplete {
        plan: velos_reconcile::Plan,
        report: velos_reconcile::ApplyReport,
        #[serde(default)]
        ready: Vec<crate::ready::AppReadiness>,
    },
    /// The apps that keep a refused verb from acting (dependents, running apps).
    Refused { apps: Vec<String> },
}

/// A verb that failed. Nothing it would have written was written unless the message says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct OpError {
    pub kind: OpErrorKind,
    pub message: String,
    /// The chain of causes, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// Boxed, as `detail`, so a `Result<_, OpError>` stays small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Box<Hint>>,
    /// velos.toml problems, each at `file:line:column`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<DiagnosticSchema>")]
    pub diagnostics: Vec<Diagnostic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<ErrorDetail>>,
}

/// The JSON form of a velos.toml diagnostic (velos-config's `Diagnostic`).
#[derive(JsonSchema)]
#[schemars(rename = "Diagnostic")]
#[allow(dead_code)] // only its schema is used
struct DiagnosticSchema {
    file: PathBuf,
    /// 1-based.
    line: usize,
    /// 1-based, in characters.
    column: usize,
    span_len: usize,
    message: String,
    help: Option<String>,
    source_line: String,
}

impl OpError {
    pub fn new(kind: OpErrorKind, message: impl Into<String>) -> OpError {
        OpError {
            kind,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            diagnostics: Vec::new(),
            detail: None,
        }
    }

    pub fn hint(mut self, text: impl Into<String>) -> OpError {
        self.hint = Some(Box::new(Hint::new(text)));
        self
    }

    pub fn cause(mut self, cause: impl Into<String>) -> OpError {
        self.causes.push(cause.into());
        self
    }

    pub fn detail(mut self, detail: ErrorDetail) -> OpError {
        self.detail = Some(Box::new(detail));
        self
    }

    /// Every `source()` of `error` as a cause not already said.
    pub fn causes_of(mut self, error: &(dyn std::error::Error + 'static)) -> OpError {
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !self.causes.contains(&text) && !self.message.contains(&text) {
                self.causes.push(text);
            }
            source = cause.source();
        }
        self
    }

    pub fn internal(message: impl Into<String>) -> OpError {
        OpError::new(OpErrorKind::Internal, message)
    }

    pub fn io(what: impl Into<String>, error: &std::io::Error) -> OpError {
        OpError::new(OpErrorKind::Io, what).cause(error.to_string())
    }

    pub fn invalid(message: impl Into<String>) -> OpError {
        OpError::new(OpErrorKind::InvalidInput, message)
    }

    pub fn refused(message: impl Into<String>) -> OpError {
        OpError::new(OpErrorKind::Refused, message)
    }

    /// A velos.toml that could not be loaded (`invalid_input` with diagnostics, `not_found`, `io`).
    pub fn from_config(error: &velos_config::ConfigError) -> OpError {
        crate::verbs::apply::load_error(error)
    }

    /// The hint's text, if any.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_ref().map(|hint| hint.text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_names_its_commands() {
        let hint =
            Hint::new("velos list shows the apps; velos delete web first, or velos apply FILE (then retry)");
        assert_eq!(hint.commands, ["velos list", "velos delete web", "velos apply FILE"]);
        assert_eq!(Hint::new("check the path").commands, Vec::<String>::new());
    }

    #[test]
    fn kinds_are_snake_case_in_json() {
        for kind in [OpErrorKind::NotFound, OpErrorKind::DaemonNotRunning, OpErrorKind::FollowsGit] {
            assert_eq!(serde_json::to_value(kind).expect("json"), kind.as_str());
        }
        let error =
            OpError::new(OpErrorKind::NotFound, "no app named \"wbe\"").detail(ErrorDetail::NotFound {
                what: "app".into(),
                name: "wbe".into(),
                candidates: vec!["web".into()],
            });
        let json = serde_json::to_value(&error).expect("json");
        assert_eq!(json["kind"], "not_found");
        assert_eq!(json["detail"]["candidates"][0], "web");
        let back: OpError = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, error);
    }
}
