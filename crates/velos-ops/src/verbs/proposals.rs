//! `propose`, `proposals`, `proposal`, `approve`, `reject`: changes of velos.toml that AI agents propose
//! (MCP `propose_patch`) and a human decides on (`velos proposals ...`). velos-proposals keeps them;
//! approving writes and converges through the one edit path, under the edit lock, and is recorded.
use crate::context::Ops;
use crate::converge::{await_ready, converge_project, Applied, Waiting};
use crate::convert::{config_error, daemon_error, history_error};
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use crate::outcome::{WaitOptions, Warning};
use crate::ready::AppReadiness;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_proposals::{Proposal, ProposalError, State};
use velos_reconcile::now_unix_ms;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProposeRequest {
    /// The project to change (as `velos status` names it).
    pub project: String,
    /// A JSON merge patch of velos.toml (object), or the whole new file (string).
    pub patch: serde_json::Value,
    /// Who proposes: the MCP client's name.
    pub proposer: String,
    /// Why, in the proposer's words.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProposalOutcome {
    pub proposal: Proposal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProposalsRequest {
    /// Also the approved and rejected ones (default: pending and stale only).
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProposalsOutcome {
    /// Oldest first; a pending one whose file changed since is shown `stale`.
    pub proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProposalRequest {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApproveRequest {
    pub id: String,
    /// Who approves: `cli`, or the MCP client when the project's policy lets agents apply.
    pub by: String,
    #[serde(default)]
    pub wait: WaitOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApproveOutcome {
    pub proposal: Proposal,
    pub applied: Applied,
    /// Each app the project wants running, ready or not, when the verb waited (as `apply` reports them).
    #[serde(default)]
    pub ready: Vec<AppReadiness>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RejectRequest {
    pub id: String,
    pub by: String,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Ops {
    /// Stores a proposal with its diff, plan (against the host now) and problems. Changes nothing else;
    /// needs the daemon running (the plan is made against it).
    pub fn propose(&self, request: ProposeRequest) -> Result<ProposalOutcome, OpError> {
        if request.reason.trim().is_empty() {
            return Err(OpError::invalid("a proposal needs a reason").hint("say why the change is needed"));
        }
        let live = self.connect_running()?.list().map_err(|error| daemon_error(error, None))?;
        let request = velos_proposals::ProposeRequest {
            project: request.project,
            patch: request.patch,
            proposer: request.proposer,
            reason: request.reason,
        };
        let proposal = velos_proposals::propose(self.home().root(), &request, &live, now_unix_ms())
            .map_err(proposal_error)?;
        Ok(ProposalOutcome { proposal })
    }

    /// The proposals (pending and stale, or `all`), oldest first.
    pub fn proposals(&self, request: ProposalsRequest) -> Result<ProposalsOutcome, OpError> {
        let mut proposals = velos_proposals::current(self.home().root()).map_err(proposal_error)?;
        if !request.all {
            proposals.retain(|proposal| matches!(proposal.state, State::Pending | State::Stale));
        }
        Ok(ProposalsOutcome { proposals })
    }

    /// One proposal, as it stands now.
    pub fn proposal(&self, request: ProposalRequest) -> Result<ProposalOutcome, OpError> {
        let proposal =
            velos_proposals::current_one(self.home().root(), &request.id).map_err(proposal_error)?;
        Ok(ProposalOutcome { proposal })
    }

    /// Applies a pending proposal: under the edit lock, re-checked against the file as it is now (a stale
    /// one is refused: propose again), written atomically, converged and recorded like `apply`. An apply
    /// that does not complete leaves the proposal approved (the file holds it) and is `incomplete`.
    pub fn approve(&self, request: ApproveRequest) -> Result<ApproveOutcome, OpError> {
        let began = std::time::Instant::now();
        let home = self.home().root();
        let _lock = self.lock_edits()?;
        let follows_git = |project: &velos_config::Project| velos_controller::tracking(home, project);
        let ready = velos_proposals::check(home, &request.id, &request.by, &follows_git, now_unix_ms())
            .map_err(proposal_error)?;
        let file = ready.proposal.file.clone();
        let mut backend = self.connect_or_start()?;
        velos_config::write_atomically(&file, &ready.text)
            .map_err(|error| OpError::io(format!("could not write {}", file.display()), &error))?;
        let mut warnings = Vec::new();
        let waiting = Waiting::before(self, &ready.project, began);
        let converged = converge_project(
            self,
            backend.as_mut(),
            (&ready.project, &ready.text),
            request.wait,
            false,
            &mut |_| {},
            &mut warnings,
        );
        // Like apply: the change answers "did it work?" (each app up for its min_uptime, or why not).
        let converged = await_ready(self, backend.as_mut(), converged, request.wait, waiting, &file);
        // The file holds the change whatever the apply did: the proposal is decided either way.
        let seq = velos_reconcile::History::open(home)
            .and_then(|history| history.list(Some(&ready.project.name)))
            .map_err(|error| history_error(&error))?
            .last()
            .map(|entry| entry.seq);
        let converged = crate::remedy::settle(
            self,
            backend.as_mut(),
            &ready.project,
            converged,
            request.wait,
            &mut |_| {},
            &mut warnings,
        );
        let result = match &converged {
            Ok(_) => "ok".to_string(),
            Err(error) => error.message.clone(),
        };
        let proposal =
            velos_proposals::approved(home, ready.proposal, &request.by, seq, &result, now_unix_ms())
                .map_err(proposal_error)?;
        let (applied, ready) = converged?;
        Ok(ApproveOutcome { proposal, applied, ready, warnings })
    }

    /// Declines a pending (or stale) proposal.
    pub fn reject(&self, request: RejectRequest) -> Result<ProposalOutcome, OpError> {
        let proposal = velos_proposals::reject(
            self.home().root(),
            &request.id,
            &request.by,
            request.reason.as_deref(),
            now_unix_ms(),
        )
        .map_err(proposal_error)?;
        Ok(ProposalOutcome { proposal })
    }
}

/// velos-proposals' errors as kinds, with the next step.
pub fn proposal_error(error: ProposalError) -> OpError {
    let message = error.to_string();
    match error {
        ProposalError::Config(config) => {
            config_error(&config).hint("the proposal no longer gives a valid file: reject it and propose again")
        }
        ProposalError::NotFound { id } => OpError::new(OpErrorKind::NotFound, message)
            .hint("velos proposals list --all shows the proposals")
            .detail(ErrorDetail::NotFound { what: "proposal".into(), name: id, candidates: vec![] }),
        ProposalError::UnknownProject { name, known } => OpError::new(OpErrorKind::NotFound, message)
            .hint("velos status lists the projects applied on this host")
            .detail(ErrorDetail::NotFound { what: "project".into(), name, candidates: known }),
        ProposalError::NotPending { .. } => {
            OpError::new(OpErrorKind::Refused, message).hint("velos proposals list shows the pending ones")
        }
        ProposalError::TooManyPending => OpError::new(OpErrorKind::Refused, message)
            .hint("velos proposals reject ID closes the ones no one will approve"),
        ProposalError::Stale { id, .. } => OpError::new(OpErrorKind::Stale, message).hint(format!(
            "propose again against the file as it is now (MCP propose_patch); velos proposals reject {id} closes this one"
        )),
        ProposalError::FollowsGit { id, .. } => OpError::new(OpErrorKind::FollowsGit, message).hint(format!(
            "velos proposals show {id} --patch prints the change as a patch: commit it to the repository and the controller applies it"
        )),
        ProposalError::History(history) => history_error(&history),
        ProposalError::Io { ref source, .. } => OpError::io(message.clone(), source),
        ProposalError::Corrupt { .. } => OpError::new(OpErrorKind::Io, message)
            .hint("the proposals live in VELOS_HOME/proposals; remove the unreadable file"),
    }
}
