//! Which projects follow a repository, and asking the controller to sync them (the webhook's action).
use crate::error::ApiError;
use crate::webhook::normalize_repository;
use axum::http::StatusCode;
use std::path::Path;

/// The repository of a controller record's source `git REPO@REF:PATH`; `None` for a watched file.
fn followed_repository(source: &str) -> Option<&str> {
    let rest = source.strip_prefix("git ")?;
    let (repository, _) = rest.rsplit_once('@')?;
    Some(repository)
}

/// Asks the controller to sync each project that follows one of `repositories` (normalized); returns them.
pub fn sync_following(home: &Path, repositories: &[String]) -> Result<Vec<String>, ApiError> {
    let mut projects: Vec<String> = velos_reconcile::controller::read_records(home)
        .into_iter()
        .filter(|record| {
            followed_repository(&record.source)
                .is_some_and(|repository| repositories.contains(&normalize_repository(repository)))
        })
        .map(|record| record.project)
        .collect();
    projects.sort();
    projects.dedup();
    for project in &projects {
        match velos_reconcile::controller::request_sync(home, Some(project)) {
            Ok(true) => {}
            Ok(false) => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "controller_not_running",
                    format!("project {project} follows the repository, but no controller runs to sync it"),
                )
                .hint("velos list --all shows velos-controller; velos apply FILE brings it back"))
            }
            Err(error) => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "controller_unreachable",
                    format!("the controller did not take the sync request: {error}"),
                ))
            }
        }
    }
    Ok(projects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_source_names_its_repository() {
        assert_eq!(followed_repository("git /srv/deploy.git@main:velos.toml"), Some("/srv/deploy.git"));
        assert_eq!(followed_repository("git git@host:a/b.git@main:x.toml"), Some("git@host:a/b.git"));
        assert_eq!(followed_repository("/srv/app/velos.toml"), None);
    }
}
