//! The route table: what `/openapi.json` documents and what [`router`] serves, side by side, so a test can
//! check that every documented route answers.
mod apps;
mod config;
mod hooks;
mod projects;
mod proposals;
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
        path: "/v1/apps",
        id: "list",
        summary: "The apps the daemon runs (velos list)",
        scope: Some(Scope::Read),
        params: &[ALL],
        request: None,
        response: Body::Json(schema_of::<velos_ops::ListOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/apps/{name}",
        id: "info",
        summary: "One app (every instance), one instance (api-0), or all, in detail (velos info)",
        scope: Some(Scope::Read),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<velos_ops::InfoOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/apps/{name}/instances",
        id: "instances",
        summary: "The live records of an app's instances",
        scope: Some(Scope::Read),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<apps::InstancesOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/apps/{name}/logs",
        id: "logs",
        summary: "The last lines of an app's output, per instance, bounded (velos logs)",
        scope: Some(Scope::Read),
        params: &[NAME, LOG_LINES, STREAM, GREP, SINCE, UNTIL, LEVEL],
        request: None,
        response: Body::Json(schema_of::<apps::LogsPage>),
    },
    Operation {
        method: "GET",
        path: "/v1/apps/{name}/logs/summary",
        id: "logs_summary",
        summary: "What an app's logs say over a window (default: since its last apply or restart), within a token budget (velos logs --summary)",
        scope: Some(Scope::Read),
        params: &[NAME, BUDGET, WINDOW_SINCE, WINDOW_UNTIL],
        request: None,
        response: Body::Json(schema_of::<velos_ops::LogsSummaryOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/apps/{name}/logs/templates",
        id: "logs_templates",
        summary: "The templates mined from an app's logs, most frequent first (velos logs --templates)",
        scope: Some(Scope::Read),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<velos_ops::LogsTemplatesOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apps/{name}/start",
        id: "start",
        summary: "Start an app that exists, or all (velos start NAME): an edit, state = running",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<velos_ops::StartOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apps/{name}/stop",
        id: "stop",
        summary: "Stop an app and keep it stopped (velos stop): an edit, state = stopped",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<velos_ops::StopOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apps/{name}/restart",
        id: "restart",
        summary: "Restart each instance, one at a time (velos restart): an action, the file does not change",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<velos_ops::RestartOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apps/{name}/reload",
        id: "reload",
        summary: "Restart the instances batch by batch, each ready before the next, by the app's rollout (velos reload): an action, the file does not change",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<velos_ops::ReloadOutcome>),
    },
    Operation {
        method: "DELETE",
        path: "/v1/apps/{name}",
        id: "delete",
        summary: "Stop an app and remove it from its velos.toml (velos delete)",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: None,
        response: Body::Json(schema_of::<velos_ops::DeleteOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apps/{name}/scale",
        id: "scale",
        summary: "Run N instances (3), or N more or fewer (+2, -1) (velos scale)",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: Some(Body::Json(schema_of::<apps::ScaleBody>)),
        response: Body::Json(schema_of::<velos_ops::EditOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apps/{name}/set",
        id: "set",
        summary: "Set keys of an app in its velos.toml, then apply it (velos set)",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: Some(Body::Json(schema_of::<apps::SetBody>)),
        response: Body::Json(schema_of::<velos_ops::EditOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apps/{name}/unset",
        id: "unset",
        summary: "Remove keys of an app from its velos.toml, then apply it (velos unset)",
        scope: Some(Scope::Write),
        params: &[NAME],
        request: Some(Body::Json(schema_of::<apps::UnsetBody>)),
        response: Body::Json(schema_of::<velos_ops::EditOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/projects",
        id: "status",
        summary: "Per project: source, revision, synced / progressing / out of sync / error (velos status)",
        scope: Some(Scope::Read),
        params: &[ALL],
        request: None,
        response: Body::Json(schema_of::<velos_ops::StatusOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/projects/{project}",
        id: "project",
        summary: "One project's status",
        scope: Some(Scope::Read),
        params: &[PROJECT],
        request: None,
        response: Body::Json(schema_of::<velos_reconcile::ProjectStatus>),
    },
    Operation {
        method: "GET",
        path: "/v1/projects/{project}/config",
        id: "config",
        summary:
            "The project's velos.toml as JSON (and its text), or as TOML with ?format=toml; ETag = revision",
        scope: Some(Scope::Read),
        params: &[PROJECT, FORMAT],
        request: None,
        response: Body::Json(schema_of::<config::ProjectConfig>),
    },
    Operation {
        method: "PATCH",
        path: "/v1/projects/{project}/config",
        id: "patch",
        summary: "Edit the project's velos.toml with a JSON merge patch (or a string: the whole TOML text), \
                  comments kept; If-Match: the revision (412 when the file changed); then apply it",
        scope: Some(Scope::Write),
        params: &[PROJECT, WAIT],
        request: Some(Body::Json(schema_of::<serde_json::Value>)),
        response: Body::Json(schema_of::<velos_ops::PatchOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/projects/{project}/plan",
        id: "plan",
        summary: "What applying the project's file would change (velos plan)",
        scope: Some(Scope::Read),
        params: &[PROJECT],
        request: None,
        response: Body::Json(schema_of::<velos_ops::PlanOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/projects/{project}/diff",
        id: "diff",
        summary: "The project's file against the host (live) or a git revision of it (velos diff)",
        scope: Some(Scope::Read),
        params: &[PROJECT, AGAINST],
        request: None,
        response: Body::Json(schema_of::<velos_ops::DiffOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/projects/{project}/history",
        id: "project_history",
        summary: "The project's recorded applies, oldest first",
        scope: Some(Scope::Read),
        params: &[PROJECT],
        request: None,
        response: Body::Json(schema_of::<velos_ops::HistoryOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/history",
        id: "history",
        summary: "The applies recorded on this host, oldest first (velos history)",
        scope: Some(Scope::Read),
        params: &[PROJECT_QUERY],
        request: None,
        response: Body::Json(schema_of::<velos_ops::HistoryOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/projects/{project}/apply",
        id: "apply_project",
        summary: "Apply the project's file again (velos apply FILE)",
        scope: Some(Scope::Write),
        params: &[PROJECT],
        request: None,
        response: Body::Json(schema_of::<velos_ops::ApplyOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/proposals",
        id: "proposals",
        summary: "Agents' proposals: pending and stale ones, or all (velos proposals list [--all])",
        scope: Some(Scope::Read),
        params: &[ALL_PROPOSALS],
        request: None,
        response: Body::Json(schema_of::<velos_ops::ProposalsOutcome>),
    },
    Operation {
        method: "GET",
        path: "/v1/proposals/{id}",
        id: "proposal",
        summary: "One proposal: its patch, diff, plan and state (velos proposals show ID)",
        scope: Some(Scope::Read),
        params: &[PROPOSAL_ID],
        request: None,
        response: Body::Json(schema_of::<velos_ops::ProposalOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/proposals/{id}/approve",
        id: "approve",
        summary: "Re-plan against the current revision, write and apply (velos proposals approve ID); a stale one is refused",
        scope: Some(Scope::Write),
        params: &[PROPOSAL_ID],
        request: None,
        response: Body::Json(schema_of::<velos_ops::ApproveOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/proposals/{id}/reject",
        id: "reject",
        summary: "Close a proposal with an optional reason (velos proposals reject ID)",
        scope: Some(Scope::Write),
        params: &[PROPOSAL_ID],
        request: None,
        response: Body::Json(schema_of::<velos_ops::ProposalOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/apply",
        id: "apply",
        summary: "Apply a velos.toml on this host, or a git repository followed from then on (velos apply)",
        scope: Some(Scope::Write),
        params: &[],
        request: Some(Body::Json(schema_of::<velos_ops::ApplyRequest>)),
        response: Body::Json(schema_of::<velos_ops::ApplyOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/projects/{project}/rollback",
        id: "rollback",
        summary: "Write an earlier revision back to the project's file, then apply it (velos rollback)",
        scope: Some(Scope::Write),
        params: &[PROJECT],
        request: None,
        response: Body::Json(schema_of::<velos_ops::RollbackOutcome>),
    },
    Operation {
        method: "POST",
        path: "/v1/projects/{project}/sync",
        id: "sync",
        summary: "Ask the controller to look at the project now (velos sync)",
        scope: Some(Scope::Write),
        params: &[PROJECT],
        request: None,
        response: Body::Json(schema_of::<velos_ops::SyncOutcome>),
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
        summary: "WebSocket: app state changes, recorded applies and project sync states, one JSON Event per message",
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
const ALL: Param =
    Param { name: "all", in_path: false, description: "Also Velos's own apps and project", kind: "boolean" };
const ALL_PROPOSALS: Param = Param {
    name: "all",
    in_path: false,
    description: "Also the approved and rejected ones",
    kind: "boolean",
};
const PROPOSAL_ID: Param = Param {
    name: "id",
    in_path: true,
    description: "A proposal's id (velos proposals list)",
    kind: "string",
};
const PROJECT: Param =
    Param { name: "project", in_path: true, description: "A project applied on this host", kind: "string" };
const PROJECT_QUERY: Param =
    Param { name: "project", in_path: false, description: "Only this project", kind: "string" };
const LOG_LINES: Param = Param {
    name: "lines",
    in_path: false,
    description: "Lines per instance (default 20, at most 10000)",
    kind: "integer",
};
const SINCE: Param = Param {
    name: "since",
    in_path: false,
    description: "Only lines since: a duration ago (10m) or a UTC instant (needs log.timestamps)",
    kind: "string",
};
const WINDOW_SINCE: Param = Param {
    name: "since",
    in_path: false,
    description: "The window's start: a duration ago (10m) or a UTC instant (default: the last apply or restart, whichever is later)",
    kind: "string",
};
const WINDOW_UNTIL: Param = Param {
    name: "until",
    in_path: false,
    description: "The window's end: a duration ago or a UTC instant (default: now)",
    kind: "string",
};
const UNTIL: Param = Param {
    name: "until",
    in_path: false,
    description: "Only lines until: a duration ago or a UTC instant",
    kind: "string",
};
const LEVEL: Param = Param {
    name: "level",
    in_path: false,
    description: "Only lines at this level or above: trace, debug, info, warn, error, fatal",
    kind: "string",
};
const BUDGET: Param = Param {
    name: "budget",
    in_path: false,
    description: "Tokens the summary may cost (default 400, at least 100 per app)",
    kind: "integer",
};
const GREP: Param =
    Param { name: "grep", in_path: false, description: "Only lines containing this text", kind: "string" };
const FORMAT: Param =
    Param { name: "format", in_path: false, description: "json (default) or toml", kind: "string" };
const WAIT: Param = Param {
    name: "wait",
    in_path: false,
    description: "Wait until the changed apps run (default true)",
    kind: "boolean",
};
const AGAINST: Param = Param {
    name: "against",
    in_path: false,
    description: "live (default) or a git revision",
    kind: "string",
};
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
        .route("/v1/apps", get(apps::list))
        .route("/v1/apps/{name}", get(apps::info).delete(apps::delete))
        .route("/v1/apps/{name}/instances", get(apps::instances))
        .route("/v1/apps/{name}/logs", get(apps::logs))
        .route("/v1/apps/{name}/logs/summary", get(apps::logs_summary))
        .route("/v1/apps/{name}/logs/templates", get(apps::logs_templates))
        .route("/v1/apps/{name}/start", post(apps::start))
        .route("/v1/apps/{name}/stop", post(apps::stop))
        .route("/v1/apps/{name}/restart", post(apps::restart))
        .route("/v1/apps/{name}/reload", post(apps::reload))
        .route("/v1/apps/{name}/scale", post(apps::scale))
        .route("/v1/apps/{name}/set", post(apps::set))
        .route("/v1/apps/{name}/unset", post(apps::unset))
        .route("/v1/projects", get(projects::status))
        .route("/v1/projects/{project}", get(projects::project))
        .route("/v1/projects/{project}/config", get(config::get).patch(config::patch))
        .route("/v1/projects/{project}/plan", get(projects::plan))
        .route("/v1/projects/{project}/diff", get(projects::diff))
        .route("/v1/projects/{project}/history", get(projects::history))
        .route("/v1/projects/{project}/apply", post(projects::apply_project))
        .route("/v1/projects/{project}/rollback", post(projects::rollback))
        .route("/v1/projects/{project}/sync", post(projects::sync))
        .route("/v1/history", get(projects::history_all))
        .route("/v1/apply", post(projects::apply))
        .route("/v1/proposals", get(proposals::list))
        .route("/v1/proposals/{id}", get(proposals::show))
        .route("/v1/proposals/{id}/approve", post(proposals::approve))
        .route("/v1/proposals/{id}/reject", post(proposals::reject))
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
