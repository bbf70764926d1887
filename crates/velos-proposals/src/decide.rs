//! Closing a proposal. Approving is split around the ops layer's one edit path (velos-ops `approve`):
//! under the caller's edit lock, [`check`] says whether the proposal still applies to the file as it is now
//! and gives the text to write; the caller writes it and converges; [`approved`] records the outcome.
use crate::{AgentAction, Decision, Proposal, ProposalError, State, Store};
use std::path::Path;
use velos_config::Project;

/// A proposal that can be applied now: the file's new text and the project it describes.
#[derive(Debug, Clone)]
pub struct Ready {
    pub proposal: Proposal,
    pub text: String,
    pub project: Project,
}

/// Checks, under the caller's edit lock, that proposal `id` can be applied now: it is pending, its file is
/// still the revision it was made against (else it is marked stale and refused: the agent proposes again),
/// the project does not follow git (`follows_git` names its source when it does: the change belongs in a
/// commit), and the patch still gives a valid file. Every refusal is recorded in the action log, by `by`.
pub fn check(
    home: &Path,
    id: &str,
    by: &str,
    follows_git: &dyn Fn(&Project) -> Option<String>,
    now_unix_ms: u64,
) -> Result<Ready, ProposalError> {
    let store = Store::open(home)?;
    let mut proposal = store.get(id)?;
    let result = ready(&store, &mut proposal, follows_git);
    if let Err(error) = &result {
        let action = action(by, "approve", &proposal, now_unix_ms, error.to_string());
        // The refusal is what the caller needs; a log that cannot be written does not hide it.
        let _ = store.record(&action);
    }
    result
}

fn ready(
    store: &Store,
    proposal: &mut Proposal,
    follows_git: &dyn Fn(&Project) -> Option<String>,
) -> Result<Ready, ProposalError> {
    if proposal.state != State::Pending {
        return Err(ProposalError::NotPending { id: proposal.id.clone(), state: proposal.state });
    }
    let (source, current) = velos_config::load_source(&proposal.file)?;
    if current.revision != proposal.base_revision {
        proposal.state = State::Stale;
        store.save(proposal)?;
        return Err(ProposalError::Stale {
            id: proposal.id.clone(),
            file: proposal.file.clone(),
            base: proposal.base_revision.clone(),
            current: current.revision,
        });
    }
    if let Some(source_description) = follows_git(&current) {
        return Err(ProposalError::FollowsGit {
            id: proposal.id.clone(),
            project: proposal.project.clone(),
            source_description,
        });
    }
    let patch = velos_config::Patch::from_json(proposal.patch.clone())
        .map_err(|reason| velos_config::ConfigError::BadPatch { file: proposal.file.clone(), reason })?;
    let (text, project) = velos_config::apply_patch(&source, &proposal.file, &patch)?;
    Ok(Ready { proposal: proposal.clone(), text, project })
}

/// Records that `proposal` was applied by `by` (history entry `history_seq`, `result` `ok` or what failed).
pub fn approved(
    home: &Path,
    mut proposal: Proposal,
    by: &str,
    history_seq: Option<u64>,
    result: &str,
    now_unix_ms: u64,
) -> Result<Proposal, ProposalError> {
    let store = Store::open(home)?;
    proposal.state = State::Approved;
    proposal.decision =
        Some(Decision { by: by.to_string(), time_unix_ms: now_unix_ms, reason: None, history_seq });
    store.save(&proposal)?;
    store.record(&action(by, "approve", &proposal, now_unix_ms, result.to_string()))?;
    Ok(proposal)
}

/// Rejects proposal `id` (pending or stale), with an optional reason the agent can read back.
pub fn reject(
    home: &Path,
    id: &str,
    by: &str,
    reason: Option<&str>,
    now_unix_ms: u64,
) -> Result<Proposal, ProposalError> {
    let store = Store::open(home)?;
    let mut proposal = store.get(id)?;
    if !matches!(proposal.state, State::Pending | State::Stale) {
        return Err(ProposalError::NotPending { id: proposal.id.clone(), state: proposal.state });
    }
    proposal.state = State::Rejected;
    proposal.decision = Some(Decision {
        by: by.to_string(),
        time_unix_ms: now_unix_ms,
        reason: reason.map(str::to_string),
        history_seq: None,
    });
    store.save(&proposal)?;
    store.record(&action(by, "reject", &proposal, now_unix_ms, "ok".into()))?;
    Ok(proposal)
}

fn action(by: &str, verb: &str, proposal: &Proposal, time_unix_ms: u64, result: String) -> AgentAction {
    AgentAction {
        time_unix_ms,
        by: by.to_string(),
        action: verb.to_string(),
        proposal: Some(proposal.id.clone()),
        project: Some(proposal.project.clone()),
        app: None,
        result,
    }
}
