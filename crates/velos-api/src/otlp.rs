//! OTLP/HTTP export (`velos serve --otlp-endpoint URL`): the `/metrics` figures pushed as OTLP JSON to
//! an OpenTelemetry collector at a fixed interval. Plain `http://` only: a collector normally runs next to
//! the host (or as a sidecar) and terminates TLS itself.
use crate::state::AppState;
use axum::body::Body;
use hyper_util::rt::TokioIo;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpOptions {
    /// `http://HOST:PORT` (then `/v1/metrics`) or a full `http://HOST:PORT/PATH`.
    pub endpoint: String,
    pub interval: Duration,
}

/// Where to send: `host:port` to connect to, the `Host` header, and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub authority: String,
    pub path: String,
}

/// Reads an endpoint URL; the error says what is wrong with it.
pub fn target(endpoint: &str) -> Result<Target, String> {
    let rest = endpoint.strip_prefix("http://").ok_or_else(|| {
        format!("OTLP endpoint {endpoint:?} is not http://HOST:PORT (https: point it at a local collector)")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };
    if authority.is_empty() || !authority.contains(':') {
        return Err(format!("OTLP endpoint {endpoint:?} needs a host and a port (http://127.0.0.1:4318)"));
    }
    let path = if path.is_empty() || path == "/" { "/v1/metrics" } else { path };
    Ok(Target { authority: authority.to_string(), path: path.to_string() })
}

/// One POST of `body`; the response status, or why there is none.
async fn post(target: &Target, body: Vec<u8>) -> Result<u16, String> {
    let stream = tokio::net::TcpStream::connect(&target.authority)
        .await
        .map_err(|error| format!("cannot connect to {}: {error}", target.authority))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("HTTP handshake with {} failed: {error}", target.authority))?;
    tokio::spawn(connection);
    let request = axum::http::Request::post(target.path.as_str())
        .header("host", target.authority.as_str())
        .header("content-type", "application/json")
        .body(Body::from(body))
        .map_err(|error| error.to_string())?;
    let response = sender.send_request(request).await.map_err(|error| format!("no answer: {error}"))?;
    Ok(response.status().as_u16())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Pushes a snapshot every `interval` until the server stops. A failure is said once on stderr, and again
/// only after a success: a collector that is down must not flood the log.
pub async fn export(state: AppState, target: Target, interval: Duration) {
    let start_unix_ms = velos_reconcile::now_unix_ms();
    let host = host_name();
    let mut failing = false;
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let shared = state.clone();
        let snapshot =
            tokio::task::spawn_blocking(move || crate::scrape::snapshot(&shared.home, &shared.caches)).await;
        let result = match snapshot {
            Ok(Ok(snapshot)) => {
                let request = velos_metrics::otlp::export_request(&snapshot, start_unix_ms, &host);
                match post(&target, serde_json::to_vec(&request).unwrap_or_default()).await {
                    Ok(status) if (200..300).contains(&status) => Ok(()),
                    Ok(status) => Err(format!("the collector answered {status}")),
                    Err(error) => Err(error),
                }
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(()) => failing = false,
            Err(error) if !failing => {
                eprintln!(
                    "velos serve: OTLP export to http://{}{} failed: {error}",
                    target.authority, target.path
                );
                failing = true;
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_read_as_collectors_write_them() {
        assert_eq!(
            target("http://127.0.0.1:4318"),
            Ok(Target { authority: "127.0.0.1:4318".into(), path: "/v1/metrics".into() })
        );
        assert_eq!(target("http://collector:4318/custom/path").map(|t| t.path), Ok("/custom/path".into()));
        assert!(target("https://collector:4318").expect_err("https refused").contains("local collector"));
        assert!(target("http://collector").expect_err("no port").contains("host and a port"));
    }
}
