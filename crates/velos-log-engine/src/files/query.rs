//! `velos logs`: the newest lines of some streams, filtered and merged in time order, read backward from
//! the files' ends. A stream's level comes from its saved model when there is one, else from a header
//! learned on its last lines; its template id only from a saved model (labelling never mines).
use super::set::stream_files;
use super::tail::{Backward, TailLine};
use crate::app_log::{AppLog, Stream};
use crate::file_line::{split_line, FRAMING_BYTES};
use crate::header::{HeaderModel, SAMPLE_LINES};
use crate::level::{classify_message, level_token};
use crate::view::{merge_newest, Filter, Record, Source};
use std::path::Path;

/// One stream to show.
#[derive(Clone, Copy)]
pub struct Shown<'a> {
    pub app: &'a str,
    /// The process name its files are named after (`web`, `web-1`).
    pub instance: &'a str,
    pub stream: Stream,
    pub model: Option<&'a AppLog>,
}

/// The newest `count` lines of `shown` that pass `filter`, oldest first.
pub fn read_records(
    dir: &Path,
    shown: &[Shown<'_>],
    filter: &Filter,
    count: usize,
    line_bytes_max: usize,
) -> std::io::Result<Vec<Record>> {
    let mut streams = Vec::with_capacity(shown.len());
    for item in shown {
        let files = stream_files(dir, item.instance, item.stream)?;
        let header = match item.model {
            Some(_) => HeaderModel::default(),
            None => learn_from_tail(&files, line_bytes_max)?,
        };
        streams.push((item, files, header));
    }
    let mut sources: Vec<Source<'_, std::io::Error>> = Vec::with_capacity(streams.len());
    for (item, files, header) in &streams {
        // Room for the daemon's time prefix, so the limit applies to what the app wrote.
        let mut backward = Backward::new(files, line_bytes_max + FRAMING_BYTES);
        sources.push(Box::new(move || {
            let Some(line) = backward.next_line()? else { return Ok(None) };
            Ok(Some(record(item, header, &line, line_bytes_max)))
        }));
    }
    merge_newest(sources, count, filter)
}

fn record(item: &Shown<'_>, header: &HeaderModel, line: &TailLine, line_bytes_max: usize) -> Record {
    let split = split_line(&line.bytes);
    let ts = split.ts_ms;
    let mut body: &[u8] = &split.body;
    // The length the app wrote: the daemon's prefix or JSON framing is not part of it.
    let mut cut_from = line.cut_from.map(|len| len.saturating_sub(split.overhead as u64));
    if body.len() > line_bytes_max {
        cut_from = cut_from.or(Some(body.len() as u64));
        body = &body[..line_bytes_max];
    }
    let (severity, template) = match item.model {
        Some(model) => {
            let (severity, template, _) = model.classify(body, item.stream);
            (severity, template)
        }
        None => {
            let split = header.split(body);
            let level = split.level.and_then(|(start, end)| level_token(&body[start as usize..end as usize]));
            (level.unwrap_or_else(|| classify_message(&body[split.content_start..])), None)
        }
    };
    Record::new(item.app, item.instance, item.stream, ts, severity, template, body, cut_from)
}

/// A header learned from the stream's last lines (their timestamp prefixes removed).
fn learn_from_tail(files: &[super::LogFile], line_bytes_max: usize) -> std::io::Result<HeaderModel> {
    let mut backward = Backward::new(files, line_bytes_max);
    let mut sample = Vec::new();
    while sample.len() < SAMPLE_LINES {
        let Some(line) = backward.next_line()? else { break };
        sample.push(split_line(&line.bytes).body.into_owned());
    }
    Ok(HeaderModel::learn(sample.iter().map(Vec::as_slice)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::level::Severity;

    #[test]
    fn both_streams_in_time_order_with_levels_from_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let out = "2026-11-30T10:00:00.000Z 2026-11-30 10:00:00,000 INFO [main] app.Http: GET / 200\n\
                   2026-11-30T10:00:02.000Z 2026-11-30 10:00:02,000 INFO [main] app.Http: GET /x 200\n";
        let err =
            "2026-11-30T10:00:01.000Z 2026-11-30 10:00:01,000 ERROR [main] app.Db: connection refused\n";
        std::fs::write(dir.path().join("web-out.log"), out).unwrap();
        std::fs::write(dir.path().join("web-err.log"), err).unwrap();
        let shown = [
            Shown { app: "web", instance: "web", stream: Stream::Out, model: None },
            Shown { app: "web", instance: "web", stream: Stream::Err, model: None },
        ];
        let records = read_records(dir.path(), &shown, &Filter::default(), 10, 1024).unwrap();
        let summary: Vec<(Stream, Severity)> = records.iter().map(|r| (r.stream, r.severity)).collect();
        assert_eq!(
            summary,
            [(Stream::Out, Severity::Info), (Stream::Err, Severity::Error), (Stream::Out, Severity::Info)]
        );
        assert!(records[1].body.ends_with("connection refused") && records[1].ts.is_some());
        let errors = Filter { level_min: Some(Severity::Error), ..Filter::default() };
        assert_eq!(read_records(dir.path(), &shown, &errors, 10, 1024).unwrap().len(), 1);
    }

    #[test]
    fn the_line_limit_and_cut_length_count_what_the_app_wrote_not_the_time_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let long = "y".repeat(100);
        let text = format!("2026-11-30T10:00:00.000Z {}\n2026-11-30T10:00:01.000Z {long}\n", &long[..10]);
        std::fs::write(dir.path().join("web-out.log"), text).unwrap();
        let shown = [Shown { app: "web", instance: "web", stream: Stream::Out, model: None }];
        let records = read_records(dir.path(), &shown, &Filter::default(), 10, 10).unwrap();
        let got: Vec<(usize, Option<u64>)> = records.iter().map(|r| (r.body.len(), r.cut_from)).collect();
        assert_eq!(got, [(10, None), (10, Some(100))]);
    }

    #[test]
    fn json_lines_and_text_lines_of_one_file_read_alike_in_order() {
        let dir = tempfile::tempdir().unwrap();
        // Switched from text to JSON in place: both forms in one file; the body is what the app wrote.
        let out = "2026-11-30T10:00:00.000Z INFO plain \"one\"\n\
                   {\"ts\":\"2026-11-30T10:00:01.000Z\",\"stream\":\"out\",\"body\":\"ERROR say \\\"hi\\\"\\u0009tab\"}\n";
        let err = "{\"ts\":\"2026-11-30T10:00:00.500Z\",\"stream\":\"err\",\"body\":\"WARN C:\\\\dir\"}\n";
        std::fs::write(dir.path().join("web-out.log"), out).unwrap();
        std::fs::write(dir.path().join("web-err.log"), err).unwrap();
        let shown = [
            Shown { app: "web", instance: "web", stream: Stream::Out, model: None },
            Shown { app: "web", instance: "web", stream: Stream::Err, model: None },
        ];
        let records = read_records(dir.path(), &shown, &Filter::default(), 10, 1024).unwrap();
        let got: Vec<(&str, Severity)> = records.iter().map(|r| (r.body.as_str(), r.severity)).collect();
        assert_eq!(
            got,
            [
                ("INFO plain \"one\"", Severity::Info),
                ("WARN C:\\dir", Severity::Warn),
                ("ERROR say \"hi\"\ttab", Severity::Error)
            ]
        );
        assert!(records.iter().all(|r| r.ts.is_some()));
    }
}
