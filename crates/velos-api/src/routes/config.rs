//! `GET` and `PATCH /v1/projects/{project}/config`: a project's desired state as written, with its
//! revision as the `ETag`, and edits of it as an RFC 7396 JSON merge patch (or the whole TOML text).
//!
//! A patch is applied to the TOML document by velos-config (comments and layout kept), validated by the
//! loader (an invalid result is a 422 with `file:line:column` diagnostics, and nothing is written), written
//! atomically under the edit lock after the `If-Match` revision is checked (412 when the file changed
//! meanwhile), then applied by the operations layer's `apply`, which touches only what changed.
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
use velos_config::ConfigError;
use velos_config::{apply_patch, Patch};
use velos_ops::{ApplyOutcome, ApplyRequest, ApplySource, WaitOptions};

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

/// What a PATCH did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PatchOutcome {
    pub project: String,
    /// The revision before and after (equal when the patch changed nothing).
    pub previous_revision: String,
    pub revision: String,
    /// The apply of the new file: its plan and what each action did. Absent when nothing changed.
    pub apply: Option<ApplyOutcome>,
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

fn config_error(error: ConfigError) -> ApiError {
    let message = error.to_string();
    match error {
        ConfigError::Invalid { diagnostics, .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
                .diagnostics(
                    diagnostics
                        .iter()
                        .filter_map(|diagnostic| serde_json::to_value(diagnostic).ok())
                        .collect(),
                )
                .hint("fix the patch; GET the config to see the file as it is")
        }
        ConfigError::BadPatch { .. }
        | ConfigError::BadEdit { .. }
        | ConfigError::UnknownApp { .. }
        | ConfigError::AppExists { .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
        }
        ConfigError::Read { .. } => ApiError::new(StatusCode::CONFLICT, "io", message),
    }
}

/// Under the edit lock: checks the revision, applies the patch, validates, writes. Returns the revisions
/// before and after, and whether the text changed.
fn write_patch(
    home: &std::path::Path,
    project: &str,
    expected: Option<String>,
    patch: Patch,
) -> ApiResult<(PathBuf, String, String, bool)> {
    let file = project_file(home, project)?;
    let _lock = velos_reconcile::history::lock_edits(home)
        .map_err(|error| ApiError::internal(format!("could not take the edit lock: {error}")))?;
    let bytes = std::fs::read(&file).map_err(|error| {
        ApiError::new(StatusCode::CONFLICT, "io", format!("cannot read {}: {error}", file.display()))
    })?;
    let previous = velos_config::revision(&bytes);
    if let Some(expected) = expected {
        if expected != previous {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                format!("{} changed since revision {expected} (it is at {previous})", file.display()),
            )
            .hint("GET the config again and re-apply your patch to it"));
        }
    }
    let source = String::from_utf8_lossy(&bytes);
    // The rule every edit follows: a project from git is changed in git, never behind its back.
    if let Ok(current) = velos_config::parse(&source, &file) {
        if let Some(repository) = velos_controller::tracking(home, &current) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "follows_git",
                format!("project `{project}` follows git ({repository}), so its file is not edited here"),
            )
            .hint("commit the change to the repository; the controller applies it"));
        }
    }
    let (text, _project) = apply_patch(&source, &file, &patch).map_err(config_error)?;
    if text == source {
        return Ok((file, previous.clone(), previous, false));
    }
    velos_config::write_atomically(&file, &text)
        .map_err(|error| ApiError::internal(format!("could not write {}: {error}", file.display())))?;
    Ok((file, previous, velos_config::revision(text.as_bytes()), true))
}

pub async fn patch(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(query): Query<PatchQuery>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Json<PatchOutcome>> {
    let expected = if_match(&headers)?;
    let patch = Patch::from_json(body)
        .map_err(|message| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message))?;
    let home = state.home.clone();
    let name = project.clone();
    let (path, previous_revision, revision, changed) =
        blocking(move || write_patch(&home, &name, expected, patch)).await?;
    let apply = if changed {
        let wait = WaitOptions { wait: query.wait.unwrap_or(true), ..WaitOptions::default() };
        let request = ApplyRequest { source: ApplySource::File { path }, wait, force_local: false };
        Some(state.ops.apply(request).await?)
    } else {
        None
    };
    Ok(Json(PatchOutcome { project, previous_revision, revision, apply }))
}
