//! A [`Plan`] as data: the JSON form `velos plan --json` prints (and REST and MCP return), its JSON Schema,
//! and reading it back.
//!
//! Specs are never serialized (they hold env values, secrets included), so a plan read back describes what
//! would be done but cannot be applied: its creates and replaces carry a spec with only the app's name.
//! [`Plan::is_applicable`] says which one a plan is.
use crate::apply::ApplyReport;
use crate::diff::FieldChange;
use crate::plan::{Action, ActionKind, ActionType, Plan, ScaleSummary};
use crate::{ActionResult, NotRunning};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use velos_config::{DesiredState, Rollout};
use velos_core::AppSpec;

/// The JSON form of a [`Plan`], field for field.
#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "Plan")]
struct PlanDocument {
    project: String,
    /// The revision of the file planned from (`file:…` or `git:…`).
    revision: String,
    /// How many apps (instances) the project declares.
    apps: usize,
    /// In the order apply carries them out.
    actions: Vec<ActionDocument>,
    scale: Vec<ScaleSummary>,
}

/// The JSON form of an [`Action`]: its type, its name, and what the type carries.
#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "PlannedAction")]
struct ActionDocument {
    action: ActionType,
    name: String,
    /// For `create` and `replace`: whether the app is then left running or stopped.
    #[serde(default)]
    #[schemars(default)]
    state: Option<DesiredState>,
    /// For `replace` and `update_in_place`: the fields that differ, old → new.
    #[serde(default)]
    #[schemars(default)]
    changes: Vec<FieldChange>,
    /// For a `replace` that rolls over the app's instances: how (absent: a plain replace).
    #[serde(default)]
    rollout: Option<Rollout>,
}

/// The JSON form of an [`ApplyReport`].
#[derive(JsonSchema)]
#[schemars(rename = "ApplyReport")]
#[allow(dead_code)] // only its schema is used
struct ReportDocument {
    /// Every action done and every wanted app running.
    ok: bool,
    results: Vec<ActionResult>,
    not_running: Vec<NotRunning>,
    /// How long the apply took, in milliseconds (0 in reports written before it was recorded).
    #[serde(default)]
    duration_ms: u64,
}

impl From<ActionDocument> for Action {
    fn from(document: ActionDocument) -> Action {
        let spec = || Box::new(AppSpec::new(&document.name, "", ""));
        let state = document.state.unwrap_or_default();
        let kind = match document.action {
            ActionType::Create => ActionKind::Create { spec: spec(), state },
            ActionType::Replace => ActionKind::Replace {
                spec: spec(),
                old_hash: String::new(),
                state,
                changes: document.changes,
                rollout: document.rollout,
            },
            ActionType::UpdateInPlace => {
                ActionKind::UpdateInPlace { spec: spec(), changes: document.changes }
            }
            ActionType::Start => ActionKind::Start,
            ActionType::Stop => ActionKind::Stop,
            ActionType::Delete => ActionKind::Delete,
        };
        Action { name: document.name, kind, depends_on: Vec::new() }
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Plan, D::Error> {
        let document = PlanDocument::deserialize(deserializer)?;
        Ok(Plan {
            project: document.project,
            revision: document.revision,
            apps: document.apps,
            actions: document.actions.into_iter().map(Action::from).collect(),
            scale: document.scale,
            desired_running: Vec::new(),
            applicable: false,
            rolling: Default::default(),
        })
    }
}

impl JsonSchema for Plan {
    fn schema_name() -> Cow<'static, str> {
        PlanDocument::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        PlanDocument::json_schema(generator)
    }
}

impl JsonSchema for ApplyReport {
    fn schema_name() -> Cow<'static, str> {
        ReportDocument::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        ReportDocument::json_schema(generator)
    }
}
