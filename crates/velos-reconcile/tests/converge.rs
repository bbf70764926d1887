//! The reconciler's promise, as a property: for any desired set and any live set, applying the plan and
//! planning again gives an empty plan; no create ever targets an existing name; other projects' apps are
//! never touched.
mod common;

use common::{app, options, project, App};
use proptest::prelude::*;
use velos_core::{ProcessRecord, Status};
use velos_reconcile::testing::{record_for, FakeDaemon, ManualClock};
use velos_reconcile::{apply_with_clock, plan, render, Daemon, Outcome};

const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
const STATUSES: [Status; 7] = [
    Status::Starting,
    Status::Running,
    Status::Stopping,
    Status::Stopped,
    Status::Waiting,
    Status::Errored,
    Status::Unknown,
];

/// The knobs of one app; small ranges so that desired and live often agree.
#[derive(Debug, Clone)]
struct Knobs {
    command: u8,
    port: u8,
    token: u8,
    memory: u8,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (0..2u8, 0..3u8, 0..2u8, 0..3u8).prop_map(|(command, port, token, memory)| Knobs {
        command,
        port,
        token,
        memory,
    })
}

fn build(name: &str, knobs: &Knobs) -> App {
    let mut built = app(name)
        .command(if knobs.command == 0 { "/bin/sleep" } else { "/usr/bin/sleep" })
        .env("PORT", &(8080 + u32::from(knobs.port)).to_string())
        .env("API_TOKEN", &format!("secret-{}", knobs.token));
    if knobs.memory > 0 {
        built = built.max_memory(u64::from(knobs.memory) << 28);
    }
    built
}

#[derive(Debug, Clone)]
struct Desired {
    knobs: Knobs,
    stopped: bool,
    /// Bit i: depends on NAMES[i] (kept only for lower names that are desired: no cycles).
    depends_mask: u8,
}

#[derive(Debug, Clone)]
struct Live {
    knobs: Knobs,
    status: usize,
    /// 0: this project; 1: another project; 2: no project label.
    owner: u8,
}

fn desired() -> impl Strategy<Value = Desired> {
    (knobs(), any::<bool>(), any::<u8>()).prop_map(|(knobs, stopped, depends_mask)| Desired {
        knobs,
        stopped,
        depends_mask,
    })
}

fn live() -> impl Strategy<Value = Live> {
    (knobs(), 0..STATUSES.len(), prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)])
        .prop_map(|(knobs, status, owner)| Live { knobs, status, owner })
}

fn setup(
    desired_apps: &[Option<Desired>],
    live_apps: &[Option<Live>],
) -> (velos_config::Project, Vec<ProcessRecord>) {
    let mut apps = Vec::new();
    for (index, wanted) in desired_apps.iter().enumerate() {
        let Some(wanted) = wanted else { continue };
        let depends: Vec<&str> = (0..index)
            .filter(|&other| wanted.depends_mask & (1 << other) != 0 && desired_apps[other].is_some())
            .map(|other| NAMES[other])
            .collect();
        let mut built = build(NAMES[index], &wanted.knobs).depends_on(&depends);
        if wanted.stopped {
            built = built.stopped();
        }
        apps.push(built);
    }
    let shop = project("shop", apps);
    let mut records = Vec::new();
    for (index, live) in live_apps.iter().enumerate() {
        let Some(live) = live else { continue };
        let name = NAMES[index];
        // Another project may not hold a name this one wants (that is a plan error, tested elsewhere).
        let owner = if desired_apps[index].is_some() { 0 } else { live.owner };
        let as_project = project(if owner == 1 { "blog" } else { "shop" }, [build(name, &live.knobs)]);
        let mut spec = as_project.apps[0].spec.clone();
        if owner == 2 {
            spec.labels.clear();
        }
        if live.knobs.memory > 0 {
            spec.max_memory_bytes = u64::from(live.knobs.memory) << 28;
        }
        let status = STATUSES[live.status];
        let pid = if status.is_at_rest() { 0 } else { 100 + u32::try_from(index).unwrap_or(0) };
        records.push(record_for(&spec, status, pid));
    }
    (shop, records)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn apply_then_plan_is_empty(
        desired_apps in proptest::collection::vec(proptest::option::of(desired()), NAMES.len()),
        live_apps in proptest::collection::vec(proptest::option::of(live()), NAMES.len()),
    ) {
        let (shop, records) = setup(&desired_apps, &live_apps);
        let foreign: Vec<ProcessRecord> =
            records.iter().filter(|record| velos_reconcile::project_of(record) != Some("shop")).cloned().collect();
        let mut daemon = FakeDaemon::with_records(records.clone());
        let first = plan(&shop, &records).expect("plan");
        let report = apply_with_clock(&first, &mut daemon, options(), &mut ManualClock::new(), &mut |_| {});
        for result in &report.results {
            prop_assert_eq!(&result.outcome, &Outcome::Done, "{} {}", result.action.as_str(), result.name);
        }
        prop_assert!(daemon.creates_of_existing.is_empty(), "create of existing: {:?}", daemon.creates_of_existing);
        for record in &foreign {
            prop_assert!(
                daemon.requests.iter().all(|request| request.name() != record.name),
                "touched {} of another project", record.name
            );
            prop_assert_eq!(daemon.record(&record.name).map(|r| &r.spec), Some(&record.spec));
        }
        let after = daemon.list().expect("list");
        let second = plan(&shop, &after).expect("plan");
        prop_assert!(second.is_empty(), "first:\n{}\nsecond:\n{}", render(&first, false), render(&second, false));
    }
}
