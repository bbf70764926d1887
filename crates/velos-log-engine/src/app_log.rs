//! One app's log model, fed line by line from both streams and persisted between runs: the learned
//! headers, the template miner, counts per template and level, rates, anomalies seen and the last error
//! with its context. Time is whatever the caller says a line's time is (no clock here).
use crate::header::{HeaderModel, SAMPLE_LINES};
use crate::level::{classify_message, level_token, Severity};
use crate::miner::{Miner, TemplateId};
use crate::rate::{Rate, Spike};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Characters of a line kept as a template's example or an error's context.
pub const EXAMPLE_CHARS_MAX: usize = 240;
/// Lines kept before and after the last error.
pub const CONTEXT_LINES: usize = 3;
/// Anomalies kept (the newest).
pub const ANOMALIES_MAX: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Out,
    Err,
}

/// What the last epoch was: an apply of the app's project or a restart of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochCause {
    Apply,
    Restart,
}

/// What the engine made of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFacts {
    pub template_id: TemplateId,
    pub severity: Severity,
    /// Where the message starts, after the header.
    pub message_start: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TemplateStats {
    pub count: u64,
    /// Lines since the last apply or restart (`mark_epoch`).
    pub count_since_epoch: u64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// The highest severity a line of this template had.
    pub severity: Severity,
    /// The first line seen, cut to `EXAMPLE_CHARS_MAX`.
    pub example: String,
    pub rate: Rate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anomaly {
    /// A template logged far more in one minute than it usually does.
    RateSpike { template_id: TemplateId, spike: Spike },
    /// Errors per minute far above their usual level.
    ErrorSpike { spike: Spike },
}

/// The last error and the lines around it (messages, cut to `EXAMPLE_CHARS_MAX`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LastError {
    pub at_ms: i64,
    pub template_id: TemplateId,
    pub line: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct HeaderState {
    model: HeaderModel,
    /// Sample lines until `SAMPLE_LINES` have been seen; then the model is frozen.
    samples: Vec<Vec<u8>>,
    frozen: bool,
    /// The first lines of the stream, held until `WARMUP_LINES` have come (or `settle`), so that no line is
    /// mined with a header learned from one or two lines.
    #[serde(default)]
    pending: Vec<(Vec<u8>, i64)>,
}

/// Lines a stream's header is learned from before its first line is mined.
pub const WARMUP_LINES: usize = 32;

impl HeaderState {
    const SAMPLE_BYTES_MAX: usize = 512;

    /// Samples a line; re-learns at `WARMUP_LINES`, then at each power of two up to `SAMPLE_LINES`.
    fn observe(&mut self, line: &[u8]) {
        if self.frozen {
            return;
        }
        self.samples.push(line[..line.len().min(Self::SAMPLE_BYTES_MAX)].to_vec());
        let seen = self.samples.len();
        if seen == WARMUP_LINES || (seen > WARMUP_LINES && seen.is_power_of_two()) || seen >= SAMPLE_LINES {
            self.learn();
        }
        if seen >= SAMPLE_LINES {
            self.frozen = true;
            self.samples = Vec::new();
        }
    }

    fn learn(&mut self) {
        self.model = HeaderModel::learn(self.samples.iter().map(Vec::as_slice));
    }

    fn warmed_up(&self) -> bool {
        self.frozen || self.samples.len() >= WARMUP_LINES
    }
}

/// The model of one app's log. Serialize it to persist; `Default` to start.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppLog {
    miner: Miner,
    headers: [HeaderState; 2],
    stats: BTreeMap<TemplateId, TemplateStats>,
    levels: [u64; 7],
    levels_since_epoch: [u64; 7],
    pub lines: u64,
    pub bytes: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// The last apply or restart, and how many lines came before it.
    pub epoch_ms: Option<i64>,
    /// What `epoch_ms` was (a model saved before this was kept says nothing: a restart).
    #[serde(default)]
    pub epoch_cause: Option<EpochCause>,
    pub lines_before_epoch: u64,
    errors: Rate,
    anomalies: VecDeque<Anomaly>,
    last_error: Option<LastError>,
    /// The last few messages, for the context of the next error: buffers reused line after line, so the
    /// hot path does not allocate. Not persisted (a resumed model starts without context).
    #[serde(skip)]
    recent: VecDeque<Vec<u8>>,
}

impl AppLog {
    /// Feeds one line (without its newline) of `stream`, logged at `ts_ms`. A stream's first lines are
    /// held until its header is learned (`WARMUP_LINES`, or `settle`): their facts are None.
    pub fn ingest(&mut self, line: &[u8], stream: Stream, ts_ms: i64) -> Option<LineFacts> {
        let header = &mut self.headers[stream as usize];
        let warm = header.warmed_up();
        header.observe(line);
        if !warm {
            header.pending.push((line.to_vec(), ts_ms));
            if header.warmed_up() {
                self.settle_stream(stream);
            }
            return None;
        }
        Some(self.mine(line, stream, ts_ms))
    }

    /// Mines the lines held while headers were learned, with a header learned from what there is.
    pub fn settle(&mut self) {
        for stream in [Stream::Out, Stream::Err] {
            self.settle_stream(stream);
        }
    }

    /// Whether lines are held (a summary of this model settles a copy first).
    pub fn unsettled(&self) -> bool {
        self.headers.iter().any(|header| !header.pending.is_empty())
    }

    fn settle_stream(&mut self, stream: Stream) {
        let header = &mut self.headers[stream as usize];
        if header.pending.is_empty() {
            return;
        }
        header.learn();
        for (line, ts_ms) in std::mem::take(&mut header.pending) {
            self.mine(&line, stream, ts_ms);
        }
    }

    fn mine(&mut self, line: &[u8], stream: Stream, ts_ms: i64) -> LineFacts {
        let split = self.headers[stream as usize].model.split(line);
        let message = &line[split.content_start..];
        let severity = split
            .level
            .and_then(|(start, end)| level_token(&line[start as usize..end as usize]))
            .unwrap_or_else(|| classify_message(message));
        let template_id = self.miner.add(message);

        self.lines += 1;
        self.bytes += line.len() as u64 + 1;
        self.first_ms.get_or_insert(ts_ms);
        self.last_ms = Some(self.last_ms.map_or(ts_ms, |last| last.max(ts_ms)));
        self.levels[severity as usize] += 1;
        // A line read after the mark but dated before it (read late) belongs before it.
        let since_epoch = self.epoch_ms.is_none_or(|epoch| ts_ms >= epoch);
        if since_epoch {
            self.levels_since_epoch[severity as usize] += 1;
        } else {
            self.lines_before_epoch += 1;
        }

        let stats = self.stats.entry(template_id).or_insert_with(|| TemplateStats {
            first_seen_ms: ts_ms,
            example: clip_bytes(message),
            ..TemplateStats::default()
        });
        stats.count += 1;
        stats.count_since_epoch += u64::from(since_epoch);
        stats.last_seen_ms = ts_ms;
        stats.severity = stats.severity.max(severity);
        if let Some(spike) = stats.rate.add(ts_ms) {
            push_bounded(&mut self.anomalies, Anomaly::RateSpike { template_id, spike });
        }
        if severity.is_error() {
            if let Some(spike) = self.errors.add(ts_ms) {
                push_bounded(&mut self.anomalies, Anomaly::ErrorSpike { spike });
            }
        }
        self.track_context(message, severity, template_id, ts_ms);
        LineFacts { template_id, severity, message_start: split.content_start }
    }

    /// What the model makes of a line without learning from it: its level and, if it fits a known
    /// template, that template's id (for lines shown to a reader, labelled like `--templates`).
    pub fn classify(&self, line: &[u8], stream: Stream) -> (Severity, Option<TemplateId>, usize) {
        let split = self.headers[stream as usize].model.split(line);
        let message = &line[split.content_start..];
        let severity = split
            .level
            .and_then(|(start, end)| level_token(&line[start as usize..end as usize]))
            .unwrap_or_else(|| classify_message(message));
        (severity, self.miner.lookup(message), split.content_start)
    }

    /// Marks an apply or restart at `ts_ms`: counts "since" restart from here, and templates first seen
    /// after it are new.
    pub fn mark_epoch(&mut self, ts_ms: i64, cause: EpochCause) {
        self.epoch_ms = Some(ts_ms);
        self.epoch_cause = Some(cause);
        self.lines_before_epoch = self.lines;
        self.levels_since_epoch = [0; 7];
        for stats in self.stats.values_mut() {
            stats.count_since_epoch = 0;
        }
    }

    pub fn miner(&self) -> &Miner {
        &self.miner
    }

    /// Per-template statistics keyed by the template's current id (merged templates folded together).
    pub fn templates(&self) -> BTreeMap<TemplateId, TemplateStats> {
        let mut merged: BTreeMap<TemplateId, TemplateStats> = BTreeMap::new();
        for (&id, stats) in &self.stats {
            let root = self.miner.find(id);
            match merged.get_mut(&root) {
                None => {
                    merged.insert(root, stats.clone());
                }
                Some(into) => {
                    into.count += stats.count;
                    into.count_since_epoch += stats.count_since_epoch;
                    into.severity = into.severity.max(stats.severity);
                    if stats.first_seen_ms < into.first_seen_ms {
                        into.first_seen_ms = stats.first_seen_ms;
                        into.example.clone_from(&stats.example);
                    }
                    into.last_seen_ms = into.last_seen_ms.max(stats.last_seen_ms);
                }
            }
        }
        merged
    }

    /// Lines per severity, all time or since the last epoch.
    pub fn levels(&self, since_epoch: bool) -> Vec<(Severity, u64)> {
        let counts = if since_epoch { &self.levels_since_epoch } else { &self.levels };
        Severity::ALL.iter().zip(counts).filter(|(_, &n)| n > 0).map(|(&s, &n)| (s, n)).collect()
    }

    /// Anomalies recorded as lines arrived, plus spikes in the minute still open.
    pub fn anomalies(&self) -> Vec<Anomaly> {
        let mut all: Vec<Anomaly> = self.anomalies.iter().cloned().collect();
        for (&template_id, stats) in &self.stats {
            if let Some(spike) = stats.rate.spike() {
                all.push(Anomaly::RateSpike { template_id: self.miner.find(template_id), spike });
            }
        }
        if let Some(spike) = self.errors.spike() {
            all.push(Anomaly::ErrorSpike { spike });
        }
        all
    }

    pub fn usual_errors_per_minute(&self) -> f64 {
        self.errors.usual()
    }

    pub fn last_error(&self) -> Option<&LastError> {
        self.last_error.as_ref()
    }

    /// Rebuilds the template id of the last error after merges.
    pub fn find(&self, id: TemplateId) -> TemplateId {
        self.miner.find(id)
    }

    fn track_context(&mut self, message: &[u8], severity: Severity, template_id: TemplateId, ts_ms: i64) {
        if severity.is_error() {
            let before = self.recent.iter().map(|line| clip_bytes(line)).collect();
            let line = clip_bytes(message);
            self.last_error = Some(LastError { at_ms: ts_ms, template_id, line, before, after: Vec::new() });
            self.recent.clear();
            return;
        }
        if let Some(error) = self.last_error.as_mut().filter(|error| error.after.len() < CONTEXT_LINES) {
            error.after.push(clip_bytes(message));
        }
        let mut buffer = if self.recent.len() == CONTEXT_LINES { self.recent.pop_front() } else { None }
            .unwrap_or_default();
        buffer.clear();
        buffer.extend_from_slice(&message[..message.len().min(EXAMPLE_CHARS_MAX * 4)]);
        self.recent.push_back(buffer);
    }
}

fn push_bounded(anomalies: &mut VecDeque<Anomaly>, anomaly: Anomaly) {
    if anomalies.len() == ANOMALIES_MAX {
        anomalies.pop_front();
    }
    anomalies.push_back(anomaly);
}

/// A message as text for people: invalid UTF-8 replaced, control bytes shown as `?`, cut.
pub(crate) fn clip_bytes(message: &[u8]) -> String {
    let cut = &message[..message.len().min(EXAMPLE_CHARS_MAX * 4)];
    let text = String::from_utf8_lossy(cut);
    let cleaned: String = text.trim().chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    crate::budget::clip(&cleaned, EXAMPLE_CHARS_MAX)
}
