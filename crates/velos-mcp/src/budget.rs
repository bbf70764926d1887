//! Every read tool's output fits a token budget: items are taken while the JSON stays under it, and a
//! cursor says where the next call goes on. Tokens are estimated as a quarter of the JSON's bytes (what
//! common tokenizers give for logs and JSON, rounded to the safe side for English text).
use serde::Serialize;

/// Tokens a read tool answers with when the caller names no budget.
pub const BUDGET_DEFAULT_TOKENS: u32 = 2_000;
/// The smallest budget honoured (less cannot hold one log line and the envelope).
pub const BUDGET_MIN_TOKENS: u32 = 200;
/// The largest budget honoured: a caller cannot ask for a whole 1 GiB log in one answer.
pub const BUDGET_MAX_TOKENS: u32 = 32_000;
/// Bytes per token of the estimate.
pub const BYTES_PER_TOKEN: usize = 4;
/// What the envelope of an answer (keys, flags, cursor, notes) is given before items are counted.
const ENVELOPE_BYTES: usize = 400;

/// A budget in bytes of JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    bytes: usize,
}

impl Budget {
    /// `tokens` clamped to [`BUDGET_MIN_TOKENS`]..=[`BUDGET_MAX_TOKENS`]; `None`: the default.
    pub fn tokens(tokens: Option<u32>) -> Budget {
        let tokens = tokens.unwrap_or(BUDGET_DEFAULT_TOKENS).clamp(BUDGET_MIN_TOKENS, BUDGET_MAX_TOKENS);
        Budget { bytes: tokens as usize * BYTES_PER_TOKEN }
    }

    pub fn bytes(self) -> usize {
        self.bytes
    }

    /// The longest a single text (one log line, one message) may be: an eighth of the budget, so one huge
    /// line cannot take the whole answer.
    pub fn text_chars_max(self) -> usize {
        (self.bytes / 8).max(80)
    }
}

/// The estimated tokens of `value` as JSON.
pub fn estimate_tokens<T: Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len().div_ceil(BYTES_PER_TOKEN))
}

/// A page of items: what fits, and where to go on.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Some items were left out; `next_cursor` fetches them.
    pub truncated: bool,
    pub next_cursor: Option<String>,
}

/// Takes `items[start..]` in order while their JSON fits `budget` (less `reserved` bytes the caller's
/// other fields take). At least one item is taken when any is left, so paging always moves on. The cursor
/// is the index of the first item not taken.
pub fn page_forward<T: Serialize>(items: Vec<T>, start: usize, budget: Budget, reserved: usize) -> Page<T> {
    let room = budget.bytes().saturating_sub(ENVELOPE_BYTES + reserved);
    let mut used = 0;
    let mut taken = Vec::new();
    let total = items.len();
    for item in items.into_iter().skip(start) {
        let size = serde_json::to_vec(&item).map_or(0, |bytes| bytes.len()) + 1;
        if !taken.is_empty() && used + size > room {
            break;
        }
        used += size;
        taken.push(item);
    }
    let next = start + taken.len();
    let truncated = next < total;
    Page { items: taken, truncated, next_cursor: truncated.then(|| encode_cursor(next)) }
}

/// Takes the newest items of `items` (oldest first) that fit, ending before index `end` (`None`: the end);
/// the cursor goes on to older items. Returned oldest first.
pub fn page_backward<T: Serialize>(
    items: Vec<T>,
    end: Option<usize>,
    budget: Budget,
    reserved: usize,
) -> Page<T> {
    let room = budget.bytes().saturating_sub(ENVELOPE_BYTES + reserved);
    let end = end.unwrap_or(items.len()).min(items.len());
    let mut used = 0;
    let mut first = end;
    while first > 0 {
        let size = serde_json::to_vec(&items[first - 1]).map_or(0, |bytes| bytes.len()) + 1;
        if first < end && used + size > room {
            break;
        }
        used += size;
        first -= 1;
    }
    let truncated = first > 0;
    let taken: Vec<T> = items.into_iter().skip(first).take(end - first).collect();
    Page { items: taken, truncated, next_cursor: truncated.then(|| encode_cursor(first)) }
}

/// Cursors are opaque to clients: `c` and a number.
pub fn encode_cursor(position: usize) -> String {
    format!("c{position}")
}

/// The position a cursor names; a cursor this server did not give is an error the agent can act on.
pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<usize>, String> {
    let Some(cursor) = cursor.filter(|cursor| !cursor.is_empty()) else { return Ok(None) };
    cursor.strip_prefix('c').and_then(|number| number.parse().ok()).map(Some).ok_or_else(|| {
        format!("`{cursor}` is not a cursor this server gave; omit it to start from the beginning")
    })
}

/// `text` cut to `max` characters, with how many were cut: `…[+123 chars]`.
pub fn clip(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}…[+{} chars]", count - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_clamped() {
        assert_eq!(Budget::tokens(None).bytes(), 8_000);
        assert_eq!(Budget::tokens(Some(1)).bytes(), 800);
        assert_eq!(Budget::tokens(Some(u32::MAX)).bytes(), 128_000);
    }

    #[test]
    fn forward_pages_cover_every_item_once_within_the_budget() {
        let items: Vec<String> =
            (0..1000).map(|index| format!("line {index:04} {}", "x".repeat(40))).collect();
        let budget = Budget::tokens(Some(500));
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let start = decode_cursor(cursor.as_deref()).ok().flatten().unwrap_or(0);
            let page = page_forward(items.clone(), start, budget, 0);
            assert!(estimate_tokens(&page.items) <= 500, "{}", estimate_tokens(&page.items));
            seen.extend(page.items);
            if !page.truncated {
                break;
            }
            cursor = page.next_cursor;
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn backward_pages_start_with_the_newest() {
        let items: Vec<u32> = (0..10_000).collect();
        let page = page_backward(items.clone(), None, Budget::tokens(Some(200)), 0);
        assert_eq!(page.items.last(), Some(&9_999));
        assert!(page.truncated);
        let first = page.items[0] as usize;
        assert_eq!(page.next_cursor, Some(encode_cursor(first)));
        let older = page_backward(items, Some(first), Budget::tokens(Some(200)), 0);
        assert_eq!(older.items.last().map(|last| *last as usize), Some(first - 1));
    }

    #[test]
    fn one_item_is_taken_even_when_it_alone_is_too_big() {
        let page = page_forward(vec!["y".repeat(100_000)], 0, Budget::tokens(None), 0);
        assert_eq!(page.items.len(), 1);
        assert!(!page.truncated);
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(decode_cursor(Some(&encode_cursor(42))), Ok(Some(42)));
        assert_eq!(decode_cursor(None), Ok(None));
        assert!(decode_cursor(Some("42")).is_err());
        assert_eq!(clip("abcdef", 3), "abc…[+3 chars]");
        assert_eq!(clip("abc", 3), "abc");
    }
}
