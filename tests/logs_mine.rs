//! `velos logs mine FILE`: the real binary, no daemon. Grouping accuracy on Loghub-2k through the command
//! itself (Zhu et al., ICSE-SEIP 2019; data: Loghub, Zhu et al. ISSRE 2023 / Jiang et al. ISSTA 2024), and
//! the bad inputs a log file can hold.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use velos_e2e::Velos;

fn labels(velos: &Velos, file: &std::path::Path) -> Vec<String> {
    velos.ok(&["logs", "mine", file.to_str().unwrap(), "--labels"]).lines().map(str::to_string).collect()
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

#[test]
fn labels_give_one_id_per_line_in_order() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let text = "user 1 logged in\nuser 22 logged in\n\ndisk full on /dev/sda1\nuser 333 logged in";
    let file = write(&dir, "app.log", text.as_bytes());
    let ids = labels(&velos, &file);
    assert_eq!(ids.len(), 5, "a last line without newline counts, an empty line too: {ids:?}");
    assert_eq!((&ids[0], &ids[1]), (&ids[4], &ids[4]), "{ids:?}");
    assert_ne!(ids[0], ids[3]);
    assert!(ids.iter().all(|id| id.starts_with('t')), "{ids:?}");

    let json: serde_json::Value =
        serde_json::from_str(&velos.ok(&["logs", "mine", file.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(json["lines"], 5);
    let top = &json["templates"][0];
    assert_eq!((top["count"].as_u64(), top["template"].as_str()), (Some(3), Some("user <*> logged in")));
    assert_eq!(top["template_id"].as_str(), Some(ids[0].as_str()));
}

#[test]
fn binary_invalid_utf8_and_a_10_mb_line_without_newline_are_mined() {
    let velos = Velos::new();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    bytes.extend_from_slice(b"\ncaf\xc3\x28 \xff\xfe invalid utf-8\n");
    bytes.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    let file = write(&dir, "bad.log", &bytes);
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(labels(&velos, &file).len(), newlines + 1);
    let table = velos.ok(&["logs", "mine", file.to_str().unwrap()]);
    assert!(!table.contains('\u{1b}'), "no terminal escapes from binary input");
}

#[test]
fn an_unreadable_file_is_an_error_with_a_hint() {
    let velos = Velos::new();
    let stderr = velos.fails(&["logs", "mine", "/nonexistent/app.log"]);
    assert!(stderr.contains("error: could not read /nonexistent/app.log"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

/// The true EventId of each raw line of `system`: the `.events` file (one per line) kept in the repository,
/// else Loghub's own `*_structured.csv`.
fn truth_of(dir: &std::path::Path, system: &str) -> Vec<String> {
    let events = dir.join(format!("{system}/{system}_2k.events"));
    if let Ok(text) = std::fs::read_to_string(&events) {
        return text.lines().map(str::to_string).collect();
    }
    let csv = dir.join(format!("{system}/{system}_2k.log_structured.csv"));
    event_ids(&std::fs::read_to_string(&csv).unwrap_or_else(|error| panic!("{}: {error}", csv.display())))
}

/// The true EventId of each line of a Loghub `*_structured.csv` (quoted fields may hold commas and `""`).
fn event_ids(csv: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for line in csv.lines().skip(1) {
        let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        fields.push(field);
        ids.push(fields[fields.len() - 2].clone());
    }
    ids
}

/// A line counts when its predicted group holds exactly the lines of its true group.
fn grouping_accuracy(truth: &[String], predicted: &[String]) -> f64 {
    let mut truth_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut predicted_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (line, (t, p)) in truth.iter().zip(predicted).enumerate() {
        truth_groups.entry(t).or_default().push(line);
        predicted_groups.entry(p).or_default().push(line);
    }
    let correct: usize = predicted_groups
        .values()
        .filter(|lines| truth_groups[truth[lines[0]].as_str()] == **lines)
        .map(Vec::len)
        .sum();
    correct as f64 / truth.len() as f64
}

#[test]
fn grouping_accuracy_of_the_command_on_loghub_2k() {
    // The samples kept in the repository (tests/data/loghub2k/README.md), or another folder of the same shape.
    let dir = std::env::var_os("VELOS_LOGHUB2K")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/loghub2k"));
    assert!(dir.is_dir(), "{} is missing: the accuracy test must never be skipped", dir.display());
    let velos = Velos::new();
    let mut scores = Vec::new();
    for system in ["Android", "BGL", "HDFS", "HPC", "Hadoop", "Linux", "Spark", "Zookeeper"] {
        let raw = dir.join(format!("{system}/{system}_2k.log"));
        let truth = truth_of(&dir, system);
        let predicted = labels(&velos, &raw);
        assert_eq!(predicted.len(), truth.len(), "{system}");
        let ga = grouping_accuracy(&truth, &predicted);
        eprintln!("| {system} | {ga:.3} |");
        scores.push(ga);
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    eprintln!("| mean | {mean:.3} |");
    assert!(mean >= 0.93 && scores.iter().all(|&ga| ga >= 0.80), "{scores:?}");
}
