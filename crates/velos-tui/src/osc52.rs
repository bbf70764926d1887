//! Copying to the clipboard of the terminal the operator sits at (OSC 52): works over ssh and inside
//! tmux (with `set-clipboard on`), where no local clipboard tool could.
use base64::Engine;

/// Terminals cap OSC 52 payloads (xterm: 100 000 bytes); a log line longer than this is cut.
pub const PAYLOAD_BYTES_MAX: usize = 64 * 1024;

/// The escape sequence that sets the clipboard to `text`.
pub fn sequence(text: &str) -> String {
    let mut end = text.len().min(PAYLOAD_BYTES_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&text.as_bytes()[..end]);
    format!("\u{1b}]52;c;{encoded}\u{7}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_base64_in_an_osc_52_sequence() {
        assert_eq!(sequence("hello"), "\u{1b}]52;c;aGVsbG8=\u{7}");
        assert!(sequence(&"é".repeat(PAYLOAD_BYTES_MAX)).len() < PAYLOAD_BYTES_MAX * 2);
    }
}
