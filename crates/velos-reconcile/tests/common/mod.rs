//! Builders for desired projects and live records, shared by the tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use velos_config::{DesiredApp, DesiredState, InPlace, Project};
use velos_core::{AppSpec, ProcessRecord, Status};
use velos_reconcile::testing::{FakeDaemon, ManualClock};
use velos_reconcile::{apply_with_clock, plan, ApplyOptions, ApplyReport, Daemon};

/// One desired app, built up field by field.
#[derive(Debug, Clone)]
pub struct App {
    pub spec: AppSpec,
    pub app: String,
    pub instance: u32,
    pub state: DesiredState,
    pub depends_on: Vec<String>,
    pub in_place: InPlace,
    pub rollout: velos_config::Rollout,
    env: BTreeMap<String, String>,
}

/// `/bin/sleep 3600` in `/srv/NAME`, with a PATH.
pub fn app(name: &str) -> App {
    let mut spec = AppSpec::new(name, "/bin/sleep", format!("/srv/{name}"));
    spec.args = vec!["3600".into()];
    App {
        spec,
        app: name.into(),
        instance: 0,
        state: DesiredState::Running,
        depends_on: Vec::new(),
        in_place: InPlace::default(),
        rollout: velos_config::Rollout::default(),
        env: BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string())]),
    }
}

/// `count` instances of `name`: `name` alone for 1, else `name-0`, `name-1`, ... with VELOS_INSTANCE.
pub fn instances(name: &str, count: u32) -> Vec<App> {
    if count == 1 {
        return vec![app(name)];
    }
    (0..count)
        .map(|index| {
            let mut instance = app(name).env("VELOS_INSTANCE", &index.to_string());
            instance.spec.name = format!("{name}-{index}");
            instance.instance = index;
            instance
        })
        .collect()
}

impl App {
    pub fn env(mut self, key: &str, value: &str) -> App {
        self.env.insert(key.into(), value.into());
        self
    }
    pub fn unset_env(mut self, key: &str) -> App {
        self.env.remove(key);
        self
    }
    pub fn command(mut self, command: &str) -> App {
        self.spec.command = command.into();
        self
    }
    pub fn args(mut self, args: &[&str]) -> App {
        self.spec.args = args.iter().map(|arg| arg.to_string()).collect();
        self
    }
    pub fn cwd(mut self, cwd: &str) -> App {
        self.spec.cwd = cwd.into();
        self
    }
    pub fn stopped(mut self) -> App {
        self.state = DesiredState::Stopped;
        self
    }
    pub fn depends_on(mut self, names: &[&str]) -> App {
        self.depends_on = names.iter().map(|name| name.to_string()).collect();
        self.depends_on.sort();
        self
    }
    pub fn max_memory(mut self, bytes: u64) -> App {
        self.in_place.max_memory_bytes = Some(bytes);
        self
    }
    pub fn log_timestamps(mut self) -> App {
        self.in_place.log_timestamps = true;
        self
    }
    pub fn kill_timeout_ms(mut self, milliseconds: u64) -> App {
        self.spec.kill_timeout_ms = milliseconds;
        self
    }
    pub fn with_in_place(mut self, change: impl FnOnce(&mut velos_config::InPlace)) -> App {
        change(&mut self.in_place);
        self
    }
    pub fn rollout(mut self, strategy: velos_config::Strategy, max_unavailable: u32) -> App {
        self.rollout = velos_config::Rollout { strategy, max_unavailable };
        self
    }
    pub fn min_uptime_ms(mut self, milliseconds: u64) -> App {
        self.spec.min_uptime_ms = milliseconds;
        self
    }
    pub fn with(mut self, change: impl FnOnce(&mut AppSpec)) -> App {
        change(&mut self.spec);
        self
    }
}

/// A project as velos-config resolves one: sorted, labelled, hashed.
pub fn project(name: &str, apps: impl IntoIterator<Item = App>) -> Project {
    project_at(name, "file:3f9a0c1d22334455", apps)
}

pub fn project_at(name: &str, revision: &str, apps: impl IntoIterator<Item = App>) -> Project {
    let mut desired: Vec<DesiredApp> = apps
        .into_iter()
        .map(|app| {
            let mut spec = app.spec;
            spec.env = app.env.iter().map(|(key, value)| format!("{key}={value}")).collect();
            spec.labels = BTreeMap::from([
                ("project".to_string(), name.to_string()),
                ("app".to_string(), app.app.clone()),
                ("instance".to_string(), app.instance.to_string()),
                ("source_rev".to_string(), revision.to_string()),
            ]);
            spec.spec_hash = spec.compute_hash();
            DesiredApp {
                spec,
                app: app.app,
                instance: app.instance,
                state: app.state,
                depends_on: app.depends_on,
                conditions: Default::default(),
                in_place: app.in_place,
                rollout: app.rollout,
            }
        })
        .collect();
    desired.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    Project {
        name: name.into(),
        file: PathBuf::from(format!("/srv/{name}/velos.toml")),
        revision: revision.into(),
        apps: desired,
        controller: None,
        on_failure: velos_config::OnFailure::Report,
    }
}

/// Options for tests: wait, a short timeout (virtual time anyway).
pub fn options() -> ApplyOptions {
    ApplyOptions { wait: true, timeout: Duration::from_secs(5), poll_interval: Duration::from_millis(10) }
}

/// Plans `project` against `daemon` and applies it with a manual clock.
pub fn converge(project: &Project, daemon: &mut FakeDaemon) -> ApplyReport {
    let live = daemon.list().expect("list");
    let plan = plan(project, &live).expect("plan");
    apply_with_clock(&plan, daemon, options(), &mut ManualClock::new(), &mut |_| {})
}

/// The live records of a host that has applied `project` and settled.
pub fn live(project: &Project) -> Vec<ProcessRecord> {
    let mut daemon = FakeDaemon::new();
    let report = converge(project, &mut daemon);
    assert!(report.ok(), "{report:?}");
    daemon.list().expect("list")
}

/// `records` with `name`'s status set (pid 0 when at rest).
pub fn set_status(mut records: Vec<ProcessRecord>, name: &str, status: Status) -> Vec<ProcessRecord> {
    let record = records.iter_mut().find(|record| record.name == name).expect("no such record");
    record.status = status;
    if status.is_at_rest() {
        record.pid = 0;
    }
    if status == Status::Errored {
        record.last_error = Some("too many restarts (exit code 1)".into());
    }
    records
}
