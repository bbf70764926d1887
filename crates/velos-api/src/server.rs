//! Listening: TCP or a Unix socket, a bounded number of connections, header limits, shutdown on a signal.
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Connections served at once; more wait in the kernel's backlog.
pub const CONNECTIONS_MAX: usize = 256;
/// Bytes of a request's head (request line and headers). Hyper's floor is 8 KiB.
pub const HEAD_BYTES_MAX: usize = 16 * 1024;
/// Headers a request may carry.
pub const HEADERS_MAX: usize = 64;
/// A client has this long to send a request's head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts from any listener with an async `accept`.
pub trait Accept {
    type Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;
    fn accept(&self) -> impl std::future::Future<Output = std::io::Result<Self::Stream>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept(&self) -> std::io::Result<Self::Stream> {
        let (stream, _) = tokio::net::TcpListener::accept(self).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept(&self) -> std::io::Result<Self::Stream> {
        tokio::net::UnixListener::accept(self).await.map(|(stream, _)| stream)
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve<L: Accept + Send + Sync>(
    listener: L,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit { Ok(permit) => permit, Err(_) => return },
            () = &mut shutdown => return,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => stream,
                // EMFILE and friends: wait a moment rather than spin on the same error.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            () = &mut shutdown => return,
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(HEAD_BYTES_MAX)
                .max_headers(HEADERS_MAX)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            // A client that goes away mid-request is not an error of the server.
            let _ = connection.await;
            drop(permit);
        });
    }
}
