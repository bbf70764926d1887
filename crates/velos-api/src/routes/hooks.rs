//! `POST /v1/hooks/git`: a forge's push, verified, then a sync of the projects that follow the repository.
use crate::error::{ApiError, ApiResult};
use crate::state::{blocking, AppState};
use crate::webhook::{normalize_repository, pushed_repositories, verify, Proof};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a delivery caused.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HookOutcome {
    /// `ping`, `duplicate`, `synced` or `ignored` (no project follows the repository).
    pub result: String,
    /// The repository as the payload names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Projects whose controller was asked to sync.
    pub projects: Vec<String>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn proof(headers: &HeaderMap) -> Option<Proof<'_>> {
    header(headers, "x-hub-signature-256")
        .or_else(|| header(headers, "x-gitea-signature"))
        .map(Proof::HmacSha256Hex)
        .or_else(|| header(headers, "x-gitlab-token").map(Proof::Token))
}

fn delivery_id(headers: &HeaderMap) -> Option<&str> {
    ["x-github-delivery", "x-gitea-delivery", "x-gitlab-event-uuid", "x-gitlab-webhook-uuid"]
        .iter()
        .find_map(|name| header(headers, name))
}

pub async fn git(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<HookOutcome>> {
    let secret = state.guard.tokens.webhook_secret().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_configured", "no webhook secret is configured")
            .hint("add a `webhook SECRET` line to $VELOS_HOME/api.token and restart velos serve")
    })?;
    verify(secret, &body, proof(&headers)).map_err(|refusal| {
        ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", refusal.to_string())
            .hint("sign with the `webhook` secret of $VELOS_HOME/api.token")
    })?;
    // Only a verified delivery may claim an id, or anyone could block a real one by sending its id first.
    if let Some(id) = delivery_id(&headers) {
        let mut deliveries = state.deliveries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !deliveries.first_time(id) {
            return Ok(Json(HookOutcome { result: "duplicate".into(), repository: None, projects: vec![] }));
        }
    }
    if header(&headers, "x-github-event") == Some("ping") || header(&headers, "x-gitea-event") == Some("ping")
    {
        return Ok(Json(HookOutcome { result: "ping".into(), repository: None, projects: vec![] }));
    }
    let payload: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("the delivery is not JSON: {error}")))?;
    let urls = pushed_repositories(&payload);
    let Some(repository) = urls.first().cloned() else {
        return Err(ApiError::bad_request(
            "the delivery names no repository (repository.clone_url or project.git_http_url)",
        ));
    };
    let wanted: Vec<String> = urls.iter().map(|url| normalize_repository(url)).collect();
    let home = state.home.clone();
    let projects =
        blocking(move || Ok::<_, ApiError>(crate::sync::projects_following(&home, &wanted))).await?;
    for project in &projects {
        state.ops.sync(velos_ops::SyncRequest { project: Some(project.clone()) }).await?;
    }
    let result = if projects.is_empty() { "ignored" } else { "synced" };
    Ok(Json(HookOutcome { result: result.into(), repository: Some(repository), projects }))
}
