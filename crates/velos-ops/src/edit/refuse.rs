//! Why an edit cannot act on a name: an instance, a system app, an app no file declares.
use crate::error::{OpError, OpErrorKind};
use std::path::Path;
use velos_controller::SYSTEM_PROJECT;
use velos_reconcile::ownership::Orphan;

/// The verbs that edit desired state, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Start,
    Stop,
    Delete,
    Scale,
    Set,
    Unset,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Delete => "delete",
            Verb::Scale => "scale",
            Verb::Set => "set",
            Verb::Unset => "unset",
        }
    }

    pub fn past(self) -> &'static str {
        match self {
            Verb::Start => "started",
            Verb::Stop => "stopped",
            Verb::Delete => "deleted",
            Verb::Scale => "scaled",
            Verb::Set | Verb::Unset => "edited",
        }
    }
}

pub fn instance_error(name: &str, app: &str, file: &Path, verb: Verb) -> OpError {
    OpError::invalid(format!(
        "{name} is an instance of app `{app}` ({}): instances cannot be {} one by one",
        file.display(),
        verb.past()
    ))
    .hint(format!(
        "velos {} {app} acts on every instance; velos scale {app} N changes how many run",
        verb.as_str()
    ))
}

/// The apps of the system project are Velos's own: `velos apply` writes their file.
pub fn system_error(name: &str, verb: Verb) -> OpError {
    OpError::refused(format!("{name} is run by Velos itself (project {SYSTEM_PROJECT}), so it cannot be {}", verb.past()))
        .hint(format!(
            "it runs while a project asks for the controller ([velos] in its velos.toml, or velos apply --git); velos restart {name} restarts it"
        ))
}

/// Why an app that no file declares cannot be edited.
pub fn orphan_error(name: &str, orphan: &Orphan, verb: Verb) -> OpError {
    match orphan {
        Orphan::Unlabelled => OpError::refused(format!(
            "{name} runs outside any project: no velos.toml declares it, so it cannot be {}",
            verb.past()
        ))
        .hint(format!("velos delete {name}, then velos start it again: it is then declared in the default project")),
        Orphan::Unregistered { project } => OpError::refused(format!(
            "{name} belongs to project `{project}`, which has not been applied on this host (VELOS_HOME)"
        ))
        .hint(format!("velos apply on that project's file registers it; velos delete {name} removes the app")),
        Orphan::FileGone { project, file } => OpError::new(
            OpErrorKind::NotFound,
            format!("{name} belongs to project `{project}`, whose file {} is gone", file.display()),
        )
        .hint(format!(
            "restore {} and run velos apply on it; or velos forget {project} removes the project and its apps",
            file.display()
        )),
        Orphan::FileInvalid { project, file, message } => OpError::invalid(format!(
            "{name} belongs to project `{project}`, whose file {} is not valid now",
            file.display()
        ))
        .cause(message.clone())
        .hint(format!("velos validate {} shows the problems; fix them, then run the command again", file.display())),
        Orphan::NotInFile { project, file } => OpError::refused(format!(
            "{name} is no longer declared in {} (project `{project}`)",
            file.display()
        ))
        .hint(format!("velos apply {} deletes it; velos delete {name} deletes it now", file.display())),
    }
}
