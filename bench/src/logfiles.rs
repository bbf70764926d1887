//! `velos logs` over large log files (DESIGN §8, issue 9): `--summary` of a 100 MB log cold (no model yet)
//! and again when 1 MB is new since the last summary (the model is brought up to date with the new bytes
//! only), and `--lines 1000` over a 1 GB log (read backward from the end). The logs are written straight
//! into the app's log file (the app itself is quiet), in the synthetic formats of the mining scenario.
use crate::scenarios::Row;
use crate::{median, Home};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const MB: u64 = 1024 * 1024;

pub fn log_file_scenarios(velos: &Path) -> Vec<Row> {
    let home = Home::new(velos);
    home.velos(&["start", "--name", "big", "/bin/sleep", "3600"]);
    let log = home.path().join("logs/big-out.log");
    let corpus = crate::logmine::synthetic_log(1_200_000);
    append_until(&log, &corpus, 100 * MB);

    let cold = timed(&home, &["logs", "big", "--summary"]);
    let mut warm = Vec::new();
    let one_mb = &corpus[..corpus[..MB as usize].iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1)];
    for _ in 0..5 {
        append(&log, one_mb);
        warm.push(timed(&home, &["logs", "big", "--summary"]));
    }
    append_until(&log, &corpus, 1024 * MB);
    let tail: Vec<f64> = (0..5).map(|_| timed(&home, &["logs", "big", "--lines", "1000"])).collect();
    vec![
        Row {
            scenario: "logs --summary, 100 MB log, cold".into(),
            figure: format!("{cold:.3} s"),
            target: "<= 1 s",
        },
        Row {
            scenario: "logs --summary, 1 MB new since the last (median of 5)".into(),
            figure: format!("{:.1} ms", median(warm) * 1000.0),
            target: "<= 50 ms",
        },
        Row {
            scenario: "logs --lines 1000, 1 GB log (median of 5)".into(),
            figure: format!("{:.1} ms", median(tail) * 1000.0),
            target: "<= 20 ms",
        },
    ]
}

fn timed(home: &Home, args: &[&str]) -> f64 {
    let began = Instant::now();
    home.velos(args);
    began.elapsed().as_secs_f64()
}

fn append(log: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log file");
    file.write_all(bytes).expect("append to the log");
}

/// Appends whole copies (then a whole-line prefix) of `corpus` until the file holds `size` bytes.
fn append_until(log: &Path, corpus: &[u8], size: u64) {
    loop {
        let len = std::fs::metadata(log).map_or(0, |meta| meta.len());
        if len >= size {
            return;
        }
        let want = ((size - len) as usize).min(corpus.len());
        let cut = corpus[..want].iter().rposition(|&b| b == b'\n').map_or(want, |at| at + 1);
        append(log, &corpus[..cut.max(1)]);
    }
}
