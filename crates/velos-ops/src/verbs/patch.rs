//! `patch`: a change of a whole velos.toml from outside (REST `PATCH`): an RFC 7396 JSON merge patch, or the
//! whole new text, checked against the revision the caller read, validated, written atomically and
//! converged — all under the edit lock, the one edit path, as `approve` takes it.
use crate::context::Ops;
use crate::converge::{await_ready, converge_project, Applied, Waiting};
use crate::convert::config_error;
use crate::edit::session::follows_git;
use crate::error::{OpError, OpErrorKind};
use crate::outcome::{WaitOptions, Warning};
use crate::ready::AppReadiness;
use crate::verbs::proposals::proposal_error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_config::Patch;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatchRequest {
    /// The project to change (as `velos status` names it).
    pub project: String,
    /// A JSON merge patch of velos.toml (an object), or the whole new file (a string).
    pub patch: serde_json::Value,
    /// The revision the patch was made against (REST `If-Match`); if the file is at another one now, the
    /// verb is `stale` and writes nothing.
    #[serde(default)]
    pub expected_revision: Option<String>,
    #[serde(default)]
    pub wait: WaitOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatchOutcome {
    pub project: String,
    pub previous_revision: String,
    pub revision: String,
    /// The converge of the new file; absent when the patch left the text as it was.
    pub apply: Option<Applied>,
    /// Each app the project wants running, ready or not, when the verb waited (as `apply` reports them).
    pub ready: Vec<AppReadiness>,
    pub warnings: Vec<Warning>,
}

impl Ops {
    /// Patches a project's file and applies it. A project that follows git is refused (its file changes in
    /// the repository); an invalid result is `invalid_input` with its diagnostics, and nothing is written.
    pub fn patch(&self, request: PatchRequest) -> Result<PatchOutcome, OpError> {
        let began = std::time::Instant::now();
        let home = self.home().root();
        let file = velos_proposals::project_file(home, &request.project).map_err(proposal_error)?;
        let patch = Patch::from_json(request.patch).map_err(OpError::invalid)?;
        let _lock = self.lock_edits()?;
        let bytes = std::fs::read(&file)
            .map_err(|error| OpError::io(format!("could not read {}", file.display()), &error))?;
        let previous_revision = velos_config::revision(&bytes);
        if let Some(expected) = &request.expected_revision {
            if *expected != previous_revision {
                return Err(OpError::new(
                    OpErrorKind::Stale,
                    format!(
                        "{} changed since revision {expected} (it is at {previous_revision})",
                        file.display()
                    ),
                )
                .hint("read the config again and make the patch against it"));
            }
        }
        let source = String::from_utf8_lossy(&bytes).into_owned();
        if let Ok(current) = velos_config::parse(&source, &file) {
            if let Some(repository) = velos_controller::tracking(home, &current) {
                return Err(follows_git(&current, &repository, "its file is not patched here"));
            }
        }
        let (text, project) =
            velos_config::apply_patch(&source, &file, &patch).map_err(|error| config_error(&error))?;
        if text == source {
            let revision = previous_revision.clone();
            return Ok(PatchOutcome {
                project: request.project,
                previous_revision,
                revision,
                apply: None,
                ready: vec![],
                warnings: vec![],
            });
        }
        let mut backend = self.connect_or_start()?;
        velos_config::write_atomically(&file, &text)
            .map_err(|error| OpError::io(format!("could not write {}", file.display()), &error))?;
        let mut warnings = Vec::new();
        let waiting = Waiting::before(self, &project, began);
        let converged = converge_project(
            self,
            backend.as_mut(),
            (&project, &text),
            request.wait,
            false,
            &mut |_| {},
            &mut warnings,
        );
        // Like apply: the change answers "did it work?" (each app up for its min_uptime, or why not).
        let settled = await_ready(self, backend.as_mut(), converged, request.wait, waiting, &file);
        let (applied, ready) = crate::remedy::settle(
            self,
            backend.as_mut(),
            &project,
            settled,
            request.wait,
            &mut |_| {},
            &mut warnings,
        )?;
        Ok(PatchOutcome {
            project: request.project,
            previous_revision,
            revision: velos_config::revision(text.as_bytes()),
            apply: Some(applied),
            ready,
            warnings,
        })
    }
}
