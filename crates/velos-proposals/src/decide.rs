//! Closing a proposal. Approving is the one edit path every write takes (DESIGN §4): under the edit lock,
//! check the file is still the revision the patch was made against, re-apply and re-validate the patch,
//! write the file atomically, plan against the host as it is now, apply, record in history.
use crate::{AgentAction, Decision, Proposal, ProposalError, State, Store};
use std::path::Path;
use velos_reconcile::{ApplyOptions, ApplyReport, Daemon, Plan};

/// A proposal applied.
#[derive(Debug)]
pub struct Approval {
    pub proposal: Proposal,
    pub plan: Plan,
    pub report: ApplyReport,
}

/// Approves proposal `id` by `by` (`cli`, or the MCP client when policy lets agents apply): see the module
/// documentation. A stale proposal is marked so and refused; a project that follows git is refused (the
/// change belongs in a commit). An apply that does not complete is still recorded and the proposal is
/// approved (the file holds it): the caller reports the failed actions.
pub fn approve(
    home: &Path,
    id: &str,
    by: &str,
    daemon: &mut dyn Daemon,
    options: ApplyOptions,
    now_unix_ms: u64,
) -> Result<Approval, ProposalError> {
    let lock_path = home.join(velos_reconcile::history::EDIT_LOCK_FILE);
    let _lock = velos_reconcile::history::lock_edits(home).map_err(|source| ProposalError::Io {
        context: "cannot lock",
        path: lock_path,
        source,
    })?;
    let store = Store::open(home)?;
    let mut proposal = store.get(id)?;
    let refused = |store: &Store, proposal: &Proposal, error: ProposalError| {
        let action = action(by, "approve", proposal, now_unix_ms, error.to_string());
        // The refusal is what matters to the caller; a log that cannot be written does not hide it.
        let _ = store.record(&action);
        Err(error)
    };
    if proposal.state != State::Pending {
        let error = ProposalError::NotPending { id: proposal.id.clone(), state: proposal.state };
        return refused(&store, &proposal, error);
    }
    let (source, current) = velos_config::load_source(&proposal.file)?;
    if current.revision != proposal.base_revision {
        proposal.state = State::Stale;
        store.save(&proposal)?;
        let error = ProposalError::Stale {
            id: proposal.id.clone(),
            file: proposal.file.clone(),
            base: proposal.base_revision.clone(),
            current: current.revision.clone(),
        };
        return refused(&store, &proposal, error);
    }
    if let Some(source_description) = velos_reconcile::controller::tracking(home, &current) {
        let error = ProposalError::FollowsGit {
            id: proposal.id.clone(),
            project: proposal.project.clone(),
            source_description,
        };
        return refused(&store, &proposal, error);
    }
    let patch = velos_config::Patch::from_json(proposal.patch.clone())
        .map_err(|reason| velos_config::ConfigError::BadPatch { file: proposal.file.clone(), reason })?;
    let (text, project) = velos_config::apply_patch(&source, &proposal.file, &patch)?;
    let live = daemon.list()?;
    let plan = velos_reconcile::plan(&project, &live)?;
    velos_config::write_atomically(&proposal.file, &text).map_err(|source| ProposalError::Io {
        context: "cannot write",
        path: proposal.file.clone(),
        source,
    })?;
    let report = if plan.is_empty() {
        ApplyReport::default()
    } else {
        velos_reconcile::apply(&plan, daemon, options, &mut |_| {})
    };
    let entry = velos_reconcile::record_apply(home, &project, &text, &plan, &report, now_unix_ms)?;
    proposal.state = State::Approved;
    proposal.decision = Some(Decision {
        by: by.to_string(),
        time_unix_ms: now_unix_ms,
        reason: None,
        history_seq: Some(entry.seq),
    });
    store.save(&proposal)?;
    let result = if report.ok() { "ok".to_string() } else { report.summary() };
    store.record(&AgentAction { app: None, ..action(by, "approve", &proposal, now_unix_ms, result) })?;
    Ok(Approval { proposal, plan, report })
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
