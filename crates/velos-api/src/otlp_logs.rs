//! The log half of the OTLP export: every app's output followed through the operations layer's follow
//! (the daemon's rings, as written), cut into lines and labelled as `velos logs` labels them
//! ([`velos_ops::LineAssembler`]), queued (bounded) until the next export, and turned into an OTLP/HTTP
//! JSON `ExportLogsServiceRequest`.
use serde_json::{json, Value};
use std::collections::{BTreeSet, VecDeque};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use velos_core::ProcessRecord;
use velos_ops::{FollowAdder, FollowStopper, LineAssembler, LogLine, Ops, StreamChoice};

/// Lines waiting for the next export at most; past it the newest are dropped and counted (a collector
/// that is down must not make the exporter grow without bound).
pub const LOG_QUEUE_LINES_MAX: usize = 10_000;
/// Apps followed at most (two daemon connections each).
pub const FOLLOWED_APPS_MAX: usize = 1000;

/// One line and when it was read (ms since the Unix epoch).
pub struct Shipped {
    pub line: LogLine,
    pub observed_unix_ms: u64,
}

#[derive(Default)]
struct Queue {
    lines: VecDeque<Shipped>,
    dropped: u64,
}

/// Follows the apps and queues their lines; stops the follow when dropped.
pub struct LogShipper {
    adder: FollowAdder,
    stopper: FollowStopper,
    queue: Arc<Mutex<Queue>>,
    /// The latest LIST, for the reading thread's [`LineAssembler::know`].
    known: mpsc::Sender<Vec<ProcessRecord>>,
    followed: BTreeSet<String>,
}

impl LogShipper {
    /// Begins an empty follow and its reading thread; [`LogShipper::follow`] adds the apps.
    pub fn start(ops: Ops) -> LogShipper {
        let (follow, adder) = ops.follow_open(StreamChoice::Both);
        let stopper = follow.stopper();
        let queue = Arc::new(Mutex::new(Queue::default()));
        let (known, lists) = mpsc::channel::<Vec<ProcessRecord>>();
        let (reader_queue, mut lines) = (Arc::clone(&queue), LineAssembler::new(ops.clone()));
        let spawned = std::thread::Builder::new().name("velos-otlp-logs".into()).spawn(move || {
            for chunk in follow {
                if let Some(records) = lists.try_iter().last() {
                    lines.know(&records);
                }
                let Ok(chunk) = chunk else { continue }; // one stream failed; the others go on
                let observed_unix_ms = velos_reconcile::now_unix_ms();
                let mut queue = reader_queue.lock().unwrap_or_else(PoisonError::into_inner);
                for line in lines.push(chunk) {
                    if queue.lines.len() >= LOG_QUEUE_LINES_MAX {
                        queue.dropped += 1;
                    } else {
                        queue.lines.push_back(Shipped { line, observed_unix_ms });
                    }
                }
            }
        });
        if spawned.is_err() {
            stopper.stop(); // nothing reads: follow nothing
        }
        LogShipper { adder, stopper, queue, known, followed: BTreeSet::new() }
    }

    /// Follows the user's apps of `records` not followed yet (from their next line on); forgets those
    /// gone (the daemon ended their streams when they were deleted).
    pub fn follow(&mut self, records: &[ProcessRecord]) {
        let _ = self.known.send(records.to_vec());
        let names: BTreeSet<String> = records
            .iter()
            .filter(|record| !velos_ops::address::is_system(record))
            .map(|record| record.name.clone())
            .take(FOLLOWED_APPS_MAX)
            .collect();
        self.followed.retain(|name| names.contains(name));
        for name in names {
            // A failure (the app was deleted meanwhile) is tried again at the next export.
            if !self.followed.contains(&name) && self.adder.add(&name, 0).is_ok() {
                self.followed.insert(name);
            }
        }
    }

    /// Up to `count` waiting lines, oldest first.
    pub fn take(&mut self, count: usize) -> Vec<Shipped> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let count = count.min(queue.lines.len());
        queue.lines.drain(..count).collect()
    }

    /// Lines dropped since the last call, if any.
    pub fn take_dropped(&mut self) -> Option<u64> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        (queue.dropped > 0).then(|| std::mem::take(&mut queue.dropped))
    }
}

impl Drop for LogShipper {
    fn drop(&mut self) {
        self.stopper.stop();
    }
}

fn string(value: &str) -> Value {
    json!({"stringValue": value})
}

/// The `ExportLogsServiceRequest` of `lines`: one log record each, with the OpenTelemetry log data
/// model's severity, the line as its body, and `app`, `instance`, `stream` (and `template_id` once the
/// app's log model knows the line's template) as attributes. 64-bit times are JSON strings, as the
/// protobuf JSON mapping asks.
pub fn export_request(lines: &[Shipped], host: &str) -> Value {
    let records: Vec<Value> = lines
        .iter()
        .map(|shipped| {
            let line = &shipped.line;
            let nanos = (u128::from(shipped.observed_unix_ms) * 1_000_000).to_string();
            let mut attributes = vec![
                json!({"key": "app", "value": string(&line.app)}),
                json!({"key": "instance", "value": string(&line.instance)}),
                json!({"key": "stream", "value": string(line.stream.as_str())}),
            ];
            if let Some(template) = &line.template_id {
                attributes.push(json!({"key": "template_id", "value": string(template)}));
            }
            if let Some(length) = line.cut_from {
                attributes.push(json!({"key": "cut_from", "value": {"intValue": length.to_string()}}));
            }
            json!({
                "timeUnixNano": nanos,
                "observedTimeUnixNano": nanos,
                "severityNumber": line.severity_number,
                "severityText": line.severity_text,
                "body": string(&line.body),
                "attributes": attributes,
            })
        })
        .collect();
    json!({
        "resourceLogs": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": string("velos")},
                {"key": "host.name", "value": string(host)},
            ]},
            "scopeLogs": [{
                "scope": {"name": "velos", "version": env!("CARGO_PKG_VERSION")},
                "logRecords": records,
            }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::Stream;

    fn line(body: &str, template_id: Option<&str>) -> Shipped {
        let line = LogLine {
            ts: None,
            app: "web".into(),
            instance: "web-1".into(),
            stream: Stream::Err,
            severity_text: "ERROR".into(),
            severity_number: 17,
            template_id: template_id.map(str::to_string),
            body: body.into(),
            cut_from: None,
            repeated: None,
        };
        Shipped { line, observed_unix_ms: 1_700_000_000_123 }
    }

    #[test]
    fn each_line_is_a_log_record_with_its_severity_and_labels() {
        let request = export_request(&[line("boom", Some("t3")), line("plain", None)], "box");
        let records = &request["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
        assert_eq!(records[0]["severityNumber"], 17);
        assert_eq!(records[0]["severityText"], "ERROR");
        assert_eq!(records[0]["body"]["stringValue"], "boom");
        assert_eq!(records[0]["timeUnixNano"], "1700000000123000000");
        let attribute = |index: usize, key: &str| {
            records[index]["attributes"]
                .as_array()
                .and_then(|all| all.iter().find(|a| a["key"] == key))
                .map(|a| a["value"]["stringValue"].clone())
        };
        assert_eq!(attribute(0, "app"), Some(json!("web")));
        assert_eq!(attribute(0, "instance"), Some(json!("web-1")));
        assert_eq!(attribute(0, "stream"), Some(json!("err")));
        assert_eq!(attribute(0, "template_id"), Some(json!("t3")));
        assert_eq!(attribute(1, "template_id"), None, "no template known: no attribute");
        assert_eq!(request["resourceLogs"][0]["resource"]["attributes"][1]["value"]["stringValue"], "box");
    }
}
