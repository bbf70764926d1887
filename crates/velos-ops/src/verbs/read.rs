//! `list`, `info`, `ping`: reads. They never start the daemon (`daemon_not_running` says how to).
use crate::address::{is_system, resolve};
use crate::context::Ops;
use crate::convert::daemon_error;
use crate::error::OpError;
use crate::health::{health_of, AppHealth};
use crate::schedule::{app_schedule, AppSchedule};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use velos_controller::schedule::read_schedule_status;
use velos_core::{PingInfo, ProcessRecord, Stream};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListRequest {
    /// Also the apps Velos runs for itself (the controller).
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListOutcome {
    /// Sorted by name.
    pub apps: Vec<ProcessRecord>,
    /// The health of each app with a readiness or liveness check, by name (absent: no check).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub health: BTreeMap<String, AppHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InfoRequest {
    /// An app (all its instances), one instance (`api-0`), or `all`.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InfoOutcome {
    /// One per instance, sorted by name.
    pub apps: Vec<AppInfo>,
}

/// One instance in detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppInfo {
    pub record: ProcessRecord,
    /// The files its stdout and stderr go to.
    pub out_log: PathBuf,
    pub err_log: PathBuf,
    /// How the daemon knows the app's processes (PING's `tracking`: `procfs` covers the whole tree,
    /// setsid and double forks included; `process-group` only the group), when it says.
    pub tracking: Option<String>,
    /// `cron_restart` and `watch`, when the app has either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<AppSchedule>,
    /// Its checks and what the prober found, when it has a check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<AppHealth>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PingRequest {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PingOutcome {
    pub daemon: PingInfo,
}

impl Ops {
    /// Every app the daemon runs (not Velos's own unless `all`).
    pub fn list(&self, request: ListRequest) -> Result<ListOutcome, OpError> {
        let mut backend = self.connect_running()?;
        let mut apps = backend.list().map_err(|error| daemon_error(error, None))?;
        if !request.all {
            apps.retain(|record| !is_system(record));
        }
        let health = health_of(self.home(), &apps, self.clock().unix_ms());
        Ok(ListOutcome { apps, health })
    }

    /// The records of an app's instances (or one instance, or all), with their log files.
    pub fn info(&self, request: InfoRequest) -> Result<InfoOutcome, OpError> {
        let mut backend = self.connect_running()?;
        let live = backend.list().map_err(|error| daemon_error(error, None))?;
        let address = resolve(&request.name, &live)?;
        // The mechanism is the daemon's, not the record's: one PING for all instances.
        let tracking = backend.ping().ok().and_then(|ping| ping.tracking);
        let schedules = read_schedule_status(self.home().root());
        let mut health = health_of(self.home(), &live, self.clock().unix_ms());
        let apps = address
            .names()
            .into_iter()
            .filter_map(|name| live.iter().find(|record| record.name == name).cloned())
            .map(|record| AppInfo {
                out_log: self.home().log_file(&record.name, Stream::Out),
                err_log: self.home().log_file(&record.name, Stream::Err),
                tracking: tracking.clone(),
                schedule: app_schedule(&record, &schedules),
                health: health.remove(&record.name),
                record,
            })
            .collect();
        Ok(InfoOutcome { apps })
    }

    /// Whether the daemon answers: its pid, version, uptime, app count.
    pub fn ping(&self, _request: PingRequest) -> Result<PingOutcome, OpError> {
        let mut backend = self.connect_running()?;
        let daemon = backend.ping().map_err(|error| daemon_error(error, None))?;
        Ok(PingOutcome { daemon })
    }
}
