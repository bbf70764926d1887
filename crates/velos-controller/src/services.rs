//! What the controller runs for its projects besides reconciling them — the REST API of `[velos.api]`, the
//! OpenTelemetry export of `[velos.otlp]` — seen from the loop: a [`Services`] it tells, after each look at
//! a target, what that target's settings now ask for. The binary provides it (velos-api sits above this
//! crate); a problem it reports is written into the project's status, with its hint.
use velos_config::ControllerSettings;

/// Why something a project asks the controller to run does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProblem {
    pub message: String,
    /// The next step for the user (`velos status` shows it as `hint:`).
    pub hint: Option<String>,
}

/// The services of one controller process, shared by every target it follows.
pub trait Services: Send {
    /// Runs what target `key` asks for now (`None`: the target is no longer followed, or asks for
    /// nothing), and stops what no target asks for any more. `Err`: part of it cannot run, and why.
    fn sync(&mut self, key: &str, settings: Option<&ControllerSettings>) -> Result<(), ServiceProblem>;
}
