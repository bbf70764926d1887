//! The agents' face: `velos mcp` (the MCP server on stdio, crates/velos-mcp) and `velos proposals`, where a
//! human reads and decides what agents proposed (velos-proposals holds every rule; this renders).
use super::{colour, Context};
use crate::cli::{McpArgs, ProposalsCommand, WaitArgs};
use crate::error::CliError;
use crate::render;
use std::io::Write;
use velos_proposals::{Proposal, ProposalError, State};
use velos_reconcile::{now_unix_ms, ApplyOptions, POLL_INTERVAL_DEFAULT};

/// `velos mcp`: serves until the client closes stdin. stdout is the protocol: nothing else is printed.
pub fn mcp(context: &Context, args: &McpArgs) -> Result<(), CliError> {
    let options = velos_mcp::Options {
        home: context.home().to_path_buf(),
        velos_exe: context.velos_exe()?,
        start_daemon: args.start_daemon,
    };
    velos_mcp::serve_stdio(options).map_err(|error| CliError::new(error.to_string()).causes_of(&error))
}

pub fn proposals(context: &Context, command: &ProposalsCommand, out: &mut dyn Write) -> Result<(), CliError> {
    let home = context.home();
    match command {
        ProposalsCommand::List { json, all } => {
            let mut proposals = velos_proposals::current(home).map_err(proposal_error)?;
            if !all {
                proposals.retain(|proposal| matches!(proposal.state, State::Pending | State::Stale));
            }
            if *json {
                writeln!(out, "{}", render::to_json_pretty(&proposals))?;
            } else {
                out.write_all(table(&proposals, *all).as_bytes())?;
            }
        }
        ProposalsCommand::Show { id, patch, json } => {
            let proposal = velos_proposals::current_one(home, id).map_err(proposal_error)?;
            if *patch {
                out.write_all(velos_proposals::patch_for_commit(&proposal).as_bytes())?;
            } else if *json {
                writeln!(out, "{}", render::to_json_pretty(&proposal))?;
            } else {
                out.write_all(show(&proposal).as_bytes())?;
            }
        }
        ProposalsCommand::Approve { id, wait } => approve(context, id, wait, out)?,
        ProposalsCommand::Reject { id, reason } => {
            let proposal = velos_proposals::reject(home, id, "cli", reason.as_deref(), now_unix_ms())
                .map_err(proposal_error)?;
            writeln!(out, "Rejected proposal {} of project {}.", proposal.id, proposal.project)?;
        }
    }
    Ok(())
}

fn approve(context: &Context, id: &str, wait: &WaitArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut client = context.client()?;
    let options =
        ApplyOptions { wait: !wait.no_wait, timeout: wait.timeout, poll_interval: POLL_INTERVAL_DEFAULT };
    let approval = velos_proposals::approve(context.home(), id, "cli", &mut client, options, now_unix_ms())
        .map_err(proposal_error)?;
    let colour = colour();
    writeln!(
        out,
        "Approved proposal {}: {} edited.",
        approval.proposal.id,
        approval.proposal.file.display()
    )?;
    out.write_all(velos_reconcile::render(&approval.plan, colour).as_bytes())?;
    if !approval.plan.is_empty() {
        out.write_all(velos_reconcile::render_report(&approval.report, colour).as_bytes())?;
    }
    if approval.report.ok() {
        return Ok(());
    }
    Err(CliError::new(format!("the apply of proposal {id} did not complete: {}", approval.report.summary()))
        .hint(format!(
            "{} holds the change; velos apply {} retries it",
            approval.proposal.file.display(),
            approval.proposal.file.display()
        )))
}

/// `ID  STATE  PROJECT  PROPOSER  AGE  REASON`, one line each.
fn table(proposals: &[Proposal], all: bool) -> String {
    if proposals.is_empty() {
        return if all { "No proposals.\n".into() } else { "No pending proposals.\n".into() };
    }
    let now = now_unix_ms();
    let mut rows = vec![["ID", "STATE", "PROJECT", "PROPOSER", "AGE", "REASON"].map(String::from)];
    for proposal in proposals {
        let valid = if proposal.valid { "" } else { " (invalid)" };
        rows.push([
            proposal.id.clone(),
            format!("{}{valid}", proposal.state),
            proposal.project.clone(),
            proposal.proposer.clone(),
            render::ago(now, proposal.created_unix_ms),
            proposal.reason.lines().next().unwrap_or_default().chars().take(60).collect(),
        ]);
    }
    let widths: Vec<usize> =
        (0..6).map(|column| rows.iter().map(|row| row[column].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> =
            row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn show(proposal: &Proposal) -> String {
    let mut pairs = vec![
        ("id", proposal.id.clone()),
        ("state", proposal.state.to_string()),
        ("project", format!("{} ({})", proposal.project, proposal.file.display())),
        ("proposer", proposal.proposer.clone()),
        ("proposed", render::utc_time(proposal.created_unix_ms)),
        ("against", proposal.base_revision.clone()),
        ("reason", proposal.reason.clone()),
        ("valid", proposal.valid.to_string()),
    ];
    if let Some(decision) = &proposal.decision {
        let why = decision.reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default();
        pairs.push((
            "decided",
            format!("by {} at {}{why}", decision.by, render::utc_time(decision.time_unix_ms)),
        ));
    }
    let mut text = render::key_values(&pairs);
    for problem in &proposal.diagnostics {
        let help = problem.help.as_deref().map(|help| format!(" (help: {help})")).unwrap_or_default();
        text.push_str(&format!(
            "problem  line {}, column {}: {}{help}\n",
            problem.line, problem.column, problem.message
        ));
    }
    text.push('\n');
    text.push_str(if proposal.diff.is_empty() {
        "The patch changes nothing in the file.\n"
    } else {
        &proposal.diff
    });
    if !proposal.plan.is_empty() {
        text.push_str("\nPlan when proposed:\n");
        text.push_str(&proposal.plan);
    }
    if proposal.state == State::Pending {
        text.push_str(&format!(
            "\nvelos proposals approve {} applies it; velos proposals reject {} --reason TEXT declines it.\n",
            proposal.id, proposal.id
        ));
    }
    text
}

fn proposal_error(error: ProposalError) -> CliError {
    let hint = match &error {
        ProposalError::Config(config) => return CliError::config(config)
            .hint("the proposal does not apply to the file as it is: reject it and ask the agent to propose again"),
        ProposalError::NotFound { .. } => "velos proposals list --all shows the proposals".to_string(),
        ProposalError::NotPending { .. } => "velos proposals list shows the pending ones".to_string(),
        ProposalError::Stale { id, .. } => format!(
            "ask the agent to propose again against the current file (propose_patch); velos proposals reject {id} closes this one"
        ),
        ProposalError::FollowsGit { id, .. } => format!(
            "velos proposals show {id} --patch > {id}.patch, then commit it to the repository (git apply {id}.patch); the controller applies it"
        ),
        ProposalError::UnknownProject { .. } => "velos status lists the projects applied on this host".to_string(),
        ProposalError::TooManyPending => "velos proposals reject ID closes proposals no one will approve".to_string(),
        ProposalError::Daemon(_) => "velos ping checks the daemon".to_string(),
        _ => "proposals live in VELOS_HOME/proposals".to_string(),
    };
    CliError::new(error.to_string()).causes_of(&error).hint(hint)
}
