//! What every request passes before a handler sees it: the `Host` and `Origin` check (a web page must not
//! reach a loopback API through DNS rebinding or a cross-site form), then the bearer token and its scope.
use crate::error::ApiError;
use crate::token::{Scope, Tokens};
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;

/// The `Host` values a request may carry: the listen address, and for a loopback address its usual names.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// Lowercase `host:port` forms; empty = no check (a Unix socket: no browser can reach it).
    hosts: Vec<String>,
}

impl AllowedHosts {
    pub fn for_tcp(address: SocketAddr, extra_names: &[String]) -> AllowedHosts {
        let port = address.port();
        let literal = match address {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        };
        let mut names = vec![literal];
        if address.ip().is_loopback() {
            names.extend(["localhost", "127.0.0.1", "[::1]"].map(String::from));
        }
        names.extend(extra_names.iter().map(|name| name.to_ascii_lowercase()));
        names.dedup();
        AllowedHosts { hosts: names.into_iter().map(|name| format!("{name}:{port}")).collect() }
    }

    pub fn any() -> AllowedHosts {
        AllowedHosts { hosts: vec![] }
    }

    fn allows(&self, host: &str) -> bool {
        self.hosts.is_empty() || self.hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    fn allows_origin(&self, origin: &str) -> bool {
        if self.hosts.is_empty() {
            return false;
        }
        ["http://", "https://"]
            .iter()
            .filter_map(|scheme| origin.strip_prefix(scheme))
            .any(|host| self.allows(host))
    }
}

/// Who may call: the tokens, where the server listens, and which routes need no token.
#[derive(Debug, Clone)]
pub struct Guard {
    pub tokens: Tokens,
    pub hosts: AllowedHosts,
}

/// Routes open without a token: the liveness probe, and the webhook, which proves itself with a signature.
fn open_route(path: &str) -> bool {
    path == "/healthz" || path == "/v1/hooks/git"
}

/// Reads need a read-only or read-write token, every other method a read-write one.
fn needed_scope(method: &Method) -> Scope {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Scope::Read
    } else {
        Scope::Write
    }
}

pub async fn check(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    if !guard.hosts.hosts.is_empty() {
        let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
        if !guard.hosts.allows(host) {
            return Err(ApiError::new(
                axum::http::StatusCode::MISDIRECTED_REQUEST,
                "bad_host",
                format!("this server does not answer for host {host:?}"),
            )
            .hint("call it by the address it listens on (velos serve --allow-host NAME adds a name)"));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !guard.hosts.allows_origin(origin) {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "bad_origin",
                format!("requests from origin {origin:?} are refused"),
            ));
        }
    }
    if !open_route(request.uri().path()) {
        let scope = authenticate(&guard.tokens, request.headers())?;
        if scope < needed_scope(request.method()) {
            return Err(ApiError::forbidden_scope());
        }
    }
    Ok(next.run(request).await)
}

fn authenticate(tokens: &Tokens, headers: &axum::http::HeaderMap) -> Result<Scope, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("this route needs a bearer token"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|text| text.strip_prefix("Bearer ").or_else(|| text.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not `Bearer TOKEN`"))?;
    tokens.scope_of(token).ok_or_else(|| ApiError::unauthorized("unknown token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_answers_to_its_names_and_nothing_else() {
        let hosts = AllowedHosts::for_tcp("127.0.0.1:9700".parse().expect("address"), &[]);
        for host in ["127.0.0.1:9700", "localhost:9700", "LOCALHOST:9700", "[::1]:9700"] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in ["attacker.example:9700", "localhost:80", "127.0.0.1", ""] {
            assert!(!hosts.allows(host), "{host}");
        }
        assert!(hosts.allows_origin("http://localhost:9700"));
        assert!(!hosts.allows_origin("http://evil.example"));
        assert!(!hosts.allows_origin("null"));
    }

    #[test]
    fn another_address_answers_to_itself_and_the_names_given() {
        let hosts = AllowedHosts::for_tcp("10.1.2.3:80".parse().expect("address"), &["Api.Example".into()]);
        assert!(hosts.allows("10.1.2.3:80"));
        assert!(hosts.allows("api.example:80"));
        assert!(!hosts.allows("localhost:80"));
    }

    #[test]
    fn writes_need_the_write_scope() {
        assert_eq!(needed_scope(&Method::GET), Scope::Read);
        assert_eq!(needed_scope(&Method::PATCH), Scope::Write);
        assert_eq!(needed_scope(&Method::POST), Scope::Write);
        assert!(open_route("/healthz") && open_route("/v1/hooks/git") && !open_route("/metrics"));
    }
}
