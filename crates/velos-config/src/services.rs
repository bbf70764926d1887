//! `[velos.api]` and `[velos.otlp]`: what the controller serves for a project besides reconciling it — the
//! REST API, and an OpenTelemetry export. Like the rest of `[velos]`, part of no app's spec.
use crate::controller::Resolver;
use crate::raw::{RawApi, RawOtlp};
use crate::units::parse_duration_ms;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

/// `[velos.otlp] interval` when the file sets none.
pub const OTLP_INTERVAL_DEFAULT_MS: u64 = 10_000;
/// The shortest `[velos.otlp] interval`: an export is a LIST, a read of new log lines and two POSTs.
pub const OTLP_INTERVAL_MIN_MS: u64 = 1_000;
/// The longest: past a day the figures are of no use to a dashboard.
pub const OTLP_INTERVAL_MAX_MS: u64 = 86_400_000;

/// `[velos.api]`, resolved: where the controller serves the API. At least one of `listen` and `unix`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ApiSettings {
    pub listen: Option<SocketAddr>,
    /// Absolute.
    pub unix: Option<PathBuf>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

/// `[velos.otlp]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtlpSettings {
    /// `http://HOST:PORT`, optionally with a path prefix.
    pub endpoint: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub interval_ms: u64,
}

impl Resolver<'_, '_> {
    pub(crate) fn api(&mut self, raw: &RawApi) -> Option<ApiSettings> {
        let listen = raw.listen.as_deref().and_then(|text| self.listen(text));
        let unix = raw.unix.as_deref().and_then(|text| self.unix(text));
        if raw.listen.is_none() && raw.unix.is_none() {
            let span = self.span(&["velos", "api"]);
            self.error(
                span,
                "`[velos.api]` names no address".into(),
                Some("add `listen = \"127.0.0.1:9700\"` (or `unix = \"api.sock\"`)".into()),
            );
            return None;
        }
        let mut allow_hosts = raw.allow_hosts.clone().unwrap_or_default();
        allow_hosts.sort();
        allow_hosts.dedup();
        if let Some(bad) = allow_hosts.iter().find(|host| host.is_empty() || host.contains(['/', ' ', '@'])) {
            let span = self.span(&["velos", "api", "allow_hosts"]);
            self.error(
                span,
                format!("{bad:?} is not a host name"),
                Some("list bare names: `allow_hosts = [\"velos.example.com\"]`".into()),
            );
            return None;
        }
        // Both given but one bad: the whole table is refused (the diagnostics say why).
        if raw.listen.is_some() && listen.is_none() || raw.unix.is_some() && unix.is_none() {
            return None;
        }
        Some(ApiSettings { listen, unix, allow_hosts })
    }

    fn listen(&mut self, text: &str) -> Option<SocketAddr> {
        match text.parse::<SocketAddr>() {
            Ok(address) => Some(address),
            Err(_) => {
                let span = self.span(&["velos", "api", "listen"]);
                let help = if text.parse::<std::net::IpAddr>().is_ok() {
                    format!("add the port: `listen = \"{text}:9700\"`")
                } else {
                    "write an IP address and a port: `listen = \"127.0.0.1:9700\"` (`[::1]:9700` for IPv6)"
                        .to_string()
                };
                self.error(
                    span,
                    format!("`velos.api.listen` is not an address and port: {text:?}"),
                    Some(help),
                );
                None
            }
        }
    }

    fn unix(&mut self, text: &str) -> Option<PathBuf> {
        let problem = if text.starts_with('~') {
            Some("`~` is not expanded in `velos.api.unix`")
        } else if text.ends_with('/') {
            Some("`velos.api.unix` names a folder, not a socket")
        } else if text.contains('\0') || text.chars().any(char::is_control) {
            Some("`velos.api.unix` contains a control character")
        } else {
            None
        };
        let base = self.context.file.parent().unwrap_or(Path::new("/"));
        let path: PathBuf =
            base.join(text).components().filter(|component| *component != Component::CurDir).collect();
        // sun_path holds 108 bytes, its NUL included.
        let problem = problem.or((path.as_os_str().len() > 107).then_some("`velos.api.unix` is too long"));
        if let Some(problem) = problem {
            let span = self.span(&["velos", "api", "unix"]);
            let help = "write a path under 108 bytes, absolute or relative to the folder of velos.toml";
            self.error(span, problem.into(), Some(help.into()));
            return None;
        }
        Some(path)
    }

    pub(crate) fn otlp(&mut self, raw: &RawOtlp) -> Option<OtlpSettings> {
        let endpoint = self.endpoint(&raw.endpoint);
        let interval_ms = match &raw.interval {
            None => Some(OTLP_INTERVAL_DEFAULT_MS),
            Some(text) => self.otlp_interval(&text.0),
        };
        let mut headers = BTreeMap::new();
        for (name, value) in raw.headers.iter().flatten() {
            let valid_name = !name.is_empty()
                && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(&byte));
            let value = value.to_text();
            if !valid_name || value.contains(['\r', '\n']) {
                let span = self.span(&["velos", "otlp", "headers", name]);
                let message = if valid_name {
                    format!("the value of header {name:?} spans lines")
                } else {
                    format!("{name:?} is not a header name")
                };
                self.error(span, message, Some("write `headers = { x-tenant = \"shop\" }`".into()));
                return None;
            }
            headers.insert(name.to_ascii_lowercase(), value);
        }
        Some(OtlpSettings { endpoint: endpoint?, headers, interval_ms: interval_ms? })
    }

    fn endpoint(&mut self, text: &str) -> Option<String> {
        if text == crate::read::PLACEHOLDER {
            return None; // missing: already said
        }
        let authority = text.strip_prefix("http://").map(|rest| rest.split('/').next().unwrap_or(""));
        let problem = match authority {
            None => Some(format!("`velos.otlp.endpoint` is not an http:// URL: {text:?}")),
            Some(authority)
                if authority
                    .rsplit_once(':')
                    .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err()) =>
            {
                Some(format!("`velos.otlp.endpoint` needs a host and a port: {text:?}"))
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            let span = self.span(&["velos", "otlp", "endpoint"]);
            let help = "write `endpoint = \"http://127.0.0.1:4318\"` (a collector next to the host; it may forward over TLS)";
            self.error(span, problem, Some(help.into()));
            return None;
        }
        Some(text.trim_end_matches('/').to_string())
    }

    fn otlp_interval(&mut self, text: &str) -> Option<u64> {
        let problem = match parse_duration_ms(text) {
            Ok(ms) if (OTLP_INTERVAL_MIN_MS..=OTLP_INTERVAL_MAX_MS).contains(&ms) => return Some(ms),
            Ok(_) => (format!("`velos.otlp.interval` must be between 1s and 1d, found {text:?}"), None),
            Err(error) => (format!("invalid `velos.otlp.interval`: {}", error.message), error.help),
        };
        let span = self.span(&["velos", "otlp", "interval"]);
        self.error(span, problem.0, problem.1.or(Some("write `interval = \"10s\"` (the default)".into())));
        None
    }
}
