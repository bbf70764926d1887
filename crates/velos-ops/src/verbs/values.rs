//! `scale`, `set`, `unset`: edits of one app's keys in its velos.toml, applied like `apply` (plan, progress,
//! wait), limited to that app.
use crate::context::Ops;
use crate::converge::Progress;
use crate::edit::apply_app::{app_change, Expect};
use crate::edit::refuse::{orphan_error, Verb};
use crate::edit::session::{Found, Session};
use crate::edit::value::parse_value;
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::{AppChange, WaitOptions, Warning};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use velos_config::Edit;

/// How many instances: `3` is absolute, `+2` and `-1` relative to what the file declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    To(u32),
    By(i64),
}

impl Scale {
    /// `3`, `+2`, `-1`.
    pub fn parse(text: &str) -> Result<Scale, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not a count: write N (3), +N (+2) or -N (-1)");
        if let Some(more) = text.strip_prefix('+') {
            more.parse::<u32>().map(|count| Scale::By(i64::from(count))).map_err(|_| bad())
        } else if let Some(fewer) = text.strip_prefix('-') {
            fewer.parse::<u32>().map(|count| Scale::By(-i64::from(count))).map_err(|_| bad())
        } else {
            text.parse::<u32>().map(Scale::To).map_err(|_| bad())
        }
    }

    /// `3`, `+2`, `-1`, as typed.
    pub fn text(self) -> String {
        match self {
            Scale::To(count) => count.to_string(),
            Scale::By(delta) => format!("{delta:+}"),
        }
    }

    /// The count it asks for, from `current`.
    pub fn from(self, current: u32) -> Result<u32, i64> {
        match self {
            Scale::To(count) => Ok(count),
            Scale::By(delta) => {
                let wanted = i64::from(current) + delta;
                u32::try_from(wanted).map_err(|_| wanted)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScaleRequest {
    pub app: String,
    pub scale: Scale,
    #[serde(default)]
    pub wait: WaitOptions,
}

/// `KEY=VALUE`: the key dotted for tables (`env.PORT`, `log.max_size`); the value as typed, read as TOML
/// when it reads as a TOML integer, boolean, string, array or inline table, else as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Assignment {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SetRequest {
    pub app: String,
    pub assignments: Vec<Assignment>,
    #[serde(default)]
    pub wait: WaitOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnsetRequest {
    pub app: String,
    pub keys: Vec<String>,
    #[serde(default)]
    pub wait: WaitOptions,
}

/// What an edit of an app's keys did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EditOutcome {
    pub change: AppChange,
    pub warnings: Vec<Warning>,
}

pub type ScaleOutcome = EditOutcome;
pub type SetOutcome = EditOutcome;
pub type UnsetOutcome = EditOutcome;

impl Ops {
    pub fn scale(&self, request: ScaleRequest) -> Result<ScaleOutcome, OpError> {
        self.scale_with(request, &mut |_| {})
    }

    /// Runs N instances of an app: `instances = N` in its velos.toml, then the app applied. The new
    /// instances are started in one pipelined batch.
    pub fn scale_with(
        &self,
        request: ScaleRequest,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<ScaleOutcome, OpError> {
        let scale = request.scale;
        let app = request.app.clone();
        self.edit_app(&request.app, Verb::Scale, request.wait, progress, &mut |declared| {
            let current =
                u32::try_from(declared.project.instances_of(&declared.app).len()).unwrap_or(u32::MAX);
            let instances = scale.from(current).map_err(|wanted| {
                OpError::invalid(format!(
                    "{app} runs {current} instance(s): {} would leave {wanted}",
                    scale.text()
                ))
                .hint(format!(
                    "velos scale {app} N sets the count (1 to 100); velos stop {app} stops every instance"
                ))
            })?;
            Ok(vec![Edit::SetInstances { app: declared.app.clone(), instances }])
        })
    }

    pub fn set(&self, request: SetRequest) -> Result<SetOutcome, OpError> {
        self.set_with(request, &mut |_| {})
    }

    /// Sets keys of an app in its velos.toml, then applies the app.
    pub fn set_with(
        &self,
        request: SetRequest,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<SetOutcome, OpError> {
        let assignments = request.assignments.clone();
        self.edit_app(&request.app, Verb::Set, request.wait, progress, &mut |declared| {
            Ok(assignments
                .iter()
                .map(|assignment| Edit::Set {
                    app: declared.app.clone(),
                    key: assignment.key.clone(),
                    value: parse_value(&assignment.value),
                })
                .collect())
        })
    }

    pub fn unset(&self, request: UnsetRequest) -> Result<UnsetOutcome, OpError> {
        self.unset_with(request, &mut |_| {})
    }

    /// Removes keys of an app from its velos.toml, then applies the app.
    pub fn unset_with(
        &self,
        request: UnsetRequest,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<UnsetOutcome, OpError> {
        let keys = request.keys.clone();
        self.edit_app(&request.app, Verb::Unset, request.wait, progress, &mut |declared| {
            Ok(keys.iter().map(|key| Edit::Unset { app: declared.app.clone(), key: key.clone() }).collect())
        })
    }

    /// An edit of one declared app, applied like `velos apply` (plan, progress, wait), limited to it.
    fn edit_app(
        &self,
        name: &str,
        verb: Verb,
        wait: WaitOptions,
        progress: &mut dyn FnMut(Progress<'_>),
        edits_of: &mut dyn FnMut(&crate::edit::session::Declared) -> Result<Vec<Edit>, OpError>,
    ) -> Result<EditOutcome, OpError> {
        let mut session = Session::open(self)?;
        let declared = match session.find_existing(name, verb)? {
            Found::Declared(declared) => declared,
            Found::Orphan(record, orphan) => return Err(orphan_error(&record.name, &orphan, verb)),
            Found::Unknown => return Err(session.no_such_app(name)),
        };
        let edits = edits_of(&declared)?;
        let prepared = session.prepare(&declared.file, &declared.source, &edits, &declared.app)?;
        let mut warnings = Vec::new();
        progress(Progress::Edited { file: &prepared.file, changed: prepared.changed });
        progress(Progress::Planned { plan: &prepared.plan, system: false });
        // Stops wait up to the apps' kill timeouts: never give up before the longest one has passed.
        let kill_timeout_ms =
            session.live.iter().map(|record| record.spec.kill_timeout_ms).max().unwrap_or(0);
        let mut options = wait.apply_options();
        options.timeout =
            options.timeout.max(Duration::from_millis(kill_timeout_ms) + crate::wait::WAIT_GRACE);
        let waiting = crate::converge::Waiting::before(self, &prepared.project, self.clock().now());
        let executed = session.execute(
            &prepared,
            options,
            &mut |event| progress(Progress::Apply { event, system: false }),
            &mut warnings,
        )?;
        let change = app_change(&session, &prepared, &executed, Expect::Any);
        let remedied = wait.wait && prepared.project.on_failure != velos_config::OnFailure::Report;
        if executed.converged.report.ok() {
            if remedied {
                // A project that asks for a remedy gets the edit judged ready, as apply judges it.
                let applied = crate::converge::Applied {
                    plan: executed.converged.plan.clone(),
                    report: executed.converged.report.clone(),
                };
                let settled = crate::converge::await_ready(
                    self,
                    session.backend.as_mut(),
                    Ok(applied),
                    wait,
                    waiting,
                    &prepared.file,
                );
                crate::remedy::settle(
                    self,
                    session.backend.as_mut(),
                    &prepared.project,
                    settled,
                    wait,
                    progress,
                    &mut warnings,
                )?;
            }
            return Ok(EditOutcome { change, warnings });
        }
        let incomplete = OpError::new(
            OpErrorKind::Incomplete,
            format!(
                "{} {} did not complete: {}",
                verb.as_str(),
                prepared.app,
                executed.converged.report.summary()
            ),
        )
        .hint(format!(
            "velos logs {} --stderr shows why; {} already holds the change, so velos apply {} retries it",
            prepared.app,
            prepared.file.display(),
            prepared.file.display()
        ))
        .detail(ErrorDetail::Incomplete {
            plan: executed.converged.plan,
            report: executed.converged.report,
            ready: Vec::new(),
        });
        if remedied {
            // A crash loop can already fail the pass's own wait for "running": that is an app not ready,
            // and the project's on_failure answers it as it answers one that fails readiness.
            crate::remedy::settle(
                self,
                session.backend.as_mut(),
                &prepared.project,
                Err(incomplete),
                wait,
                progress,
                &mut warnings,
            )?;
            return Ok(EditOutcome { change, warnings });
        }
        Err(incomplete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_counts_are_absolute_or_relative() {
        assert_eq!(Scale::parse("3"), Ok(Scale::To(3)));
        assert_eq!(Scale::parse("+2"), Ok(Scale::By(2)));
        assert_eq!(Scale::parse("-1"), Ok(Scale::By(-1)));
        assert!(Scale::parse("two").is_err());
        assert!(Scale::parse("+").is_err());
        assert_eq!(Scale::By(1).from(2), Ok(3), "+1 of 2 is 3, never fewer");
        assert_eq!(Scale::By(-1).from(2), Ok(1));
        assert_eq!(Scale::By(-3).from(2), Err(-1));
        assert_eq!(Scale::To(5).from(2), Ok(5));
    }
}
