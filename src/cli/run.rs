//! Commands that run sessions: `run`, `resume`, and the dashboard; with what they start first
//! (MCP servers, the providers, the embedded model).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Context;
use super::providers::load_routes;
use super::saved::report_ab;
use el_jefe::config::Config;
use el_jefe::engine::start_engine_routed;
use el_jefe::headless::ab::run_ab;
use el_jefe::headless::{Approvals, Output, RunEnd, Start, run_headless};
use el_jefe::session::ids::SessionId;
use el_jefe::session::plan_file::{PlanFile, parse_plan_file};
use el_jefe::session::provider_choice::ProviderChoice;
use el_jefe::store::Store;
use el_jefe::tools::ToolRegistry;
use el_jefe::tools::mcp::{McpHub, ServerStatus, load_servers};

/// What `run` starts: a goal for the planner, or a plan file.
pub fn start_of(goal: Option<String>, plan: Option<PathBuf>) -> anyhow::Result<Start> {
    Ok(match (plan, goal) {
        (Some(path), goal) => {
            let file = read_plan_file(&path).map_err(anyhow::Error::msg)?;
            let goal = goal.or(file.goal).ok_or_else(|| {
                anyhow::anyhow!(
                    "the plan file {} names no goal; give one: el-jefe run \"<goal>\" --plan {}",
                    path.display(),
                    path.display()
                )
            })?;
            Start::Plan {
                goal,
                plan: file.plan,
                budget: file.budget,
            }
        }
        (None, Some(goal)) => Start::Goal(goal),
        (None, None) => anyhow::bail!("give a goal, or a plan file with --plan"),
    })
}

pub fn run(cx: Context, start: Start, json: bool, approvals: Approvals) -> anyhow::Result<i32> {
    let store = Store::open(&cx.dirs.sessions())?;
    run_session(cx, store, start, json, approvals)
}

pub fn resume(cx: Context, id: SessionId, json: bool, approvals: Approvals) -> anyhow::Result<i32> {
    let store = Store::open(&cx.dirs.sessions())?;
    // Unreadable or unknown: the engine's refusal says why.
    let stored = store.load(&id).ok().map(|s| Box::new(s.state));
    run_session(cx, store, Start::Resume(id, stored), json, approvals)
}

/// Reads a plan file; every problem is one line naming the file.
fn read_plan_file(path: &Path) -> Result<PlanFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the plan file {}: {e}", path.display()))?;
    parse_plan_file(&text).map_err(|e| format!("plan file {}: {e}", path.display()))
}

/// The dashboard; with `replay`, opened in replay of that session.
pub fn dashboard(cx: Context, replay: Option<SessionId>) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the dashboard needs a terminal; for pipes and scripts use `el-jefe run \"<goal>\"`"
        );
    }
    let store = Store::open(&cx.dirs.sessions())?;
    if let Some(id) = &replay {
        // Said before the screen changes, where it can be read.
        store.load(id)?;
    }
    let mut config = cx.config;
    cx.runtime.block_on(async {
        let hub = start_tools(&mut config, true).await?;
        let routes = load_routes(&config, true).await?;
        let default = routes.default_provider();
        let model_label = format!("{} {}", default.name(), default.model());
        let mode = config.engine.mode;
        let roles = config.engine.roles.names();
        let (engine, events) = start_engine_routed(config.engine, routes, store.clone());
        let engine = engine.with_providers(cx.session_providers.clone());
        // After the engine's start-up recovery, so crashed sessions show as interrupted.
        let (stored, warnings) = store.list();
        for w in warnings {
            tracing::warn!("{w}");
        }
        el_jefe::tui::run_dashboard(el_jefe::tui::DashboardSetup {
            engine,
            events,
            stored,
            mode,
            model_label,
            roles,
            attached_to: None,
            schedules: None,
            history: Some(journal_history(store.clone())),
            replay,
            summaries: Some(summaries_of(store.clone())),
        })
        .await?;
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        Ok(0)
    })
}

/// The summaries of the sessions on this machine, from the summary index (made where
/// missing), off the dashboard's thread.
fn summaries_of(store: Store) -> el_jefe::tui::summaries::LoadSummaries {
    std::sync::Arc::new(move || {
        let store = store.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || store.summaries(|_| true).0)
                .await
                .map_err(|e| format!("the reading task failed: {e}"))
        })
    })
}

/// Replay reads the journals of this machine, off the dashboard's thread.
fn journal_history(store: Store) -> el_jefe::tui::history::LoadHistory {
    std::sync::Arc::new(move |id| {
        let store = store.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || store.events(&id))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
        })
    })
}

fn run_session(
    cx: Context,
    store: Store,
    start: Start,
    json: bool,
    approvals: Approvals,
) -> anyhow::Result<i32> {
    let mut config = cx.config;
    cx.runtime.block_on(async {
        let hub = start_tools(&mut config, false).await?;
        let routes = load_routes(&config, false).await?;
        let (engine, mut events) = start_engine_routed(config.engine, routes, store);
        let engine = engine.with_providers(cx.session_providers.clone());
        let output = if json { Output::Json } else { Output::Plain };
        let end = run_headless(&engine, &mut events, start, output, &approvals).await?;
        if end != RunEnd::StoppedAtOnce {
            engine.shutdown().await;
        }
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        Ok(end.exit_code())
    })
}

/// Starts the configured MCP servers and puts their tools beside the built-in ones. A server
/// that fails is told about and left out; the run goes on.
pub async fn start_tools(
    config: &mut Config,
    announce: bool,
) -> anyhow::Result<Option<Arc<McpHub>>> {
    let files: Vec<&std::path::Path> = config.mcp_files.iter().map(PathBuf::as_path).collect();
    let servers = load_servers(&files).map_err(anyhow::Error::msg)?;
    if servers.is_empty() {
        return Ok(None);
    }
    if announce {
        eprintln!("el-jefe: starting {} MCP server(s)...", servers.len());
    }
    let hub = Arc::new(McpHub::start(&servers).await);
    for (name, status, _) in hub.statuses() {
        if let ServerStatus::Failed(why) = status {
            tracing::warn!(server = %name, "MCP server failed: {why}");
            eprintln!("el-jefe: warning: MCP server `{name}` is not available: {why}");
        }
    }
    let registry =
        ToolRegistry::new(config.tool_policies.clone(), config.tool_limits).with_mcp(hub.clone());
    config.engine.tools = Arc::new(registry);
    Ok(Some(hub))
}

/// `el-jefe ab` in this process: both sides on this engine, then the comparison.
pub fn ab(
    cx: Context,
    start: Start,
    sides: (ProviderChoice, ProviderChoice),
    json: bool,
    approvals: Approvals,
) -> anyhow::Result<i32> {
    let store = Store::open(&cx.dirs.sessions())?;
    let mut config = cx.config;
    cx.runtime.block_on(async {
        let hub = start_tools(&mut config, false).await?;
        let routes = load_routes(&config, false).await?;
        let (engine, mut events) = start_engine_routed(config.engine, routes, store);
        let ended = run_ab(
            &engine,
            &mut events,
            start,
            sides,
            &approvals,
            &mut io::stderr(),
        )
        .await;
        engine.shutdown().await;
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        report_ab(&ended?, json)
    })
}
