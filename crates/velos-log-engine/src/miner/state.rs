//! The miner's persisted form: the exact-sequence cache and the length index are rebuilt on load, and a
//! damaged file cannot make `find` loop or index out of bounds.
use super::{Miner, Params, Template, TemplateId};
use crate::intern::Interner;
use serde::{Deserialize, Serialize};

/// What is persisted: the exact-sequence cache and the length index are rebuilt on load.
#[derive(Serialize, Deserialize)]
pub(super) struct MinerState {
    params: Params,
    interner: Interner,
    templates: Vec<Template>,
    parent: Vec<TemplateId>,
}

impl From<MinerState> for Miner {
    fn from(state: MinerState) -> Self {
        let mut miner = Miner {
            params: state.params,
            interner: state.interner,
            templates: state.templates,
            ..Miner::default()
        };
        let count = miner.templates.len();
        // A parent list of the wrong length or pointing past the end (a hand-edited file) is repaired by
        // making every template its own root rather than looping or indexing out of bounds.
        let valid =
            state.parent.len() == count && state.parent.iter().all(|&parent| (parent as usize) < count);
        miner.parent = if valid { state.parent } else { (0..count as TemplateId).collect() };
        if (0..count as TemplateId).any(|id| miner.find_checked(id).is_none()) {
            miner.parent = (0..count as TemplateId).collect();
        }
        for id in 0..count as TemplateId {
            if miner.find_checked(id) == Some(id) {
                let len = miner.templates[id as usize].tokens.len();
                miner.by_len.entry(len).or_default().push(id);
            }
        }
        miner
    }
}

impl From<Miner> for MinerState {
    fn from(miner: Miner) -> Self {
        MinerState {
            params: miner.params,
            interner: miner.interner,
            templates: miner.templates,
            parent: miner.parent,
        }
    }
}

impl Miner {
    /// `find` that gives up on a cycle (only a corrupt state file can hold one).
    fn find_checked(&self, mut id: TemplateId) -> Option<TemplateId> {
        for _ in 0..self.parent.len() + 1 {
            let parent = *self.parent.get(id as usize)?;
            if parent == id {
                return Some(id);
            }
            id = parent;
        }
        None
    }
}
