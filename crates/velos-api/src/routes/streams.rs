//! WebSocket streams: `GET /v1/apps/{name}/logs/follow`, `GET /v1/logs/follow` (every app) and
//! `GET /v1/events`.
//!
//! Back-pressure: the daemon is always read as fast as it writes. Chunks wait for the client in a bounded
//! queue; when the queue is full the client is too slow and is dropped (close code 1008), rather than
//! buffering without bound or making the daemon wait. A client that stops reading altogether is dropped
//! when one send has not gone through in [`SEND_TIMEOUT`].
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use velos_core::{ProcessRecord, Status};
use velos_ops::{LogFollow, LogsRequest, StreamChoice};
use velos_reconcile::ProjectStatus;

/// Messages queued for one client before it counts as too slow.
pub const QUEUE_MESSAGES_MAX: usize = 256;
/// Longest wait for one message to go out to the client.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Apps one `/v1/logs/follow` follows at most (two daemon streams each).
pub const FOLLOWED_APPS_MAX: usize = 1000;
/// How often the events stream looks at the daemon.
pub const EVENTS_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Project states are looked at every this many polls (once a second).
const PROJECT_POLL_EVERY: u64 = 5;
/// The close code for a client dropped because it reads too slowly (RFC 6455 "policy violation").
const CLOSE_TOO_SLOW: u16 = 1008;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct FollowQuery {
    /// `out`, `err`, or `both` (default).
    #[serde(default)]
    pub stream: Option<String>,
    /// Lines of the past to send first (default 0: only what is written from now on).
    #[serde(default)]
    pub lines: Option<u32>,
}

/// One message of a log follow.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogChunk {
    pub app: String,
    pub stream: String,
    /// The bytes as written, UTF-8 (invalid sequences replaced).
    pub data: String,
}

/// A plain GET where a WebSocket handshake is needed.
fn not_a_websocket(rejection: WebSocketUpgradeRejection) -> ApiError {
    use axum::response::IntoResponse as _;
    ApiError::new(
        rejection.into_response().status(),
        "not_websocket",
        "this route is a WebSocket: send an upgrade request",
    )
}

fn streams(query: &FollowQuery) -> ApiResult<StreamChoice> {
    match query.stream.as_deref().unwrap_or("both") {
        "both" => Ok(StreamChoice::Both),
        "out" => Ok(StreamChoice::Out),
        "err" => Ok(StreamChoice::Err),
        other => Err(ApiError::bad_request(format!("unknown stream {other:?} (out, err or both)"))),
    }
}

pub async fn follow_app(
    socket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<FollowQuery>,
) -> ApiResult<Response> {
    let streams = streams(&query)?;
    // The operations layer resolves the name (`web` is every instance, `web-0` one, an unknown name is
    // did-you-mean) and connects before the upgrade, so a wrong name is an HTTP error, not a closed socket.
    let request = LogsRequest { stream: streams, lines: query.lines.unwrap_or(0), ..LogsRequest::new(name) };
    let follow = state.ops.run(move |ops| ops.logs_follow(request)).await?;
    // Dropped (and so stopped) when this is no upgrade request.
    let socket = socket.map_err(not_a_websocket)?;
    Ok(upgrade(socket, follow))
}

pub async fn follow_all(
    socket: WebSocketUpgrade,
    State(state): State<AppState>,
    Query(query): Query<FollowQuery>,
) -> ApiResult<Response> {
    let streams = streams(&query)?;
    let lines = query.lines.unwrap_or(0);
    let apps = state.ops.list(velos_ops::ListRequest { all: false }).await?.apps;
    let names: Vec<String> = apps.into_iter().take(FOLLOWED_APPS_MAX).map(|record| record.name).collect();
    // An app deleted since the LIST is left out, not a failure of the whole follow.
    let follow = state
        .ops
        .run(move |ops| {
            let (follow, adder) = ops.follow_open(streams);
            for name in &names {
                let _ = adder.add(name, lines);
            }
            Ok(follow)
        })
        .await?;
    Ok(upgrade(socket, follow))
}

/// Bridges the operations layer's follow to the client: a blocking-pool task reads the merged chunks
/// (as fast as the daemon writes them) into the bounded queue; when the client leaves or falls behind,
/// the follow is stopped, which closes every daemon connection at once and ends that task.
fn upgrade(socket: WebSocketUpgrade, follow: LogFollow) -> Response {
    let stopper = StopOnDrop(follow.stopper());
    socket.on_upgrade(move |socket| async move {
        let (sender, receiver) = mpsc::channel(QUEUE_MESSAGES_MAX);
        let overflow = Arc::new(AtomicBool::new(false));
        let reader_overflow = Arc::clone(&overflow);
        let reader = tokio::task::spawn_blocking(move || {
            for chunk in follow {
                // A stream that failed (its app deleted meanwhile) ends alone; the others go on.
                let Ok(chunk) = chunk else { continue };
                let message = LogChunk {
                    app: chunk.name,
                    stream: chunk.stream.as_str().to_string(),
                    data: String::from_utf8_lossy(&chunk.bytes).into_owned(),
                };
                let text = serde_json::to_string(&message).unwrap_or_default();
                if !enqueue(&sender, &reader_overflow, text) {
                    return;
                }
            }
        });
        forward(socket, receiver, &overflow).await;
        drop(stopper);
        let _ = reader.await;
    })
}

/// Stops the follow when the connection's task ends, however it ends (also when the server shuts down
/// and drops the task mid-way).
struct StopOnDrop(velos_ops::FollowStopper);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Queues one message without waiting; false when the follow must end (too slow, or the client left).
fn enqueue(sender: &mpsc::Sender<String>, overflow: &AtomicBool, text: String) -> bool {
    match sender.try_send(text) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            overflow.store(true, Ordering::Relaxed);
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

/// Sends queued messages to the client until the queue ends, the client leaves or falls behind.
async fn forward(mut socket: WebSocket, mut receiver: mpsc::Receiver<String>, overflow: &AtomicBool) {
    loop {
        if overflow.load(Ordering::Relaxed) {
            let reason = format!("too slow: more than {QUEUE_MESSAGES_MAX} messages behind");
            let close = Message::Close(Some(CloseFrame { code: CLOSE_TOO_SLOW, reason: reason.into() }));
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(close)).await;
            return;
        }
        tokio::select! {
            message = receiver.recv() => {
                let Some(text) = message else {
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(None))).await;
                    return;
                };
                match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
                    Ok(Ok(())) => {}
                    _ => return,
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// One message of the events stream.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An app's status changed, it appeared (`previous` null) or was deleted (`status` "deleted").
    State {
        name: String,
        project: Option<String>,
        previous: Option<String>,
        status: String,
        pid: u32,
        restarts: u32,
    },
    /// An apply was recorded.
    Apply { project: String, seq: u64, ok: bool },
    /// A project's sync state changed (`previous` null the first time it is seen after connecting):
    /// `synced`, `progressing`, `out_of_sync` (drift, or a changed file) or `error`.
    Project { project: String, previous: Option<String>, state: String, message: String, drift_apps: u64 },
}

/// Project events: what differs from the states seen before; remembers the new ones.
fn project_events(seen: &mut BTreeMap<String, String>, statuses: Vec<(ProjectStatus, u64)>) -> Vec<Event> {
    let mut events = Vec::new();
    for (status, drift_apps) in statuses {
        let state = status.state.as_str().to_string();
        let previous = seen.insert(status.project.clone(), state.clone());
        if previous.as_ref() != Some(&state) {
            events.push(Event::Project {
                project: status.project,
                previous,
                state,
                message: status.message,
                drift_apps,
            });
        }
    }
    events
}

fn state_events(before: &BTreeMap<String, (Status, u32, u32)>, records: &[ProcessRecord]) -> Vec<Event> {
    let mut events = Vec::new();
    let now: BTreeMap<&str, &ProcessRecord> =
        records.iter().map(|record| (record.name.as_str(), record)).collect();
    for record in records {
        let previous = before.get(&record.name);
        let changed = previous.is_none_or(|(status, pid, restarts)| {
            (*status, *pid, *restarts) != (record.status, record.pid, record.restarts)
        });
        if changed {
            events.push(Event::State {
                name: record.name.clone(),
                project: record.spec.labels.get("project").cloned(),
                previous: previous.map(|(status, _, _)| status.to_string()),
                status: record.status.to_string(),
                pid: record.pid,
                restarts: record.restarts,
            });
        }
    }
    for (name, (status, _, restarts)) in before {
        if !now.contains_key(name.as_str()) {
            events.push(Event::State {
                name: name.clone(),
                project: None,
                previous: Some(status.to_string()),
                status: "deleted".into(),
                pid: 0,
                restarts: *restarts,
            });
        }
    }
    events
}

pub async fn events(socket: WebSocketUpgrade, State(state): State<AppState>) -> ApiResult<Response> {
    let first = list(&state).await?;
    Ok(socket.on_upgrade(move |socket| async move {
        let (sender, receiver) = mpsc::channel(QUEUE_MESSAGES_MAX);
        let overflow = Arc::new(AtomicBool::new(false));
        let watcher = tokio::spawn(watch(state, first, sender, overflow.clone()));
        forward(socket, receiver, &overflow).await;
        watcher.abort();
    }))
}

/// Every app, Velos's own included (the events stream reports them all).
async fn list(state: &AppState) -> ApiResult<Vec<ProcessRecord>> {
    Ok(state.ops.list(velos_ops::ListRequest { all: true }).await?.apps)
}

/// The projects' statuses against `records`, on the blocking pool; none when they cannot be read.
async fn project_statuses(state: &AppState, records: Vec<ProcessRecord>) -> Vec<(ProjectStatus, u64)> {
    let state = state.clone();
    let statuses = tokio::task::spawn_blocking(move || {
        crate::scrape::project_statuses(&state.home, &state.caches, &records)
    });
    statuses.await.ok().and_then(Result::ok).unwrap_or_default()
}

/// Polls LIST, the history folder and the projects' states; queues a message per change.
async fn watch(
    state: AppState,
    first: Vec<ProcessRecord>,
    sender: mpsc::Sender<String>,
    overflow: Arc<AtomicBool>,
) {
    let key = |records: &[ProcessRecord]| -> BTreeMap<String, (Status, u32, u32)> {
        records
            .iter()
            .map(|record| (record.name.clone(), (record.status, record.pid, record.restarts)))
            .collect()
    };
    let mut before = key(&first);
    let history = |state: &AppState| {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.caches.history.read(&state.home).unwrap_or_default())
    };
    let mut seq_seen =
        history(&state).await.unwrap_or_default().iter().map(|recorded| recorded.seq).max().unwrap_or(0);
    let mut ticker = tokio::time::interval(EVENTS_POLL_INTERVAL);
    // Project states of the first look are the baseline, not news.
    let mut projects_seen = BTreeMap::new();
    let statuses = project_statuses(&state, first.clone()).await;
    project_events(&mut projects_seen, statuses);
    let mut polls: u64 = 0;
    loop {
        ticker.tick().await;
        polls += 1;
        let Ok(records) = list(&state).await else { return };
        let mut events = state_events(&before, &records);
        before = key(&records);
        if polls.is_multiple_of(PROJECT_POLL_EVERY) {
            let statuses = project_statuses(&state, records).await;
            events.extend(project_events(&mut projects_seen, statuses));
        }
        for recorded in history(&state).await.unwrap_or_default() {
            if recorded.seq > seq_seen {
                seq_seen = recorded.seq;
                events.push(Event::Apply { project: recorded.project, seq: recorded.seq, ok: recorded.ok });
            }
        }
        for event in events {
            if !enqueue(&sender, &overflow, serde_json::to_string(&event).unwrap_or_default()) {
                return;
            }
        }
    }
}
