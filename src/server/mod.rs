//! `el-jefe serve`: the engine as a service. Clients connect over one WebSocket each and speak
//! the protocol of `crate::protocol` (docs/PROTOCOL.md); `/healthz` says it is up and
//! `/metrics` gives its numbers to Prometheus.

mod analytics;
mod api;
mod board;
mod client_counts;
mod connection;
mod cursor;
mod door;
mod hooks;
mod hub;
mod metrics;
pub mod people;
pub mod tls;
mod web;
pub mod web_logins;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use axum_server::accept::NoDelayAcceptor;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::engine::EngineHandle;
use crate::scheduler::Scheduler;
use crate::session::call::CallMode;
use crate::session::event::EngineEvent;
use crate::store::Store;
use board::Board;
use client_counts::ClientCounts;
use door::Door;
use hub::Hub;
use people::People;
pub use tls::Transport;
use web_logins::WebLogins;

/// A client whose socket takes no message for this long has stopped reading: it is let go, so
/// it holds no task and no buffer; it may come back and subscribe from its position.
pub const STALLED_SEND: Duration = Duration::from_secs(30);

/// Turns of news kept for connections that are a little behind. Beyond it a connection reads
/// the journals instead.
pub const BUFFERED_TURNS: usize = 1024;

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
    /// Connections past their hello, and how they keep up.
    clients: Arc<ClientCounts>,
    web_logins: Mutex<WebLogins>,
    /// The agent roles configured, for checking plan edits.
    roles: Vec<String>,
    /// Cookies only over TLS (a browser would not send them back over plain HTTP).
    secure_cookies: bool,
    stalled_send: Duration,
    scheduler: Option<Scheduler>,
    baselines: analytics::BaselineCache,
}

pub struct ServerSetup {
    pub engine: EngineHandle,
    pub events: UnboundedReceiver<EngineEvent>,
    pub store: Store,
    pub people: People,
    pub mode: CallMode,
    /// Browsers signed in to the web dashboard (with the one-time link, if one was made).
    pub web_logins: WebLogins,
    pub roles: Vec<String>,
    /// How long a client may leave a message unread before it is let go (`STALLED_SEND`).
    pub stalled_send: Duration,
    /// The schedules and triggers, when this server runs them.
    pub scheduler: Option<Scheduler>,
    /// Engine turns kept for clients a little behind (`BUFFERED_TURNS`); one further behind is
    /// caught up from the journal.
    pub buffered_turns: usize,
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
        hub: Hub::start(
            setup.events,
            setup.mode,
            board.clone(),
            setup.scheduler.clone(),
            setup.buffered_turns,
        ),
        store: setup.store,
        people: RwLock::new(setup.people),
        door: Door::default(),
        board,
        clients: Arc::default(),
        web_logins: Mutex::new(setup.web_logins),
        roles: setup.roles,
        secure_cookies: matches!(transport, Transport::Tls(_)),
        stalled_send: setup.stalled_send,
        scheduler: setup.scheduler,
        baselines: analytics::BaselineCache::default(),
    });
    let app = Router::new()
        .route("/", get(web::index))
        .route("/login", post(web::login))
        .route("/logout", post(web::logout))
        .route("/app.js", get(web::script))
        .route("/app.css", get(web::style))
        .route("/api/v1/ws", get(websocket))
        .route("/api/v1/plan-file", post(api::plan_file))
        .route("/api/v1/preview-edit", post(api::preview_edit))
        .route("/api/v1/stats", get(analytics::stats))
        .route("/api/v1/compare", get(analytics::compare_sessions))
        .route("/api/v1/summaries", get(analytics::summaries))
        .route("/api/v1/flags", post(analytics::running_flags))
        .route("/hooks/{name}", post(hooks::call))
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
    // Events are many small writes: without TCP_NODELAY, Nagle's algorithm holds one back until
    // the client acknowledges the last, which its delayed ACK can put off by up to 40 ms.
    match transport {
        Transport::Plain => {
            axum_server::from_tcp(listener)?
                .acceptor(NoDelayAcceptor::new())
                .handle(handle)
                .serve(app)
                .await
        }
        Transport::Tls(config) => {
            axum_server::tls_rustls::from_tcp_rustls(listener, config)?
                .map(|tls| tls.acceptor(NoDelayAcceptor::new()))
                .handle(handle)
                .serve(app)
                .await
        }
    }
}

async fn websocket(
    upgrade: WebSocketUpgrade,
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    if !web::same_origin(&headers) {
        tracing::warn!(%peer, "refused a WebSocket opened by a page of another site");
        return (StatusCode::FORBIDDEN, "not from a page of this server\n").into_response();
    }
    // A signed-in browser's hello needs no token: its cookie says who it is.
    let browser = web::signed_in(&shared, &jar);
    // Failed logins are counted per address, not per connection.
    let peer = peer.ip().to_string();
    upgrade.on_upgrade(move |socket| connection::serve(socket, shared, peer, browser))
}

async fn healthz(State(shared): State<Arc<Shared>>) -> String {
    format!(
        "ok: {} client(s) connected\n",
        shared.clients.now().connected
    )
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let text = metrics::render(&shared.board.totals(), shared.clients.now());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
}
