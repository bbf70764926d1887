//! Template mining speed (DESIGN §8: ≥ 1M lines/s on one core; drain3 ~130k). Two corpora: a synthetic
//! log of 2M lines in three formats with random variables, and Loghub-2k's eight systems (if
//! the repository's `tests/data/loghub2k`, or `VELOS_LOGHUB2K`) repeated with their digits
//! scrambled. The library is timed in this process on one thread, the corpus in memory; `velos logs mine`
//! is timed on the synthetic file too (reading and all).
use crate::scenarios::Row;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use velos_log_engine::{FileMiner, Params};

const SYNTHETIC_LINES: usize = 2_000_000;
const LOGHUB_REPEATS: usize = 64;
const TARGET: &str = ">= 1,000,000 lines/s, one core (drain3 ~130k)";

pub fn mining_scenarios(velos: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let synthetic = synthetic_log(SYNTHETIC_LINES);
    rows.push(library_row("mine 2M synthetic lines (library)", &synthetic));
    if let Some(loghub) = loghub_log() {
        rows.push(library_row("mine Loghub-2k x64, digits scrambled (library)", &loghub));
    }
    rows.push(command_row(velos, &synthetic));
    rows
}

fn lines(corpus: &[u8]) -> Vec<&[u8]> {
    corpus.split(|&byte| byte == b'\n').filter(|line| !line.is_empty()).collect()
}

/// The best of three runs, by the CPU time of this thread (the machine may be shared: wall time then
/// measures the neighbours too); the wall-clock rate is shown beside it.
fn library_row(scenario: &str, corpus: &[u8]) -> Row {
    let lines = lines(corpus);
    let (mut best_cpu, mut best_wall) = (f64::MAX, f64::MAX);
    let mut templates = 0;
    for _ in 0..3 {
        let (began, began_cpu) = (Instant::now(), thread_cpu_seconds());
        let mut miner = FileMiner::new(Params::default(), false);
        for line in &lines {
            miner.push(line);
        }
        let (mined, _, _) = miner.finish();
        best_wall = best_wall.min(began.elapsed().as_secs_f64());
        if let (Some(end), Some(start)) = (thread_cpu_seconds(), began_cpu) {
            best_cpu = best_cpu.min(end - start);
        }
        templates = mined.len();
    }
    let per_second = |seconds: f64| lines.len() as f64 / seconds / 1e6;
    let cpu = if best_cpu < f64::MAX {
        format!("{:.2} M lines/s CPU, ", per_second(best_cpu))
    } else {
        String::new()
    };
    Row {
        scenario: format!("{scenario}: {} lines, {templates} templates", lines.len()),
        figure: format!(
            "{cpu}{:.2} M lines/s wall ({:.0} MB/s)",
            per_second(best_wall),
            corpus.len() as f64 / best_wall / 1e6
        ),
        target: TARGET,
    }
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux; None elsewhere).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanoseconds / 1e9)
}

fn command_row(velos: &Path, corpus: &[u8]) -> Row {
    let scratch = tempfile::tempdir().expect("scratch");
    let file = scratch.path().join("synthetic.log");
    std::fs::write(&file, corpus).expect("synthetic log");
    let began = Instant::now();
    let status = Command::new(velos)
        .args(["logs", "mine", &file.display().to_string(), "--json"])
        .stdout(Stdio::null())
        .status()
        .expect("velos logs mine");
    let elapsed = began.elapsed().as_secs_f64();
    assert!(status.success(), "velos logs mine failed");
    Row {
        scenario: "velos logs mine FILE --json, 2M synthetic lines (reading included)".into(),
        figure: format!("{:.2} M lines/s", SYNTHETIC_LINES as f64 / elapsed / 1e6),
        target: TARGET,
    }
}

/// A small deterministic generator (xorshift), so every run mines the same log.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn synthetic_log(count: usize) -> Vec<u8> {
    const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "eve"];
    const PATHS: [&str; 4] = ["/api/items", "/api/users", "/health", "/static/app.js"];
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(count * 110);
    for n in 0..count {
        let r = random.next();
        let (hh, mm, ss, ms) = (n / 3_600_000 % 24, n / 60_000 % 60, n / 1000 % 60, n % 1000);
        let _ = match r % 10 {
            0..=3 => writeln!(
                out,
                "2026-11-30 {hh:02}:{mm:02}:{ss:02},{ms:03} INFO [http-{}] app.Http: GET {}/{} {} {}ms",
                r % 16,
                PATHS[(r >> 8) as usize % 4],
                random.below(100_000),
                [200, 200, 304, 404][(r >> 12) as usize % 4],
                random.below(900)
            ),
            4 => writeln!(
                out,
                "2026-11-30 {hh:02}:{mm:02}:{ss:02},{ms:03} WARN [pool-{}] db.Pool: slow query took {} ms on shard {}",
                r % 4,
                random.below(5000),
                random.below(64)
            ),
            5 => writeln!(
                out,
                "Nov 30 {hh:02}:{mm:02}:{ss:02} host{} sshd[{}]: session opened for user {} by (uid={})",
                r % 9,
                random.below(60_000),
                USERS[(r >> 9) as usize % 5],
                random.below(1000)
            ),
            6 => writeln!(
                out,
                r#"{{"level":{},"time":{},"pid":{},"msg":"job {} finished in {} ms","queue":"q{}"}}"#,
                [30, 30, 40, 50][(r >> 5) as usize % 4],
                1_796_000_000_000u64 + n as u64,
                random.below(60_000),
                random.below(1_000_000),
                random.below(10_000),
                r % 8
            ),
            7 => writeln!(
                out,
                "2026-11-30 {hh:02}:{mm:02}:{ss:02},{ms:03} ERROR [worker-{}] jobs.Runner: job {} failed: connection refused to 10.0.{}.{}:5432",
                r % 8,
                random.below(1_000_000),
                random.below(255),
                random.below(255)
            ),
            _ => writeln!(
                out,
                "2026-11-30 {hh:02}:{mm:02}:{ss:02},{ms:03} DEBUG [cache] app.Cache: cache {} for key user:{} ({} entries, {} KB)",
                ["hit", "miss"][(r >> 7) as usize % 2],
                random.below(1_000_000),
                random.below(100_000),
                random.below(4096)
            ),
        };
    }
    out
}

fn loghub_log() -> Option<Vec<u8>> {
    let dir = std::env::var_os("VELOS_LOGHUB2K")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/loghub2k"));
    let systems = ["Android", "BGL", "HDFS", "HPC", "Hadoop", "Linux", "Spark", "Zookeeper"];
    let mut base = Vec::new();
    for system in systems {
        base.extend(std::fs::read(dir.join(format!("{system}/{system}_2k.log"))).ok()?);
        if base.last() != Some(&b'\n') {
            base.push(b'\n');
        }
    }
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::with_capacity(base.len() * LOGHUB_REPEATS);
    for _ in 0..LOGHUB_REPEATS {
        out.extend(
            base.iter().map(|&byte| if byte.is_ascii_digit() { b'0' + random.below(10) as u8 } else { byte }),
        );
    }
    Some(out)
}
