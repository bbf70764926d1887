//! `velos mcp`: the Model Context Protocol server through which AI agents look at this host — apps, logs,
//! metrics, projects, history — in few tokens, and propose changes of velos.toml that a human approves
//! (docs/MCP.md). It serves one client on stdin/stdout with the official Rust SDK (`rmcp`); stdout
//! carries only JSON-RPC, and anything else this process says goes to stderr.
//!
//! Each tool call opens its own connection to the daemon and never starts one unless `--start-daemon`
//! (a tool then says the daemon is down). Every answer is bounded by a token budget ([`budget`]).
mod apps;
pub mod budget;
mod host;
mod log_tools;
mod project_tools;
mod server;
mod write_tools;

pub use host::{Failure, Host};
pub use server::VelosServer;

use rmcp::ServiceExt as _;
use std::path::PathBuf;

/// How `velos mcp` was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub home: PathBuf,
    /// This velos executable: what `--start-daemon` runs as the daemon.
    pub velos_exe: PathBuf,
    pub start_daemon: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("{0}")]
    Home(#[source] Box<velos_ops::OpError>),
    #[error("cannot start the MCP server's runtime")]
    Runtime(#[source] std::io::Error),
    #[error("the MCP session could not start")]
    Start(#[source] Box<rmcp::service::ServerInitializeError>),
    #[error("the MCP session ended with an error")]
    Session(#[source] tokio::task::JoinError),
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub fn serve_stdio(options: Options) -> Result<(), McpError> {
    // One thread reads and writes the protocol; blocking calls (daemon, files) run on tokio's small
    // blocking pool, so a long apply never stops the server from reading a cancellation.
    let runtime = tokio::runtime::Builder::new_current_thread()
        // rmcp's session uses timers (request timeouts) and async io.
        .enable_io()
        .enable_time()
        .max_blocking_threads(4)
        .build()
        .map_err(McpError::Runtime)?;
    let home = velos_ops::Home::new(options.home).map_err(|error| McpError::Home(Box::new(error)))?;
    let ops = velos_ops::Ops::new(home).with_velos_exe(options.velos_exe.clone());
    let host = Host { ops, velos_exe: options.velos_exe, start_daemon: options.start_daemon };
    runtime.block_on(async move {
        let service = VelosServer::new(host)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|error| McpError::Start(Box::new(error)))?;
        service.waiting().await.map_err(McpError::Session)?;
        Ok(())
    })
}
