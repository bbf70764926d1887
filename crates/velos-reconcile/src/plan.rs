//! The pure planner: what must change so that the host runs what one project's file says.
//!
//! `plan(project, live)` pairs desired and live apps by name (a join, as Argo's gitops-engine does), decides
//! one or two actions per name, and sorts them in a total order. It reads no clock and does no IO: the same
//! inputs give the same plan, byte for byte, which the snapshot tests hold it to.
use crate::diff::{
    desired_in_place, in_place_changes, live_depends_on, live_in_place, spec_changes, spec_to_send,
    FieldChange,
};
use serde::{Serialize, Serializer};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use velos_config::{DesiredApp, DesiredState, Project, Rollout};
use velos_core::{AppSpec, ProcessRecord, Status};

/// What `plan` found to do, in the order `apply` does it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub project: String,
    /// The revision of the file planned from (`file:…` or `git:…`).
    pub revision: String,
    /// How many apps (instances) the project declares.
    pub apps: usize,
    pub actions: Vec<Action>,
    /// Apps whose instance count changes; the instances themselves are creates and deletes in `actions`.
    pub scale: Vec<ScaleSummary>,
    /// Every app the project wants running, sorted: what `apply` waits for.
    #[serde(skip)]
    pub desired_running: Vec<String>,
    /// Made by [`plan`] from a project (its actions carry the specs to send), not read back from JSON.
    #[serde(skip)]
    pub(crate) applicable: bool,
    /// The desired instance of each replace that rolls: what apply's readiness checks are asked about.
    #[serde(skip)]
    pub(crate) rolling: BTreeMap<String, DesiredApp>,
}

impl Plan {
    /// Whether [`crate::apply()`] can carry this plan out: false for a plan read back from its JSON form,
    /// whose specs were left out (see `plan_document.rs`).
    pub fn is_applicable(&self) -> bool {
        self.applicable
    }

    /// Nothing to do: the host runs what the file says.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// How many actions of each type, in [`ActionType::ALL`] order.
    pub fn counts(&self) -> [(ActionType, usize); 6] {
        ActionType::ALL
            .map(|kind| (kind, self.actions.iter().filter(|action| action.kind.kind() == kind).count()))
    }

    /// `replace web`, `start jobs`, ... one per action, in plan order.
    pub fn describe_actions(&self) -> Vec<String> {
        self.actions.iter().map(|action| format!("{} {}", action.kind.kind().verb(), action.name)).collect()
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// The app (instance) name.
    pub name: String,
    pub kind: ActionKind,
    /// The apps this one depends on (instance names). For a forward action (create, replace, update,
    /// start), from the file; for a delete, from the live `velos.depends_on` label. `apply` skips an action
    /// when an app it depends on failed (forward), or when an app depending on it failed to stop (reverse).
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    /// The app does not exist: START with `expected_hash: ""`; then STOP if it is wanted stopped (the
    /// daemon cannot yet register an app without starting it).
    Create { spec: Box<AppSpec>, state: DesiredState },
    /// The spec hash differs: START with `replace` and `expected_hash: old_hash`; then STOP if wanted
    /// stopped. `rollout`: the app's instances roll (see [`crate::rolling`]), batch by batch.
    Replace {
        spec: Box<AppSpec>,
        old_hash: String,
        state: DesiredState,
        changes: Vec<FieldChange>,
        rollout: Option<Rollout>,
    },
    /// Same hash, in-place settings differ: see [`crate::Daemon::update_in_place`].
    UpdateInPlace { spec: Box<AppSpec>, changes: Vec<FieldChange> },
    /// Wanted running, stopped or stopping: START by name. Not for an app that completed or errored with
    /// the spec it has: that outcome stands until the spec changes or a user restarts it.
    Start,
    /// Wanted stopped, running (or starting, or waiting to restart): STOP, then wait until stopped.
    Stop,
    /// In the project's inventory, not in the file: DELETE, then wait until gone.
    Delete,
}

impl ActionKind {
    pub fn kind(&self) -> ActionType {
        match self {
            ActionKind::Create { .. } => ActionType::Create,
            ActionKind::Replace { .. } => ActionType::Replace,
            ActionKind::UpdateInPlace { .. } => ActionType::UpdateInPlace,
            ActionKind::Start => ActionType::Start,
            ActionKind::Stop => ActionType::Stop,
            ActionKind::Delete => ActionType::Delete,
        }
    }
}

/// The type of an action, without its data: `"create"`, `"replace"`, `"update_in_place"`, `"start"`,
/// `"stop"`, `"delete"` in JSON.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    Create,
    Replace,
    UpdateInPlace,
    Start,
    Stop,
    Delete,
}

impl ActionType {
    pub const ALL: [ActionType; 6] = [
        ActionType::Create,
        ActionType::Replace,
        ActionType::UpdateInPlace,
        ActionType::Start,
        ActionType::Stop,
        ActionType::Delete,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Create => "create",
            ActionType::Replace => "replace",
            ActionType::UpdateInPlace => "update_in_place",
            ActionType::Start => "start",
            ActionType::Stop => "stop",
            ActionType::Delete => "delete",
        }
    }

    /// The word in rendered plans and messages.
    pub fn verb(self) -> &'static str {
        match self {
            ActionType::UpdateInPlace => "update",
            other => other.as_str(),
        }
    }

    /// Stops and deletes run first, in reverse dependency order; the rest after, in dependency order.
    pub fn is_reverse(self) -> bool {
        matches!(self, ActionType::Stop | ActionType::Delete)
    }
}

/// `{"action": "replace", "name": "web", "state": "running", "changes": [...]}`: the type first, then the
/// name, then what the type carries (`state` for create and replace, `changes` for replace and update).
/// Specs are left out: they hold env values, secrets included.
impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("action", &self.kind.kind())?;
        map.serialize_entry("name", &self.name)?;
        match &self.kind {
            ActionKind::Create { state, .. } => map.serialize_entry("state", state)?,
            ActionKind::Replace { state, changes, rollout, .. } => {
                map.serialize_entry("state", state)?;
                map.serialize_entry("changes", changes)?;
                if let Some(rollout) = rollout {
                    map.serialize_entry("rollout", rollout)?;
                }
            }
            ActionKind::UpdateInPlace { changes, .. } => map.serialize_entry("changes", changes)?,
            ActionKind::Start | ActionKind::Stop | ActionKind::Delete => {}
        }
        map.end()
    }
}

/// An app whose instance count changes: `~ scale web: 2 → 3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ScaleSummary {
    /// The `[apps.NAME]` key.
    pub app: String,
    pub from: usize,
    pub to: usize,
}

/// Why no plan could be made. Nothing is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// App names are unique on a host: the file declares a name that a process of another project (or of
    /// no project) holds.
    #[error("{}", owned_elsewhere(name, owner.as_deref()))]
    NameOwnedElsewhere {
        name: String,
        /// The other project, or `None` for a process without a project label.
        owner: Option<String>,
    },
    /// Two desired apps with one name (velos-config prevents it; checked so the join is sound).
    #[error("the app `{name}` is declared twice")]
    DuplicateName { name: String },
    /// An app depends on one the project does not declare.
    #[error("`{name}` depends on `{dependency}`, which the project does not declare")]
    UnknownDependency { name: String, dependency: String },
    /// `depends_on` goes round in a circle; `names` are the apps on or behind the cycle.
    #[error("dependency cycle among {}", names.join(", "))]
    DependencyCycle { names: Vec<String> },
}

fn owned_elsewhere(name: &str, owner: Option<&str>) -> String {
    match owner {
        Some(owner) => format!("the app name `{name}` is already used by project `{owner}` on this host"),
        None => {
            format!("the app name `{name}` is already used on this host by a process outside any project")
        }
    }
}

/// The project a live record belongs to: its `project` label, `None` when absent or empty.
pub fn project_of(record: &ProcessRecord) -> Option<&str> {
    record.spec.labels.get(crate::labels::PROJECT).map(String::as_str).filter(|project| !project.is_empty())
}

/// Plans the changes that make `live` run what `project` declares.
///
/// - **Inventory.** A live record belongs to the project iff its `project` label is the project's name;
///   only those are ever replaced, stopped or deleted (Flux's inventory: prune only what we created).
///   A desired name held by any other record is [`PlanError::NameOwnedElsewhere`].
/// - **Decisions**, per name: absent → create; another spec hash → replace (the changed fields listed);
///   same hash, other in-place settings → update in place; wanted running and stopped or stopping → start
///   (a `completed` job or an `errored` app with an unchanged spec is left as it is: a job runs once, and a
///   self-heal pass must not restart a crash loop the daemon gave up on);
///   wanted stopped and running, starting or waiting → stop; live in the project but not declared → delete.
///   A record in a status this version does not know is left alone unless its spec changed.
/// - **Order.** Stops and deletes first, in reverse dependency waves (dependents before what they depend
///   on), then creates, replaces, updates and starts in dependency waves. A wave is the length of the
///   longest `depends_on` chain below an app; ties go by name, then by type (update before start). Stopping
///   first frees what the old apps hold (ports, a renamed app's files) before new ones start, and never
///   stops a dependency under a running dependent.
pub fn plan(project: &Project, live: &[ProcessRecord]) -> Result<Plan, PlanError> {
    let mut desired: BTreeMap<&str, &DesiredApp> = BTreeMap::new();
    for app in &project.apps {
        if desired.insert(app.spec.name.as_str(), app).is_some() {
            return Err(PlanError::DuplicateName { name: app.spec.name.clone() });
        }
    }
    let mut desired_graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (&name, app) in &desired {
        for dependency in &app.depends_on {
            if !desired.contains_key(dependency.as_str()) {
                return Err(PlanError::UnknownDependency {
                    name: name.to_string(),
                    dependency: dependency.clone(),
                });
            }
        }
        desired_graph.insert(name, app.depends_on.iter().map(String::as_str).collect());
    }
    let (_, cyclic) = waves(&desired_graph);
    if !cyclic.is_empty() {
        return Err(PlanError::DependencyCycle { names: cyclic.into_iter().map(str::to_string).collect() });
    }

    // The join. Records of other projects only matter when they hold a name we want.
    let mut inventory: BTreeMap<&str, &ProcessRecord> = BTreeMap::new();
    let mut others: BTreeMap<&str, &ProcessRecord> = BTreeMap::new();
    for record in live {
        let side =
            if project_of(record) == Some(project.name.as_str()) { &mut inventory } else { &mut others };
        side.entry(record.name.as_str()).or_insert(record);
    }
    if let Some((name, record)) = others.iter().find(|(name, _)| desired.contains_key(*name)) {
        return Err(PlanError::NameOwnedElsewhere {
            name: name.to_string(),
            owner: project_of(record).map(str::to_string),
        });
    }

    let mut instances_of: BTreeMap<&str, usize> = BTreeMap::new();
    for app in &project.apps {
        *instances_of.entry(app.app.as_str()).or_default() += 1;
    }
    let mut rolling = BTreeMap::new();
    let mut actions = Vec::new();
    for (&name, &app) in &desired {
        let mut depends_on_apps: Vec<&str> = app
            .depends_on
            .iter()
            .filter_map(|dependency| desired.get(dependency.as_str()))
            .map(|d| d.app.as_str())
            .collect();
        depends_on_apps.sort_unstable();
        depends_on_apps.dedup();
        let spec = spec_to_send(app, &depends_on_apps);
        let action = |kind| Action { name: name.to_string(), kind, depends_on: app.depends_on.clone() };
        let Some(record) = inventory.get(name) else {
            actions.push(action(ActionKind::Create { spec: Box::new(spec), state: app.state }));
            continue;
        };
        let in_place = in_place_changes(&live_in_place(&record.spec), &desired_in_place(&app.in_place));
        if record.spec.spec_hash != spec.spec_hash {
            // The replacing START carries the new in-place settings too: list them with the rest.
            let mut changes = spec_changes(&record.spec, &spec);
            changes.extend(in_place);
            let rollout =
                crate::rolling::rollout_of(app, instances_of.get(app.app.as_str()).copied().unwrap_or(1));
            if rollout.is_some() {
                rolling.insert(name.to_string(), app.clone());
            }
            actions.push(action(ActionKind::Replace {
                changes,
                old_hash: record.spec.spec_hash.clone(),
                spec: Box::new(spec),
                state: app.state,
                rollout,
            }));
            continue;
        }
        if !in_place.is_empty() {
            actions.push(action(ActionKind::UpdateInPlace { spec: Box::new(spec), changes: in_place }));
        }
        match (app.state, record.status) {
            (DesiredState::Running, Status::Stopped | Status::Stopping) => {
                actions.push(action(ActionKind::Start));
            }
            (DesiredState::Stopped, Status::Running | Status::Starting | Status::Waiting) => {
                actions.push(action(ActionKind::Stop));
            }
            _ => {}
        }
    }

    // What a live app depends on, as instance names of the inventory, from its label.
    let live_dependencies = |record: &ProcessRecord| -> Vec<String> {
        let apps = live_depends_on(&record.spec);
        inventory
            .values()
            .filter(|other| {
                other.spec.labels.get(crate::labels::APP).is_some_and(|app| apps.contains(&app.as_str()))
            })
            .map(|other| other.name.clone())
            .collect()
    };
    for (&name, record) in &inventory {
        if !desired.contains_key(name) {
            actions.push(Action {
                name: name.to_string(),
                kind: ActionKind::Delete,
                depends_on: live_dependencies(record),
            });
        }
    }

    // Waves over desired and deleted apps together, so a removed app that depended on a desired one is
    // deleted before that one stops. Live labels may be stale and even circular: tolerated here.
    let mut graph: BTreeMap<&str, Vec<&str>> = desired_graph;
    for action in actions.iter().filter(|action| matches!(action.kind, ActionKind::Delete)) {
        graph.insert(action.name.as_str(), action.depends_on.iter().map(String::as_str).collect());
    }
    let wave_of: BTreeMap<String, usize> =
        waves(&graph).0.into_iter().map(|(name, wave)| (name.to_string(), wave)).collect();
    // Nodes without a wave sit on a cycle of stale live labels: last, in name order.
    let wave = |name: &str| wave_of.get(name).copied().unwrap_or(usize::MAX);
    let rank = |action: &Action| action.kind.kind();
    let (mut reverse, mut forward): (Vec<Action>, Vec<Action>) =
        actions.into_iter().partition(|action| action.kind.kind().is_reverse());
    reverse.sort_by(|a, b| {
        (Reverse(wave(&a.name)), &a.name, rank(a)).cmp(&(Reverse(wave(&b.name)), &b.name, rank(b)))
    });
    forward.sort_by(|a, b| (wave(&a.name), &a.name, rank(a)).cmp(&(wave(&b.name), &b.name, rank(b))));
    reverse.extend(forward);

    Ok(Plan {
        project: project.name.clone(),
        revision: project.revision.clone(),
        apps: project.apps.len(),
        actions: reverse,
        scale: scale(project, &inventory),
        desired_running: desired
            .iter()
            .filter(|(_, app)| app.state == DesiredState::Running)
            .map(|(name, _)| name.to_string())
            .collect(),
        applicable: true,
        rolling,
    })
}

/// [`plan()`] of the whole project, keeping only what concerns `[apps.APP]`: the actions on its instances
/// (as the file now declares them, and as they run in the project), the scale line of `APP`, and only its
/// instances to wait for.
///
/// This is what an imperative command applies after editing one app (`velos stop web`, `velos scale web
/// 3`): other apps' pending changes in the same file are not applied behind the user's back; a later
/// `velos apply` (or `velos diff`) shows them. The whole project is still planned, so an error anywhere in
/// it (a name another project owns) is still an error.
pub fn plan_app(project: &Project, live: &[ProcessRecord], app: &str) -> Result<Plan, PlanError> {
    let mut plan = plan(project, live)?;
    let mut names: BTreeSet<&str> =
        project.instances_of(app).into_iter().map(|desired| desired.spec.name.as_str()).collect();
    for record in live.iter().filter(|record| project_of(record) == Some(project.name.as_str())) {
        let record_app =
            record.spec.labels.get(crate::labels::APP).map_or(record.name.as_str(), String::as_str);
        if record_app == app {
            names.insert(record.name.as_str());
        }
    }
    plan.actions.retain(|action| names.contains(action.name.as_str()));
    plan.desired_running.retain(|name| names.contains(name.as_str()));
    plan.scale.retain(|scale| scale.app == app);
    Ok(plan)
}

/// Apps declared and live with a different number of instances. Live instances are counted by their `app`
/// label (a record without one counts as an app of its own name).
fn scale(project: &Project, inventory: &BTreeMap<&str, &ProcessRecord>) -> Vec<ScaleSummary> {
    let mut desired: BTreeMap<&str, usize> = BTreeMap::new();
    for app in &project.apps {
        *desired.entry(app.app.as_str()).or_default() += 1;
    }
    let mut live: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, record) in inventory {
        let app = record.spec.labels.get(crate::labels::APP).map(String::as_str).unwrap_or(name);
        *live.entry(app).or_default() += 1;
    }
    desired
        .iter()
        .filter_map(|(&app, &to)| {
            let from = live.get(app).copied().unwrap_or(0);
            (from != to && from > 0).then(|| ScaleSummary { app: app.to_string(), from, to })
        })
        .collect()
}

/// The dependency wave of each node (0: depends on nothing in `graph`; else 1 + the highest wave of its
/// dependencies), by Kahn's algorithm. Nodes on or behind a cycle get no wave and are returned, sorted.
/// Edges to names outside `graph` are ignored.
fn waves<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> (BTreeMap<&'a str, usize>, Vec<&'a str>) {
    let mut waiting_on: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (&node, dependencies) in graph {
        let known: BTreeSet<&str> =
            dependencies.iter().copied().filter(|dependency| graph.contains_key(dependency)).collect();
        waiting_on.insert(node, known.len());
        for dependency in known {
            dependents.entry(dependency).or_default().push(node);
        }
    }
    let mut wave_of = BTreeMap::new();
    let mut ready: Vec<&str> =
        waiting_on.iter().filter(|(_, &count)| count == 0).map(|(&node, _)| node).collect();
    let mut wave = 0;
    while !ready.is_empty() {
        let mut next = Vec::new();
        for node in ready {
            wave_of.insert(node, wave);
            for &dependent in dependents.get(node).map(Vec::as_slice).unwrap_or_default() {
                if let Some(count) = waiting_on.get_mut(dependent) {
                    *count -= 1;
                    if *count == 0 {
                        next.push(dependent);
                    }
                }
            }
        }
        next.sort_unstable();
        ready = next;
        wave += 1;
    }
    let cyclic = graph.keys().copied().filter(|node| !wave_of.contains_key(node)).collect();
    (wave_of, cyclic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_follow_the_longest_chain() {
        let graph = BTreeMap::from([
            ("db", vec![]),
            ("cache", vec![]),
            ("api", vec!["db", "cache"]),
            ("web", vec!["api", "db"]),
            ("cron", vec!["db", "elsewhere"]),
        ]);
        let (wave_of, cyclic) = waves(&graph);
        assert!(cyclic.is_empty());
        assert_eq!(wave_of, BTreeMap::from([("api", 1), ("cache", 0), ("cron", 1), ("db", 0), ("web", 2)]));
    }

    #[test]
    fn waves_report_cycles_and_what_waits_on_them() {
        let graph = BTreeMap::from([("a", vec!["b"]), ("b", vec!["a"]), ("c", vec!["a"]), ("d", vec![])]);
        let (wave_of, cyclic) = waves(&graph);
        assert_eq!(cyclic, ["a", "b", "c"]);
        assert_eq!(wave_of, BTreeMap::from([("d", 0)]));
    }
}
