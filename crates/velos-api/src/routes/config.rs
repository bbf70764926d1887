//! `GET` and `PATCH /v1/projects/{project}/config`: a project's desired state as written, with its
//! revision as the `ETag`, and edits of it as an RFC 7396 JSON merge patch (or the whole TOML text).
//!
//! A PATCH is the operations layer's `patch` verb: the patch applied to the TOML document (comments and
//! layout kept), validated (an invalid result is a 422 with `file:line:column` diagnostics, and nothing is
//! written), checked against the `If-Match` revision (412 when the file changed meanwhile), written
//! atomically and converged, all under the edit lock. This face only maps the header and the statuses.
use super::projects::project_file;
use crate::error::{ApiError, ApiResult};
use crate::state::{blocking, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use velos_ops::{OpErrorKind, PatchOutcome, PatchRequest, WaitOptions};

/// A project's file as it is now.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectConfig {
    pub project: String,
    pub file: PathBuf,
    /// The revision of the text (also the `ETag`): send it back in `If-Match` with a PATCH.
    pub revision: String,
    /// The file's text, comments included.
    pub toml: String,
    /// The same document as JSON.
    pub config: serde_json::Value,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ConfigQuery {
    /// `json` (default) or `toml` (the file as text).
    #[serde(default)]
    pub format: Option<String>,
}

fn etag(revision: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn read_config(home: &std::path::Path, project: &str) -> ApiResult<ProjectConfig> {
    let file = project_file(home, project)?;
    let bytes = std::fs::read(&file).map_err(|error| {
        ApiError::new(StatusCode::CONFLICT, "io", format!("cannot read {}: {error}", file.display()))
            .hint("velos forget PROJECT forgets a project whose file is gone")
    })?;
    let toml = String::from_utf8_lossy(&bytes).into_owned();
    let config = toml_edit::de::from_str::<serde_json::Value>(&toml).unwrap_or(serde_json::Value::Null);
    Ok(ProjectConfig {
        project: project.to_string(),
        file,
        revision: velos_config::revision(&bytes),
        toml,
        config,
    })
}

pub async fn get(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(query): Query<ConfigQuery>,
) -> ApiResult<Response> {
    let home = state.home.clone();
    let config = blocking(move || read_config(&home, &project)).await?;
    let tag = etag(&config.revision);
    let mut response = match query.format.as_deref() {
        None | Some("json") => Json(config).into_response(),
        Some("toml") => {
            ([(header::CONTENT_TYPE, "application/toml; charset=utf-8")], config.toml).into_response()
        }
        Some(other) => return Err(ApiError::bad_request(format!("unknown format {other:?} (json or toml)"))),
    };
    response.headers_mut().insert(header::ETAG, tag);
    Ok(response)
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct PatchQuery {
    /// Wait until the changed apps run (default true).
    #[serde(default)]
    pub wait: Option<bool>,
}

/// The revision `If-Match` names, without quotes; `None` for absent or `*`.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().map_err(|_| ApiError::bad_request("If-Match is not text"))?.trim();
    if text == "*" {
        return Ok(None);
    }
    Ok(Some(text.trim_start_matches("W/").trim_matches('"').to_string()))
}

pub async fn patch(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(query): Query<PatchQuery>,
    headers: HeaderMap,
    Json(patch): Json<serde_json::Value>,
) -> ApiResult<Json<PatchOutcome>> {
    let expected_revision = if_match(&headers)?;
    let wait = WaitOptions { wait: query.wait.unwrap_or(true), ..WaitOptions::default() };
    let request = PatchRequest { project, patch, expected_revision, wait };
    let outcome = state.ops.patch(request).await.map_err(|error| {
        // HTTP's own word for "the revision you based this on is gone": 412, not the generic 409.
        let stale = error.kind == OpErrorKind::Stale;
        let mut api = ApiError::from(error);
        if stale {
            api.status = StatusCode::PRECONDITION_FAILED;
        }
        api
    })?;
    Ok(Json(outcome))
}
