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
#[serde(from = "MinerState", into = "MinerState")]
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

    fn tokenize(&mut self, message: &[u8]) {
        self.spans.clear();
        self.ids.clear();
        split_into(message, 0, &mut self.spans);
        for &(start, end) in self.spans.iter().take(TOKENS_MAX) {
            let token = &message[start as usize..end as usize];
            let id = match mask(token, self.params.mask) {
                Masked::Constant if self.ids.last() == Some(&WILDCARD) && is_unit(token) => WILDCARD,
                Masked::Constant => self.interner.intern(token),
                Masked::Variable => WILDCARD,
                Masked::Digits => {
                    mask_digits(token, &mut self.scratch);
                    self.interner.intern(&self.scratch)
                }
                Masked::KeyValue(key_len) => {
                    self.scratch.clear();
                    self.scratch.extend_from_slice(&token[..key_len]);
                    self.scratch.extend_from_slice(b"<*>");
                    self.interner.intern(&self.scratch)
                }
            };
            self.ids.push(id);
        }
    }

    /// The most specific live template of the same length that matches the current message.
    fn scan(&self) -> Option<TemplateId> {
        let candidates = self.by_len.get(&self.ids.len())?;
        let mut best: Option<(TemplateId, usize)> = None;
        for &id in candidates {
            let tokens = &self.templates[id as usize].tokens;
            let matches = tokens.iter().zip(&self.ids).all(|(&t, &m)| t == MERGED || t == m);
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

    /// Merges `id` with same-length templates that differ from it at one position, when that position
    /// looks variable, and keeps merging the result until nothing changes.
    fn merge_around(&mut self, id: TemplateId) {
        let mut pending = vec![id];
        while let Some(current) = pending.pop() {
            if self.find(current) != current {
                continue;
            }
            if let Some((positions, others)) = self.mergeable(current) {
                let keep = others.iter().copied().fold(current, TemplateId::min);
                let len = self.templates[current as usize].tokens.len();
                for gone in others.into_iter().chain([current]).filter(|&gone| gone != keep) {
                    let count = std::mem::take(&mut self.templates[gone as usize].count);
                    self.templates[keep as usize].count += count;
                    self.parent[gone as usize] = keep;
                    if let Some(live) = self.by_len.get_mut(&len) {
                        live.retain(|&id| id != gone);
                    }
                }
                for position in positions {
                    self.templates[keep as usize].tokens[position] = MERGED;
                }
                pending.push(keep);
            }
        }
    }

    /// A position where `id` and some same-length templates differ only there, and the templates to merge
    /// with. Two identifier-like values (`com.foo.A` / `com.foo.B`), or a merged variable and anything, are
    /// enough; plain words need `siblings_min` distinct values, so that `opened` / `closed` or `true` /
    /// `false` stay two events while `user cyrus` / `user news` / `user test` become one. Past-tense
    /// words (`Started` / `Paused` / `Stopped` / `Resumed`) are states of an event and names in code
    /// (`onNotificationClick`) are the event itself: they never merge that way.
    fn mergeable(&self, id: TemplateId) -> Option<(Vec<usize>, Vec<TemplateId>)> {
        let tokens = &self.templates[id as usize].tokens;
        let mut by_position: Vec<(usize, TemplateId)> = Vec::new();
        for &other in self.by_len.get(&tokens.len())? {
            if other == id || self.find(other) != other {
                continue;
            }
            let theirs = &self.templates[other as usize].tokens;
            let Some(difference) = difference(tokens, theirs) else { continue };
            let [Some(first), second] = difference.positions else { continue };
            match second {
                // Two names (`Registering class A for class B`) may differ together; two words may not.
                Some(second) => {
                    let names = |p: usize| self.identifier_pair(tokens[p], theirs[p]);
                    if difference.shared_constants >= 2 && names(first) && names(second) {
                        return Some((vec![first, second], vec![other]));
                    }
                    continue;
                }
                None if self.variable_pair(tokens[first], theirs[first]) => {
                    return Some((vec![first], vec![other]));
                }
                None => {}
            }
            let position = first;
            by_position.push((position, other));
        }
        by_position.sort_unstable();
        for group in by_position.chunk_by(|a, b| a.0 == b.0) {
            let position = group[0].0;
            // A message's first word is its verb or subject far more often than a value (Drain's premise).
            if position == 0 || group.len() + 1 < self.params.siblings_min {
                continue;
            }
            let mut values = group.iter().map(|&(_, other)| self.templates[other as usize].tokens[position]);
            if values.all(|token| self.plain_word(token)) && self.plain_word(tokens[position]) {
                return Some((vec![position], group.iter().map(|&(_, other)| other).collect()));
            }
        }
        None
    }

    /// A word that, with enough siblings, may be a value (`cyrus`, `news`): not a past-tense state, not a
    /// name in code, not a `key=value` (two keys are two fields), not a masked word (`alt<*>`: its letters
    /// were kept because they mean something).
    fn plain_word(&self, token: u32) -> bool {
        if token <= MERGED {
            return token == WILDCARD;
        }
        let text = self.interner.text(token);
        !past_tense(text) && !camel_case(text) && !text.contains(&b'=') && !contains_wildcard(text)
    }

    /// Whether two values at one position are enough to call it a variable: a merged variable and anything;
    /// a masked one and a value that is no word (`()`, `-`, `host.example.org`); two identifiers.
    fn identifier_pair(&self, a: u32, b: u32) -> bool {
        a == MERGED
            || b == MERGED
            || (self.params.identifier_merge
                && a > MERGED
                && b > MERGED
                && identifier_like(self.interner.text(a))
                && identifier_like(self.interner.text(b)))
    }

    fn variable_pair(&self, a: u32, b: u32) -> bool {
        if a == MERGED || b == MERGED {
            return true;
        }
        let valueish = |token: u32| {
            let text = self.interner.text(token);
            !text.iter().any(u8::is_ascii_alphabetic) || identifier_like(text) || null_word(text)
        };
        match (a, b) {
            (WILDCARD, other) | (other, WILDCARD) => valueish(other),
            _ => {
                self.params.identifier_merge
                    && identifier_like(self.interner.text(a))
                    && identifier_like(self.interner.text(b))
            }
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

fn contains_wildcard(token: &[u8]) -> bool {
    token.windows(3).any(|window| window == b"<*>")
}

fn past_tense(token: &[u8]) -> bool {
    token.len() > 3 && token.ends_with(b"ed") && token.iter().all(u8::is_ascii_alphabetic)
}

/// `onNotificationClick`, `getTasks:`: a name in code, the constant part of a message.
fn camel_case(token: &[u8]) -> bool {
    token.windows(2).any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
}

/// `null`, `none`: an absent value stands where a variable would.
fn null_word(token: &[u8]) -> bool {
    let token = token.strip_prefix(b"(").unwrap_or(token);
    let token = token.strip_suffix(b",").unwrap_or(token);
    let token = token.strip_suffix(b")").unwrap_or(token);
    [&b"null"[..], b"none", b"nil", b"undefined", b"unknown"]
        .iter()
        .any(|word| token.eq_ignore_ascii_case(word))
}

/// Where two equally long token sequences differ (when at one or two positions) and how many constant
/// tokens they share elsewhere.
struct Difference {
    positions: [Option<usize>; 2],
    shared_constants: usize,
}

fn difference(a: &[u32], b: &[u32]) -> Option<Difference> {
    let mut positions = [None, None];
    let mut count = 0;
    let mut shared_constants = 0;
    for (index, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            *positions.get_mut(count)? = Some(index);
            count += 1;
        } else if *x > MERGED {
            shared_constants += 1;
        }
    }
    // Two sequences that share no constant token (two wildcards in common) say nothing about an event.
    let first = positions[0].filter(|_| shared_constants > 0)?;
    Some(Difference { positions: [Some(first), positions[1]], shared_constants })
}

/// Names of things rather than words of a sentence: `com.foo.Bar`, `user_name`, `/x`.
/// A `key=value` is not: two different keys are two different fields, two values often two events.
fn identifier_like(token: &[u8]) -> bool {
    if token.contains(&b'=') {
        return false;
    }
    let end = token.iter().rposition(u8::is_ascii_alphanumeric).map_or(0, |end| end + 1);
    let start = token.iter().position(u8::is_ascii_alphanumeric).unwrap_or(end);
    let core = &token[start..end.max(start)];
    // A partly masked name still names something (`MSRA-SA-<*>.corp.com`), a partly masked word does
    // not (`alt<*>`).
    let separators: &[u8] = if contains_wildcard(token) { b"./" } else { b"._/\\@$#" };
    core.iter().any(|byte| separators.contains(byte))
}

/// What is persisted: the exact-sequence cache and the length index are rebuilt on load.
#[derive(Serialize, Deserialize)]
struct MinerState {
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
