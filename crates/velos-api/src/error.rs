//! Every error the API answers: JSON `{"error": {"kind", "message", "hint", "diagnostics"}}` with a status
//! code that fits it. Never a stack trace, never an internal path the caller did not give.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case: `unauthorized`, `forbidden`, `not_found`, `invalid_input`, `stale`, …
    pub kind: String,
    pub message: String,
    /// What to do next, when there is something to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What caused it, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// Config problems, each with `file`, `line`, `column` (1-based) and `message`, for `invalid_input`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<serde_json::Value>,
    /// The facts behind some kinds: did-you-mean candidates, the repository to commit to, the plan and
    /// report of an incomplete apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// An error on its way to becoming a response.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed so a `Result<_, ApiError>` stays small.
    pub detail: Box<ErrorDetail>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: Box::new(ErrorDetail {
                kind: kind.to_string(),
                message: message.into(),
                hint: None,
                causes: vec![],
                diagnostics: vec![],
                detail: None,
            }),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> ApiError {
        self.detail.hint = Some(hint.into());
        self
    }

    pub fn diagnostics(mut self, diagnostics: Vec<serde_json::Value>) -> ApiError {
        self.detail.diagnostics = diagnostics;
        self
    }

    pub fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
            .hint("send `Authorization: Bearer TOKEN`; `velos serve --print-token` shows the tokens")
    }

    pub fn forbidden_scope() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this token may only read")
            .hint("use the read-write token of $VELOS_HOME/api.token")
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(ErrorBody { error: *self.detail })).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// axum's own rejections (a bad query string, a body that is not JSON, a body over the limit) as our JSON.
pub fn from_rejection(status: StatusCode, message: String) -> ApiError {
    let kind = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "invalid_input",
        _ => "invalid_request",
    };
    ApiError::new(status, kind, message)
}

pub type ApiResult<T> = Result<T, ApiError>;
