//! The Velos REST + WebSocket API: `velos serve`.
//!
//! A thin face: each route parses its request, calls the operations layer, renders the outcome as JSON.
//! Around the routes: bearer tokens from `$VELOS_HOME/api.token` (read-only and read-write, compared in
//! constant time), a `Host`/`Origin` check against the listen address, body and header limits, a bounded
//! number of connections, errors as `{"error": {"kind", "message", "hint"}}`. `/openapi.json` is built from
//! the route table and the types' JSON Schemas; `schemas/openapi.json` is its checked-in copy.
mod error;
mod guard;
mod hosted;
#[cfg(feature = "otlp")]
mod hosted_otlp;
mod op_error;
mod openapi;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "otlp")]
mod otlp_logs;
mod routes;
mod scrape;
mod server;
mod state;
mod sync;
mod token;
mod webhook;

pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use hosted::HostedServices;
pub use token::{token_lines, Scope, TokenError, Tokens, TOKEN_FILE};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The default `--listen`.
pub const LISTEN_DEFAULT: &str = "127.0.0.1:9700";

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Listen {
    Tcp(SocketAddr),
    /// A Unix socket, created 0600.
    Unix(PathBuf),
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub home: PathBuf,
    pub listen: Listen,
    /// Extra names the server answers to in `Host` (a DNS name of a non-loopback address).
    pub allow_hosts: Vec<String>,
    /// Push the metrics to an OTLP/HTTP collector as well.
    #[cfg(feature = "otlp")]
    pub otlp: Option<OtlpOptions>,
}

#[cfg(feature = "otlp")]
pub use otlp::OtlpOptions;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("refusing to listen on {address} without a bearer token in {}", path.display())]
    NoTokenOffLoopback { address: SocketAddr, path: PathBuf },
    #[error("could not listen on {what}")]
    Bind {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{} exists and is not a socket", path.display())]
    NotASocket { path: PathBuf },
    #[error("another server listens on {}", path.display())]
    SocketInUse { path: PathBuf },
    #[error("{0}")]
    Home(String),
    #[error("{0}")]
    Otlp(String),
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// What a started server says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// `http://127.0.0.1:9700` or `unix:/path`.
    pub url: String,
    pub token_file: PathBuf,
    /// The token file was created by this start.
    pub created_tokens: bool,
}

/// The OpenAPI 3.1 document, pretty-printed with a final newline (as `schemas/openapi.json` holds it).
pub fn openapi_json() -> String {
    let document = openapi::document(routes::OPERATIONS);
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// `velos metrics`: the exposition a scrape of `/metrics` would give, without a server.
pub fn metrics_text(home: &Path, format: velos_metrics::Format) -> Result<String, ApiError> {
    let snapshot = scrape::snapshot(home, &scrape::Caches::default())?;
    velos_metrics::render(&snapshot, format).map_err(|error| ApiError::internal(error.to_string()))
}

/// Runs the server until SIGINT or SIGTERM. `on_ready` is called once it listens.
pub fn serve(options: ServeOptions, on_ready: impl FnOnce(&Started)) -> Result<(), ServeError> {
    let server = bind(options)?;
    on_ready(server.started());
    server.run(shutdown_signal())
}

/// A server bound to its address (so every reason it cannot start is known), not serving yet.
pub struct BoundServer {
    listener: Bound,
    router: axum::Router,
    started: Started,
    unix_path: Option<PathBuf>,
    #[cfg(feature = "otlp")]
    exporter: Option<otlp::Exporter>,
}

impl std::fmt::Debug for BoundServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundServer").field("started", &self.started).finish_non_exhaustive()
    }
}

/// Binds the address of `options` and makes the tokens (creating `api.token` on the first start). An
/// address off loopback is refused when the token file holds no token.
pub fn bind(options: ServeOptions) -> Result<BoundServer, ServeError> {
    let (tokens, created_tokens) = Tokens::load_or_create(&options.home)?;
    // Bound before the guard is made: with port 0 the allowed `Host` names the port the kernel chose.
    let (listener, hosts, url) = match &options.listen {
        Listen::Tcp(address) => {
            if !address.ip().is_loopback() && !tokens.any() {
                return Err(ServeError::NoTokenOffLoopback { address: *address, path: tokens.path().into() });
            }
            let bind_error = |source| ServeError::Bind { what: address.to_string(), source };
            let listener = std::net::TcpListener::bind(address).map_err(bind_error)?;
            listener.set_nonblocking(true).map_err(bind_error)?;
            let bound = listener.local_addr().map_err(bind_error)?;
            let hosts = guard::AllowedHosts::for_tcp(bound, &options.allow_hosts);
            (Bound::Tcp(listener), hosts, format!("http://{bound}"))
        }
        Listen::Unix(path) => {
            let listener = bind_unix(path)?;
            (Bound::Unix(listener), guard::AllowedHosts::any(), format!("unix:{}", path.display()))
        }
    };
    let ops = velos_ops::Home::new(options.home.clone()).map_err(|error| ServeError::Home(error.message))?;
    let shared = Arc::new(state::Shared {
        home: options.home.clone(),
        ops: velos_ops::AsyncOps::new(velos_ops::Ops::new(ops)),
        guard: Arc::new(guard::Guard { tokens: tokens.clone(), hosts }),
        openapi: openapi_json().into(),
        caches: scrape::Caches::default(),
        deliveries: Mutex::new(webhook::Deliveries::default()),
    });
    #[cfg(feature = "otlp")]
    let exporter = match &options.otlp {
        Some(otlp) => Some(otlp::Exporter {
            home: options.home.clone(),
            ops: shared.ops.blocking().clone(),
            caches: Arc::default(),
            target: otlp::target(&otlp.endpoint).map_err(ServeError::Otlp)?,
            options: otlp.clone(),
            who: "velos serve",
        }),
        None => None,
    };
    let unix_path = match &options.listen {
        Listen::Unix(path) => Some(path.clone()),
        Listen::Tcp(_) => None,
    };
    Ok(BoundServer {
        listener,
        router: routes::router(shared),
        started: Started { url, token_file: tokens.path().to_path_buf(), created_tokens },
        unix_path,
        #[cfg(feature = "otlp")]
        exporter,
    })
}

impl BoundServer {
    pub fn started(&self) -> &Started {
        &self.started
    }

    /// Serves on a runtime of its own, on this thread, until `shutdown` resolves; a Unix socket is removed
    /// then. Connections still open are dropped with the runtime.
    pub fn run(self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), ServeError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(16)
            .build()
            .map_err(ServeError::Runtime)?;
        let BoundServer { listener, router, started, unix_path, .. } = self;
        #[cfg(feature = "otlp")]
        let exporter = self.exporter;
        let served = runtime.block_on(async move {
            #[cfg(feature = "otlp")]
            if let Some(exporter) = exporter {
                tokio::spawn(otlp::export(exporter));
            }
            let bind_error = |source| ServeError::Bind { what: started.url.clone(), source };
            match listener {
                Bound::Tcp(listener) => {
                    let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_error)?;
                    server::serve(listener, router, shutdown).await;
                }
                Bound::Unix(listener) => {
                    let listener = tokio::net::UnixListener::from_std(listener).map_err(bind_error)?;
                    server::serve(listener, router, shutdown).await;
                }
            }
            Ok(())
        });
        if let Some(path) = unix_path {
            let _ = std::fs::remove_file(path);
        }
        // Blocking work still running (a verb, a log follow) is not waited for past this.
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        served
    }
}

/// A listening socket, before the runtime takes it.
enum Bound {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

/// Binds a Unix socket at `path`, 0600 from the moment it has that name: bound under a temporary name in
/// the same folder, made private, then renamed into place. A stale socket (nobody listening) is replaced.
fn bind_unix(path: &Path) -> Result<std::os::unix::net::UnixListener, ServeError> {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    let bind_error = |source| ServeError::Bind { what: path.display().to_string(), source };
    if let Ok(metadata) = std::fs::symlink_metadata(path) {
        if !metadata.file_type().is_socket() {
            return Err(ServeError::NotASocket { path: path.to_path_buf() });
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ServeError::SocketInUse { path: path.to_path_buf() });
        }
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let listener = std::os::unix::net::UnixListener::bind(&temporary).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|source| {
            let _ = std::fs::remove_file(&temporary);
            bind_error(source)
        })?;
    Ok(listener)
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
