//! Token interning: each distinct token's bytes are stored once and named by a `u32`, so templates are
//! compared and hashed as integers and a line that only repeats known tokens allocates nothing.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The id of `<*>` where masking found a variable (a number, a path…): matches only another masked token.
pub const WILDCARD: u32 = 0;
/// The id of `<*>` where merging found a variable (a template position that took several values): matches
/// any token. Kept apart from `WILDCARD` so that a template made of masked numbers does not swallow every
/// message of its length.
pub const MERGED: u32 = 1;
/// A token never seen, in a lookup that must not add it: equal to no template token.
pub const UNKNOWN: u32 = u32::MAX;

/// A small multiplicative hasher (the rustc "Fx" scheme): the keys are short byte strings and integer
/// sequences that we produce ourselves, so resistance to chosen collisions is not needed, speed is.
#[derive(Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Hashes a sequence of token ids (the key of an exact template lookup).
#[inline]
pub fn hash_ids(ids: &[u32]) -> u64 {
    let mut hasher = FastHasher::default();
    hasher.add(ids.len() as u64);
    for &id in ids {
        hasher.add(u64::from(id));
    }
    // A final mix so that sequences differing in their last id spread over the table.
    let hash = hasher.finish();
    hash ^ (hash >> 29)
}

/// Token bytes ↔ ids. Id 0 is always the wildcard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct Interner {
    ids: FastMap<Box<[u8]>, u32>,
    tokens: Vec<Box<[u8]>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner { ids: FastMap::default(), tokens: Vec::new() };
        interner.intern(b"<*>");
        interner.tokens.push(b"<*>"[..].into());
        interner
    }
}

impl Interner {
    /// The id of `token`, adding it on first sight.
    #[inline]
    pub fn intern(&mut self, token: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = self.tokens.len() as u32;
        self.tokens.push(token.into());
        self.ids.insert(token.into(), id);
        id
    }

    /// The id of `token` if it was seen; `UNKNOWN` otherwise (nothing is added).
    pub fn get(&self, token: &[u8]) -> u32 {
        self.ids.get(token).copied().unwrap_or(UNKNOWN)
    }

    pub fn text(&self, id: u32) -> &[u8] {
        self.tokens.get(id as usize).map_or(b"<*>", |token| token)
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

// Persisted as the list of tokens in id order (lossy for invalid UTF-8, which a template never needs
// byte-exact: it is shown to people, and the ids are what the miner compares).
impl From<Vec<String>> for Interner {
    fn from(tokens: Vec<String>) -> Self {
        let mut interner = Interner { ids: FastMap::default(), tokens: Vec::with_capacity(tokens.len()) };
        for token in tokens {
            let bytes: Box<[u8]> = token.into_bytes().into();
            let id = interner.tokens.len() as u32;
            // A duplicate (two invalid byte strings that became the same text) keeps its own id so the
            // ids stored in templates stay valid; lookups find the first.
            interner.ids.entry(bytes.clone()).or_insert(id);
            interner.tokens.push(bytes);
        }
        // A state without the two wildcards is not ours: start over rather than misread every id.
        if interner.tokens.len() < 2 || &*interner.tokens[0] != b"<*>" || &*interner.tokens[1] != b"<*>" {
            return Interner::default();
        }
        interner
    }
}

impl From<Interner> for Vec<String> {
    fn from(interner: Interner) -> Self {
        interner.tokens.iter().map(|token| String::from_utf8_lossy(token).into_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_get_the_same_id_and_zero_is_the_wildcard() {
        let mut interner = Interner::default();
        let a = interner.intern(b"alpha");
        assert_eq!(interner.intern(b"alpha"), a);
        assert_ne!(interner.intern(b"beta"), a);
        assert_eq!(interner.text(WILDCARD), b"<*>");
        assert_eq!(interner.intern(b"<*>"), WILDCARD);
        assert_eq!(interner.text(MERGED), b"<*>");
    }

    #[test]
    fn sequences_hash_by_order() {
        assert_ne!(hash_ids(&[1, 2]), hash_ids(&[2, 1]));
        assert_ne!(hash_ids(&[1]), hash_ids(&[1, 0]));
    }
}
