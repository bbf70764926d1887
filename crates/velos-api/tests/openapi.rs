//! The checked-in `schemas/openapi.json` is the document the server serves (issue 10: a test fails when it
//! is stale), and the document hangs together: every `$ref` resolves, every route has an operation id.
use std::path::{Path, PathBuf};

const BLESS_HINT: &str = "run VELOS_BLESS=1 cargo test -p velos-api --test openapi to regenerate";

fn checked_in_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/openapi.json")
}

#[test]
fn checked_in_openapi_is_up_to_date() {
    let generated = velos_api::openapi_json();
    let path = checked_in_path();
    if std::env::var_os("VELOS_BLESS").is_some_and(|value| value == "1") {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        return;
    }
    let checked_in = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}; {BLESS_HINT}", path.display()));
    assert!(checked_in == generated, "{} is stale; {BLESS_HINT}", path.display());
}

fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                found.push(target.clone());
            }
            map.values().for_each(|child| refs(child, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|child| refs(child, found)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_operation_is_named() {
    let document: serde_json::Value = serde_json::from_str(&velos_api::openapi_json()).expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {target}"));
        assert!(document.pointer(pointer).is_some(), "unresolved $ref {target}");
    }
    let mut ids = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no id"));
            ids.push(id.to_string());
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique");
}
