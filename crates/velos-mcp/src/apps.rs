//! Read tools about processes: `list_apps`, `app_info`, `metrics`. Few tokens: compact keys, one decimal,
//! whole seconds, and a budget with a cursor on every list.
use crate::budget::{clip, decode_cursor, page_forward, Budget};
use crate::host::{Failure, Host};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_core::ProcessRecord;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListAppsParams {
    /// Only the apps of this project.
    pub project: Option<String>,
    /// Only apps in this status: running, stopped, errored, waiting, starting, stopping.
    pub status: Option<String>,
    /// Most tokens the answer may take (default 2000).
    pub budget: Option<u32>,
    /// `next_cursor` of the previous answer, to go on.
    pub cursor: Option<String>,
}

/// One app in few tokens (the keys of `velos list --ai`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Compact {
    /// Name.
    pub n: String,
    /// Status.
    pub s: String,
    /// CPU, percent of one core.
    pub c: f64,
    /// Resident memory, bytes.
    pub m: u64,
    /// Automatic restarts.
    pub r: u32,
    /// Uptime, seconds.
    pub u: u64,
    /// Health (`healthy`, `unhealthy`, `unknown`), for an app with a readiness or liveness check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AppsPage {
    pub apps: Vec<Compact>,
    /// Apps that match, on every page.
    pub total: usize,
    pub truncated: bool,
    pub next_cursor: Option<String>,
}

pub fn status_word(record: &ProcessRecord) -> String {
    word(&record.status)
}

/// A value that serializes as a word (a status, a restart policy), as that word.
pub fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
}

fn compact(record: &ProcessRecord) -> Compact {
    Compact {
        n: record.name.clone(),
        s: status_word(record),
        c: (record.cpu * 10.0).round() / 10.0,
        m: record.memory,
        r: record.restarts,
        u: record.uptime_ms / 1000,
        h: None,
    }
}

pub fn list_apps(host: &Host, params: &ListAppsParams) -> Result<AppsPage, Failure> {
    let start = decode_cursor(params.cursor.as_deref()).map_err(Failure::new)?.unwrap_or(0);
    let listed = host.listed()?;
    let records = listed.apps;
    let project = params.project.as_deref();
    let status = params.status.as_deref().map(str::to_ascii_lowercase);
    let matching: Vec<Compact> = records
        .iter()
        .filter(|record| {
            project.is_none_or(|project| record.spec.labels.get("project").is_some_and(|p| p == project))
        })
        .map(|record| Compact {
            h: listed.health.get(&record.name).map(|app| app.health.as_str().to_string()),
            ..compact(record)
        })
        .filter(|app| status.as_deref().is_none_or(|status| app.s == status))
        .collect();
    let total = matching.len();
    let page = page_forward(matching, start, Budget::tokens(params.budget), 0);
    Ok(AppsPage { apps: page.items, total, truncated: page.truncated, next_cursor: page.next_cursor })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AppInfoParams {
    /// An app (all its instances), or one instance (`web-0`).
    pub name: String,
    /// Most tokens the answer may take (default 2000).
    pub budget: Option<u32>,
}

/// One process in detail. Secret-looking environment values (TOKEN, SECRET, PASSWORD, KEY) are masked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AppDetail {
    pub name: String,
    pub project: Option<String>,
    pub status: String,
    pub pid: u32,
    pub restarts: u32,
    pub cpu: f64,
    pub memory_bytes: u64,
    pub uptime_s: u64,
    pub exit_code: Option<i32>,
    pub exit_signal: Option<u8>,
    /// Why it is errored, or why the last start failed.
    pub last_error: Option<String>,
    pub command: String,
    pub args: Vec<String>,
    pub cwd: String,
    pub env: Vec<String>,
    /// always, on-failure or never.
    pub restart: String,
    pub max_memory_bytes: u64,
    /// stdout and stderr log files (logs_tail and logs_search read them).
    pub logs: Vec<String>,
    /// Its readiness / liveness checks and what the controller's prober last found (stale: unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<velos_ops::AppHealth>,
    /// Its `cron_restart` (with the next time) and `watch`, and the last restart they made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<velos_ops::AppSchedule>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AppInfo {
    pub apps: Vec<AppDetail>,
    pub truncated: bool,
    pub next_cursor: Option<String>,
}

pub fn app_info(host: &Host, params: &AppInfoParams) -> Result<AppInfo, Failure> {
    let chosen = host.info(&params.name)?;
    let budget = Budget::tokens(params.budget);
    let clip_max = budget.text_chars_max();
    let details: Vec<AppDetail> = chosen
        .iter()
        .map(|info| {
            let record = &info.record;
            let env = record.spec.env.iter().map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let value = if velos_reconcile::is_secret_key(key) {
                    velos_reconcile::MASK.to_string()
                } else {
                    clip(value, 200)
                };
                format!("{key}={value}")
            });
            AppDetail {
                name: record.name.clone(),
                project: record.spec.labels.get("project").cloned(),
                status: status_word(record),
                pid: record.pid,
                restarts: record.restarts,
                cpu: (record.cpu * 10.0).round() / 10.0,
                memory_bytes: record.memory,
                uptime_s: record.uptime_ms / 1000,
                exit_code: record.exit_code,
                exit_signal: record.exit_signal,
                last_error: record.last_error.as_deref().map(|error| clip(error, clip_max)),
                command: record.spec.command.clone(),
                args: record.spec.args.iter().map(|arg| clip(arg, 200)).collect(),
                cwd: record.spec.cwd.clone(),
                env: env.collect(),
                restart: serde_json::to_value(record.spec.restart)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_string))
                    .unwrap_or_default(),
                max_memory_bytes: record.spec.max_memory_bytes,
                logs: vec![info.out_log.display().to_string(), info.err_log.display().to_string()],
                health: info.health.clone(),
                schedule: info.schedule.clone(),
            }
        })
        .collect();
    let page = page_forward(details, 0, budget, 0);
    Ok(AppInfo { apps: page.items, truncated: page.truncated, next_cursor: page.next_cursor })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MetricsParams {
    /// One app (all its instances); without it, the host's totals and top consumers.
    pub name: Option<String>,
    /// Most tokens the answer may take (default 2000).
    pub budget: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Metrics {
    pub apps: usize,
    pub running: usize,
    pub errored: usize,
    pub stopped: usize,
    /// Sum over the apps, percent of one core.
    pub cpu: f64,
    pub memory_bytes: u64,
    pub restarts: u64,
    /// The apps using most CPU (compact keys as list_apps).
    pub top_cpu: Vec<Compact>,
    /// The apps using most memory.
    pub top_memory: Vec<Compact>,
    /// The apps that restarted most.
    pub top_restarts: Vec<Compact>,
}

pub fn metrics(host: &Host, params: &MetricsParams) -> Result<Metrics, Failure> {
    let records: Vec<ProcessRecord> = match &params.name {
        Some(name) => host.info(name)?.into_iter().map(|info| info.record).collect(),
        None => host.live()?,
    };
    let chosen: Vec<&ProcessRecord> = records.iter().collect();
    let count = |status: &str| chosen.iter().filter(|record| status_word(record) == status).count();
    // Each top list gets a third of the budget: 5 entries when the budget allows, at least 1.
    let per_list = (Budget::tokens(params.budget).bytes() / 3 / 80).clamp(1, 5);
    let top = |key: &dyn Fn(&ProcessRecord) -> f64| {
        let mut sorted = chosen.clone();
        sorted.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.name.cmp(&b.name)));
        sorted.into_iter().filter(|record| key(record) > 0.0).take(per_list).map(compact).collect()
    };
    Ok(Metrics {
        apps: chosen.len(),
        running: count("running"),
        errored: count("errored"),
        stopped: count("stopped"),
        cpu: (chosen.iter().map(|record| record.cpu).sum::<f64>() * 10.0).round() / 10.0,
        memory_bytes: chosen.iter().map(|record| record.memory).sum(),
        restarts: chosen.iter().map(|record| u64::from(record.restarts)).sum(),
        top_cpu: top(&|record| record.cpu),
        top_memory: top(&|record| record.memory as f64),
        top_restarts: top(&|record| f64::from(record.restarts)),
    })
}
