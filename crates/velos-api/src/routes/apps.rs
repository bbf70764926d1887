//! `/v1/apps`: the app verbs. Each handler turns the path, query and body into the operations layer's
//! request, calls the verb of the same name, and answers its outcome as JSON.
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use velos_core::{ProcessRecord, Stream};
use velos_ops::{
    Assignment, DeleteRequest, EditOutcome, InfoOutcome, InfoRequest, ListOutcome, ListRequest, LogsRequest,
    RestartOutcome, RestartRequest, Scale, ScaleRequest, SetRequest, StartOutcome, StartRequest, StopRequest,
    StreamChoice, UnsetRequest, WaitOptions,
};

/// Lines one instance's log answer holds at most.
pub const LOG_LINES_MAX: u32 = 10_000;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ListQuery {
    /// Also the apps Velos runs for itself (the controller).
    #[serde(default)]
    pub all: bool,
}

pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<ListOutcome>> {
    Ok(Json(state.ops.list(ListRequest { all: query.all }).await?))
}

pub async fn info(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<InfoOutcome>> {
    Ok(Json(state.ops.info(InfoRequest { name }).await?))
}

/// The live records of an app's instances.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InstancesOutcome {
    pub instances: Vec<ProcessRecord>,
}

pub async fn instances(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<InstancesOutcome>> {
    let info = state.ops.info(InfoRequest { name }).await?;
    Ok(Json(InstancesOutcome { instances: info.apps.into_iter().map(|app| app.record).collect() }))
}

/// A rolling restart; it waits (by the default timeout) for each batch to be ready.
pub async fn reload(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<velos_ops::ReloadOutcome>> {
    let request = velos_ops::ReloadRequest { name, wait: velos_ops::WaitOptions::default() };
    Ok(Json(state.ops.reload(request).await?))
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct LogsQuery {
    /// Lines of each instance's output (default 20, at most 10000).
    #[serde(default)]
    pub lines: Option<u32>,
    /// `out`, `err` or `both` (default: both, in time order).
    #[serde(default)]
    pub stream: Option<String>,
    /// Only the lines containing this text.
    #[serde(default)]
    pub grep: Option<String>,
    /// Only lines written since: a duration ago (`10m`) or a UTC instant (needs `log.timestamps`).
    #[serde(default)]
    pub since: Option<String>,
    /// Only lines written until: a duration ago or a UTC instant.
    #[serde(default)]
    pub until: Option<String>,
    /// Only lines at this level or above: trace, debug, info, warn, error, fatal.
    #[serde(default)]
    pub level: Option<String>,
}

/// One instance's last lines.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InstanceLines {
    pub name: String,
    pub stream: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogsPage {
    pub logs: Vec<InstanceLines>,
    /// More lines were asked for than one answer holds (at most 10000 per instance): ask for fewer, or
    /// follow the log over the WebSocket.
    pub truncated: bool,
}

pub fn parse_stream(text: Option<&str>) -> ApiResult<Stream> {
    match text.unwrap_or("out") {
        "out" => Ok(Stream::Out),
        "err" => Ok(Stream::Err),
        other => Err(ApiError::bad_request(format!("unknown stream {other:?} (out or err)"))),
    }
}

/// `stream=` of a logs read: one stream, or both (the default, as `velos logs`).
fn parse_stream_choice(text: Option<&str>) -> ApiResult<StreamChoice> {
    match text {
        None | Some("both") => Ok(StreamChoice::Both),
        Some(one) => Ok(
            match parse_stream(Some(one))
                .map_err(|_| ApiError::bad_request(format!("unknown stream {one:?} (out, err or both)")))?
            {
                Stream::Out => StreamChoice::Out,
                Stream::Err => StreamChoice::Err,
            },
        ),
    }
}

pub async fn logs(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<LogsQuery>,
) -> ApiResult<Json<LogsPage>> {
    let wanted = query.lines.unwrap_or(velos_ops::LOG_LINES_DEFAULT);
    let truncated = wanted > LOG_LINES_MAX;
    let mut request = LogsRequest::new(name);
    request.lines = wanted.min(LOG_LINES_MAX);
    request.stream = parse_stream_choice(query.stream.as_deref())?;
    request.grep = query.grep.clone();
    request.level = query.level.clone();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    let when = |text: &Option<String>| {
        text.as_deref().map(|when| velos_ops::parse_log_time(when, now_ms)).transpose()
    };
    request.since_ms = when(&query.since)?;
    request.until_ms = when(&query.until)?;
    let stream = request.stream;
    let outcome = state.ops.logs(request).await?;
    // The verb reads the log files and merges the instances' lines in time order; grouped back here, one
    // entry per instance and stream asked (lines or not), each in that order.
    let mut logs: Vec<InstanceLines> = outcome
        .instances
        .iter()
        .flat_map(|name| stream.streams().iter().map(move |stream| (name, stream)))
        .map(|(name, stream)| InstanceLines {
            name: name.clone(),
            stream: stream.as_str().to_string(),
            lines: vec![],
        })
        .collect();
    for line in outcome.lines {
        let stream = line.stream.as_str();
        if let Some(entry) =
            logs.iter_mut().find(|entry| entry.name == line.instance && entry.stream == stream)
        {
            entry.lines.push(line.body);
        }
    }
    Ok(Json(LogsPage { logs, truncated }))
}

/// Starts an app that exists. A program is never started from the API: that would run any command line
/// a caller names; declare it in a velos.toml and apply that.
pub async fn start(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<StartOutcome>> {
    if name != "all" {
        state.ops.info(InfoRequest { name: name.clone() }).await?;
    }
    let request = StartRequest {
        target: name,
        args: vec![],
        options: Default::default(),
        caller_dir: state.home.clone(),
        caller_env: Default::default(),
        wait: WaitOptions::default(),
    };
    Ok(Json(state.ops.start(request).await?))
}

pub async fn stop(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<velos_ops::StopOutcome>> {
    Ok(Json(state.ops.stop(StopRequest { name }).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<velos_ops::DeleteOutcome>> {
    Ok(Json(state.ops.delete(DeleteRequest { name }).await?))
}

pub async fn restart(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<RestartOutcome>> {
    Ok(Json(state.ops.restart(RestartRequest { name }).await?))
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ScaleBody {
    /// `3` (absolute), `+2` or `-1` (relative); a JSON number is absolute.
    pub instances: serde_json::Value,
    #[serde(default)]
    pub wait: WaitOptions,
}

pub async fn scale(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Json(body): Json<ScaleBody>,
) -> ApiResult<Json<EditOutcome>> {
    let text = match &body.instances {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => number.to_string(),
        other => {
            return Err(ApiError::bad_request(format!("instances is a count or \"+N\"/\"-N\", not {other}")))
        }
    };
    let scale = Scale::parse(&text).map_err(ApiError::bad_request)?;
    Ok(Json(state.ops.scale(ScaleRequest { app, scale, wait: body.wait }).await?))
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SetBody {
    /// `{"env.PORT": "8081", "kill_timeout": "10s"}`: dotted keys, values as velos.toml reads them.
    pub values: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub wait: WaitOptions,
}

pub async fn set(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Json(body): Json<SetBody>,
) -> ApiResult<Json<EditOutcome>> {
    let assignments = body.values.into_iter().map(|(key, value)| Assignment { key, value }).collect();
    Ok(Json(state.ops.set(SetRequest { app, assignments, wait: body.wait }).await?))
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct UnsetBody {
    /// Dotted keys: `env.DEBUG`.
    pub keys: Vec<String>,
    #[serde(default)]
    pub wait: WaitOptions,
}

pub async fn unset(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Json(body): Json<UnsetBody>,
) -> ApiResult<Json<EditOutcome>> {
    Ok(Json(state.ops.unset(UnsetRequest { app, keys: body.keys, wait: body.wait }).await?))
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SummaryQuery {
    /// Tokens the summary may cost (default 400, at least 100 per app).
    #[serde(default)]
    pub budget: Option<u32>,
    /// The window's start: a duration ago (`10m`) or a UTC instant. Default: the last apply of the app's
    /// project or its last restart, whichever is later.
    #[serde(default)]
    pub since: Option<String>,
    /// The window's end: a duration ago or a UTC instant (default now).
    #[serde(default)]
    pub until: Option<String>,
}

/// What an app's logs say over a window (default: since the last apply or restart), within a token budget
/// (velos logs NAME --summary --json).
pub async fn logs_summary(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<SummaryQuery>,
) -> ApiResult<Json<velos_ops::LogsSummaryOutcome>> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    let when = |text: &Option<String>| {
        text.as_deref().map(|when| velos_ops::parse_log_time(when, now_ms)).transpose()
    };
    let request = velos_ops::LogsSummaryRequest {
        name,
        budget: query.budget.unwrap_or(velos_ops::LOG_SUMMARY_BUDGET_TOKENS_DEFAULT),
        json: true,
        since_ms: when(&query.since)?,
        until_ms: when(&query.until)?,
    };
    Ok(Json(state.ops.logs_summary(request).await?))
}

/// The templates mined from an app's logs, most frequent first (velos logs NAME --templates).
pub async fn logs_templates(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<velos_ops::LogsTemplatesOutcome>> {
    Ok(Json(state.ops.logs_templates(velos_ops::LogsTemplatesRequest { name }).await?))
}
