//! `el-jefe serve`: the engine with no screen, for clients to attach to; one per data dir.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use super::Context;
use super::providers::load_routes;
use super::run::start_tools;
use el_jefe::engine::start_engine_routed;
use el_jefe::scheduler::{ProviderCheck, Scheduler, SchedulerSetup, WallClock};
use el_jefe::server::people::People;
use el_jefe::server::web_logins::WebLogins;
use el_jefe::server::{BUFFERED_TURNS, STALLED_SEND, ServerSetup, Transport, serve, tls};
use el_jefe::store::Store;
use el_jefe::store::server_file::{self, ServerFile, ServerLock};

pub struct ServeOptions {
    pub listen: String,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub insecure_behind_proxy: bool,
}

pub fn serve_command(cx: Context, options: ServeOptions) -> anyhow::Result<i32> {
    let addr = resolve(&options.listen)?;
    let _lock = ServerLock::take(&cx.dirs)?;
    let mut config = cx.config;
    let dirs = cx.dirs;
    cx.runtime.block_on(async {
        let transport = match &options.tls {
            Some((cert, key)) => tls::load(cert, key).await.map_err(anyhow::Error::msg)?,
            None => Transport::Plain,
        };
        if let Some(why) = tls::refusal(addr, &transport, options.insecure_behind_proxy) {
            anyhow::bail!("will not listen on {why}");
        }
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener.local_addr()?;
        let store = Store::open(&dirs.sessions())?;
        let mut people = People::load(&dirs.people_file())?;
        let owner = owner_name();
        // The owner's token outlives restarts, so attached clients reconnect by themselves.
        let token = match server_file::last(&dirs) {
            Some(last) if people.who(&last.token).is_some_and(|p| p.owner) => last.token,
            _ => people.renew_owner(&owner)?,
        };

        let mut web_logins = WebLogins::load(&dirs.web_logins_file());
        let owner_person = people
            .who(&token)
            .cloned()
            .context("the owner's token was not kept")?;
        let login_code = web_logins.new_link(&owner_person)?;

        let tools = start_tools(&mut config, true).await?;
        let routes = load_routes(&config, true).await?;
        let mode = config.engine.mode;
        let roles = config.engine.roles.names();
        let check_providers: ProviderCheck = {
            let routes = routes.clone();
            let roles = roles.clone();
            Arc::new(move |choice| routes.check_choice(choice, &roles))
        };
        let (engine, events) = start_engine_routed(config.engine, routes, store.clone());
        // After the engine's start-up recovery, so runs that ended with the last server are
        // seen ended.
        let scheduler = Scheduler::start(SchedulerSetup {
            journal: dirs.schedules_journal(),
            hook_secrets: dirs.hook_secrets_file(),
            engine: engine.clone(),
            store: store.clone(),
            clock: WallClock::System,
            check_providers,
        })
        .map_err(anyhow::Error::msg)?;

        let url = format!("{}://{}", transport.scheme(), addr);
        let file = ServerFile {
            url: url.clone(),
            pid: std::process::id(),
            user: owner,
            token,
        };
        server_file::write(&dirs, &file)
            .with_context(|| format!("cannot write {}", dirs.server_file().display()))?;
        tracing::info!(%url, "serving");
        println!("el-jefe serve: listening on {url} (pid {})", file.pid);
        println!("  web dashboard: {url}/?login={login_code}");
        println!(
            "    (a one-time link: it signs one browser in as {}; others sign in with a token)",
            file.user
        );
        println!(
            "  your clients on this machine attach by themselves (address and token in {})",
            dirs.server_file().display()
        );
        println!("  other people: el-jefe users add NAME --role viewer|operator|admin");
        println!(
            "Stop with Ctrl-C or SIGTERM: running sessions are interrupted and stay resumable."
        );

        let stopper = engine.clone();
        let setup = ServerSetup {
            engine,
            events,
            store,
            people,
            mode,
            web_logins,
            roles,
            stalled_send: STALLED_SEND,
            scheduler: Some(scheduler),
            buffered_turns: BUFFERED_TURNS,
        };
        let served = serve(listener, transport, setup, async move {
            let signal = stop_signal().await;
            eprintln!("el-jefe serve: {signal}: interrupting running sessions...");
            tracing::info!("{signal}: stopping");
            stopper.shutdown().await;
        })
        .await;
        if let Some(tools) = tools {
            tools.shutdown().await;
        }
        served.context("the server failed")?;
        eprintln!("el-jefe serve: stopped; every session is journaled");
        Ok(0)
    })
}

/// `127.0.0.1:7777`, `[::1]:7777`, `localhost:7777` or `0.0.0.0:443`.
fn resolve(listen: &str) -> anyhow::Result<SocketAddr> {
    listen
        .to_socket_addrs()
        .with_context(|| format!("`{listen}` is not an address to listen on (HOST:PORT)"))?
        .next()
        .with_context(|| format!("`{listen}` names no address"))
}

/// The name this machine's user goes by in journals ("paused by ana").
fn owner_name() -> String {
    let name = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    let usable: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    if usable.is_empty() {
        "owner".into()
    } else {
        usable
    }
}

/// Waits for SIGTERM or Ctrl-C and names it.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return "interrupted";
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "interrupted",
    }
}
