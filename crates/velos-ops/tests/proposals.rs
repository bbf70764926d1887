//! propose, approve, reject over the fake daemon: proposing changes nothing, approving applies exactly the
//! patch through the edit path and records it with the proposal, a stale one is refused with a kind.
mod common;

use common::{Host, SHOP};
use serde_json::json;
use velos_ops::{
    ApplyRequest, ApplySource, ApproveRequest, HistoryRequest, OpErrorKind, ProposalRequest,
    ProposalsRequest, ProposeRequest, RejectRequest, WaitOptions,
};
use velos_proposals::State;

fn applied_shop(host: &Host) -> std::path::PathBuf {
    let file = host.file("shop/velos.toml", SHOP);
    let request = ApplyRequest {
        source: ApplySource::File { path: file.clone() },
        wait: WaitOptions::default(),
        force_local: false,
    };
    host.ops.apply(request).unwrap_or_else(|error| panic!("{error:?}"));
    file
}

fn propose(host: &Host, patch: serde_json::Value) -> velos_proposals::Proposal {
    let request = ProposeRequest {
        project: "shop".into(),
        patch,
        proposer: "agent".into(),
        reason: "web needs a port".into(),
    };
    host.ops.propose(request).unwrap_or_else(|error| panic!("{error:?}")).proposal
}

fn hashes(host: &Host) -> Vec<(String, String)> {
    let records = host.fake.lock().daemon.records();
    records.into_iter().map(|record| (record.name, record.spec.spec_hash)).collect()
}

fn approve(host: &Host, id: &str) -> Result<velos_ops::ApproveOutcome, velos_ops::OpError> {
    host.ops.approve(ApproveRequest { id: id.into(), by: "cli".into(), wait: WaitOptions::default() })
}

#[test]
fn approving_applies_exactly_the_patch_and_records_it() {
    let host = Host::running();
    let file = applied_shop(&host);
    let before = hashes(&host);
    let proposal = propose(&host, json!({"apps": {"web": {"env": {"PORT": "8081"}}}}));
    assert!(proposal.valid, "{:?}", proposal.diagnostics);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), SHOP);
    assert_eq!(hashes(&host), before, "propose touched the host");

    let approval = approve(&host, &proposal.id).unwrap_or_else(|error| panic!("{error:?}"));
    assert_eq!(approval.proposal.state, State::Approved);
    let written = std::fs::read_to_string(&file).expect("read");
    assert!(written.contains("env = { PORT = \"8081\" }"), "{written}");
    let after = hashes(&host);
    let changed: Vec<&str> = after
        .iter()
        .filter(|(name, hash)| before.iter().any(|(old, old_hash)| old == name && old_hash != hash))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(changed, ["web"], "only web is replaced");
    let seq =
        approval.proposal.decision.and_then(|decision| decision.history_seq).expect("linked to history");
    let history = host.ops.history(HistoryRequest { project: Some("shop".into()) }).expect("history");
    assert_eq!(history.entries.last().map(|entry| entry.seq), Some(seq));

    let again = approve(&host, &proposal.id).err().map(|error| error.kind);
    assert_eq!(again, Some(OpErrorKind::Refused));
}

#[test]
fn a_stale_proposal_is_refused_and_shown_stale() {
    let host = Host::running();
    let file = applied_shop(&host);
    let proposal = propose(&host, json!({"apps": {"web": {"args": ["60"]}}}));
    std::fs::write(&file, format!("# edited by hand\n{SHOP}")).expect("write");
    let listed = host.ops.proposals(ProposalsRequest { all: false }).expect("list").proposals;
    assert_eq!(listed.iter().map(|proposal| proposal.state).collect::<Vec<_>>(), [State::Stale]);
    let refused = approve(&host, &proposal.id).expect_err("refused");
    assert_eq!(refused.kind, OpErrorKind::Stale);
    assert!(refused.hint_text().is_some_and(|hint| hint.contains("propose again")), "{refused:?}");
    assert!(std::fs::read_to_string(&file).expect("read").starts_with("# edited by hand\n"));
    let rejected = host
        .ops
        .reject(RejectRequest { id: proposal.id.clone(), by: "cli".into(), reason: Some("stale".into()) })
        .expect("reject");
    assert_eq!(rejected.proposal.state, State::Rejected);
    let shown = host.ops.proposal(ProposalRequest { id: proposal.id }).expect("show").proposal;
    assert_eq!(shown.state, State::Rejected);
}

#[test]
fn proposing_needs_a_reason_a_known_project_and_a_running_daemon() {
    let host = Host::running();
    applied_shop(&host);
    let no_reason =
        ProposeRequest { project: "shop".into(), patch: json!({}), proposer: "a".into(), reason: " ".into() };
    assert_eq!(host.ops.propose(no_reason).err().map(|error| error.kind), Some(OpErrorKind::InvalidInput));
    let unknown =
        ProposeRequest { project: "shp".into(), patch: json!({}), proposer: "a".into(), reason: "r".into() };
    assert_eq!(host.ops.propose(unknown).err().map(|error| error.kind), Some(OpErrorKind::NotFound));
    host.fake.lock().running = false;
    let down =
        ProposeRequest { project: "shop".into(), patch: json!({}), proposer: "a".into(), reason: "r".into() };
    assert_eq!(host.ops.propose(down).err().map(|error| error.kind), Some(OpErrorKind::DaemonNotRunning));
}
