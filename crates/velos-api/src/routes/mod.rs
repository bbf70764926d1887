//! The route table: what `/openapi.json` documents and what [`router`] serves, side by side, so a test can
//! check that every documented route answers.
mod hooks;
mod streams;
mod system;

use crate::error::{from_rejection, ApiError};
use crate::openapi::{schema_of, Body, Operation, Param};
use crate::state::AppState;
use crate::token::Scope;
use axum::routing::{get, post};
use axum::Router;

/// Bytes a request body may have (a config patch, a whole velos.toml, a forge's push payload).
pub const BODY_BYTES_MAX: usize = 1024 * 1024;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        method: "GET",
        path: "/healthz",
        id: "healthz",
        summary: "The server answers (does not ask the daemon)",
        scope: None,
        params: &[],
        request: None,
        response: Body::Json(schema_of::<system::Health>),
    },
    Operation {
        method: "GET",
        path: "/openapi.json",
        id: "openapi",
        summary: "This document",
        scope: Some(Scope::Read),
        params: &[],
        request: None,
        response: Body::Json(schema_of::<serde_json::Value>),
    },
    Operation {
        method: "GET",
        path: "/metrics",
        id: "metrics",
        summary:
            "Prometheus exposition: text 0.0.4, or OpenMetrics with Accept: application/openmetrics-text",
        scope: Some(Scope::Read),
        params: &[],
        request: None,
        response: Body::Text("text/plain"),
    },
    Operation {
        method: "POST",
        path: "/v1/hooks/git",
        id: "hook",
        summary:
            "A forge's push (GitHub/Gitea HMAC signature or GitLab token): sync the projects following it",
        scope: None,
        params: &[],
        request: Some(Body::Json(schema_of::<serde_json::Value>)),
        response: Body::Json(schema_of::<hooks::HookOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/apps/{name}/logs/follow",
        id: "logs_follow",
        summary:
            "WebSocket: an app's output as it is written (every instance), one JSON LogChunk per message; \
                  a client more than 256 messages behind is closed with 1008",
        scope: Some(Scope::Read),
        params: &[NAME, STREAM, LINES],
        request: None,
        response: Body::WebSocket(schema_of::<streams::LogChunk>),
    },
    Operation {
        method: "GET",
        path: "/v1/logs/follow",
        id: "logs_follow_all",
        summary: "WebSocket: every app's output as it is written, one JSON LogChunk per message",
        scope: Some(Scope::Read),
        params: &[STREAM, LINES],
        request: None,
        response: Body::WebSocket(schema_of::<streams::LogChunk>),
    },
    Operation {
        method: "GET",
        path: "/v1/events",
        id: "events",
        summary: "WebSocket: state changes of apps and recorded applies, one JSON Event per message",
        scope: Some(Scope::Read),
        params: &[],
        request: None,
        response: Body::WebSocket(schema_of::<streams::Event>),
    },
];

const NAME: Param = Param {
    name: "name",
    in_path: true,
    description: "An app (all its instances) or one instance",
    kind: "string",
};
const STREAM: Param =
    Param { name: "stream", in_path: false, description: "out, err or both (default)", kind: "string" };
const LINES: Param =
    Param { name: "lines", in_path: false, description: "Lines of the past to send first", kind: "integer" };

async fn not_found() -> ApiError {
    ApiError::not_found("no such route").hint("GET /openapi.json lists the routes")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
    .hint("GET /openapi.json lists the methods of each route")
}

/// Every route, with the guard (host, origin, token) and the body limit in front of them.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/openapi.json", get(system::openapi))
        .route("/metrics", get(system::metrics))
        .route("/v1/hooks/git", post(hooks::git))
        .route("/v1/apps/{name}/logs/follow", get(streams::follow_app))
        .route("/v1/logs/follow", get(streams::follow_all))
        .route("/v1/events", get(streams::events))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.guard.clone(), crate::guard::check))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(axum::middleware::map_response(json_rejections))
        .with_state(state)
}

/// axum answers its own rejections (bad JSON, body too large, bad query) in plain text; make them ours.
async fn json_rejections(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let status = response.status();
    let is_text = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !is_text {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    from_rejection(status, String::from_utf8_lossy(&body).into_owned()).into_response()
}
