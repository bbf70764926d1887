//! Storing a new proposal: find the project's file in the registry of applied projects, prepare the patch
//! against its current text and the live records, keep the result (valid or not: the agent reads the
//! problems back and proposes again).
use crate::{prepare, AgentAction, Proposal, ProposalError, State, Store};
use std::path::{Path, PathBuf};
use velos_core::ProcessRecord;

/// What an agent asks for.
#[derive(Debug, Clone)]
pub struct ProposeRequest {
    pub project: String,
    /// A JSON merge patch (object) or the whole file (string).
    pub patch: serde_json::Value,
    pub proposer: String,
    pub reason: String,
}

/// The velos.toml of the applied project `name`, from the registry `velos status` reads.
pub fn project_file(home: &Path, name: &str) -> Result<PathBuf, ProposalError> {
    let records = velos_reconcile::history::read_projects(home)?;
    match records.iter().find(|record| record.project == name) {
        Some(record) => Ok(record.file.clone()),
        None => Err(ProposalError::UnknownProject {
            name: name.to_string(),
            known: records.into_iter().map(|record| record.project).collect(),
        }),
    }
}

/// Prepares `request` against the project's file as it is now and `live`, and stores it (pending, even
/// when not valid, so the reviewer and the agent see the same record). Changes nothing else.
pub fn propose(
    home: &Path,
    request: &ProposeRequest,
    live: &[ProcessRecord],
    now_unix_ms: u64,
) -> Result<Proposal, ProposalError> {
    let file = project_file(home, &request.project)?;
    let (source, current) = velos_config::load_source(&file)?;
    let prepared = prepare(&file, &source, &request.project, &request.patch, live);
    let mut proposal = Proposal {
        id: String::new(),
        project: request.project.clone(),
        file,
        proposer: request.proposer.clone(),
        created_unix_ms: now_unix_ms,
        base_revision: current.revision,
        reason: request.reason.clone(),
        patch: request.patch.clone(),
        diff: prepared.diff.clone(),
        plan: prepared.plan.clone(),
        valid: prepared.valid(),
        diagnostics: prepared.diagnostics,
        state: State::Pending,
        decision: None,
    };
    let store = Store::open(home)?;
    store.create(&mut proposal)?;
    store.record(&AgentAction {
        time_unix_ms: now_unix_ms,
        by: request.proposer.clone(),
        action: "propose".into(),
        proposal: Some(proposal.id.clone()),
        project: Some(proposal.project.clone()),
        app: None,
        result: if proposal.valid { "ok".into() } else { "invalid".into() },
    })?;
    Ok(proposal)
}
