//! Mining a whole file at once, for `velos logs mine`.
use crate::header::{self, HeaderModel};
use crate::miner::{Miner, Params, TemplateId};

/// Mines a whole file (what `velos logs mine` does): buffers the first lines until the header is learned,
/// then mines every line's message. With `labels`, remembers each line's template (4 bytes a line) so
/// that the final ids, after every merge, can be given per line.
#[derive(Debug, Default)]
pub struct FileMiner {
    miner: Miner,
    header: Option<HeaderModel>,
    pending: Vec<Vec<u8>>,
    labels: Option<Vec<TemplateId>>,
    counts: std::collections::BTreeMap<TemplateId, (u64, String)>,
    lines: u64,
}

/// A mined template, for `velos logs mine --json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MinedTemplate {
    pub template_id: String,
    pub count: u64,
    pub template: String,
    pub example: String,
}

impl FileMiner {
    pub fn new(params: Params, labels: bool) -> FileMiner {
        FileMiner { miner: Miner::with_params(params), labels: labels.then(Vec::new), ..FileMiner::default() }
    }

    pub fn push(&mut self, line: &[u8]) {
        if self.header.is_some() {
            self.mine(line);
            return;
        }
        self.pending.push(line.to_vec());
        if self.pending.len() >= header::SAMPLE_LINES {
            self.learn();
        }
    }

    fn learn(&mut self) {
        self.header = Some(HeaderModel::learn(self.pending.iter().map(Vec::as_slice)));
        for line in std::mem::take(&mut self.pending) {
            self.mine(&line);
        }
    }

    fn mine(&mut self, line: &[u8]) {
        let start = self.header.as_ref().map_or(0, |header| header.split(line).content_start);
        let id = self.miner.add(&line[start..]);
        self.lines += 1;
        if let Some(labels) = self.labels.as_mut() {
            labels.push(id);
        }
        let entry = self.counts.entry(id).or_insert_with(|| (0, String::new()));
        if entry.0 == 0 {
            let message = &line[start..line.len().min(start + 240)];
            let text = String::from_utf8_lossy(message);
            entry.1 = text.trim().chars().map(|c| if c.is_control() { '?' } else { c }).collect();
        }
        entry.0 += 1;
    }

    /// Finishes: the templates by count (most first), and each line's final template id if asked.
    pub fn finish(mut self) -> (Vec<MinedTemplate>, Option<Vec<TemplateId>>, Miner) {
        if self.header.is_none() {
            self.learn();
        }
        let mut merged: std::collections::BTreeMap<TemplateId, (u64, String)> = Default::default();
        for (id, (count, example)) in std::mem::take(&mut self.counts) {
            let entry = merged.entry(self.miner.find(id)).or_insert_with(|| (0, example));
            entry.0 += count;
        }
        let mut templates: Vec<MinedTemplate> = merged
            .into_iter()
            .map(|(id, (count, example))| MinedTemplate {
                template_id: format!("t{id}"),
                count,
                template: self.miner.render(id),
                example,
            })
            .collect();
        templates.sort_by_key(|template| std::cmp::Reverse(template.count));
        let labels =
            self.labels.take().map(|labels| labels.into_iter().map(|id| self.miner.find(id)).collect());
        (templates, labels, self.miner)
    }
}
