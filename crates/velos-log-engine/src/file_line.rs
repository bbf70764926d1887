//! One line of an app's log file, as the daemon wrote it: the app's own bytes (the body) and the time the
//! daemon read them. Two forms, recognised line by line so a file whose format was switched in place reads
//! whole:
//! - text: the body as written, after the `log.timestamps` prefix (`2026-11-23T22:20:55.123Z `) if any;
//! - `log.format = "json"`: `{"ts":"2026-11-23T22:20:55.123Z","stream":"out","body":"..."}`, exactly the
//!   shape the daemon writes (zig/src/log_json.zig), its body unescaped. A line cut by a reader's 64 KiB
//!   limit has no closing `"}`: its body is read up to the cut. Anything else that starts with `{` (an
//!   app's own JSON logs, in a text file) is a text line.
use crate::time::parse_utc_prefix;
use std::borrow::Cow;

/// Room a reader leaves above its line limit for the daemon's framing (the 25-byte time prefix, or the
/// 58 bytes of a JSON line's keys and time), so the limit applies to what the app wrote.
pub const FRAMING_BYTES: usize = 64;

/// A log file line split into its time and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLine<'a> {
    /// When the daemon read the line (ms since the Unix epoch), if the file says.
    pub ts_ms: Option<i64>,
    /// What the app wrote, without the daemon's prefix or JSON framing.
    pub body: Cow<'a, [u8]>,
    /// Bytes of the file line that are not the body (prefix, framing, escapes): a cut line's full length
    /// less this is about what the app wrote.
    pub overhead: usize,
}

/// `line` (without its newline) split into time and body; never fails (a line of neither known shape is
/// all body).
pub fn split_line(line: &[u8]) -> FileLine<'_> {
    if let Some(json) = parse_json_line(line) {
        return json;
    }
    match parse_utc_prefix(line) {
        Some((ts, prefix)) => {
            FileLine { ts_ms: Some(ts), body: Cow::Borrowed(&line[prefix..]), overhead: prefix }
        }
        None => FileLine { ts_ms: None, body: Cow::Borrowed(line), overhead: 0 },
    }
}

/// A line of the daemon's JSON form, or None.
fn parse_json_line(line: &[u8]) -> Option<FileLine<'_>> {
    let mut rest = line.strip_prefix(b"{")?;
    let mut ts_ms = None;
    if let Some(after) = rest.strip_prefix(b"\"ts\":\"") {
        let (ts, length) = parse_utc_prefix(after)?;
        // The prefix parser takes a following space too; a JSON ts has a quote there.
        let after = after.get(length..)?.strip_prefix(b"\",")?;
        ts_ms = Some(ts);
        rest = after;
    }
    rest = rest.strip_prefix(b"\"stream\":\"")?;
    rest = rest.strip_prefix(b"out").or_else(|| rest.strip_prefix(b"err"))?;
    let escaped = rest.strip_prefix(b"\",\"body\":\"")?;
    let (body, closed) = unescape(escaped)?;
    if closed.is_some_and(|tail| tail != b"}") {
        return None;
    }
    let overhead = line.len() - body.len();
    Some(FileLine { ts_ms, body: Cow::Owned(body), overhead })
}

/// The JSON string body at the start of `text` (its opening quote already read), unescaped, and what
/// follows its closing quote (None when the text ends first: a cut line). None when it is not JSON.
fn unescape(text: &[u8]) -> Option<(Vec<u8>, Option<&[u8]>)> {
    let mut out = Vec::with_capacity(text.len());
    let mut index = 0;
    while index < text.len() {
        let byte = text[index];
        match byte {
            b'"' => return Some((out, Some(&text[index + 1..]))),
            b'\\' => {
                let Some(&escape) = text.get(index + 1) else { break }; // cut inside an escape
                index += 2;
                let simple = match escape {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'u' => {
                        let Some(unit) = hex4(text, index) else {
                            if text.len() < index + 4 {
                                break; // cut inside the escape
                            }
                            return None;
                        };
                        index += 4;
                        let code = if (0xd800..0xdc00).contains(&unit) {
                            // A surrogate pair; a lone half is replaced, as a JSON decoder would.
                            match (text.get(index..index + 2), hex4(text, index + 2)) {
                                (Some(b"\\u"), Some(low)) if (0xdc00..0xe000).contains(&low) => {
                                    index += 6;
                                    0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                                }
                                _ => 0xfffd,
                            }
                        } else {
                            unit
                        };
                        let character = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                        out.extend_from_slice(character.encode_utf8(&mut [0; 4]).as_bytes());
                        continue;
                    }
                    _ => return None,
                };
                out.push(simple);
                continue;
            }
            0x00..=0x1f => return None,
            _ => out.push(byte),
        }
        index += 1;
    }
    Some((out, None))
}

fn hex4(text: &[u8], at: usize) -> Option<u32> {
    let digits = text.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |value, &digit| Some(value * 16 + (digit as char).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(line: &[u8]) -> (Option<i64>, String) {
        let split = split_line(line);
        (split.ts_ms, String::from_utf8_lossy(&split.body).into_owned())
    }

    #[test]
    fn the_daemons_json_lines_give_their_time_and_unescaped_body() {
        let line = br#"{"ts":"2026-11-30T10:41:02.345Z","stream":"err","body":"say \"hi\"\u0009to C:\\dir \u00e9\ud83d\ude00 \ufffd"}"#;
        assert_eq!(body(line), (Some(1_796_035_262_345), "say \"hi\"\tto C:\\dir é😀 \u{fffd}".to_string()));
        let empty = br#"{"ts":"2026-11-30T10:41:02.345Z","stream":"out","body":""}"#;
        assert_eq!(body(empty), (Some(1_796_035_262_345), String::new()));
        assert_eq!(split_line(empty).overhead, empty.len());
        assert_eq!(body(br#"{"stream":"out","body":"no time"}"#), (None, "no time".to_string()));
    }

    #[test]
    fn a_json_line_cut_by_the_limit_reads_up_to_the_cut() {
        assert_eq!(body(br#"{"ts":"2026-11-30T10:41:02.345Z","stream":"out","body":"abc\"de"#).1, "abc\"de");
        assert_eq!(body(br#"{"stream":"out","body":"abc\u00"#).1, "abc", "cut inside an escape");
        assert_eq!(body(br#"{"stream":"out","body":"abc\"#).1, "abc");
    }

    #[test]
    fn other_lines_are_text_with_or_without_the_time_prefix() {
        // An app's own JSON in a text file stays as written.
        let own = br#"{"level":"info","msg":"up"}"#;
        assert_eq!(body(own), (None, String::from_utf8_lossy(own).into_owned()));
        let prefixed = b"2026-11-30T10:41:02.345Z {\"stream\":\"out\",\"body\":\"x\"}";
        assert_eq!(
            body(prefixed),
            (Some(1_796_035_262_345), "{\"stream\":\"out\",\"body\":\"x\"}".to_string())
        );
        // Near misses of the daemon's shape: a bad escape, a raw control byte, text after the object.
        for line in [
            &br#"{"stream":"out","body":"a\x"}"#[..],
            b"{\"stream\":\"out\",\"body\":\"a\tb\"}",
            br#"{"stream":"out","body":"a"} trailing"#,
            br#"{"stream":"in","body":"a"}"#,
        ] {
            assert_eq!(body(line), (None, String::from_utf8_lossy(line).into_owned()));
        }
        assert_eq!(body(b"plain"), (None, "plain".to_string()));
    }
}
