//! App addressing, the same for every verb: `api` is every instance of app `api`, `api-0` one instance
//! (read and restart verbs), `all` every app; an unknown name is `not_found` with the close names.
use crate::error::{ErrorDetail, OpError, OpErrorKind};
use velos_core::ProcessRecord;
use velos_reconcile::labels;

/// Addresses every app (not Velos's own unless asked).
pub const ALL: &str = "all";
/// The label of the apps Velos runs for itself (the controller): `velos.system=true`.
pub const SYSTEM_LABEL: &str = "velos.system";

/// What a name addresses among the live apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `all`: these apps' records, sorted by name.
    All(Vec<String>),
    /// An app by its name: its instances (the record names), sorted.
    App { app: String, instances: Vec<String> },
    /// One instance of an app with several.
    Instance { app: String, name: String },
}

impl Address {
    /// The record names addressed.
    pub fn names(&self) -> Vec<String> {
        match self {
            Address::All(names) => names.clone(),
            Address::App { instances, .. } => instances.clone(),
            Address::Instance { name, .. } => vec![name.clone()],
        }
    }
}

/// The `[apps.NAME]` key a record belongs to: its `app` label, else its own name.
pub fn app_of(record: &ProcessRecord) -> &str {
    record.spec.labels.get(labels::APP).map_or(record.name.as_str(), String::as_str)
}

/// An app Velos runs for itself (`velos-controller`).
pub fn is_system(record: &ProcessRecord) -> bool {
    record.spec.labels.get(SYSTEM_LABEL).is_some_and(|value| value == "true")
}

/// Resolves `name` among `live` (read and restart verbs). `all` covers the user's apps, not Velos's own.
pub fn resolve(name: &str, live: &[ProcessRecord]) -> Result<Address, OpError> {
    if name == ALL {
        let mut names: Vec<String> =
            live.iter().filter(|record| !is_system(record)).map(|record| record.name.clone()).collect();
        names.sort();
        return Ok(Address::All(names));
    }
    let mut instances: Vec<String> =
        live.iter().filter(|record| app_of(record) == name).map(|record| record.name.clone()).collect();
    instances.sort();
    if !instances.is_empty() {
        return Ok(Address::App { app: name.to_string(), instances });
    }
    if let Some(record) = live.iter().find(|record| record.name == name) {
        return Ok(Address::Instance { app: app_of(record).to_string(), name: name.to_string() });
    }
    let known = live.iter().flat_map(|record| [record.name.as_str(), app_of(record)]);
    Err(no_such_app(name, known))
}

/// `no app named "x"`, with up to three close names of `known` as did-you-mean candidates.
pub fn no_such_app<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> OpError {
    let candidates = close_names(name, known);
    let hint = match candidates.as_slice() {
        [] => "velos list shows the apps".to_string(),
        [only] => format!("did you mean `{only}`? velos list shows the apps"),
        several => format!(
            "did you mean one of {}? velos list shows the apps",
            several.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
        ),
    };
    OpError::new(OpErrorKind::NotFound, format!("no app named {name:?}"))
        .hint(hint)
        .detail(ErrorDetail::NotFound { what: "app".into(), name: name.to_string(), candidates })
}

/// The names of `known` close to `name` (edit distance ≤ 2, or ⅓ of the name; or a prefix of 3+ chars),
/// closest first, at most three, without duplicates.
pub fn close_names<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let limit = (name.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, String)> = Vec::new();
    for candidate in known {
        if candidate == name || scored.iter().any(|(_, seen)| seen == candidate) {
            continue;
        }
        let distance = strsim::damerau_levenshtein(name, candidate);
        let prefix = name.len() >= 3 && candidate.starts_with(name);
        if distance <= limit || prefix {
            scored.push((if prefix { distance.min(limit) } else { distance }, candidate.to_string()));
        }
    }
    scored.sort();
    scored.into_iter().take(3).map(|(_, candidate)| candidate).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::{AppSpec, Status};

    fn record(name: &str, app: Option<&str>) -> ProcessRecord {
        let mut spec = AppSpec::new(name, "/bin/sleep", "/");
        if let Some(app) = app {
            spec.labels.insert(labels::APP.into(), app.into());
        }
        ProcessRecord::fresh(spec, Status::Running, 1)
    }

    fn live() -> Vec<ProcessRecord> {
        let mut controller = record("velos-controller", None);
        controller.spec.labels.insert(SYSTEM_LABEL.into(), "true".into());
        vec![
            record("api-1", Some("api")),
            record("api-0", Some("api")),
            record("web", Some("web")),
            controller,
        ]
    }

    #[test]
    fn an_app_is_all_its_instances_and_an_instance_is_one() {
        let live = live();
        assert_eq!(
            resolve("api", &live).expect("app"),
            Address::App { app: "api".into(), instances: vec!["api-0".into(), "api-1".into()] }
        );
        assert_eq!(
            resolve("api-1", &live).expect("instance"),
            Address::Instance { app: "api".into(), name: "api-1".into() }
        );
        assert_eq!(resolve("web", &live).expect("app").names(), ["web"]);
        assert_eq!(resolve("all", &live).expect("all").names(), ["api-0", "api-1", "web"], "not Velos's own");
    }

    #[test]
    fn an_unknown_name_gets_did_you_mean() {
        let error = resolve("wbe", &live()).expect_err("unknown");
        assert_eq!(error.kind, OpErrorKind::NotFound);
        assert_eq!(error.hint_text(), Some("did you mean `web`? velos list shows the apps"));
        let Some(ErrorDetail::NotFound { candidates, .. }) = error.detail.as_deref() else {
            panic!("{error:?}")
        };
        assert_eq!(candidates, &["web"]);
        let error = resolve("zzzzzz", &live()).expect_err("unknown");
        assert_eq!(error.hint_text(), Some("velos list shows the apps"));
        assert_eq!(close_names("ap", ["api", "api-0", "web"]), ["api"]);
    }
}
