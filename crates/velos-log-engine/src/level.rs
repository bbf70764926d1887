//! Severity of a line, mapped to the OpenTelemetry log data model (SeverityNumber 1-24, SeverityText).
//! Sources, first match wins: the header's level column; a JSON `level`/`severity` field (words, or
//! pino/bunyan numbers); a leading level token in the message (`ERROR:`, `[warn]`, `level=error`); panics,
//! tracebacks and stack-trace lines. Nothing else: stderr is not an error by itself.
use serde::{Deserialize, Serialize};

/// The six OpenTelemetry severity ranges; each maps to the first number of its range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    #[default]
    Unspecified,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Severity {
    pub const ALL: [Severity; 7] = [
        Severity::Unspecified,
        Severity::Trace,
        Severity::Debug,
        Severity::Info,
        Severity::Warn,
        Severity::Error,
        Severity::Fatal,
    ];

    /// OpenTelemetry SeverityNumber.
    pub fn number(self) -> u8 {
        match self {
            Severity::Unspecified => 0,
            Severity::Trace => 1,
            Severity::Debug => 5,
            Severity::Info => 9,
            Severity::Warn => 13,
            Severity::Error => 17,
            Severity::Fatal => 21,
        }
    }

    /// OpenTelemetry SeverityText (the short names of the data model).
    pub fn text(self) -> &'static str {
        match self {
            Severity::Unspecified => "UNSPECIFIED",
            Severity::Trace => "TRACE",
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        }
    }

    /// Parses `error`, `warn`, `e`, `17`, … as given to `--level`.
    pub fn parse(text: &str) -> Option<Severity> {
        if let Ok(number) = text.parse::<u8>() {
            return Some(from_number(number));
        }
        level_word(text.as_bytes())
            .or_else(|| Severity::ALL.into_iter().find(|severity| severity.text().eq_ignore_ascii_case(text)))
    }

    pub fn is_error(self) -> bool {
        self >= Severity::Error
    }
}

fn from_number(number: u8) -> Severity {
    match number {
        0 => Severity::Unspecified,
        1..=4 => Severity::Trace,
        5..=8 => Severity::Debug,
        9..=12 => Severity::Info,
        13..=16 => Severity::Warn,
        17..=20 => Severity::Error,
        _ => Severity::Fatal,
    }
}

/// A level word, any case: `INFO`, `warning`, `Err`; single upper-case letters as logcat writes them.
pub fn level_word(token: &[u8]) -> Option<Severity> {
    if token.len() == 1 {
        return match token[0] {
            b'V' | b'T' => Some(Severity::Trace),
            b'D' => Some(Severity::Debug),
            b'I' => Some(Severity::Info),
            b'W' => Some(Severity::Warn),
            b'E' => Some(Severity::Error),
            b'F' | b'A' => Some(Severity::Fatal),
            _ => None,
        };
    }
    if token.len() > 11 {
        return None;
    }
    let mut lower = [0u8; 11];
    for (slot, byte) in lower.iter_mut().zip(token) {
        *slot = byte.to_ascii_lowercase();
    }
    match &lower[..token.len()] {
        b"trace" | b"finest" | b"finer" | b"verbose" => Some(Severity::Trace),
        b"debug" | b"dbg" | b"fine" => Some(Severity::Debug),
        b"info" | b"information" | b"notice" | b"inf" => Some(Severity::Info),
        b"warn" | b"warning" | b"wrn" => Some(Severity::Warn),
        b"error" | b"err" | b"severe" => Some(Severity::Error),
        b"fatal" | b"crit" | b"critical" | b"alert" | b"emerg" | b"panic" => Some(Severity::Fatal),
        _ => None,
    }
}

/// The level named by a header column or a message's first token: `INFO`, `[error]`, `<warn>`, `ERROR:`.
pub fn level_token(token: &[u8]) -> Option<Severity> {
    let mut start = 0;
    let mut end = token.len();
    while start < end && matches!(token[start], b'[' | b'<' | b'(') {
        start += 1;
    }
    while end > start && matches!(token[end - 1], b']' | b'>' | b')' | b':' | b',') {
        end -= 1;
    }
    let word = &token[start..end];
    // A bare one-letter word in a message is too often not a level ("I think").
    if word.len() == 1 && start == 0 && end == token.len() && token.len() == 1 {
        return level_word(word);
    }
    if word.len() < 3 {
        return None;
    }
    level_word(word)
}

/// Classifies a line's message (`content`, the line after its header) when the header gave no level.
pub fn classify_message(content: &[u8]) -> Severity {
    let trimmed = trim_start(content);
    if trimmed.first() == Some(&b'{') {
        if let Some(severity) = json_level(trimmed) {
            return severity;
        }
    }
    let first_end = trimmed.iter().position(|byte| byte.is_ascii_whitespace()).unwrap_or(trimmed.len());
    let first = &trimmed[..first_end];
    if first.len() > 1 {
        if let Some(severity) = level_token(first) {
            return severity;
        }
    }
    scan_markers(trimmed).unwrap_or(Severity::Unspecified)
}

/// Markers looked for anywhere in a message, and what they mean. One pass over the message checks each
/// position against the markers that start with its byte (a message is scanned once, not once a marker).
const MARKERS: [(&[u8], Marker); 10] = [
    (b"level=", Marker::LevelKey),
    (b"panicked at", Marker::Is(Severity::Fatal)),
    (b"panic: ", Marker::Is(Severity::Fatal)),
    (b"fatal error:", Marker::Is(Severity::Fatal)),
    (b"Segmentation fault", Marker::Is(Severity::Fatal)),
    (b"core dumped", Marker::Is(Severity::Fatal)),
    (b"Traceback (most recent call last)", Marker::Is(Severity::Error)),
    (b"Exception in thread", Marker::Is(Severity::Error)),
    (b"Unhandled exception", Marker::Is(Severity::Error)),
    (b"Uncaught ", Marker::Is(Severity::Error)),
];

#[derive(Clone, Copy)]
enum Marker {
    /// `level=debug` (logfmt), at the start or after a space.
    LevelKey,
    Is(Severity),
}

/// `level=…`, panics, uncaught exceptions and the stack-trace lines that follow them. The most severe
/// crash marker wins; a `level=` key wins over crash markers.
fn scan_markers(message: &[u8]) -> Option<Severity> {
    let mut found: Option<Severity> = None;
    for (index, &byte) in message.iter().enumerate() {
        if !matches!(byte, b'l' | b'p' | b'f' | b'S' | b'c' | b'T' | b'E' | b'U') {
            continue;
        }
        for (marker, meaning) in MARKERS {
            if marker[0] != byte || !message[index..].starts_with(marker) {
                continue;
            }
            match meaning {
                Marker::LevelKey if index == 0 || message[index - 1].is_ascii_whitespace() => {
                    let rest = &message[index + marker.len()..];
                    let end = rest.iter().position(u8::is_ascii_whitespace).unwrap_or(rest.len());
                    let value = rest[..end].strip_prefix(b"\"").unwrap_or(&rest[..end]);
                    if let Some(severity) = level_token(value) {
                        return Some(severity);
                    }
                }
                Marker::LevelKey => {}
                Marker::Is(severity) => found = found.max(Some(severity)),
            }
        }
    }
    found.or_else(|| stack_line(message))
}

fn stack_line(message: &[u8]) -> Option<Severity> {
    // `at foo.Bar(Bar.java:12)`, `at Object.<anonymous> (/app/x.js:1:2)`, `File "x.py", line 3, in f`.
    let stack_line = (message.starts_with(b"at ") && message.contains(&b'('))
        || (message.starts_with(b"File \"") && contains(message, b"\", line "));
    stack_line.then_some(Severity::Error)
}

/// `"level":"warn"`, `"level":40` (pino/bunyan), `"severity":"ERROR"`, `"lvl":…`: a scan, not a parse,
/// so a JSON line costs no allocation.
fn json_level(line: &[u8]) -> Option<Severity> {
    for key in [&b"\"level\""[..], b"\"severity\"", b"\"lvl\"", b"\"loglevel\""] {
        let Some(at) = find(line, key) else { continue };
        let mut rest = trim_start(&line[at + key.len()..]);
        rest = trim_start(rest.strip_prefix(b":")?);
        if let Some(quoted) = rest.strip_prefix(b"\"") {
            let end = quoted.iter().position(|&byte| byte == b'"')?;
            return level_word(&quoted[..end]);
        }
        let end = rest.iter().position(|byte| !byte.is_ascii_digit()).unwrap_or(rest.len());
        // pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
        let number: u32 = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
        return Some(match number {
            0..=19 => Severity::Trace,
            20..=29 => Severity::Debug,
            30..=39 => Severity::Info,
            40..=49 => Severity::Warn,
            50..=59 => Severity::Error,
            _ => Severity::Fatal,
        });
    }
    None
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otel_numbers_and_texts() {
        assert_eq!((Severity::Warn.number(), Severity::Warn.text()), (13, "WARN"));
        assert_eq!(Severity::parse("error"), Some(Severity::Error));
        assert_eq!(Severity::parse("WARNING"), Some(Severity::Warn));
        assert_eq!(Severity::parse("18"), Some(Severity::Error));
        assert_eq!(Severity::parse("loud"), None);
    }

    #[test]
    fn messages_are_classified_from_their_own_words() {
        let cases: [(&str, Severity); 10] = [
            (r#"{"level":50,"msg":"db down"}"#, Severity::Error),
            (r#"{"time":1,"level":"warn","msg":"slow"}"#, Severity::Warn),
            ("ERROR: could not connect", Severity::Error),
            ("[warn] disk almost full", Severity::Warn),
            ("ts=1 level=debug msg=tick", Severity::Debug),
            ("thread 'main' panicked at src/main.rs:3:5:", Severity::Fatal),
            ("Traceback (most recent call last):", Severity::Error),
            ("    at Object.<anonymous> (/app/index.js:1:7)", Severity::Error),
            ("Serving HTTP on 0.0.0.0 port 8000", Severity::Unspecified),
            ("I think so", Severity::Unspecified),
        ];
        for (line, expected) in cases {
            assert_eq!(classify_message(line.as_bytes()), expected, "{line}");
        }
    }
}
