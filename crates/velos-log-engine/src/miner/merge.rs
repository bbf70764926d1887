//! Merging templates: when a new template appears, it is merged with a same-length one that differs from it
//! at one position that looks variable (or at two positions that both hold names). See `Miner::mergeable`.
use super::{Miner, TemplateId};
use crate::intern::{MERGED, WILDCARD};

impl Miner {
    /// Merges `id` with same-length templates that differ from it at one position, when that position
    /// looks variable, and keeps merging the result until nothing changes.
    pub(super) fn merge_around(&mut self, id: TemplateId) {
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
