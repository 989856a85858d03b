//! The pyramid as an MCP server (`infiagent mcp serve`): tools `run_task`,
//! `plan`, `build`, `judge`, `route` and `runs` over stdio, or over streamable
//! HTTP on a loopback address.
//!
//! Architecture invariants: a tool call is a run (or a build) of the same
//! engine every front-end uses, its events sent as MCP progress notifications
//! when the client asked for them, cancelled when the client cancels the request
//! (the run's processes' groups are killed). Consent follows `[run] autonomy`:
//! `auto` allows; otherwise the client is asked through MCP elicitation when it
//! supports it, and what cannot be asked is refused, the run being told.
#![deny(missing_docs)]

mod consent;
mod server;
mod tools;

use std::net::SocketAddr;

use infiagent_engine::Engine;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

pub use server::PyramidServer;

/// Serves `engine` over stdin and stdout until the client goes away.
pub async fn serve_stdio(engine: Engine) -> anyhow::Result<()> {
    let service = PyramidServer::new(engine)
        .serve(rmcp::transport::io::stdio())
        .await?;
    service.waiting().await?;
    Ok(())
}

/// Serves `engine` over streamable HTTP at `http://<addr>/mcp` until `stop`.
/// Only a loopback address is accepted: the pyramid runs code in the workspace.
pub async fn serve_http(
    engine: Engine,
    addr: SocketAddr,
    stop: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    if !addr.ip().is_loopback() {
        anyhow::bail!(
            "{addr} is not a loopback address: serve on 127.0.0.1 or [::1] (the pyramid runs code in the workspace)"
        );
    }
    let service = StreamableHttpService::new(
        move || Ok(PyramidServer::new(engine.clone())),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token()),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the MCP HTTP server stopped");
        }
    });
    Ok(bound)
}
