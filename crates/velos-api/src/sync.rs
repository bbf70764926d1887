//! Which projects follow a repository: the webhook's question. Syncing them is the `sync` verb.
use crate::webhook::normalize_repository;
use std::path::Path;

/// The repository of a controller record's source `git REPO@REF:PATH`; `None` for a watched file.
fn followed_repository(source: &str) -> Option<&str> {
    let rest = source.strip_prefix("git ")?;
    let (repository, _) = rest.rsplit_once('@')?;
    Some(repository)
}

/// The projects whose controller record follows one of `repositories` (normalized), sorted.
pub fn projects_following(home: &Path, repositories: &[String]) -> Vec<String> {
    let mut projects: Vec<String> = velos_reconcile::followed::read_records(home)
        .into_iter()
        .filter(|record| {
            followed_repository(&record.source)
                .is_some_and(|repository| repositories.contains(&normalize_repository(repository)))
        })
        .map(|record| record.project)
        .collect();
    projects.sort();
    projects.dedup();
    projects
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
