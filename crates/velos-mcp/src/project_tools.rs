//! Read tools about desired state: `project_status`, `history`, `plan`, `diff`.
use crate::budget::{clip, decode_cursor, page_forward, Budget};
use crate::host::{Failure, Host};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use velos_config::Project;
use velos_proposals::{Problem, State};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProjectStatusParams {
    /// One project; without it, every project applied on this host.
    pub project: Option<String>,
    /// Most tokens the answer may take (default 2000).
    pub budget: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectLine {
    pub project: String,
    /// The velos.toml (or git source) it comes from.
    pub source: String,
    pub revision: String,
    /// synced, progressing, out_of_sync or error.
    pub state: String,
    /// Why it is not synced.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// What agents may do beyond reading and proposing.
    pub agents_may_apply: bool,
    pub agents_may_restart: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectStatus {
    pub projects: Vec<ProjectLine>,
    pub truncated: bool,
    pub next_cursor: Option<String>,
}

pub fn project_status(host: &Host, params: &ProjectStatusParams) -> Result<ProjectStatus, Failure> {
    let start = decode_cursor(params.cursor.as_deref()).map_err(Failure::new)?.unwrap_or(0);
    let budget = Budget::tokens(params.budget);
    let statuses = host.ops.status(velos_ops::StatusRequest { all: false })?.projects;
    let policies: HashMap<String, velos_config::AgentPolicy> = host.policies().into_iter().collect();
    if let Some(project) = &params.project {
        if !statuses.iter().any(|status| &status.project == project) {
            return Err(Failure::new(format!("no project named `{project}` is applied on this host"))
                .hint("project_status without a project lists them"));
        }
    }
    let lines: Vec<ProjectLine> = statuses
        .into_iter()
        .filter(|status| params.project.as_ref().is_none_or(|project| &status.project == project))
        .map(|status| {
            let policy = policies.get(&status.project).copied().unwrap_or_default();
            ProjectLine {
                state: status.state.as_str().to_string(),
                message: clip(&status.message, budget.text_chars_max()),
                project: status.project,
                source: status.source,
                revision: status.revision,
                agents_may_apply: policy.apply,
                agents_may_restart: policy.restart,
            }
        })
        .collect();
    let page = page_forward(lines, start, budget, 0);
    Ok(ProjectStatus { projects: page.items, truncated: page.truncated, next_cursor: page.next_cursor })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct HistoryParams {
    /// One project's applies; without it, all.
    pub project: Option<String>,
    /// Most tokens the answer may take (default 2000).
    pub budget: Option<u32>,
    /// `next_cursor` of the previous answer: older applies.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryLine {
    pub seq: u64,
    pub project: String,
    pub revision: String,
    pub time_unix_ms: u64,
    pub ok: bool,
    /// The actions applied, e.g. `1 replace, 2 create`.
    pub actions: String,
    /// The proposal this apply carried out, when an agent proposed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposal: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct History {
    /// Newest first.
    pub applies: Vec<HistoryLine>,
    pub truncated: bool,
    pub next_cursor: Option<String>,
}

fn action_counts(plan: &serde_json::Value) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for action in plan["actions"].as_array().into_iter().flatten() {
        let kind =
            action["action"].as_str().or_else(|| action["kind"].as_str()).unwrap_or("change").to_string();
        match counts.iter_mut().find(|(name, _)| *name == kind) {
            Some((_, count)) => *count += 1,
            None => counts.push((kind, 1)),
        }
    }
    if counts.is_empty() {
        return "no changes".into();
    }
    counts.iter().map(|(kind, count)| format!("{count} {kind}")).collect::<Vec<_>>().join(", ")
}

pub fn history(host: &Host, params: &HistoryParams) -> Result<History, Failure> {
    let start = decode_cursor(params.cursor.as_deref()).map_err(Failure::new)?.unwrap_or(0);
    let entries = host.ops.history(velos_ops::HistoryRequest { project: params.project.clone() })?.entries;
    // An apply carried out for a proposal is linked from the proposal's decision.
    let proposals =
        velos_proposals::Store::open(host.home()).and_then(|store| store.list()).unwrap_or_default();
    let by_seq: HashMap<u64, String> = proposals
        .into_iter()
        .filter(|proposal| proposal.state == State::Approved)
        .filter_map(|proposal| Some((proposal.decision?.history_seq?, proposal.id)))
        .collect();
    let lines: Vec<HistoryLine> = entries
        .iter()
        .rev()
        .map(|entry| HistoryLine {
            seq: entry.seq,
            project: entry.project.clone(),
            revision: entry.revision.clone(),
            time_unix_ms: entry.time_unix_ms,
            ok: entry.ok(),
            actions: action_counts(&entry.plan),
            proposal: by_seq.get(&entry.seq).cloned(),
        })
        .collect();
    let page = page_forward(lines, start, Budget::tokens(params.budget), 0);
    Ok(History { applies: page.items, truncated: page.truncated, next_cursor: page.next_cursor })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanParams {
    /// The project (project_status lists them); or name a file instead.
    pub project: Option<String>,
    /// A velos.toml on this host (absolute path), instead of an applied project.
    pub file: Option<String>,
    /// A change to plan instead of the file as it is: a JSON merge patch of velos.toml (objects merge,
    /// null deletes, arrays replace; e.g. {"apps": {"web": {"env": {"PORT": "8081"}}}}), or the whole
    /// file as TOML text.
    pub patch: Option<serde_json::Value>,
    /// Most tokens the answer may take (default 2000).
    pub budget: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanOutput {
    pub project: String,
    pub valid: bool,
    /// Problems of the (patched) file, at line:column of the patched text.
    pub diagnostics: Vec<Problem>,
    /// Unified diff of velos.toml (plan: the patch's; diff: since the last apply).
    pub diff: String,
    /// What `velos apply` would do (plan: to the host; diff: between the applied and the new file).
    pub plan: String,
    pub truncated: bool,
}

/// Cuts `diff` and `plan` to the budget (the diff first: the plan says what happens).
fn fit(mut output: PlanOutput, budget: Budget) -> PlanOutput {
    let room = budget.bytes().saturating_sub(600);
    let diagnostics: usize = output.diagnostics.iter().map(|problem| problem.message.len() + 40).sum();
    let plan_room = room.saturating_sub(diagnostics) / 2;
    if output.plan.len() > plan_room {
        output.plan = clip(&output.plan, plan_room);
        output.truncated = true;
    }
    let diff_room = room.saturating_sub(diagnostics + output.plan.len());
    if output.diff.len() > diff_room {
        output.diff = clip(&output.diff, diff_room);
        output.truncated = true;
    }
    output
}

/// The file a plan or diff is about: an applied project's, or one named by path.
fn target(host: &Host, params: &PlanParams) -> Result<(PathBuf, String, Project), Failure> {
    match (&params.project, &params.file) {
        (Some(project), None) => host.project(project),
        (None, Some(file)) => {
            let file = PathBuf::from(file);
            let (source, project) = velos_config::load_source(&file)
                .map_err(|error| Failure::new(error.render().trim_end().to_string()))?;
            Ok((file, source, project))
        }
        _ => {
            Err(Failure::new("name a project or a file, not both").hint("project_status lists the projects"))
        }
    }
}

pub fn plan(host: &Host, params: &PlanParams) -> Result<PlanOutput, Failure> {
    let (file, source, project) = target(host, params)?;
    let live = host.live()?;
    let patch = params.patch.clone().unwrap_or_else(|| serde_json::json!({}));
    let prepared = velos_proposals::prepare(&file, &source, &project.name, &patch, &live);
    let output = PlanOutput {
        project: project.name.clone(),
        valid: prepared.valid(),
        diagnostics: prepared.diagnostics.clone(),
        diff: prepared.diff.clone(),
        plan: prepared.plan.clone(),
        truncated: false,
    };
    Ok(fit(output, Budget::tokens(params.budget)))
}

/// `diff`: no daemon needed. Compares the project's last applied revision with its file now, or with the
/// file as `patch` would make it.
pub fn diff(host: &Host, params: &PlanParams) -> Result<PlanOutput, Failure> {
    let (file, source, current) = target(host, params)?;
    let applied = velos_reconcile::History::open(host.home())
        .and_then(|history| history.list(Some(&current.name)))
        .ok()
        .and_then(|entries| entries.last().map(|entry| entry.source_text.clone()))
        .unwrap_or_else(|| source.clone());
    let (base_text, new_text) = match &params.patch {
        Some(patch) => {
            let patch = velos_config::Patch::from_json(patch.clone()).map_err(Failure::new)?;
            let text = velos_config::patched_text(&source, &file, &patch)
                .map_err(|error| Failure::new(error.to_string()))?;
            (source.clone(), text)
        }
        None => (applied, source.clone()),
    };
    let mut output = PlanOutput {
        project: current.name.clone(),
        valid: true,
        diagnostics: vec![],
        diff: velos_proposals::unified_diff(&base_text, &new_text),
        plan: String::new(),
        truncated: false,
    };
    let base = velos_config::parse_as(&base_text, &file, &file).unwrap_or(current);
    match velos_config::parse_as(&new_text, &file, &file) {
        Ok(new) => match velos_reconcile::diff_projects(&new, &base) {
            Ok(plan) => output.plan = velos_reconcile::render(&plan, false),
            Err(error) => {
                output.valid = false;
                output.diagnostics.push(Problem {
                    line: 0,
                    column: 0,
                    message: error.to_string(),
                    help: None,
                });
            }
        },
        Err(error) => {
            output.valid = false;
            output.diagnostics = error
                .diagnostics()
                .iter()
                .map(|d| Problem {
                    line: d.line,
                    column: d.column,
                    message: d.message.clone(),
                    help: d.help.clone(),
                })
                .collect();
        }
    }
    Ok(fit(output, Budget::tokens(params.budget)))
}
