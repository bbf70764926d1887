//! OTLP/HTTP export (`velos serve --otlp-endpoint URL`, or the controller for a project's `[velos.otlp]`):
//! at a fixed interval, the `/metrics` figures as OTLP JSON to `/v1/metrics`, and the apps' new log lines,
//! labelled as `velos logs` labels them, to `/v1/logs` (otlp_logs.rs). Plain `http://` only: a collector
//! normally runs next to the host (or as a sidecar) and terminates TLS itself.
use crate::otlp_logs::LogShipper;
use crate::scrape::Caches;
use axum::body::Body;
use hyper_util::rt::TokioIo;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Log lines sent in one request at most; more wait for the next request of the same export.
pub const LOG_LINES_PER_REQUEST_MAX: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OtlpOptions {
    /// `http://HOST:PORT` (then `/v1/metrics` and `/v1/logs`) or `http://HOST:PORT/PREFIX` (then
    /// `PREFIX/v1/metrics`...); a URL ending in `/v1/metrics` sends the metrics there and no log lines.
    pub endpoint: String,
    pub interval: Duration,
    /// Sent with every request (lower-case names).
    pub headers: Vec<(String, String)>,
}

/// Where to send: `host:port` to connect to, the `Host` header, and the paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub authority: String,
    pub metrics_path: String,
    /// None when the endpoint names the metrics path itself.
    pub logs_path: Option<String>,
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
    let prefix = path.trim_end_matches('/');
    let (metrics_path, logs_path) = match prefix.strip_suffix("/v1/metrics") {
        Some(_) => (prefix.to_string(), None),
        None => (format!("{prefix}/v1/metrics"), Some(format!("{prefix}/v1/logs"))),
    };
    Ok(Target { authority: authority.to_string(), metrics_path, logs_path })
}

/// One POST of `body` to `path`; the response status, or why there is none.
async fn post(
    target: &Target,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<u16, String> {
    let stream = tokio::net::TcpStream::connect(&target.authority)
        .await
        .map_err(|error| format!("cannot connect to {}: {error}", target.authority))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("HTTP handshake with {} failed: {error}", target.authority))?;
    tokio::spawn(connection);
    let mut request = axum::http::Request::post(path)
        .header("host", target.authority.as_str())
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(Body::from(body)).map_err(|error| error.to_string())?;
    let response = sender.send_request(request).await.map_err(|error| format!("no answer: {error}"))?;
    Ok(response.status().as_u16())
}

async fn post_ok(
    target: &Target,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<(), String> {
    match post(target, path, headers, body).await? {
        status if (200..300).contains(&status) => Ok(()),
        status => Err(format!("the collector answered {status} to {path}")),
    }
}

pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// What an export reads: the home of the daemon, and caches of its own.
pub struct Exporter {
    pub home: PathBuf,
    pub ops: velos_ops::Ops,
    pub caches: Arc<Caches>,
    pub target: Target,
    pub options: OtlpOptions,
    /// Who says what failed: `velos serve` or `velos controller`.
    pub who: &'static str,
}

/// Pushes the metrics and the new log lines every interval until the future is dropped (the server or
/// the controller's export stops; the log follow is stopped with it). A failure is said once on stderr,
/// and again only after a success: a collector that is down must not flood the log.
pub async fn export(exporter: Exporter) {
    let start_unix_ms = velos_reconcile::now_unix_ms();
    let host = host_name();
    let mut failing = false;
    let mut shipper = exporter.target.logs_path.as_ref().map(|_| LogShipper::start(exporter.ops.clone()));
    let mut ticker = tokio::time::interval(exporter.options.interval);
    loop {
        ticker.tick().await;
        let (home, caches) = (exporter.home.clone(), Arc::clone(&exporter.caches));
        let snapshot = tokio::task::spawn_blocking(move || crate::scrape::snapshot(&home, &caches)).await;
        let result = match snapshot {
            Ok(Ok(snapshot)) => {
                let request = velos_metrics::otlp::export_request(&snapshot, start_unix_ms, &host);
                let body = serde_json::to_vec(&request).unwrap_or_default();
                let metrics =
                    post_ok(&exporter.target, &exporter.target.metrics_path, &exporter.options.headers, body);
                let metrics = metrics.await;
                let logs = match (&mut shipper, &exporter.target.logs_path) {
                    (Some(shipper), Some(path)) => {
                        ship_logs(&exporter, shipper, path, &snapshot.records, &host).await
                    }
                    _ => Ok(()),
                };
                metrics.and(logs)
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(()) => failing = false,
            Err(error) if !failing => {
                let target = &exporter.target;
                eprintln!("{}: OTLP export to http://{} failed: {error}", exporter.who, target.authority);
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// Follows the apps of `records` not followed yet, then sends every line waiting, in requests of at most
/// [`LOG_LINES_PER_REQUEST_MAX`]. Lines of a request that fails are dropped (the collector may have
/// taken part of it; sending them again could duplicate them).
async fn ship_logs(
    exporter: &Exporter,
    shipper: &mut LogShipper,
    path: &str,
    records: &[velos_core::ProcessRecord],
    host: &str,
) -> Result<(), String> {
    shipper.follow(records);
    if let Some(dropped) = shipper.take_dropped() {
        eprintln!(
            "{}: {dropped} log lines were not exported: more waited than the queue holds",
            exporter.who
        );
    }
    loop {
        let lines = shipper.take(LOG_LINES_PER_REQUEST_MAX);
        if lines.is_empty() {
            return Ok(());
        }
        let request = crate::otlp_logs::export_request(&lines, host);
        post_ok(
            &exporter.target,
            path,
            &exporter.options.headers,
            serde_json::to_vec(&request).unwrap_or_default(),
        )
        .await?;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoints_read_as_collectors_write_them() {
        let target = |endpoint| super::target(endpoint).map(|t| (t.authority, t.metrics_path, t.logs_path));
        let paths = |metrics: &str, logs: Option<&str>| (metrics.to_string(), logs.map(str::to_string));
        let plain = target("http://127.0.0.1:4318").expect("plain");
        assert_eq!((plain.1, plain.2), paths("/v1/metrics", Some("/v1/logs")));
        assert_eq!(plain.0, "127.0.0.1:4318");
        let prefixed = target("http://collector:4318/otlp/").expect("prefixed");
        assert_eq!((prefixed.1, prefixed.2), paths("/otlp/v1/metrics", Some("/otlp/v1/logs")));
        let metrics_only = target("http://collector:4318/v1/metrics").expect("metrics only");
        assert_eq!((metrics_only.1, metrics_only.2), paths("/v1/metrics", None));
        assert!(target("https://collector:4318").expect_err("https refused").contains("local collector"));
        assert!(target("http://collector").expect_err("no port").contains("host and a port"));
    }
}
