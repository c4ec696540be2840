//! `el-jefe serve`: the engine as a service. Clients connect over one WebSocket each and speak
//! the protocol of `crate::protocol` (docs/PROTOCOL.md); `/healthz` says it is up and
//! `/metrics` gives its numbers to Prometheus.

mod board;
mod connection;
mod cursor;
mod door;
mod hub;
mod metrics;
pub mod people;
pub mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::engine::EngineHandle;
use crate::session::call::CallMode;
use crate::session::event::EngineEvent;
use crate::store::Store;
use board::Board;
use door::Door;
use hub::Hub;
use people::People;
pub use tls::Transport;

/// How long connections get to finish once the server is told to stop.
const GRACE: Duration = Duration::from_secs(5);

/// What every connection shares.
pub struct Shared {
    engine: EngineHandle,
    hub: Hub,
    store: Store,
    people: RwLock<People>,
    door: Door,
    board: Arc<Board>,
    /// Connections past their hello.
    clients: AtomicUsize,
}

pub struct ServerSetup {
    pub engine: EngineHandle,
    pub events: UnboundedReceiver<EngineEvent>,
    pub store: Store,
    pub people: People,
    pub mode: CallMode,
}

/// Serves until `shutdown` completes; connections still open then get a few seconds. Must run
/// inside a tokio runtime, after the engine's start-up recovery.
pub async fn serve(
    listener: std::net::TcpListener,
    transport: Transport,
    setup: ServerSetup,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let board = Arc::new(Board::load(&setup.store));
    let shared = Arc::new(Shared {
        engine: setup.engine,
        hub: Hub::start(setup.events, setup.mode, board.clone()),
        store: setup.store,
        people: RwLock::new(setup.people),
        door: Door::default(),
        board,
        clients: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/api/v1/ws", get(websocket))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(shared)
        .into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(GRACE));
    });
    match transport {
        Transport::Plain => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(app)
                .await
        }
        Transport::Tls(config) => {
            axum_server::tls_rustls::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(app)
                .await
        }
    }
}

impl Shared {
    fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }
}

async fn websocket(
    upgrade: WebSocketUpgrade,
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    // Failed logins are counted per address, not per connection.
    let peer = peer.ip().to_string();
    upgrade.on_upgrade(move |socket| connection::serve(socket, shared, peer))
}

async fn healthz(State(shared): State<Arc<Shared>>) -> String {
    format!("ok: {} client(s) connected\n", shared.clients())
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let text = metrics::render(&shared.board.totals(), shared.clients());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
}
