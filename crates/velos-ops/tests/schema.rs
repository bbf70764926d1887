//! Every request and outcome has a JSON Schema (what REST's OpenAPI document and MCP's tool schemas are
//! made of), and the error kinds are the documented snake_case names.
use schemars::schema_for;
use velos_ops::*;

macro_rules! schemas {
    ($($type:ty),* $(,)?) => {
        vec![$((stringify!($type), serde_json::to_value(schema_for!($type)).expect("schema json"))),*]
    };
}

#[test]
fn every_request_and_outcome_has_a_schema() {
    let schemas = schemas![
        ApplyRequest,
        ApplyOutcome,
        PlanRequest,
        PlanOutcome,
        DiffRequest,
        DiffOutcome,
        ValidateRequest,
        ValidateOutcome,
        StatusRequest,
        StatusOutcome,
        HistoryRequest,
        HistoryOutcome,
        RollbackRequest,
        RollbackOutcome,
        SyncRequest,
        SyncOutcome,
        StartRequest,
        StartOutcome,
        StopRequest,
        StopOutcome,
        RestartRequest,
        RestartOutcome,
        ReloadRequest,
        ReloadOutcome,
        DeleteRequest,
        DeleteOutcome,
        ScaleRequest,
        ScaleOutcome,
        SetRequest,
        SetOutcome,
        UnsetRequest,
        UnsetOutcome,
        ListRequest,
        ListOutcome,
        InfoRequest,
        InfoOutcome,
        LogsRequest,
        LogsOutcome,
        LogsSummaryRequest,
        LogsSummaryOutcome,
        LogsTemplatesRequest,
        LogsTemplatesOutcome,
        FlushRequest,
        FlushOutcome,
        KillRequest,
        KillOutcome,
        ForgetRequest,
        ForgetOutcome,
        PingRequest,
        PingOutcome,
        SaveRequest,
        SaveOutcome,
        ResurrectRequest,
        ResurrectOutcome,
        OpError,
    ];
    for (name, schema) in &schemas {
        assert_eq!(schema["type"], "object", "{name}: {schema}");
    }
    let plan = serde_json::to_string(&schema_for!(PlanOutcome)).expect("json");
    assert!(plan.contains("\"actions\"") && plan.contains("update_in_place"), "the plan's documented form");
}

#[test]
fn error_kinds_are_the_documented_names() {
    let schema = serde_json::to_value(schema_for!(OpErrorKind)).expect("json");
    let mut kinds: Vec<String> = serde_json::to_string(&schema)
        .expect("json")
        .split('"')
        .filter(|word| {
            [
                "not_found",
                "conflict",
                "invalid_input",
                "follows_git",
                "daemon_not_running",
                "daemon_unreachable",
                "stale",
                "refused",
                "incomplete",
                "io",
                "internal",
            ]
            .contains(word)
        })
        .map(str::to_string)
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 11, "{schema}");
}
