//! `logs --summary`, `logs --templates` and `flush`: what an app's logs say, from a model kept under
//! `VELOS_HOME/log-models/` and brought up to date with the bytes written since (velos-log-engine's files
//! edge), and emptying an app's logs. An app's instances share one model.
use super::logs::app_name;
use crate::address::{resolve, Address};
use crate::context::Ops;
use crate::convert::daemon_error;
use crate::error::OpError;
use crate::outcome::{Warning, WarningKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_core::{ProcessRecord, Status};
use velos_log_engine::files::{flush, refresh, summarize, FilesError, Refreshed};
use velos_log_engine::summary::{BUDGET_TOKENS_DEFAULT, BUDGET_TOKENS_MIN};
use velos_log_engine::time::format_utc;
use velos_log_engine::{EpochCause, Format, Request, SummaryError};
use velos_reconcile::history::{read_projects, History, HISTORY_DIR};
use velos_reconcile::labels;

/// How much earlier than computed a restart is placed (clock reads around the listing).
const EPOCH_SLACK_MS: i64 = 250;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogsSummaryRequest {
    /// An app, one instance, or `all` (the budget is shared among the apps).
    pub name: String,
    /// Tokens the summary may cost (default 400, at least 100); enforced.
    #[serde(default = "budget_default")]
    pub budget: u32,
    /// The summary as a JSON object instead of text (the budget applies to it).
    #[serde(default)]
    pub json: bool,
    /// The window's start (ms since the Unix epoch); with neither bound, the window starts at the last
    /// apply of the app's project or its last restart, whichever is later.
    #[serde(default)]
    pub since_ms: Option<i64>,
    /// The window's end (ms since the Unix epoch; default now).
    #[serde(default)]
    pub until_ms: Option<i64>,
}

/// Tokens a summary costs when the caller names no budget (every face uses this one).
pub const LOG_SUMMARY_BUDGET_TOKENS_DEFAULT: u32 = BUDGET_TOKENS_DEFAULT as u32;

fn budget_default() -> u32 {
    LOG_SUMMARY_BUDGET_TOKENS_DEFAULT
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogsSummaryOutcome {
    pub summaries: Vec<AppSummary>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppSummary {
    pub app: String,
    /// The text summary (when text was asked).
    pub text: Option<String>,
    /// The summary object (when JSON was asked): levels, top_templates, new_templates, anomalies,
    /// last_error, omitted, tokens.
    pub summary: Option<serde_json::Value>,
    /// Bytes of log read to bring the model up to date.
    pub bytes_read: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogsTemplatesRequest {
    /// An app or one instance.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogsTemplatesOutcome {
    pub app: String,
    /// Most frequent first.
    pub templates: Vec<TemplateInfo>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateInfo {
    pub template_id: String,
    pub count: u64,
    pub severity_text: String,
    pub template: String,
    pub example: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlushRequest {
    /// An app, one instance, or `all` (default).
    #[serde(default = "all")]
    pub name: String,
}

fn all() -> String {
    crate::address::ALL.to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlushOutcome {
    /// The instances whose logs were emptied.
    pub instances: Vec<String>,
    /// Files emptied or deleted, and the bytes they held.
    pub files: u64,
    pub bytes: u64,
}

impl Ops {
    /// What the addressed apps' logs say, sized to the budget.
    pub fn logs_summary(&self, request: LogsSummaryRequest) -> Result<LogsSummaryOutcome, OpError> {
        let listed_ms = self.clock().unix_ms() as i64;
        let live = self.live()?;
        let groups = app_groups(&resolve(&request.name, &live)?, &live);
        let budget = request.budget as usize / groups.len().max(1);
        if budget < BUDGET_TOKENS_MIN {
            return Err(OpError::invalid(format!(
                "a budget of {} tokens is too small for {} apps (at least {BUDGET_TOKENS_MIN} each)",
                request.budget,
                groups.len()
            ))
            .hint(format!(
                "give --budget {} or more, or summarize one app",
                BUDGET_TOKENS_MIN * groups.len()
            )));
        }
        let now_ms = listed_ms;
        let format = if request.json { Format::Json } else { Format::Text };
        let mut outcome = LogsSummaryOutcome { summaries: Vec::new(), warnings: Vec::new() };
        for (app, instances) in &groups {
            let refreshed = self.refreshed(app, instances, &live, listed_ms, &mut outcome.warnings)?;
            let summary_request = Request { app: app.clone(), budget_tokens: budget, now_ms };
            let names: Vec<&str> = instances.iter().map(String::as_str).collect();
            let asked = (request.since_ms, request.until_ms);
            let (_, rendered) =
                summarize(&self.home().logs_dir(), &names, &refreshed, asked, &summary_request, format)
                    .map_err(files_error)?;
            let (text, summary) = match format {
                Format::Text => (Some(rendered), None),
                Format::Json => (
                    None,
                    Some(serde_json::from_str(&rendered).map_err(|error| {
                        OpError::internal(format!("the summary of {app} is not JSON: {error}"))
                    })?),
                ),
            };
            outcome.summaries.push(AppSummary {
                app: app.clone(),
                text,
                summary,
                bytes_read: refreshed.read.bytes,
            });
        }
        Ok(outcome)
    }

    /// Every template of an app's logs, most frequent first.
    pub fn logs_templates(&self, request: LogsTemplatesRequest) -> Result<LogsTemplatesOutcome, OpError> {
        let listed_ms = self.clock().unix_ms() as i64;
        let live = self.live()?;
        let address = resolve(&request.name, &live)?;
        if matches!(address, Address::All(_)) {
            return Err(OpError::invalid("templates are per app").hint("velos logs APP --templates"));
        }
        let mut warnings = Vec::new();
        let (app, instances) = app_groups(&address, &live).into_iter().next().unwrap_or_default();
        let refreshed = self.refreshed(&app, &instances, &live, listed_ms, &mut warnings)?;
        let log = &refreshed.state.log;
        let mut templates: Vec<TemplateInfo> = log
            .templates()
            .into_iter()
            .map(|(id, stats)| TemplateInfo {
                template_id: format!("t{id}"),
                count: stats.count,
                severity_text: stats.severity.text().to_string(),
                template: log.miner().render(id),
                example: stats.example,
                first_seen: format_utc(stats.first_seen_ms),
                last_seen: format_utc(stats.last_seen_ms),
            })
            .collect();
        templates.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.template_id.cmp(&b.template_id)));
        Ok(LogsTemplatesOutcome { app, templates, warnings })
    }

    /// Empties the addressed apps' log files, deletes their rotated files and their log models.
    pub fn flush(&self, request: FlushRequest) -> Result<FlushOutcome, OpError> {
        let live = self.live()?;
        let groups = app_groups(&resolve(&request.name, &live)?, &live);
        let mut outcome = FlushOutcome { instances: Vec::new(), files: 0, bytes: 0 };
        for (app, instances) in groups {
            let names: Vec<&str> = instances.iter().map(String::as_str).collect();
            let flushed = flush(&self.home().logs_dir(), &self.home().log_model_file(&app), &names)
                .map_err(files_error)?;
            outcome.files += flushed.files as u64;
            outcome.bytes += flushed.bytes;
            outcome.instances.extend(instances);
        }
        Ok(outcome)
    }

    pub(crate) fn live(&self) -> Result<Vec<ProcessRecord>, OpError> {
        self.connect_running()?.list().map_err(|error| daemon_error(error, None))
    }

    /// An app's model, up to date; a damaged one rebuilt, with a warning.
    pub(crate) fn refreshed(
        &self,
        app: &str,
        instances: &[String],
        live: &[ProcessRecord],
        listed_ms: i64,
        warnings: &mut Vec<Warning>,
    ) -> Result<Refreshed, OpError> {
        let mine = || live.iter().filter(|record| instances.contains(&record.name));
        // The last restart of any instance: when the youngest running one started, by the uptime the
        // daemon gave at `listed_ms` (taken just before the listing, and a little earlier still, so that a
        // first line dated a few ms after the fork is not taken for one from before the restart).
        let restart_ms = mine()
            .filter(|record| record.status == Status::Running)
            .map(|record| listed_ms - record.uptime_ms as i64 - EPOCH_SLACK_MS)
            .max();
        let project = mine().find_map(|record| record.spec.labels.get(labels::PROJECT));
        let apply_ms = project.and_then(|project| self.last_apply_ms(project));
        // Whichever is later: an apply that left the app running still starts a new window.
        let epoch = match (apply_ms, restart_ms) {
            (Some(apply), Some(restart)) if apply > restart => Some((apply, EpochCause::Apply)),
            (Some(apply), None) => Some((apply, EpochCause::Apply)),
            (_, restart) => restart.map(|restart| (restart, EpochCause::Restart)),
        };
        let now_ms = self.clock().unix_ms() as i64;
        let names: Vec<&str> = instances.iter().map(String::as_str).collect();
        let refreshed =
            refresh(&self.home().logs_dir(), &self.home().log_model_file(app), &names, epoch, now_ms)
                .map_err(files_error)?;
        warnings.extend(
            refreshed.warnings.iter().map(|text| Warning::new(WarningKind::LogModelRebuilt, text.clone())),
        );
        Ok(refreshed)
    }
}

impl Ops {
    /// When the last recorded apply of `project` began (its record's time less its duration, so the lines
    /// an app wrote while the apply waited for it count as after it); None when there is none, or the
    /// history cannot be read (the window then starts at the last restart).
    fn last_apply_ms(&self, project: &str) -> Option<i64> {
        let home = self.home().root();
        let record = read_projects(home).ok()?.into_iter().find(|record| record.project == project)?;
        let seq = record.last_apply_seq?;
        if !home.join(HISTORY_DIR).is_dir() {
            return None;
        }
        let entry = History::open(home).and_then(|history| history.get(seq)).ok()?;
        let duration_ms = entry.report.get("duration_ms").and_then(serde_json::Value::as_u64).unwrap_or(0);
        i64::try_from(entry.time_unix_ms.saturating_sub(duration_ms)).ok()
    }
}

/// The addressed instances grouped by app, apps sorted.
fn app_groups(address: &Address, live: &[ProcessRecord]) -> Vec<(String, Vec<String>)> {
    let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for name in address.names() {
        groups.entry(app_name(live, &name)).or_default().push(name);
    }
    groups.into_iter().collect()
}

fn files_error(error: FilesError) -> OpError {
    match &error {
        FilesError::Summary(SummaryError::BudgetTooSmall { .. }) => {
            OpError::invalid(error.to_string()).hint("give a larger --budget")
        }
        _ => OpError::new(crate::error::OpErrorKind::Io, error.to_string()).causes_of(&error),
    }
}
