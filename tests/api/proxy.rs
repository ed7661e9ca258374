//! A loopback TCP proxy to put between the server and its PostgreSQL, so that a test can take
//! the database away and give it back without touching the database server:
//!
//! - [`Proxy::cut`] closes every proxied connection and stops listening, so that new
//!   connections are refused, as when the database host is down;
//! - [`Proxy::restore`] listens again on the same port.
//!
//! It runs on a runtime of its own, so that a test blocking its own thread on a database call
//! (the harness's `with_connection`) cannot stall the traffic it depends on.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

pub struct Proxy {
    /// Where the proxy listens: 127.0.0.1 and this port.
    pub port: u16,
    upstream: SocketAddr,
    runtime: Option<Runtime>,
    tasks: Arc<Mutex<Tasks>>,
}

#[derive(Default)]
struct Tasks {
    accept: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-proxy")
            .enable_all()
            .build()
            .expect("a runtime for the proxy");
        let listener = runtime
            .spawn(listen("127.0.0.1:0".parse().unwrap()))
            .await
            .expect("the proxy binds");
        let port = listener.local_addr().expect("a local address").port();
        let proxy = Proxy {
            port,
            upstream,
            runtime: Some(runtime),
            tasks: Arc::default(),
        };
        proxy.accept(listener);
        proxy
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn route(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).expect("a database URL");
        url.set_host(Some("127.0.0.1")).expect("a host");
        url.set_port(Some(self.port)).expect("a port");
        url.to_string()
    }

    /// Closes every proxied connection and stops listening: connecting is refused from now on.
    pub async fn cut(&self) {
        // The listener first, so that no connection is accepted after the others are closed.
        let accept = self.tasks.lock().unwrap().accept.take();
        if let Some(task) = accept {
            task.abort();
            // Returns once the task is gone, and with it its socket.
            let _ = task.await;
        }
        let connections = std::mem::take(&mut self.tasks.lock().unwrap().connections);
        for task in connections {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let listener = self
            .runtime()
            .spawn(listen(address))
            .await
            .expect("the proxy binds again");
        self.accept(listener);
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().expect("running until dropped")
    }

    fn accept(&self, listener: TcpListener) {
        let tasks = Arc::clone(&self.tasks);
        let upstream = self.upstream;
        let handle = self.runtime().handle().clone();
        let accept = self.runtime().spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let forward = handle.spawn(async move {
                    // An upstream that refuses closes the inbound side too.
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut tasks = tasks.lock().unwrap();
                tasks.connections.retain(|t| !t.is_finished());
                tasks.connections.push(forward);
            }
        });
        self.tasks.lock().unwrap().accept = Some(accept);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A listener that may take a port again that an earlier listener of the proxy just left.
async fn listen(address: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket
        .bind(address)
        .unwrap_or_else(|e| panic!("binding {address}: {e}"));
    socket.listen(64).expect("listening")
}
