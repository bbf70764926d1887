//! What every handler shares.
use crate::guard::Guard;
use crate::scrape::Caches;
use crate::webhook::Deliveries;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct Shared {
    pub home: PathBuf,
    /// The verbs, on tokio's blocking pool.
    pub ops: velos_ops::AsyncOps,
    pub guard: Arc<Guard>,
    /// `/openapi.json`, rendered once at start-up.
    pub openapi: axum::body::Bytes,
    pub caches: Caches,
    pub deliveries: Mutex<Deliveries>,
}

pub type AppState = Arc<Shared>;

/// Runs blocking work (the daemon client, file reads) on tokio's blocking pool.
pub async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, crate::error::ApiError>
where
    T: Send + 'static,
    E: Into<crate::error::ApiError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(crate::error::ApiError::internal("a request handler failed")),
    }
}
