//! Serving a twin (an emulator) on loopback: bind, serve an axum router until stopped, stop on drop. Both
//! connectors' twins run on it, over connections that an injected fault can cut ([`crate::faults`]).

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::{Hangup, Listener};

/// A router served in the background; dropping it stops the server.
pub(crate) struct Server {
    /// Its base URL (`http://127.0.0.1:PORT`), without a trailing slash.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Binds `addr` (port 0: a free one) and serves `app` there.
    pub async fn start(app: axum::Router, addr: SocketAddr) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                Listener(listener),
                app.into_make_service_with_connect_info::<Hangup>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(Server {
            url,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Stops the server and waits until it no longer accepts connections.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `127.0.0.1` at a free port.
pub(crate) fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
