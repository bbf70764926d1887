//! Agents' proposals over HTTP, as `velos proposals` has them: list and show (read), approve and reject
//! (write). Proposing is MCP's (`propose_patch`); a deploy script changes desired state with `PATCH`.
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;
use velos_ops::{
    ApproveOutcome, ApproveRequest, ProposalOutcome, ProposalRequest, ProposalsOutcome, ProposalsRequest,
    RejectRequest, WaitOptions,
};

/// Who decides, as history and the proposal record it: a token holder of this API.
const DECIDED_BY: &str = "api";

pub async fn list(
    State(state): State<AppState>,
    Query(request): Query<ProposalsRequest>,
) -> ApiResult<Json<ProposalsOutcome>> {
    Ok(Json(state.ops.proposals(request).await?))
}

pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ProposalOutcome>> {
    Ok(Json(state.ops.proposal(ProposalRequest { id }).await?))
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ApproveBody {
    #[serde(default)]
    pub wait: WaitOptions,
}

/// Re-plans against the project's current revision (a stale proposal is refused: propose again), writes
/// the file and applies it, as `velos proposals approve ID` does.
pub async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Option<Json<ApproveBody>>,
) -> ApiResult<Json<ApproveOutcome>> {
    let wait = body.map(|Json(body)| body.wait).unwrap_or_default();
    Ok(Json(state.ops.approve(ApproveRequest { id, by: DECIDED_BY.into(), wait }).await?))
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct RejectBody {
    /// Why, recorded with the proposal for the agent to read.
    #[serde(default)]
    pub reason: Option<String>,
}

pub async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Option<Json<RejectBody>>,
) -> ApiResult<Json<ProposalOutcome>> {
    let reason = body.and_then(|Json(body)| body.reason);
    Ok(Json(state.ops.reject(RejectRequest { id, by: DECIDED_BY.into(), reason }).await?))
}
