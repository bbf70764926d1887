//! Which tokens of a message are variables. A token is masked whole when it holds a digit (numbers, hex,
//! IPs, UUIDs, timestamps, ids like `blk_-1608`), is a path or URL, or is a month or weekday name; a
//! `key=value` token keeps its key and masks its value. Masking before mining is what lets the miner
//! group by exact token sequences and stay fast.
use crate::token::is_calendar_word;

/// What masking made of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masked {
    /// Kept as it is.
    Constant,
    /// Replaced by `<*>`.
    Variable,
    /// `key=<*>`: the first `usize` bytes (the key and its `=`) are kept.
    KeyValue(usize),
}

/// Masks `token`. `key=value` keeps its key; its value is masked when it looks variable itself, or
/// always with `mask_word_values` (`user=root` and `user=guest` are often two different events).
pub fn mask(token: &[u8], mask_word_values: bool) -> Masked {
    if let Some(equals) = token.iter().position(|&byte| byte == b'=') {
        if equals > 0 && equals + 1 < token.len() && is_key(&token[..equals]) {
            let value = &token[equals + 1..];
            if mask_word_values || variable(value) {
                return Masked::KeyValue(equals + 1);
            }
            return Masked::Constant;
        }
    }
    if variable(token) {
        Masked::Variable
    } else {
        Masked::Constant
    }
}

fn variable(token: &[u8]) -> bool {
    if token.iter().any(u8::is_ascii_digit) {
        return true;
    }
    is_path(token) || is_calendar_word(trim_punctuation(token)) || is_long_hex(token)
}

/// A key is a short identifier, so `a==b` or `x=1=2` in free text are not taken apart.
fn is_key(key: &[u8]) -> bool {
    let key = key.strip_prefix(b"(").unwrap_or(key);
    !key.is_empty()
        && key.len() <= 40
        && key.iter().all(|byte| byte.is_ascii_alphanumeric() || b"_-.".contains(byte))
}

fn is_path(token: &[u8]) -> bool {
    let token = token.strip_prefix(b"(").or_else(|| token.strip_prefix(b"\"")).unwrap_or(token);
    (token.len() > 1
        && token[0] == b'/'
        && token[1] != b'/'
        && token[1..].iter().any(u8::is_ascii_alphanumeric))
        || token.windows(3).any(|window| window == b"://")
}

fn is_long_hex(token: &[u8]) -> bool {
    token.len() >= 12 && token.iter().all(u8::is_ascii_hexdigit)
}

fn trim_punctuation(token: &[u8]) -> &[u8] {
    let start = token.iter().position(u8::is_ascii_alphanumeric).unwrap_or(token.len());
    let end = token.iter().rposition(u8::is_ascii_alphanumeric).map_or(start, |end| end + 1);
    &token[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_masked_and_words_kept() {
        assert_eq!(mask(b"user=root", false), Masked::Constant);
        assert_eq!(mask(b"user=root", true), Masked::KeyValue(5));
        let cases: [(&str, Masked); 13] = [
            ("terminating", Masked::Constant),
            ("blk_-6952295868487656571", Masked::Variable),
            ("10.251.73.220:50010", Masked::Variable),
            ("0x1f", Masked::Variable),
            ("b9000564-fe1a-409b-b8cc-1e88b294cd1d", Masked::Variable),
            ("/var/log/messages", Masked::Variable),
            ("http://example.com/x", Masked::Variable),
            ("(Sun", Masked::Variable),
            ("uid=0", Masked::KeyValue(4)),
            ("(uid=0)", Masked::KeyValue(5)),
            ("logname=", Masked::Constant),
            ("a/b", Masked::Constant),
            ("deadbeefcafe", Masked::Variable),
        ];
        for (token, expected) in cases {
            assert_eq!(mask(token.as_bytes(), false), expected, "{token}");
        }
    }
}
