//! patch over the fake daemon: a merge patch is checked against the revision the caller read, validated,
//! written and applied under the edit lock; a stale revision or an invalid result writes nothing.
mod common;

use common::{Host, SHOP};
use serde_json::json;
use velos_ops::{ApplyRequest, ApplySource, OpErrorKind, PatchRequest, WaitOptions};

fn applied_shop(host: &Host) -> std::path::PathBuf {
    let file = host.file("shop/velos.toml", SHOP);
    let request = ApplyRequest {
        source: ApplySource::File { path: file.clone() },
        wait: WaitOptions::default(),
        force_local: false,
    };
    host.ops.apply(request).unwrap_or_else(|error| panic!("{error:?}"));
    file
}

fn patch(patch: serde_json::Value, expected_revision: Option<String>) -> PatchRequest {
    PatchRequest { project: "shop".into(), patch, expected_revision, wait: WaitOptions::default() }
}

fn hashes(host: &Host) -> Vec<(String, String)> {
    let records = host.fake.lock().daemon.records();
    records.into_iter().map(|record| (record.name, record.spec.spec_hash)).collect()
}

#[test]
fn a_patch_at_the_current_revision_is_written_and_replaces_only_its_app() {
    let host = Host::running();
    let file = applied_shop(&host);
    let before = hashes(&host);
    let revision = velos_config::revision(&std::fs::read(&file).expect("read"));
    let outcome = host
        .ops
        .patch(patch(json!({"apps": {"web": {"env": {"PORT": "8081"}}}}), Some(revision.clone())))
        .unwrap_or_else(|error| panic!("{error:?}"));
    assert_eq!(outcome.previous_revision, revision);
    assert_ne!(outcome.revision, revision);
    let written = std::fs::read_to_string(&file).expect("read");
    assert!(written.contains("env = { PORT = \"8081\" }"), "{written}");
    let after = hashes(&host);
    let changed: Vec<&str> = after
        .iter()
        .filter(|(name, hash)| before.iter().any(|(old, old_hash)| old == name && old_hash != hash))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(changed, ["web"], "only web was replaced");
    assert!(outcome.apply.is_some_and(|applied| applied.report.ok()));
}

#[test]
fn a_stale_revision_or_an_invalid_result_writes_nothing() {
    let host = Host::running();
    let file = applied_shop(&host);
    let stale = host
        .ops
        .patch(patch(json!({"apps": {"web": {"env": {"PORT": "1"}}}}), Some("file:0000000000000000".into())))
        .expect_err("a stale revision is refused");
    assert_eq!(stale.kind, OpErrorKind::Stale);
    let invalid = host
        .ops
        .patch(patch(json!({"apps": {"web": {"restart": "sometimes"}}}), None))
        .expect_err("an invalid file is refused");
    assert_eq!(invalid.kind, OpErrorKind::InvalidInput);
    assert!(!invalid.diagnostics.is_empty(), "file:line:col diagnostics: {invalid:?}");
    let not_a_patch = host.ops.patch(patch(json!(42), None)).expect_err("a number is not a patch");
    assert_eq!(not_a_patch.kind, OpErrorKind::InvalidInput);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), SHOP, "nothing was written");
}

#[test]
fn an_unchanged_text_applies_nothing() {
    let host = Host::running();
    let file = applied_shop(&host);
    let source = std::fs::read_to_string(&file).expect("read");
    let outcome = host.ops.patch(patch(json!(source), None)).unwrap_or_else(|error| panic!("{error:?}"));
    assert_eq!(outcome.revision, outcome.previous_revision);
    assert!(outcome.apply.is_none());
}
