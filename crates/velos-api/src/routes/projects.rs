//! `/v1/projects`, `/v1/history`, `/v1/apply`: the project verbs.
use crate::error::{ApiError, ApiResult};
use crate::state::{blocking, AppState};
use axum::extract::{Path, Query, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;
use velos_ops::{
    Against, ApplyOutcome, ApplyRequest, ApplySource, DiffOutcome, DiffRequest, HistoryOutcome,
    HistoryRequest, PlanOutcome, PlanRequest, RollbackOutcome, RollbackRequest, StatusOutcome, StatusRequest,
    SyncOutcome, SyncRequest, WaitOptions,
};
use velos_reconcile::ProjectStatus;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct StatusQuery {
    /// Also Velos's own project (`velos-system`).
    #[serde(default)]
    pub all: bool,
}

pub async fn status(
    State(state): State<AppState>,
    Query(query): Query<StatusQuery>,
) -> ApiResult<Json<StatusOutcome>> {
    Ok(Json(state.ops.status(StatusRequest { all: query.all }).await?))
}

pub async fn project(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectStatus>> {
    let outcome = state.ops.status(StatusRequest { all: true }).await?;
    outcome
        .projects
        .into_iter()
        .find(|status| status.project == project)
        .map(Json)
        .ok_or_else(|| unknown_project(&project))
}

pub fn unknown_project(project: &str) -> ApiError {
    ApiError::not_found(format!("no project named {project} is applied on this host"))
        .hint("GET /v1/projects lists them (velos status)")
}

/// The velos.toml a project was applied from (for a git project, its checkout's file).
pub fn project_file(home: &std::path::Path, project: &str) -> ApiResult<PathBuf> {
    let registry = velos_reconcile::history::read_projects(home)
        .map_err(|error| ApiError::internal(format!("could not read the project registry: {error}")))?;
    registry
        .into_iter()
        .find(|record| record.project == project)
        .map(|record| record.file)
        .ok_or_else(|| unknown_project(project))
}

async fn file_of(state: &AppState, project: String) -> ApiResult<PathBuf> {
    let home = state.home.clone();
    blocking(move || project_file(&home, &project)).await
}

pub async fn plan(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<Json<PlanOutcome>> {
    let file = file_of(&state, project).await?;
    Ok(Json(state.ops.plan(PlanRequest { file }).await?))
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct DiffQuery {
    /// `live` (default: what the host runs) or a git revision of the file (`HEAD`, `origin/main`, a tag).
    #[serde(default)]
    pub against: Option<String>,
}

pub async fn diff(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(query): Query<DiffQuery>,
) -> ApiResult<Json<DiffOutcome>> {
    let file = file_of(&state, project).await?;
    // Never `Against::File`: a caller names no path on the host to be read.
    let against = match query.against.as_deref() {
        None | Some("live") => Against::Live,
        Some(revision) => Against::Revision { revision: revision.to_string() },
    };
    Ok(Json(state.ops.diff(DiffRequest { file, against }).await?))
}

pub async fn history(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<Json<HistoryOutcome>> {
    Ok(Json(state.ops.history(HistoryRequest { project: Some(project) }).await?))
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct HistoryQuery {
    /// Only this project's applies.
    #[serde(default)]
    pub project: Option<String>,
}

pub async fn history_all(
    State(state): State<AppState>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<HistoryOutcome>> {
    Ok(Json(state.ops.history(HistoryRequest { project: query.project }).await?))
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct RollbackBody {
    /// How many revisions back (default 1: the previous).
    #[serde(default = "one")]
    pub steps: u32,
    #[serde(default)]
    pub wait: WaitOptions,
}

fn one() -> u32 {
    1
}

pub async fn rollback(
    State(state): State<AppState>,
    Path(project): Path<String>,
    body: Option<Json<RollbackBody>>,
) -> ApiResult<Json<RollbackOutcome>> {
    let body = body.map(|Json(body)| body).unwrap_or(RollbackBody { steps: 1, wait: WaitOptions::default() });
    let request = RollbackRequest { project: Some(project), steps: body.steps, wait: body.wait };
    Ok(Json(state.ops.rollback(request).await?))
}

pub async fn sync(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<Json<SyncOutcome>> {
    Ok(Json(state.ops.sync(SyncRequest { project: Some(project) }).await?))
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ApplyBody {
    #[serde(default)]
    pub wait: WaitOptions,
}

/// Applies a project's file again: what `velos apply FILE` does for the file the project came from.
pub async fn apply_project(
    State(state): State<AppState>,
    Path(project): Path<String>,
    body: Option<Json<ApplyBody>>,
) -> ApiResult<Json<ApplyOutcome>> {
    let path = file_of(&state, project).await?;
    let wait = body.map(|Json(body)| body.wait).unwrap_or_default();
    Ok(Json(
        state
            .ops
            .apply(ApplyRequest { source: ApplySource::File { path }, wait, force_local: false })
            .await?,
    ))
}

/// `velos apply` of a file on the host or a git repository, as the operations layer takes it.
pub async fn apply(
    State(state): State<AppState>,
    Json(request): Json<ApplyRequest>,
) -> ApiResult<Json<ApplyOutcome>> {
    Ok(Json(state.ops.apply(request).await?))
}
