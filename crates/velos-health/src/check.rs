//! The check model: one probe and its timing, as velos.toml's `readiness = { http = "…", interval = "1s" }`
//! resolves. Plain data (regexes kept as text, compiled where a probe runs), so it hashes, compares and
//! travels as a label; [`Check::validate`] is the one place that says whether a probe's value is usable.
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// What a check is for. Only the defaults differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Use {
    /// The app counts as started only once it passes: apply waits for it, `depends_on = "healthy"` too.
    Readiness,
    /// The app is restarted when it fails `failure_threshold` times in a row.
    Liveness,
}

impl Use {
    pub const ALL: [Use; 2] = [Use::Readiness, Use::Liveness];

    /// The velos.toml key: `readiness`, `liveness`.
    pub fn as_str(self) -> &'static str {
        match self {
            Use::Readiness => "readiness",
            Use::Liveness => "liveness",
        }
    }

    /// The label the check rides on: `velos.readiness`, `velos.liveness`.
    pub fn label(self) -> &'static str {
        match self {
            Use::Readiness => "velos.readiness",
            Use::Liveness => "velos.liveness",
        }
    }

    /// Default `interval`: a readiness check gates apply, so it looks every second (Kubernetes' 10 s would
    /// make every apply take 10 s); a liveness check only has to notice a hung app.
    pub fn interval_ms_default(self) -> u64 {
        match self {
            Use::Readiness => 1_000,
            Use::Liveness => 5_000,
        }
    }
}

impl std::fmt::Display for Use {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Default `timeout` of one probe.
pub const TIMEOUT_MS_DEFAULT: u64 = 1_000;
/// Default `initial_delay`: none; the thresholds absorb a slow start.
pub const INITIAL_DELAY_MS_DEFAULT: u64 = 0;
pub const SUCCESS_THRESHOLD_DEFAULT: u32 = 1;
pub const FAILURE_THRESHOLD_DEFAULT: u32 = 3;
/// `interval`: 100 ms to 1 h (faster would make checking itself the load).
pub const INTERVAL_MS: RangeInclusive<u64> = 100..=3_600_000;
/// `timeout`: 10 ms to 1 h.
pub const TIMEOUT_MS: RangeInclusive<u64> = 10..=3_600_000;
/// `initial_delay`: 0 to 1 h.
pub const INITIAL_DELAY_MS: RangeInclusive<u64> = 0..=3_600_000;
/// `success_threshold`, `failure_threshold`: 1 to 100.
pub const THRESHOLD: RangeInclusive<u32> = 1..=100;
/// The longest label the daemon stores (its string limit): a check whose JSON is longer is refused.
pub const LABEL_BYTES_MAX: usize = 4096;

/// What one probe looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// Runs `argv` (no shell) in the app's folder with the app's environment; passes on exit code 0.
    Exec { argv: Vec<String> },
    /// Passes when a TCP connection to `address` (`host:port`) is accepted.
    Tcp { address: String },
    /// Passes when an HTTP GET of `url` answers 2xx or 3xx, and (with `body`) the body matches that regex.
    Http { url: String, body: Option<String> },
    /// Passes when a line the app wrote since the probing began (stdout or stderr) matches `pattern`.
    Log { pattern: String },
}

impl Probe {
    /// The velos.toml key of the probe: `exec`, `tcp`, `http`, `log`.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Exec { .. } => "exec",
            Probe::Tcp { .. } => "tcp",
            Probe::Http { .. } => "http",
            Probe::Log { .. } => "log",
        }
    }
}

/// `http http://127.0.0.1:8000/health`, `exec ["pg_isready"]`, `log "ready"`.
impl std::fmt::Display for Probe {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Exec { argv } => write!(formatter, "exec {argv:?}"),
            Probe::Tcp { address } => write!(formatter, "tcp {address}"),
            Probe::Http { url, body: None } => write!(formatter, "http {url}"),
            Probe::Http { url, body: Some(body) } => write!(formatter, "http {url} body {body:?}"),
            Probe::Log { pattern } => write!(formatter, "log {pattern:?}"),
        }
    }
}

/// A check: the probe and when and how often it runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Check {
    pub probe: Probe,
    pub initial_delay_ms: u64,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

/// Why a probe's value or a label cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("`exec` is empty")]
    EmptyCommand,
    #[error("`tcp` must be \"host:port\", found {0:?}")]
    TcpAddress(String),
    #[error("`http` must be an http:// URL with a host, found {0:?}")]
    HttpUrl(String),
    #[error("`http` with https:// is not supported (no TLS in the probe)")]
    Https,
    #[error("invalid regex {pattern:?}: {message}")]
    Regex { pattern: String, message: String },
    #[error("the check is {bytes} bytes as a label, more than the {LABEL_BYTES_MAX} the daemon stores")]
    TooLong { bytes: usize },
    #[error("the label is not a check: {0}")]
    Label(String),
}

impl Check {
    /// `probe` with the defaults of `purpose`.
    pub fn new(probe: Probe, purpose: Use) -> Check {
        Check {
            probe,
            initial_delay_ms: INITIAL_DELAY_MS_DEFAULT,
            interval_ms: purpose.interval_ms_default(),
            timeout_ms: TIMEOUT_MS_DEFAULT,
            success_threshold: SUCCESS_THRESHOLD_DEFAULT,
            failure_threshold: FAILURE_THRESHOLD_DEFAULT,
        }
    }

    /// Whether the probe's value can be probed: a command, a `host:port`, an `http://` URL, regexes that
    /// compile, and a label the daemon will store.
    pub fn validate(&self) -> Result<(), CheckError> {
        match &self.probe {
            Probe::Exec { argv } if argv.first().is_none_or(|program| program.trim().is_empty()) => {
                return Err(CheckError::EmptyCommand);
            }
            Probe::Exec { .. } => {}
            Probe::Tcp { address } => {
                split_host_port(address).ok_or_else(|| CheckError::TcpAddress(address.clone()))?;
            }
            Probe::Http { url, body } => {
                crate::http::Url::parse(url)?;
                if let Some(body) = body {
                    compile(body)?;
                }
            }
            Probe::Log { pattern } => {
                compile(pattern)?;
            }
        }
        let bytes = self.to_label().len();
        if bytes > LABEL_BYTES_MAX {
            return Err(CheckError::TooLong { bytes });
        }
        Ok(())
    }

    /// Compact JSON, the value of the app's `velos.readiness` / `velos.liveness` label.
    pub fn to_label(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a label written by [`Check::to_label`].
    pub fn from_label(text: &str) -> Result<Check, CheckError> {
        serde_json::from_str(text).map_err(|error| CheckError::Label(error.to_string()))
    }

    /// The probe, and the timing that differs from `purpose`'s defaults: `http http://…/health every 500ms,
    /// failure_threshold 5`. What a plan shows for a changed check.
    pub fn summary(&self, purpose: Use) -> String {
        let mut text = self.probe.to_string();
        let defaults = Check::new(self.probe.clone(), purpose);
        if self.interval_ms != defaults.interval_ms {
            text.push_str(&format!(" every {}", format_ms(self.interval_ms)));
        }
        if self.timeout_ms != defaults.timeout_ms {
            text.push_str(&format!(", timeout {}", format_ms(self.timeout_ms)));
        }
        if self.initial_delay_ms != defaults.initial_delay_ms {
            text.push_str(&format!(", initial_delay {}", format_ms(self.initial_delay_ms)));
        }
        if self.success_threshold != defaults.success_threshold {
            text.push_str(&format!(", success_threshold {}", self.success_threshold));
        }
        if self.failure_threshold != defaults.failure_threshold {
            text.push_str(&format!(", failure_threshold {}", self.failure_threshold));
        }
        text
    }
}

/// The check of `purpose` an app's labels carry, if any. A label that does not parse (written by another
/// version) counts as no check: the next apply writes it again.
pub fn from_labels(labels: &std::collections::BTreeMap<String, String>, purpose: Use) -> Option<Check> {
    labels.get(purpose.label()).and_then(|text| Check::from_label(text).ok())
}

/// `host:port` → (host, port); `[::1]:80` too. None when the port is missing or not a number.
pub fn split_host_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let host = host.strip_prefix('[').and_then(|host| host.strip_suffix(']')).unwrap_or(host);
    let port: u16 = port.parse().ok()?;
    (!host.is_empty() && port != 0).then_some((host, port))
}

/// Compiles a regex of a check, bounded in size so a pattern cannot make probing the load.
pub fn compile(pattern: &str) -> Result<regex::Regex, CheckError> {
    regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().map_err(|error| CheckError::Regex {
        pattern: pattern.to_string(),
        message: error
            .to_string()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .trim_start_matches("error: ")
            .to_string(),
    })
}

/// `250ms`, `1s`, `1m30s`: the form velos.toml writes.
pub fn format_ms(milliseconds: u64) -> String {
    if milliseconds == 0 {
        return "0s".into();
    }
    let units = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s"), (1, "ms")];
    let mut rest = milliseconds;
    let mut text = String::new();
    for (size, unit) in units {
        if rest >= size {
            text.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(url: &str) -> Check {
        Check::new(Probe::Http { url: url.into(), body: None }, Use::Readiness)
    }

    #[test]
    fn a_check_round_trips_through_its_label() {
        let mut check = http("http://127.0.0.1:8000/health");
        check.failure_threshold = 5;
        let label = check.to_label();
        assert!(!label.contains('\n') && label.len() < 200, "{label}");
        assert_eq!(Check::from_label(&label), Ok(check));
        assert!(matches!(Check::from_label("{\"probe\":1}"), Err(CheckError::Label(_))));
        let labels = std::collections::BTreeMap::from([("velos.readiness".to_string(), label)]);
        assert!(from_labels(&labels, Use::Readiness).is_some());
        assert_eq!(from_labels(&labels, Use::Liveness), None);
    }

    #[test]
    fn probe_values_are_validated() {
        assert_eq!(http("http://localhost:8000/").validate(), Ok(()));
        assert_eq!(http("https://localhost/").validate(), Err(CheckError::Https));
        assert!(matches!(http("localhost:8000").validate(), Err(CheckError::HttpUrl(_))));
        let tcp = |address: &str| Check::new(Probe::Tcp { address: address.into() }, Use::Liveness);
        assert_eq!(tcp("127.0.0.1:5432").validate(), Ok(()));
        assert_eq!(tcp("[::1]:5432").validate(), Ok(()));
        assert!(matches!(tcp("5432").validate(), Err(CheckError::TcpAddress(_))));
        assert!(matches!(tcp("db:port").validate(), Err(CheckError::TcpAddress(_))));
        let log = Check::new(Probe::Log { pattern: "ready (".into() }, Use::Readiness);
        assert!(matches!(log.validate(), Err(CheckError::Regex { .. })));
        let exec = Check::new(Probe::Exec { argv: vec![] }, Use::Readiness);
        assert_eq!(exec.validate(), Err(CheckError::EmptyCommand));
        let long = Check::new(Probe::Exec { argv: vec!["x".repeat(5_000)] }, Use::Readiness);
        assert!(matches!(long.validate(), Err(CheckError::TooLong { .. })));
    }

    #[test]
    fn a_summary_names_the_probe_and_what_is_not_default() {
        let mut check = http("http://127.0.0.1:8000/health");
        assert_eq!(check.summary(Use::Readiness), "http http://127.0.0.1:8000/health");
        check.interval_ms = 500;
        check.failure_threshold = 5;
        assert_eq!(
            check.summary(Use::Readiness),
            "http http://127.0.0.1:8000/health every 500ms, failure_threshold 5"
        );
        assert_eq!(format_ms(90_500), "1m30s500ms");
    }
}
