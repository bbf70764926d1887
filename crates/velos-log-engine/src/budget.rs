//! Token estimates for output sized to a budget. Language-model tokenizers cut words into pieces of a
//! few letters, numbers into groups of up to three digits, and give most punctuation a token of its own;
//! log text is dense in numbers and punctuation, so `chars / 4` alone under-counts it. We take the larger
//! of that and a count by those rules, so an output we call "400 tokens" is not more.

/// An upper-leaning estimate of how many tokens `text` costs.
pub fn estimate_tokens(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut tokens = 0;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let start = index;
        if byte.is_ascii_alphabetic() {
            while index < bytes.len() && bytes[index].is_ascii_alphabetic() {
                index += 1;
            }
            tokens += (index - start).div_ceil(6);
        } else if byte.is_ascii_digit() {
            while index < bytes.len() && bytes[index].is_ascii_digit() {
                index += 1;
            }
            tokens += (index - start).div_ceil(3);
        } else if byte == b' ' {
            // A space is folded into the word after it.
            index += 1;
        } else {
            tokens += 1;
            index += 1;
        }
    }
    tokens.max(text.chars().count().div_ceil(4))
}

/// `text` cut to at most `chars` characters, with `…` when cut (on a character boundary).
pub fn clip(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(chars.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_are_at_least_a_quarter_of_the_characters() {
        assert_eq!(estimate_tokens(""), 0);
        assert!(estimate_tokens("hello world") >= 3);
        let log = "2024-01-02 10:11:12,345 ERROR [main] db: timeout after 30000 ms (attempt 3/5)";
        assert!(estimate_tokens(log) > log.len() / 4, "punctuation-heavy text costs more than chars/4");
    }

    #[test]
    fn clip_cuts_on_characters() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("héllo wörld", 5), "héll…");
    }
}
