//! Proposals as a reader should see them now: a pending proposal whose file changed since is shown stale
//! (it is marked so on disk when someone tries to approve it), and the patch in the form `git apply` takes.
use crate::{Proposal, ProposalError, State, Store};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every proposal, oldest first, with pending ones whose file changed shown [`State::Stale`].
pub fn current(home: &Path) -> Result<Vec<Proposal>, ProposalError> {
    let mut revisions: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut proposals = Store::open(home)?.list()?;
    for proposal in &mut proposals {
        mark_if_stale(proposal, &mut revisions);
    }
    Ok(proposals)
}

/// The proposal `id`, as [`current`] shows it.
pub fn current_one(home: &Path, id: &str) -> Result<Proposal, ProposalError> {
    let mut proposal = Store::open(home)?.get(id)?;
    mark_if_stale(&mut proposal, &mut HashMap::new());
    Ok(proposal)
}

fn mark_if_stale(proposal: &mut Proposal, revisions: &mut HashMap<PathBuf, Option<String>>) {
    if proposal.state != State::Pending {
        return;
    }
    let revision = revisions
        .entry(proposal.file.clone())
        .or_insert_with(|| std::fs::read(&proposal.file).ok().map(|bytes| velos_config::revision(&bytes)));
    // A file that cannot be read cannot be approved either; the approval says why.
    if revision.as_deref().is_some_and(|revision| revision != proposal.base_revision) {
        proposal.state = State::Stale;
    }
}

/// The proposal's diff with the file's path in its repository (`a/deploy/velos.toml`), so that
/// `git apply` (or `patch -p1`) run at the repository's root takes it; outside a repository, its name.
pub fn patch_for_commit(proposal: &Proposal) -> String {
    let path = path_in_repository(&proposal.file).unwrap_or_else(|| {
        proposal
            .file
            .file_name()
            .map_or_else(|| "velos.toml".into(), |name| name.to_string_lossy().into_owned())
    });
    match proposal.diff.strip_prefix("--- a/velos.toml\n+++ b/velos.toml\n") {
        Some(hunks) => format!("--- a/{path}\n+++ b/{path}\n{hunks}"),
        None => proposal.diff.clone(),
    }
}

/// `file` relative to the nearest folder above it holding `.git`.
fn path_in_repository(file: &Path) -> Option<String> {
    let mut folder = file.parent();
    while let Some(candidate) = folder {
        if candidate.join(".git").exists() {
            let relative = file.strip_prefix(candidate).ok()?;
            return Some(relative.to_string_lossy().into_owned());
        }
        folder = candidate.parent();
    }
    None
}
