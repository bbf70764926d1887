//! The tools that lead to changes: `propose_patch` (always; it changes nothing), and, only where a
//! project's `[velos.agents]` policy allows it, `apply_proposal` and `restart_app`.
use crate::host::{Failure, Host};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use velos_config::AgentPolicy;
use velos_ops::{proposal_error, ApproveRequest, ProposeRequest, ReloadRequest, RestartRequest, WaitOptions};
use velos_proposals::{AgentAction, Problem, Store};
use velos_reconcile::now_unix_ms;

/// How long `apply_proposal` waits for the apps to run.
const APPLY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProposePatchParams {
    /// The project to change (project_status lists them).
    pub project: String,
    /// A JSON merge patch of velos.toml (objects merge, null deletes a key or an app, arrays replace; e.g.
    /// {"apps": {"web": {"env": {"PORT": "8081"}}}}), or the whole new file as TOML text.
    pub patch: serde_json::Value,
    /// Why: shown to the human who decides.
    pub reason: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Proposed {
    /// What a human approves with `velos proposals approve ID`.
    pub id: String,
    /// pending.
    pub state: String,
    /// Unified diff of velos.toml.
    pub diff: String,
    /// What approving would do to the host, as of now.
    pub plan: String,
    pub valid: bool,
    /// Problems of the patched file; fix them and propose again.
    pub diagnostics: Vec<Problem>,
    /// What happens next.
    pub next: String,
}

pub fn propose_patch(host: &Host, proposer: &str, params: &ProposePatchParams) -> Result<Proposed, Failure> {
    let request = ProposeRequest {
        project: params.project.clone(),
        patch: params.patch.clone(),
        proposer: proposer.to_string(),
        reason: params.reason.clone(),
    };
    let proposal = host.ops.propose(request)?.proposal;
    let apply_allowed = policy_of(host, &proposal.project).apply;
    let next = match (proposal.valid, apply_allowed) {
        (false, _) => "not valid: fix the diagnostics and call propose_patch again".to_string(),
        (true, true) => format!(
            "apply_proposal {} applies it (policy allows), or a human runs `velos proposals approve {}`",
            proposal.id, proposal.id
        ),
        (true, false) => {
            format!("nothing changed; a human approves with `velos proposals approve {}`", proposal.id)
        }
    };
    Ok(Proposed {
        id: proposal.id,
        state: proposal.state.to_string(),
        diff: proposal.diff,
        plan: proposal.plan,
        valid: proposal.valid,
        diagnostics: proposal.diagnostics,
        next,
    })
}

pub fn policy_of(host: &Host, project: &str) -> AgentPolicy {
    host.policies()
        .into_iter()
        .find(|(name, _)| name == project)
        .map(|(_, policy)| policy)
        .unwrap_or_default()
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ApplyProposalParams {
    /// The id propose_patch returned.
    pub id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Applied {
    pub id: String,
    pub state: String,
    /// What was done.
    pub plan: String,
    pub ok: bool,
    /// `ok`, or what failed.
    pub summary: String,
}

/// Records a refusal of a tool the policy does not allow, and words it.
pub fn refuse(host: &Host, by: &str, tool: &str, project: Option<&str>, key: &str) -> Failure {
    let action = AgentAction {
        time_unix_ms: now_unix_ms(),
        by: by.to_string(),
        action: "refused".into(),
        proposal: None,
        project: project.map(str::to_string),
        app: None,
        result: format!("{tool}: [velos.agents] {key} is not true"),
    };
    let _ = Store::open(host.home()).and_then(|store| store.record(&action));
    let whose = project.map(|project| format!(" of project `{project}`")).unwrap_or_default();
    Failure::new(format!("{tool} is not allowed: the policy{whose} says [velos.agents] {key} = false")).hint(
        match key {
            "apply" => "propose_patch, then a human runs `velos proposals approve ID`",
            _ => "a human restarts it with `velos restart NAME`",
        },
    )
}

pub fn apply_proposal(host: &Host, by: &str, params: &ApplyProposalParams) -> Result<Applied, Failure> {
    let proposal =
        Store::open(host.home()).and_then(|store| store.get(&params.id)).map_err(proposal_error)?;
    if !policy_of(host, &proposal.project).apply {
        return Err(refuse(host, by, "apply_proposal", Some(&proposal.project), "apply"));
    }
    host.require_daemon()?;
    let wait =
        WaitOptions { wait: true, timeout_ms: u64::try_from(APPLY_TIMEOUT.as_millis()).unwrap_or(u64::MAX) };
    let approval = host.ops.approve(ApproveRequest { id: params.id.clone(), by: by.to_string(), wait })?;
    Ok(Applied {
        id: approval.proposal.id,
        state: approval.proposal.state.to_string(),
        plan: velos_reconcile::render(&approval.applied.plan, false),
        ok: approval.applied.report.ok(),
        summary: approval.applied.report.summary(),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RestartAppParams {
    /// An app (each instance in turn) or one instance.
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Restarted {
    /// The processes restarted, in order.
    pub apps: Vec<RestartedApp>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RestartedApp {
    pub name: String,
    /// running, or stopped when the new run already ended.
    pub status: String,
    pub pid: u32,
}

pub fn restart_app(host: &Host, by: &str, params: &RestartAppParams) -> Result<Restarted, Failure> {
    host.require_daemon()?;
    let chosen = host.info(&params.name)?;
    for info in &chosen {
        let project = info.record.spec.labels.get("project").map(String::as_str);
        if !project.is_some_and(|project| policy_of(host, project).restart) {
            return Err(refuse(host, by, "restart_app", project, "restart"));
        }
    }
    let result = host.ops.restart(RestartRequest { name: params.name.clone() });
    let store = Store::open(host.home()).map_err(proposal_error)?;
    for info in &chosen {
        let action = AgentAction {
            time_unix_ms: now_unix_ms(),
            by: by.to_string(),
            action: "restart_app".into(),
            proposal: None,
            project: info.record.spec.labels.get("project").cloned(),
            app: Some(info.record.name.clone()),
            result: result.as_ref().map_or_else(|error| error.message.clone(), |_| "ok".into()),
        };
        store.record(&action).map_err(proposal_error)?;
    }
    let apps = result?
        .restarted
        .into_iter()
        .map(|restarted| RestartedApp {
            status: crate::apps::word(&restarted.status),
            name: restarted.name,
            pid: restarted.pid,
        })
        .collect();
    Ok(Restarted { apps })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReloadParams {
    /// An app (its running instances, batch by batch as its `rollout` says) or one instance.
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Reloaded {
    /// The instances given a new process, in order: each was ready before the next batch began.
    pub apps: Vec<RestartedApp>,
}

/// `reload`: the rolling restart, under the same policy as `restart_app` (`[velos.agents] restart`).
pub fn reload(host: &Host, by: &str, params: &ReloadParams) -> Result<Reloaded, Failure> {
    host.require_daemon()?;
    let chosen = host.info(&params.name)?;
    for info in &chosen {
        let project = info.record.spec.labels.get("project").map(String::as_str);
        if !project.is_some_and(|project| policy_of(host, project).restart) {
            return Err(refuse(host, by, "reload", project, "restart"));
        }
    }
    let result = host.ops.reload(ReloadRequest { name: params.name.clone(), wait: WaitOptions::default() });
    let store = Store::open(host.home()).map_err(proposal_error)?;
    for info in &chosen {
        let action = AgentAction {
            time_unix_ms: now_unix_ms(),
            by: by.to_string(),
            action: "reload".into(),
            proposal: None,
            project: info.record.spec.labels.get("project").cloned(),
            app: Some(info.record.name.clone()),
            result: result.as_ref().map_or_else(|error| error.message.clone(), |_| "ok".into()),
        };
        store.record(&action).map_err(proposal_error)?;
    }
    let apps = result?
        .apps
        .into_iter()
        .flat_map(|app| app.instances)
        .map(|instance| RestartedApp { status: "running".into(), name: instance.name, pid: instance.pid })
        .collect();
    Ok(Reloaded { apps })
}
