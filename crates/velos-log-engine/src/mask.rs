//! Which tokens of a message are variables. A token is masked whole when it is mostly digits (numbers, hex,
//! IPs, UUIDs, timestamps, ids like `blk_-1608`), a path or URL, or a month or weekday name; a word with a
//! few digits keeps its letters (`node-<*>`); a `key=value` token keeps its key and masks a variable value. Masking before mining is what lets the miner
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
    /// A word with digits in it (`node-148`, `isA2dpOn`): each run of digits becomes `<*>`, the letters stay.
    Digits,
}

/// How much masking hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MaskOptions {
    /// `key=value` hides word values too (`user=root`), not only variable-looking ones.
    pub word_values: bool,
    /// A token with a digit is masked whole; otherwise only its digit runs, unless it is a number, hex or id.
    pub whole_tokens: bool,
}

/// Masks `token`. `key=value` keeps its key; its value is masked when it looks variable itself, is quoted
/// or names something (`host=a.example.org`): `user=root` and `user=guest` are often two different events,
/// `tag="x"` is data.
pub fn mask(token: &[u8], options: MaskOptions) -> Masked {
    if let Some(equals) = token.iter().position(|&byte| byte == b'=') {
        if equals > 0 && equals + 1 < token.len() && is_key(&token[..equals]) {
            let value = &token[equals + 1..];
            let quoted = matches!(value[0], b'"' | b'\'');
            let named = value.iter().any(|byte| b"._/@:".contains(byte)) && value.len() > 1;
            if options.word_values || quoted || named || variable(value) != Masked::Constant {
                return Masked::KeyValue(equals + 1);
            }
            return Masked::Constant;
        }
    }
    match variable(token) {
        Masked::Digits if options.whole_tokens => Masked::Variable,
        masked => masked,
    }
}

/// Writes `token` masked as `Masked::Digits` says into `out`.
pub fn mask_digits(token: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut in_digits = false;
    for (index, &byte) in token.iter().enumerate() {
        if byte.is_ascii_digit() || signed_number_at(token, index) {
            if !in_digits {
                out.extend_from_slice(b"<*>");
            }
            in_digits = true;
        } else {
            out.push(byte);
            in_digits = false;
        }
    }
}

/// A `-` that starts a negative number (`blk_-695`, `-0.5`), as opposed to one joining words (`a-1`).
fn signed_number_at(token: &[u8], index: usize) -> bool {
    token[index] == b'-'
        && token.get(index + 1).is_some_and(u8::is_ascii_digit)
        && (index == 0 || !token[index - 1].is_ascii_alphanumeric())
}

fn variable(token: &[u8]) -> Masked {
    // One pass: digits, letters, runs of digits, and whether a `/` or `:` calls for the path test.
    let (mut digits, mut letters, mut runs, mut slash) = (0usize, 0usize, 0usize, false);
    let mut in_digits = false;
    for &byte in token {
        let digit = byte.is_ascii_digit();
        if digit {
            digits += 1;
            runs += usize::from(!in_digits);
        } else if byte.is_ascii_alphabetic() {
            letters += 1;
        } else {
            slash |= byte == b'/';
        }
        in_digits = digit;
    }
    if digits > 0 {
        // Only digits (`10.0.0.1:80`, `-24.0`), hex (`3f2a91c0`, uuids), or digits spread among letters
        // (`u0a13`, `R02-M1-N0`): an id, masked whole. A word with one number in it keeps its word
        // (`core.<*>`), whatever the number's length, so that every value of a variable masks alike.
        if letters == 0 || runs > 1 || is_hex_id(token) || (slash && is_path(token)) {
            return Masked::Variable;
        }
        return Masked::Digits;
    }
    if (slash && is_path(token))
        || is_long_hex(token)
        || (token.len() <= 6 && is_calendar_word(trim_punctuation(token)))
    {
        return Masked::Variable;
    }
    Masked::Constant
}

fn is_hex_id(token: &[u8]) -> bool {
    let core = trim_punctuation(token);
    let core = core.strip_prefix(b"0x").unwrap_or(core);
    core.len() >= 6 && core.iter().all(|byte| byte.is_ascii_hexdigit() || b"-:".contains(byte))
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
    let token = token.strip_prefix(b"'").unwrap_or(token);
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
        let whole = MaskOptions { word_values: false, whole_tokens: true };
        assert_eq!(mask(b"user=root", whole), Masked::Constant);
        assert_eq!(
            mask(b"user=root", MaskOptions { word_values: true, whole_tokens: true }),
            Masked::KeyValue(5)
        );
        let options = MaskOptions { word_values: false, whole_tokens: false };
        assert_eq!(mask(b"node-148", options), Masked::Digits);
        assert_eq!(mask(b"isBluetoothA2dpOn...", options), Masked::Digits);
        let mut out = Vec::new();
        mask_digits(b"core.25350", &mut out);
        assert_eq!(out, b"core.<*>");
        mask_digits(b"blk_-695", &mut out);
        assert_eq!(out, b"blk_<*>");
        assert_eq!(mask(b"tag=\"View", options), Masked::KeyValue(4));
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
            assert_eq!(mask(token.as_bytes(), whole), expected, "{token}");
        }
    }
}
