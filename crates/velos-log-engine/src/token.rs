//! Byte-level tokenizing: a line is split on ASCII whitespace and `|` into byte ranges, written into a
//! caller-owned vector so the hot path allocates nothing. Header columns additionally keep a bracketed
//! group (`[Sun Dec 04 04:47:44 2005]`, `[RMCommunicator Allocator]`) together as one column.

/// A token: `start..end` byte offsets into its line.
pub type Span = (u32, u32);

/// The longest bracketed header column we keep together; past it, a `[` is an ordinary byte.
const BRACKET_SPAN_MAX: usize = 256;

#[inline]
pub fn is_separator(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c | b'|')
}

/// Appends the spans of the whitespace- (and `|`-) separated tokens of `line[from..]` to `spans`.
pub fn split_into(line: &[u8], from: usize, spans: &mut Vec<Span>) {
    let mut index = from;
    let len = line.len();
    while index < len {
        while index < len && is_separator(line[index]) {
            index += 1;
        }
        let start = index;
        while index < len && !is_separator(line[index]) {
            index += 1;
        }
        if index > start {
            spans.push((start as u32, index as u32));
        }
    }
}

/// The next header column of `line` at or after `from`: its span, or None at the end of the line.
pub fn next_column(line: &[u8], from: usize) -> Option<Span> {
    let mut start = from;
    while start < line.len() && is_separator(line[start]) {
        start += 1;
    }
    if start >= line.len() {
        return None;
    }
    if line[start] == b'[' {
        if let Some(close) = matching_bracket(line, start) {
            let mut end = close + 1;
            while end < line.len() && !is_separator(line[end]) {
                end += 1;
            }
            return Some((start as u32, end as u32));
        }
    }
    let mut end = start;
    while end < line.len() && !is_separator(line[end]) {
        end += 1;
    }
    Some((start as u32, end as u32))
}

fn matching_bracket(line: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let limit = line.len().min(open + BRACKET_SPAN_MAX);
    for (index, &byte) in line.iter().enumerate().take(limit).skip(open) {
        match byte {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

/// What a header column looks like, from its bytes alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Shape {
    /// `148`, `-0`
    Number,
    /// Digits with separators: `03-17`, `16:13:38.811`, `2005.06.03`, `17/06/09`, `20171223-22:15:29:606`
    Time,
    /// Letters and digits: `node-246`, `R02-M1-N0-C:J12-U11`, `dn228`
    Id,
    /// A severity word: `INFO`, `warn`, `D`
    Level,
    /// A month or weekday name: `Jun`, `Mon`
    Calendar,
    /// A lone `-`
    Dash,
    /// `[main]`, `[Sun Dec 04 04:47:44 2005]`
    Bracket,
    /// Ends with `:`: `WindowManager:`, `sshd(pam_unix)[19939]:`
    Component,
    /// Letters (and `._-$`): `RAS`, `combo`, `switch_module`
    Word,
    /// Anything else.
    Other,
}

impl Shape {
    /// Columns of these shapes are what headers are made of; a plain word may be a header column
    /// (`RAS`, a host name) or the first word of the message, so it only counts between two of these.
    pub fn is_headerish(self) -> bool {
        !matches!(self, Shape::Word | Shape::Other)
    }
}

pub fn shape(token: &[u8]) -> Shape {
    if token == b"-" {
        return Shape::Dash;
    }
    if token.len() >= 2 && token[0] == b'[' && token.contains(&b']') {
        return Shape::Bracket;
    }
    let trimmed = trim_trailing(token, b",;");
    if trimmed.len() >= 2 && trimmed.ends_with(b":") {
        let inner = &trimmed[..trimmed.len() - 1];
        return match shape(inner) {
            Shape::Number | Shape::Time => Shape::Time,
            // `ERROR:` starts a message with its level; it names no component.
            Shape::Level => Shape::Level,
            _ => Shape::Component,
        };
    }
    // A path (`/items/3`) belongs to a message, never to a header.
    if trimmed.is_empty() || trimmed[0] == b'/' {
        return Shape::Other;
    }
    // One pass over the bytes: counts, and whether every byte fits a time, an id, a word.
    let (mut digits, mut letters) = (0, 0);
    let (mut time_bytes, mut id_bytes, mut word_bytes) = (true, true, true);
    for &byte in trimmed {
        if byte.is_ascii_digit() {
            digits += 1;
            word_bytes = false;
        } else if byte.is_ascii_alphabetic() {
            letters += 1;
            time_bytes &= byte == b'T';
        } else {
            time_bytes &= b"-:/.,_".contains(&byte);
            id_bytes &= b"-:/._@$#".contains(&byte);
            word_bytes &= b"._-$".contains(&byte);
        }
    }
    let signed = matches!(trimmed[0], b'-' | b'+') && trimmed.len() > 1;
    if digits == trimmed.len() || (signed && digits == trimmed.len() - 1) {
        return Shape::Number;
    }
    if digits > 0 && letters == 0 {
        return if time_bytes { Shape::Time } else { Shape::Other };
    }
    if digits > 0 {
        return if id_bytes { Shape::Id } else { Shape::Other };
    }
    if crate::level::level_word(trimmed).is_some() {
        return Shape::Level;
    }
    if is_calendar_word(trimmed) {
        return Shape::Calendar;
    }
    if word_bytes {
        return Shape::Word;
    }
    Shape::Other
}

fn trim_trailing<'a>(token: &'a [u8], bytes: &[u8]) -> &'a [u8] {
    let mut end = token.len();
    while end > 0 && bytes.contains(&token[end - 1]) {
        end -= 1;
    }
    &token[..end]
}

const CALENDAR: [&[u8]; 19] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"sept", b"oct", b"nov", b"dec",
    b"mon", b"tue", b"wed", b"thu", b"fri", b"sat",
];

/// `Jun`, `JUN`, `Sun` (not `jun`: lower-case three-letter words are ordinary words too often).
pub fn is_calendar_word(token: &[u8]) -> bool {
    if !(3..=4).contains(&token.len()) || !token[0].is_ascii_uppercase() {
        return false;
    }
    let mut lower = [0u8; 4];
    for (slot, byte) in lower.iter_mut().zip(token) {
        *slot = byte.to_ascii_lowercase();
    }
    let lower = &lower[..token.len()];
    lower == b"sun" || CALENDAR.contains(&lower)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn tokens(line: &str) -> Vec<&str> {
        let mut spans = Vec::new();
        split_into(line.as_bytes(), 0, &mut spans);
        spans.iter().map(|&(start, end)| &line[start as usize..end as usize]).collect()
    }

    #[test]
    fn splits_on_whitespace_and_pipes() {
        assert_eq!(tokens("  a\tb|c  d \r\n"), ["a", "b", "c", "d"]);
        assert!(tokens("   ").is_empty());
    }

    #[test]
    fn a_bracketed_column_stays_whole() {
        let line = b"[Sun Dec 04 04:47:44 2005] [notice] ok";
        let first = next_column(line, 0).unwrap();
        assert_eq!(&line[first.0 as usize..first.1 as usize], b"[Sun Dec 04 04:47:44 2005]");
        let second = next_column(line, first.1 as usize).unwrap();
        assert_eq!(&line[second.0 as usize..second.1 as usize], b"[notice]");
        let unclosed = b"[abc def";
        assert_eq!(next_column(unclosed, 0), Some((0, 4)));
    }

    #[test]
    fn shapes_of_common_header_columns() {
        let cases: [(&str, Shape); 15] = [
            ("148", Shape::Number),
            ("16:13:38.811", Shape::Time),
            ("2005-06-03-15.42.50.675872", Shape::Time),
            ("04:30:30,", Shape::Time),
            ("R02-M1-N0-C:J12-U11", Shape::Id),
            ("INFO", Shape::Level),
            ("D", Shape::Level),
            ("Jun", Shape::Calendar),
            ("-", Shape::Dash),
            ("[main]", Shape::Bracket),
            ("sshd(pam_unix)[19939]:", Shape::Component),
            ("combo", Shape::Word),
            ("ambient=30", Shape::Other),
            ("jun", Shape::Word),
            ("ERROR:", Shape::Level),
        ];
        for (token, expected) in cases {
            assert_eq!(shape(token.as_bytes()), expected, "{token}");
        }
    }
}
