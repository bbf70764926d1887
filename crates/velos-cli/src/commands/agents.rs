//! The agents' face: `velos mcp` (the MCP server on stdio, crates/velos-mcp) and `velos proposals`, where a
//! human reads and decides what agents proposed (velos-proposals holds every rule; this renders).
use super::{colour, wait_options, Context};
use crate::cli::{McpArgs, ProposalsCommand, WaitArgs};
use crate::error::CliError;
use crate::render;
use std::io::Write;
use velos_ops::{ApproveRequest, Ops, ProposalRequest, ProposalsRequest, RejectRequest};
use velos_proposals::{Proposal, State};
use velos_reconcile::now_unix_ms;

/// `velos mcp`: serves until the client closes stdin. stdout is the protocol: nothing else is printed.
pub fn mcp(context: &Context, args: &McpArgs) -> Result<(), CliError> {
    let velos_exe = std::env::current_exe()
        .map_err(|error| CliError::new("could not find the velos executable").cause(error.to_string()))?;
    let options = velos_mcp::Options {
        home: context.ops.home().root().to_path_buf(),
        velos_exe,
        start_daemon: args.start_daemon,
    };
    velos_mcp::serve_stdio(options).map_err(|error| {
        let cause = std::error::Error::source(&error).map(ToString::to_string);
        let cli_error = CliError::new(error.to_string());
        match cause {
            Some(cause) => cli_error.cause(cause),
            None => cli_error,
        }
    })
}

pub fn proposals(context: &Context, command: &ProposalsCommand, out: &mut dyn Write) -> Result<(), CliError> {
    let ops = &context.ops;
    match command {
        ProposalsCommand::List { json, all } => {
            let proposals = ops.proposals(ProposalsRequest { all: *all })?.proposals;
            if *json {
                writeln!(out, "{}", render::to_json_pretty(&proposals))?;
            } else {
                out.write_all(table(&proposals, *all).as_bytes())?;
            }
        }
        ProposalsCommand::Show { id, patch, json } => {
            let proposal = ops.proposal(ProposalRequest { id: id.clone() })?.proposal;
            if *patch {
                out.write_all(velos_proposals::patch_for_commit(&proposal).as_bytes())?;
            } else if *json {
                writeln!(out, "{}", render::to_json_pretty(&proposal))?;
            } else {
                out.write_all(show(&proposal).as_bytes())?;
            }
        }
        ProposalsCommand::Approve { id, wait } => approve(ops, id, wait, out)?,
        ProposalsCommand::Reject { id, reason } => {
            let request = RejectRequest { id: id.clone(), by: "cli".into(), reason: reason.clone() };
            let proposal = ops.reject(request)?.proposal;
            writeln!(out, "Rejected proposal {} of project {}.", proposal.id, proposal.project)?;
        }
    }
    Ok(())
}

fn approve(ops: &Ops, id: &str, wait: &WaitArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request = ApproveRequest { id: id.to_string(), by: "cli".into(), wait: wait_options(wait) };
    let approval = ops.approve(request)?;
    let colour = colour();
    writeln!(
        out,
        "Approved proposal {}: {} edited.",
        approval.proposal.id,
        approval.proposal.file.display()
    )?;
    out.write_all(velos_reconcile::render(&approval.applied.plan, colour).as_bytes())?;
    if !approval.applied.plan.is_empty() {
        out.write_all(velos_reconcile::render_report(&approval.applied.report, colour).as_bytes())?;
    }
    Ok(())
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
