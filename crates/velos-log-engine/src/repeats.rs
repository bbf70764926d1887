//! Collapsing repeats: a line equal to one of the last few distinct lines (its message, so timestamps in
//! the header do not make repeats look different) is counted there instead of shown again. `A A A B A`
//! reads `A ×4, B`; a flood of one line in the middle of others costs one row.
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

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
