//! Collapsing repeats: a line equal to one of the last few distinct lines (its message, so timestamps in
//! the header do not make repeats look different) is counted there instead of shown again. `A A A B A`
//! reads `A ×4, B`; a flood of one line in the middle of others costs one row.
use crate::token::{is_calendar_word, next_column, shape, Shape};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Leading columns looked at for the line's own time.
const TIME_COLUMNS_MAX: usize = 6;

/// `line` without the time it starts with, if it starts with one (`2026-11-30 10:00:00,123`,
/// `Nov 30 10:00:00`, `[10:00:00.123]`), so that two lines that differ only by it are repeats. Only a
/// time, never other header columns: those read from a line alone are guesses (`step 1 done` is no header
/// and a message), and a wrong guess would fold different lines together.
pub fn without_leading_time(line: &[u8]) -> &[u8] {
    let mut from = 0;
    let mut time_end = None;
    for _ in 0..TIME_COLUMNS_MAX {
        let Some((start, end)) = next_column(line, from) else { break };
        let column = &line[start as usize..end as usize];
        if is_time(column) {
            time_end = Some(end as usize);
        } else if !(shape(column) == Shape::Number || is_calendar_word(column)) {
            break;
        }
        from = end as usize;
    }
    match time_end.map(|end| &line[end..]) {
        Some(rest) if !rest.trim_ascii().is_empty() => rest,
        _ => line,
    }
}

/// Digits with time separators, bracketed or not: `10:00:00,123`, `2026-11-30T10:00:00.123Z`.
fn is_time(column: &[u8]) -> bool {
    let inner =
        column.strip_prefix(b"[").and_then(|rest| rest.split(|&byte| byte == b']').next()).unwrap_or(column);
    let digits = inner.iter().filter(|byte| byte.is_ascii_digit()).count();
    digits >= 4
        && inner.iter().any(|&byte| byte == b':' || byte == b'-')
        && inner.iter().all(|&byte| byte.is_ascii_digit() || b"-:/.,TZ+ ".contains(&byte))
}

/// How many distinct recent lines a repeat may reach back to ("near-consecutive").
pub const WINDOW: usize = 8;

/// One collapsed row: the first occurrence and how many times it was seen in a row (or nearly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row<T> {
    pub item: T,
    pub count: u64,
}

/// Collapses a sequence of items keyed by their message bytes.
#[derive(Debug)]
pub struct Collapser<T> {
    rows: Vec<Row<T>>,
    /// Indices into `rows` of the last distinct messages, with the message bytes to compare.
    recent: VecDeque<(Vec<u8>, usize)>,
}

impl<T> Default for Collapser<T> {
    fn default() -> Self {
        Collapser { rows: Vec::new(), recent: VecDeque::with_capacity(WINDOW) }
    }
}

impl<T> Collapser<T> {
    /// Adds one item whose message is `key`; returns true when it was a repeat.
    pub fn push(&mut self, key: &[u8], item: T) -> bool {
        if let Some(&(_, row)) = self.recent.iter().find(|(seen, _)| seen == key) {
            self.rows[row].count += 1;
            return true;
        }
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back((key.to_vec(), self.rows.len()));
        self.rows.push(Row { item, count: 1 });
        false
    }

    pub fn rows(&self) -> &[Row<T>] {
        &self.rows
    }

    pub fn into_rows(self) -> Vec<Row<T>> {
        self.rows
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn collapse(lines: &[&str]) -> Vec<(String, u64)> {
        let mut collapser = Collapser::default();
        for line in lines {
            collapser.push(line.as_bytes(), line.to_string());
        }
        collapser.into_rows().into_iter().map(|row| (row.item, row.count)).collect()
    }

    #[test]
    fn consecutive_and_near_consecutive_repeats_collapse() {
        assert_eq!(
            collapse(&["a", "a", "b", "a", "c", "c"]),
            [("a".to_string(), 3), ("b".to_string(), 1), ("c".to_string(), 2)]
        );
    }

    #[test]
    fn only_a_leading_time_is_left_out_of_the_comparison() {
        let cases: [(&str, &str); 6] = [
            ("2026-11-30 10:00:00,123 INFO pool exhausted", " INFO pool exhausted"),
            ("Nov 30 10:00:00 host sshd: refused", " host sshd: refused"),
            ("[10:00:00.123] tick", " tick"),
            ("step 1 done", "step 1 done"),
            ("42 items left", "42 items left"),
            ("10:00:00", "10:00:00"),
        ];
        for (line, key) in cases {
            assert_eq!(std::str::from_utf8(without_leading_time(line.as_bytes())).unwrap(), key, "{line}");
        }
    }

    #[test]
    fn a_repeat_beyond_the_window_is_a_new_row() {
        let mut lines = vec!["x"];
        let others: Vec<String> = (0..WINDOW).map(|n| format!("other {n}")).collect();
        lines.extend(others.iter().map(String::as_str));
        lines.push("x");
        let rows = collapse(&lines);
        assert_eq!(rows.len(), WINDOW + 2);
        assert!(rows.iter().all(|(_, count)| *count == 1));
    }
}
