//! Smart logs for Velos, algorithmic and pure (no IO, no clock) but for the `files` edge. The daemon-facing layers feed lines in and
//! persist the serializable state; everything here can be printed and tested.
//!
//! - [`header`]: finds the header (time, pid, level, component) of raw lines without settings;
//! - [`miner`]: online template mining over masked tokens;
//! - [`level`]: OpenTelemetry severities from headers, JSON fields, level words and crashes;
//! - [`repeats`]: consecutive and near-consecutive duplicates collapsed with counts;
//! - [`app_log`]: one app's persisted model (counts, rates, anomalies, the last error);
//! - [`summary`]: what an app's log says, cut to a token budget;
//! - [`window`]: the lines a summary covers (since the last apply or restart, or as asked);
//! - [`view`]: records, filters and the merge of streams that `velos logs` shows;
//! - [`files`]: the IO edge: an app's log files, read from the end or incrementally into a saved model.
pub mod app_log;
pub mod budget;
pub mod file_line;
mod file_miner;
pub mod files;
pub mod header;
pub mod intern;
pub mod level;
pub mod mask;
pub mod miner;
pub mod rate;
pub mod reader;
pub mod repeats;
pub mod summary;
pub mod time;
pub mod token;
pub mod view;
pub mod window;

pub use app_log::{AppLog, EpochCause, LineFacts, Stream};
pub use file_miner::{FileMiner, MinedTemplate};
pub use summary::{Format, Request, Summary, SummaryError};

pub use header::HeaderModel;
pub use level::Severity;
pub use miner::{Miner, Params, TemplateId};

/// Mines a whole file's lines at once. Returns the miner and each line's final template id.
pub fn mine_lines(lines: &[&[u8]]) -> (Miner, Vec<TemplateId>) {
    mine_lines_with(Params::default(), lines)
}

/// `mine_lines` with other knobs (the accuracy test measures how a choice carries over between systems).
pub fn mine_lines_with(params: Params, lines: &[&[u8]]) -> (Miner, Vec<TemplateId>) {
    let mut file = FileMiner::new(params, true);
    for line in lines {
        file.push(line);
    }
    let (_, labels, miner) = file.finish();
    (miner, labels.unwrap_or_default())
}
