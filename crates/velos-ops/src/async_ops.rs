//! [`AsyncOps`]: the verbs for tokio-based faces (REST, MCP, TUI). Each runs on tokio's blocking pool (the
//! daemon client blocks), so a face never writes `spawn_blocking` itself.
use crate::context::Ops;
use crate::error::OpError;

/// An [`Ops`] for async code. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AsyncOps {
    ops: Ops,
}

impl AsyncOps {
    pub fn new(ops: Ops) -> AsyncOps {
        AsyncOps { ops }
    }

    /// The blocking layer, for what has no async form (a followed log is an iterator of its own).
    pub fn blocking(&self) -> &Ops {
        &self.ops
    }

    /// Runs `verb` on the blocking pool: `ops.run(|ops| ops.list(request)).await`.
    pub async fn run<T, F>(&self, verb: F) -> Result<T, OpError>
    where
        F: FnOnce(&Ops) -> Result<T, OpError> + Send + 'static,
        T: Send + 'static,
    {
        let ops = self.ops.clone();
        match tokio::task::spawn_blocking(move || verb(&ops)).await {
            Ok(result) => result,
            Err(error) => Err(OpError::internal(format!("a verb's task ended without an answer: {error}"))),
        }
    }
}

macro_rules! async_verbs {
    ($($verb:ident: $request:ty => $outcome:ty;)*) => {
        impl AsyncOps {
            $(
                #[doc = concat!("[`Ops::", stringify!($verb), "`] on the blocking pool.")]
                pub async fn $verb(&self, request: $request) -> Result<$outcome, OpError> {
                    self.run(move |ops| ops.$verb(request)).await
                }
            )*
        }
    };
}

use crate::*;

async_verbs! {
    apply: ApplyRequest => ApplyOutcome;
    plan: PlanRequest => PlanOutcome;
    diff: DiffRequest => DiffOutcome;
    validate: ValidateRequest => ValidateOutcome;
    status: StatusRequest => StatusOutcome;
    history: HistoryRequest => HistoryOutcome;
    rollback: RollbackRequest => RollbackOutcome;
    sync: SyncRequest => SyncOutcome;
    start: StartRequest => StartOutcome;
    stop: StopRequest => StopOutcome;
    restart: RestartRequest => RestartOutcome;
    reload: ReloadRequest => ReloadOutcome;
    delete: DeleteRequest => DeleteOutcome;
    scale: ScaleRequest => ScaleOutcome;
    set: SetRequest => SetOutcome;
    unset: UnsetRequest => UnsetOutcome;
    list: ListRequest => ListOutcome;
    info: InfoRequest => InfoOutcome;
    logs: LogsRequest => LogsOutcome;
    logs_summary: LogsSummaryRequest => LogsSummaryOutcome;
    logs_templates: LogsTemplatesRequest => LogsTemplatesOutcome;
    flush: FlushRequest => FlushOutcome;
    kill: KillRequest => KillOutcome;
    forget: ForgetRequest => ForgetOutcome;
    ping: PingRequest => PingOutcome;
    save: SaveRequest => SaveOutcome;
    resurrect: ResurrectRequest => ResurrectOutcome;
    patch: PatchRequest => PatchOutcome;
    propose: ProposeRequest => ProposalOutcome;
    proposals: ProposalsRequest => ProposalsOutcome;
    proposal: ProposalRequest => ProposalOutcome;
    approve: ApproveRequest => ApproveOutcome;
    reject: RejectRequest => ProposalOutcome;
}
