//! What the live apps ask of the schedule runner, read from one LIST: each app's `velos.cron_restart` and
//! `velos.watch` labels (written by the reconciler from velos.toml), grouped by app over its instances.
use crate::system::SYSTEM_LABEL;
use std::collections::BTreeMap;
use velos_core::{ProcessRecord, Status};
use velos_schedule::{Cron, WatchSpec, CRON_LABEL, WATCH_LABEL};

/// One instance the runner may restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub name: String,
    /// The hash the restart expects: an app replaced meanwhile is not restarted by a stale decision.
    pub spec_hash: String,
    pub status: Status,
}

impl Instance {
    /// A user's `velos stop` wins over a schedule: stopped (or stopping) instances are left alone. A
    /// completed job is run again, which is what a `cron_restart` on a one-shot job means.
    pub fn restartable(&self) -> bool {
        !matches!(self.status, Status::Stopped | Status::Stopping)
    }
}

/// One app with a schedule: `[apps.NAME]` with its instances (sorted by name).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledApp {
    /// The `app` label (the `[apps.NAME]` key), else the instance name.
    pub app: String,
    /// The expression as written, and parsed; `None` when the label is absent or no longer parses.
    pub cron: Option<(String, Cron)>,
    pub watch: Option<WatchSpec>,
    /// The app's working directory (the base of its ignore patterns).
    pub cwd: String,
    pub instances: Vec<Instance>,
}

/// The apps of `records` that have a `cron_restart` or a `watch`, by app. Velos's own apps are skipped.
pub fn scheduled_apps(records: &[ProcessRecord]) -> BTreeMap<String, ScheduledApp> {
    let mut apps: BTreeMap<String, ScheduledApp> = BTreeMap::new();
    for record in records.iter().filter(|record| has_schedule(record)) {
        let labels = &record.spec.labels;
        let app = labels.get("app").cloned().unwrap_or_else(|| record.name.clone());
        let instance = Instance {
            name: record.name.clone(),
            spec_hash: record.spec.spec_hash.clone(),
            status: record.status,
        };
        let entry = apps.entry(app.clone()).or_insert_with(|| ScheduledApp {
            app,
            cron: labels
                .get(CRON_LABEL)
                .and_then(|text| Cron::parse(text).ok().map(|cron| (text.clone(), cron))),
            watch: labels.get(WATCH_LABEL).and_then(|text| WatchSpec::from_label(text)),
            cwd: record.spec.cwd.clone(),
            instances: Vec::new(),
        });
        entry.instances.push(instance);
    }
    for app in apps.values_mut() {
        app.instances.sort_by(|a, b| a.name.cmp(&b.name));
    }
    apps.retain(|_, app| app.cron.is_some() || app.watch.is_some());
    apps
}

fn has_schedule(record: &ProcessRecord) -> bool {
    let labels = &record.spec.labels;
    labels.get(SYSTEM_LABEL).is_none_or(|value| value != "true")
        && (labels.contains_key(CRON_LABEL) || labels.contains_key(WATCH_LABEL))
}

/// Whether any of the live `records` has a `cron_restart` or a `watch`: then the controller is wanted to
/// run them (one of the predicates of [`crate::controller_wanted`]).
pub fn schedules_wanted(records: &[ProcessRecord]) -> bool {
    records.iter().any(has_schedule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::AppSpec;

    fn record(name: &str, app: &str, labels: &[(&str, &str)], status: Status) -> ProcessRecord {
        let mut spec = AppSpec::new(name, "/bin/sleep", "/srv/app").with_computed_hash();
        spec.labels.insert("app".into(), app.into());
        for (key, value) in labels {
            spec.labels.insert((*key).into(), (*value).into());
        }
        ProcessRecord::fresh(spec, status, 0)
    }

    #[test]
    fn apps_are_grouped_with_their_instances() {
        let watch = r#"{"paths":["/srv/app/src"],"debounce_ms":500}"#;
        let records = vec![
            record("plain", "plain", &[], Status::Running),
            record("web-1", "web", &[(CRON_LABEL, "0 3 * * *")], Status::Running),
            record("web-0", "web", &[(CRON_LABEL, "0 3 * * *")], Status::Stopped),
            record("api", "api", &[(WATCH_LABEL, watch)], Status::Running),
            record(
                "velos-controller",
                "velos-controller",
                &[(SYSTEM_LABEL, "true"), (CRON_LABEL, "* * * * *")],
                Status::Running,
            ),
        ];
        let apps = scheduled_apps(&records);
        assert_eq!(apps.keys().collect::<Vec<_>>(), ["api", "web"]);
        assert!(schedules_wanted(&records));
        assert!(!schedules_wanted(&records[..1]), "no schedule: no controller");
        assert!(!schedules_wanted(&records[4..]), "Velos's own apps do not count");
        let web = &apps["web"];
        assert_eq!(web.cron.as_ref().map(|(text, _)| text.as_str()), Some("0 3 * * *"));
        let names: Vec<(&str, bool)> =
            web.instances.iter().map(|instance| (instance.name.as_str(), instance.restartable())).collect();
        assert_eq!(names, [("web-0", false), ("web-1", true)]);
        assert_eq!(
            apps["api"].watch.as_ref().map(|watch| watch.paths.clone()),
            Some(vec!["/srv/app/src".into()])
        );
    }

    #[test]
    fn labels_that_do_not_read_schedule_nothing() {
        let records =
            vec![record("web", "web", &[(CRON_LABEL, "61 * * * *"), (WATCH_LABEL, "{")], Status::Running)];
        assert!(scheduled_apps(&records).is_empty());
    }
}
