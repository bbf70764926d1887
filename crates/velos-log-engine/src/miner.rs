//! Online template mining. A message is tokenized and masked, then looked up by the exact hash of its
//! token ids (the common case: one hash lookup, no allocation). A miss scans the templates with the same
//! token count, where a wildcard position matches anything. A message that matches none becomes a new
//! template, which is then merged with any template of the same length that differs from it at exactly
//! one position, when that position looks like a variable (one side already a wildcard, or both sides
//! identifier-like). We deliberately do not join by Drain's similarity threshold: it merges events that
//! differ by one meaningful word (`VM Started` / `VM Paused`).
use crate::intern::{hash_ids, FastMap, Interner, MERGED, WILDCARD};
use crate::mask::{mask, mask_digits, MaskOptions, Masked};
use crate::token::{split_into, Span};

mod merge;
mod state;
use serde::{Deserialize, Serialize};

/// Tokens of a message that take part in mining; the rest of a very long message is ignored.
pub const TOKENS_MAX: usize = 128;
/// Bytes of a message that are tokenized (a 10 MB line without a newline is mined by its start).
pub const MESSAGE_BYTES_MAX: usize = 4096;
/// Entries of the exact-sequence cache; past it, new sequences are matched by scanning.
const EXACT_ENTRIES_MAX: usize = 1 << 20;

/// A template id, stable for the life of the miner's state.
pub type TemplateId = u32;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Template {
    /// Token ids; `WILDCARD` where the template has a variable.
    pub tokens: Vec<u32>,
    /// Messages matched, merged templates included.
    pub count: u64,
}

/// The miner's few knobs. One set, the default, serves every log; the fields exist so that the accuracy
/// test can measure how choices made on some systems carry over to others.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Distinct plain-word values a position needs before it is taken for a variable.
    pub siblings_min: usize,
    /// Whether two identifier-like values (`com.foo.A`, `user_1`) are enough to merge.
    pub identifier_merge: bool,
    /// What masking hides.
    pub mask: MaskOptions,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            siblings_min: 3,
            identifier_merge: true,
            mask: MaskOptions { word_values: false, whole_tokens: false },
        }
    }
}

/// The miner and its state (serializable: persist it and resume where it stopped).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "state::MinerState", into = "state::MinerState")]
pub struct Miner {
    params: Params,
    interner: Interner,
    templates: Vec<Template>,
    /// Union-find over template ids: a merged template points at the template it was merged into.
    parent: Vec<TemplateId>,
    exact: FastMap<u64, TemplateId>,
    by_len: FastMap<usize, Vec<TemplateId>>,
    ids: Vec<u32>,
    spans: Vec<Span>,
    scratch: Vec<u8>,
}

impl Miner {
    pub fn with_params(params: Params) -> Miner {
        Miner { params, ..Miner::default() }
    }

    /// Mines one message (a line without its header) and returns its template's id.
    pub fn add(&mut self, message: &[u8]) -> TemplateId {
        let message = &message[..message.len().min(MESSAGE_BYTES_MAX)];
        self.tokenize(message);
        let hash = hash_ids(&self.ids);
        if let Some(&id) = self.exact.get(&hash) {
            let id = self.find(id);
            self.templates[id as usize].count += 1;
            return id;
        }
        let id = match self.scan() {
            Some(id) => id,
            None => self.create(),
        };
        if self.exact.len() < EXACT_ENTRIES_MAX {
            self.exact.insert(hash, id);
        }
        let id = self.find(id);
        self.templates[id as usize].count += 1;
        id
    }

    /// The id a template is known by now (templates merge as more lines arrive).
    pub fn find(&self, mut id: TemplateId) -> TemplateId {
        while let Some(&parent) = self.parent.get(id as usize) {
            if parent == id {
                break;
            }
            id = parent;
        }
        id
    }

    /// Live templates (not merged into another), oldest first.
    pub fn templates(&self) -> impl Iterator<Item = (TemplateId, &Template)> {
        (0..self.templates.len() as TemplateId)
            .filter(|&id| self.parent[id as usize] == id)
            .map(|id| (id, &self.templates[id as usize]))
    }

    pub fn template(&self, id: TemplateId) -> Option<&Template> {
        self.templates.get(self.find(id) as usize)
    }

    /// A template as text: its tokens joined by spaces, `<*>` for variables, control characters as `?`
    /// (a template of binary output must not drive a terminal).
    pub fn render(&self, id: TemplateId) -> String {
        let Some(template) = self.template(id) else { return String::new() };
        let mut text = Vec::new();
        for (index, &token) in template.tokens.iter().enumerate() {
            if index > 0 {
                text.push(b' ');
            }
            text.extend_from_slice(self.interner.text(token));
        }
        String::from_utf8_lossy(&text).chars().map(|c| if c.is_control() { '?' } else { c }).collect()
    }

    /// The template a message belongs to, without learning anything from it (no new template, no
    /// count, no new token): for labelling lines shown to a reader with the ids of `--templates`.
    pub fn lookup(&self, message: &[u8]) -> Option<TemplateId> {
        let message = &message[..message.len().min(MESSAGE_BYTES_MAX)];
        let mut spans = Vec::new();
        let mut ids = Vec::new();
        let mut scratch = Vec::new();
        split_into(message, 0, &mut spans);
        for &(start, end) in spans.iter().take(TOKENS_MAX) {
            let token = &message[start as usize..end as usize];
            let previous = ids.last().copied();
            ids.push(masked_id(token, previous, self.params.mask, &mut scratch, |bytes| {
                self.interner.get(bytes)
            }));
        }
        if let Some(&id) = self.exact.get(&hash_ids(&ids)) {
            return Some(self.find(id));
        }
        self.scan_for(&ids)
    }

    fn tokenize(&mut self, message: &[u8]) {
        self.spans.clear();
        self.ids.clear();
        split_into(message, 0, &mut self.spans);
        for &(start, end) in self.spans.iter().take(TOKENS_MAX) {
            let token = &message[start as usize..end as usize];
            let previous = self.ids.last().copied();
            let interner = &mut self.interner;
            let id = masked_id(token, previous, self.params.mask, &mut self.scratch, |bytes| {
                interner.intern(bytes)
            });
            self.ids.push(id);
        }
    }

    /// The most specific live template of the same length that matches the current message.
    fn scan(&self) -> Option<TemplateId> {
        self.scan_for(&self.ids)
    }

    fn scan_for(&self, ids: &[u32]) -> Option<TemplateId> {
        let candidates = self.by_len.get(&ids.len())?;
        let mut best: Option<(TemplateId, usize)> = None;
        for &id in candidates {
            let tokens = &self.templates[id as usize].tokens;
            let matches = tokens.iter().zip(ids).all(|(&t, &m)| t == MERGED || t == m);
            if matches {
                let constants = tokens.iter().filter(|&&t| t != MERGED).count();
                if best.is_none_or(|(_, most)| constants > most) {
                    best = Some((id, constants));
                }
            }
        }
        best.map(|(id, _)| id)
    }

    fn create(&mut self) -> TemplateId {
        let id = self.templates.len() as TemplateId;
        self.templates.push(Template { tokens: self.ids.clone(), count: 0 });
        self.parent.push(id);
        self.by_len.entry(self.ids.len()).or_default().push(id);
        self.merge_around(id);
        self.find(id)
    }
}

/// A token's id after masking; `id_of` interns (mining) or only looks up (`lookup`).
fn masked_id(
    token: &[u8],
    previous: Option<u32>,
    options: MaskOptions,
    scratch: &mut Vec<u8>,
    mut id_of: impl FnMut(&[u8]) -> u32,
) -> u32 {
    match mask(token, options) {
        Masked::Constant if previous == Some(WILDCARD) && is_unit(token) => WILDCARD,
        Masked::Constant => id_of(token),
        Masked::Variable => WILDCARD,
        Masked::Digits => {
            mask_digits(token, scratch);
            id_of(scratch)
        }
        Masked::KeyValue(key_len) => {
            scratch.clear();
            scratch.extend_from_slice(&token[..key_len]);
            scratch.extend_from_slice(b"<*>");
            id_of(scratch)
        }
    }
}

/// A unit after a number is part of the quantity: `5.2 KB` and `93.0 B` are one variable.
fn is_unit(token: &[u8]) -> bool {
    const UNITS: [&[u8]; 16] = [
        b"B", b"KB", b"MB", b"GB", b"TB", b"KiB", b"MiB", b"GiB", b"TiB", b"ns", b"us", b"ms", b"s", b"sec",
        b"secs", b"min",
    ];
    let token = token.strip_suffix(b",").unwrap_or(token);
    UNITS.contains(&token)
}
