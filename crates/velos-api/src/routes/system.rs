//! `/healthz`, `/metrics`, `/openapi.json`.
use crate::error::{ApiError, ApiResult};
use crate::scrape::ScrapeError;
use crate::state::{blocking, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `GET /healthz`: the server answers. It does not ask the daemon (a probe must stay cheap and must not
/// flap with it); `/v1/apps` tells whether the daemon runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    pub ok: bool,
    pub version: String,
}

pub async fn healthz() -> Json<Health> {
    Json(Health { ok: true, version: env!("CARGO_PKG_VERSION").to_string() })
}

pub async fn openapi(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], state.openapi.clone()).into_response()
}

impl From<ScrapeError> for ApiError {
    fn from(error: ScrapeError) -> ApiError {
        match error {
            ScrapeError::Daemon(velos_client::ClientError::DaemonNotRunning { .. }) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "daemon_not_running", error.to_string())
                    .hint("velos daemon starts it (velos resurrect brings back the saved apps)")
            }
            ScrapeError::Daemon(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "daemon_unreachable", error.to_string())
            }
            ScrapeError::History(_) => ApiError::internal(error.to_string()),
        }
    }
}

/// `GET /metrics`: the Prometheus exposition, text 0.0.4 or OpenMetrics by `Accept`.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let accept = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok());
    let format = velos_metrics::negotiate(accept);
    let shared = state.clone();
    let snapshot = blocking(move || crate::scrape::snapshot(&shared.home, &shared.caches)).await?;
    let text =
        velos_metrics::render(&snapshot, format).map_err(|error| ApiError::internal(error.to_string()))?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], text).into_response())
}
