//! Fuzzing the velos.toml loader (proptest; `make fuzz` runs many more cases with PROPTEST_CASES):
//! - whatever the bytes, `parse` returns a project or errors, never panics, and every error points inside
//!   the file;
//! - whatever numbers a file holds, what `parse` accepts is within the ranges the daemon accepts
//!   (velos_core::limits): a file `velos validate` passes can never be refused, or crash, at apply.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
use proptest::prelude::*;
use std::path::Path;
use velos_core::limits;

/// A file from examples/, cut and spliced: near-valid TOML reaches the deeper checks.
fn mutated_example() -> impl Strategy<Value = String> {
    let examples: Vec<String> = ["minimal", "quickstart", "web-and-worker", "instances"]
        .iter()
        .filter_map(|name| {
            std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name).join("velos.toml"),
            )
            .ok()
        })
        .collect();
    assert!(!examples.is_empty(), "examples/ not found");
    (0..examples.len(), any::<prop::sample::Index>(), any::<prop::sample::Index>(), ".{0,40}").prop_map(
        move |(which, cut, resume, inserted)| {
            let text = &examples[which];
            let boundary = |index: prop::sample::Index| {
                let mut at = index.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                at
            };
            let (cut, resume) = (boundary(cut), boundary(resume));
            format!("{}{inserted}{}", &text[..cut], &text[resume.max(cut)..])
        },
    )
}

/// Any number a user could write for a key, as TOML: small, at the edges, huge, negative, or a unit string.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|number| number.to_string()),
        (0u64..=2_000).prop_map(|number| number.to_string()),
        any::<u64>().prop_map(|number| format!("\"{number}ms\"")),
        (0u64..=100, prop::sample::select(vec!["ms", "s", "m", "h", "d"]))
            .prop_map(|(n, unit)| format!("\"{n}{unit}\"")),
        (0u64..=2_000, prop::sample::select(vec!["", "K", "M", "G", "T", "KiB"]))
            .prop_map(|(n, unit)| format!("\"{n}{unit}\"")),
    ]
}

const NUMERIC_KEYS: &[&str] = &[
    "instances",
    "max_restarts",
    "restart_window",
    "min_uptime",
    "kill_timeout",
    "kill_signal",
    "max_memory",
    "backoff.initial",
    "backoff.max",
    "log.max_size",
    "log.max_files",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_a_project_or_errors_never_a_panic(text in prop_oneof![mutated_example(), ".{0,300}"]) {
        if let Err(error) = velos_config::parse(&text, Path::new("velos.toml")) {
            let rendered = error.render();
            prop_assert!(rendered.starts_with("error"), "{rendered}");
        }
    }

    #[test]
    fn whatever_validate_accepts_the_daemon_accepts(
        values in prop::collection::vec((prop::sample::select(NUMERIC_KEYS), number_text()), 1..6)
    ) {
        let mut file = String::from("[apps.web]\ncommand = \"/bin/sleep\"\n");
        let mut seen = Vec::new();
        for (key, value) in &values {
            if seen.contains(key) {
                continue; // a duplicate key is another error
            }
            seen.push(*key);
            file.push_str(&format!("{key} = {value}\n"));
        }
        let Ok(project) = velos_config::parse(&file, Path::new("velos.toml")) else { return Ok(()) };
        for app in &project.apps {
            let spec = &app.spec;
            prop_assert!(limits::MAX_RESTARTS.contains(&spec.max_restarts), "{file}");
            prop_assert!(limits::RESTART_WINDOW_MS.contains(&spec.restart_window_ms), "{file}");
            prop_assert!(limits::BACKOFF_MS.contains(&spec.backoff_initial_ms), "{file}");
            prop_assert!(limits::BACKOFF_MS.contains(&spec.backoff_max_ms), "{file}");
            prop_assert!(spec.backoff_initial_ms <= spec.backoff_max_ms, "{file}");
            prop_assert!(limits::MIN_UPTIME_MS.contains(&spec.min_uptime_ms), "{file}");
            prop_assert!(limits::KILL_TIMEOUT_MS.contains(&spec.kill_timeout_ms), "{file}");
            prop_assert!(limits::KILL_SIGNAL.contains(&spec.kill_signal), "{file}");
            if let Some(bytes) = app.in_place.max_memory_bytes {
                prop_assert!(limits::MAX_MEMORY_BYTES.contains(&bytes), "{file}");
            }
            if let Some(bytes) = app.in_place.log_max_size_bytes {
                prop_assert!(limits::LOG_MAX_SIZE_BYTES.contains(&bytes), "{file}");
            }
            if let Some(files) = app.in_place.log_max_files {
                prop_assert!(limits::LOG_MAX_FILES.contains(&files), "{file}");
            }
        }
        prop_assert!(limits::INSTANCES.contains(&(project.apps.len() as u32)), "{file}");
    }
}
