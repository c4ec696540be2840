//! `el-jefe serve`: the engine as a service. Clients connect over one WebSocket each and speak
//! the protocol of `crate::protocol` (docs/PROTOCOL.md); `/healthz` says it is up.

mod connection;
mod cursor;
mod door;
mod hub;
pub mod people;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::engine::EngineHandle;
use crate::session::call::CallMode;
use crate::session::event::EngineEvent;
use crate::store::Store;
use door::Door;
use hub::Hub;
use people::People;

/// What every connection shares.
pub struct Shared {
    engine: EngineHandle,
    hub: Hub,
    store: Store,
    people: RwLock<People>,
    door: Door,
}

pub struct ServerSetup {
    pub engine: EngineHandle,
    pub events: UnboundedReceiver<EngineEvent>,
    pub store: Store,
    pub people: People,
    pub mode: CallMode,
}

/// Serves until `shutdown` completes. Must run inside a tokio runtime.
pub async fn serve(
    listener: TcpListener,
    setup: ServerSetup,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        engine: setup.engine,
        hub: Hub::start(setup.events, setup.mode),
        store: setup.store,
        people: RwLock::new(setup.people),
        door: Door::default(),
    });
    let app = Router::new()
        .route("/api/v1/ws", get(websocket))
        .route("/healthz", get(healthz))
        .with_state(shared);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
    format!("ok: {} client(s) connected\n", shared.hub.connections())
}
