//! `stop` and `delete`: edits of the app's file (`state = "stopped"`, the table removed), then applied to
//! that app. An app no file declares is acted on directly. `all` acts on every app.
use crate::address::ALL;
use crate::context::Ops;
use crate::edit::apply_app::{app_change, direct_delete, direct_stop, failures_error, Expect};
use crate::edit::bulk::each_app;
use crate::edit::refuse::{orphan_error, Verb};
use crate::edit::session::{Declared, Found, Session};
use crate::error::{ErrorDetail, OpError};
use crate::outcome::{AppChange, Warning};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_config::{DesiredState, Edit};
use velos_reconcile::ApplyOptions;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StopRequest {
    /// An app (every instance) or `all`.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeleteRequest {
    /// An app (every instance) or `all`.
    pub name: String,
}

/// What `stop` or `delete` did, per app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeOutcome {
    pub apps: Vec<AppChange>,
    pub warnings: Vec<Warning>,
}

pub type StopOutcome = ChangeOutcome;
pub type DeleteOutcome = ChangeOutcome;

impl Ops {
    /// Stops an app and keeps it stopped: `state = "stopped"` in its velos.toml.
    pub fn stop(&self, request: StopRequest) -> Result<StopOutcome, OpError> {
        self.change(&request.name, Verb::Stop, &mut stop_one)
    }

    /// Stops an app and forgets it: removed from its velos.toml.
    pub fn delete(&self, request: DeleteRequest) -> Result<DeleteOutcome, OpError> {
        self.change(&request.name, Verb::Delete, &mut delete_one)
    }

    fn change(
        &self,
        name: &str,
        verb: Verb,
        act: &mut crate::edit::bulk::ActOnApp<'_>,
    ) -> Result<ChangeOutcome, OpError> {
        let mut session = Session::open(self)?;
        let mut warnings = Vec::new();
        let apps = if name == ALL {
            each_app(&mut session, verb, &mut warnings, act)?
        } else {
            vec![act(&mut session, name, &mut warnings)?]
        };
        Ok(ChangeOutcome { apps, warnings })
    }
}

fn stop_one(
    session: &mut Session<'_>,
    name: &str,
    warnings: &mut Vec<Warning>,
) -> Result<AppChange, OpError> {
    let declared = match session.find_existing(name, Verb::Stop)? {
        Found::Declared(declared) => declared,
        Found::Orphan(record, velos_reconcile::ownership::Orphan::Unlabelled) => {
            return direct_stop(session, &record.name)
        }
        Found::Orphan(record, orphan) => return Err(orphan_error(&record.name, &orphan, Verb::Stop)),
        Found::Unknown => return Err(session.no_such_app(name)),
    };
    let edits = [Edit::SetState { app: declared.app.clone(), state: DesiredState::Stopped }];
    edit_declared(session, &declared, &edits, Expect::Stop, warnings, |app| {
        format!("velos info {app} shows its state; the file already says it is stopped, so velos stop {app} retries")
    })
}

/// One declared app's edit, applied without waiting (the verb reports the new pids or states): written,
/// converged for that app, and reported; an action that failed fails the verb with `retry_hint`.
fn edit_declared(
    session: &mut Session<'_>,
    declared: &Declared,
    edits: &[Edit],
    expect: Expect,
    warnings: &mut Vec<Warning>,
    retry_hint: impl Fn(&str) -> String,
) -> Result<AppChange, OpError> {
    let prepared = session.prepare(&declared.file, &declared.source, edits, &declared.app)?;
    let executed = session.execute(
        &prepared,
        ApplyOptions { wait: false, ..ApplyOptions::default() },
        &mut |_| {},
        warnings,
    )?;
    let change = app_change(session, &prepared, &executed, expect);
    failures_error(&executed, &prepared.app, retry_hint)?;
    Ok(change)
}

fn delete_one(
    session: &mut Session<'_>,
    name: &str,
    warnings: &mut Vec<Warning>,
) -> Result<AppChange, OpError> {
    let declared = match session.find_existing(name, Verb::Delete)? {
        Found::Declared(declared) => declared,
        // No file declares it, so nothing would bring it back: deleting it is safe.
        Found::Orphan(record, _) => return direct_delete(session, &record.name),
        Found::Unknown => return Err(session.no_such_app(name)),
    };
    let dependents = declared.project.dependents_of(&declared.app);
    if let Some(first) = dependents.first() {
        let list = dependents.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
        let verb = if dependents.len() == 1 { "depends" } else { "depend" };
        return Err(OpError::refused(format!(
            "cannot delete {}: {list} {verb} on it in {}",
            declared.app,
            declared.file.display()
        ))
        .hint(format!(
            "remove `{}` from the depends_on of {first} (velos set {first} depends_on=[...]), or velos delete {first} first",
            declared.app
        ))
        .detail(ErrorDetail::Refused { apps: dependents.iter().map(|name| name.to_string()).collect() }));
    }
    let edits = [Edit::RemoveApp { app: declared.app.clone() }];
    edit_declared(session, &declared, &edits, Expect::Delete, warnings, |app| {
        format!("velos info {app} shows its state; the file no longer has it, so velos delete {app} retries")
    })
}
