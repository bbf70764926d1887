//! The async face runs the same verbs on tokio's blocking pool.
#![cfg(feature = "tokio")]
mod common;

use velos_ops::{AsyncOps, ListRequest, OpErrorKind};

#[tokio::test(flavor = "current_thread")]
async fn async_verbs_answer_as_the_blocking_ones() {
    let host = common::Host::new();
    let ops = AsyncOps::new(host.ops.clone());
    let error = ops.list(ListRequest::default()).await.expect_err("no daemon yet");
    assert_eq!(error.kind, OpErrorKind::DaemonNotRunning);
    host.start("/bin/sleep", &["300"], Some("sl")).expect("start");
    let listed = ops.list(ListRequest::default()).await.expect("list");
    assert_eq!(listed.apps.iter().map(|app| app.name.as_str()).collect::<Vec<_>>(), ["sl"]);
    let pinged = ops.run(|ops| ops.ping(velos_ops::PingRequest {})).await.expect("ping");
    assert_eq!(pinged.daemon.apps, 1);
}
