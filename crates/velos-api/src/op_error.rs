//! The one mapping from the operations layer's error kinds to HTTP statuses.
use crate::error::ApiError;
use axum::http::StatusCode;
use velos_ops::{OpError, OpErrorKind};

/// The status a kind answers with.
pub fn status_of(kind: OpErrorKind) -> StatusCode {
    match kind {
        OpErrorKind::NotFound => StatusCode::NOT_FOUND,
        // Taken names, a project that follows git, a refused verb, an app changed meanwhile: the request
        // is understood, the host's state is in the way.
        OpErrorKind::Conflict | OpErrorKind::FollowsGit | OpErrorKind::Refused | OpErrorKind::Stale => {
            StatusCode::CONFLICT
        }
        OpErrorKind::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        OpErrorKind::DaemonNotRunning | OpErrorKind::DaemonUnreachable => StatusCode::SERVICE_UNAVAILABLE,
        // The apply ran and some of it failed: the body says what is applied and what is not.
        OpErrorKind::Incomplete => StatusCode::BAD_GATEWAY,
        OpErrorKind::Io | OpErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<OpError> for ApiError {
    fn from(error: OpError) -> ApiError {
        let mut api = ApiError::new(status_of(error.kind), error.kind.as_str(), error.message.clone());
        api.detail.hint = error.hint_text().map(str::to_string);
        api.detail.causes = error.causes.clone();
        api.detail.diagnostics =
            error.diagnostics.iter().filter_map(|diagnostic| serde_json::to_value(diagnostic).ok()).collect();
        api.detail.detail = error.detail.as_ref().and_then(|detail| serde_json::to_value(detail).ok());
        api
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_of_its_class() {
        let kinds = [
            (OpErrorKind::NotFound, 404),
            (OpErrorKind::Conflict, 409),
            (OpErrorKind::InvalidInput, 422),
            (OpErrorKind::FollowsGit, 409),
            (OpErrorKind::DaemonNotRunning, 503),
            (OpErrorKind::DaemonUnreachable, 503),
            (OpErrorKind::Stale, 409),
            (OpErrorKind::Refused, 409),
            (OpErrorKind::Incomplete, 502),
            (OpErrorKind::Io, 500),
            (OpErrorKind::Internal, 500),
        ];
        for (kind, status) in kinds {
            assert_eq!(status_of(kind).as_u16(), status, "{kind:?}");
        }
    }

    #[test]
    fn the_error_keeps_its_kind_hint_and_facts() {
        let error = OpError::new(OpErrorKind::NotFound, "no app named wbe").hint("velos list shows the apps");
        let api = ApiError::from(error);
        assert_eq!(api.status, StatusCode::NOT_FOUND);
        assert_eq!(api.detail.kind, "not_found");
        assert_eq!(api.detail.hint.as_deref(), Some("velos list shows the apps"));
    }
}
