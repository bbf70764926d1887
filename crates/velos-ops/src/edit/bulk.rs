//! `all`: a verb on every app of the host, one after another in one session. An app whose project file is
//! gone or invalid is skipped with a warning, so one broken project never stops the verb on the others.
use super::refuse::Verb;
use super::session::{Found, Session};
use crate::error::OpError;
use crate::outcome::{AppChange, Warning, WarningKind};
use velos_reconcile::ownership::Orphan;

/// A verb on one app of a session.
pub type ActOnApp<'f> =
    dyn FnMut(&mut Session<'_>, &str, &mut Vec<Warning>) -> Result<AppChange, OpError> + 'f;

/// Runs `act` on each app (declared or live, not Velos's own). The first failure ends the verb, after the
/// apps before it were acted on: `incomplete`, naming them.
pub fn each_app(
    session: &mut Session<'_>,
    verb: Verb,
    warnings: &mut Vec<Warning>,
    act: &mut ActOnApp<'_>,
) -> Result<Vec<AppChange>, OpError> {
    let mut apps = Vec::new();
    for name in app_names(session) {
        match session.find(&name, verb) {
            Ok(Found::Orphan(
                record,
                Orphan::FileGone { project, file } | Orphan::FileInvalid { project, file, .. },
            )) => {
                warnings.push(Warning::new(
                    WarningKind::FileGone,
                    format!("{} left as it is: project {project}'s file {} cannot be read (velos forget {project} removes it)", record.name, file.display()),
                ));
                continue;
            }
            Ok(_) => {}
            Err(error) => return Err(error),
        }
        match act(session, &name, warnings) {
            Ok(change) => apps.push(change),
            Err(error) if apps.is_empty() => return Err(error),
            Err(error) => {
                let done: Vec<&str> = apps.iter().map(|change: &AppChange| change.app.as_str()).collect();
                return Err(error.cause(format!("already {}: {}", verb.past(), done.join(", "))));
            }
        }
    }
    if apps.is_empty() && warnings.is_empty() {
        return Err(session.no_such_app(crate::address::ALL));
    }
    Ok(apps)
}

/// The apps to act on: each declared app once (by its `[apps.NAME]` key), then each live app no file
/// declares, sorted.
fn app_names(session: &Session<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for record in session.live.iter().filter(|record| !crate::address::is_system(record)) {
        let app = crate::address::app_of(record).to_string();
        let declared_app = session
            .files
            .iter()
            .filter_map(|file| file.project())
            .any(|project| project.app_names().contains(&app.as_str()));
        let name = if declared_app { app } else { record.name.clone() };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    for file in &session.files {
        let Some(project) = file.project() else { continue };
        if project.name == velos_controller::SYSTEM_PROJECT {
            continue;
        }
        for app in project.app_names() {
            if !names.iter().any(|name| name == app) {
                names.push(app.to_string());
            }
        }
    }
    names.sort();
    names
}
