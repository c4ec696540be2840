//! The `el-jefe` command line.

// Every event allocates (its envelope, its text): mimalloc's thread-local heaps make that a
// fraction of glibc's cost when agents, the engine and the front end run on different threads
// (docs/PERFORMANCE.md). Built without transparent huge pages, which would inflate memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use el_jefe::config::providers::ProviderFlags;
use el_jefe::config::{Config, Overrides};
use el_jefe::engine::clock::Clock;
use el_jefe::engine::saved_edit::{edit_saved_session, set_saved_budget};
use el_jefe::engine::start_engine_routed;
use el_jefe::headless::step_command::describe_saved_edit;
use el_jefe::headless::{Approvals, Output, RunEnd, Start, listing, run_headless};
use el_jefe::provider::model_file::{self, SETUP_COMMAND};
use el_jefe::provider::routes::Routes;
use el_jefe::provider::setup::Endpoint;
use el_jefe::provider::{Provider, check, registry};
use el_jefe::session::budget::apply_cap_words;
use el_jefe::session::call::CallMode;
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan_edit::{Dependents, PlanEdit, change_step, new_step};
use el_jefe::session::plan_file::{read_plan_file, render_plan_file};
use el_jefe::session::session_fold::SessionState;
use el_jefe::store::Store;
use el_jefe::store::paths::AppDirs;
use el_jefe::tools::ToolRegistry;
use el_jefe::tools::mcp::{McpHub, ServerStatus, load_servers};

#[derive(Parser)]
#[command(
    name = "el-jefe",
    version,
    about = "Mission control for LLM agent workflows"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalFlags,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Args)]
struct GlobalFlags {
    /// Most steps that run at once (default 3).
    #[arg(long, global = true, value_name = "N")]
    max_parallel: Option<usize>,
    /// streaming (text as it is generated) or legacy (whole replies).
    #[arg(long, global = true, value_parser = mode_arg)]
    mode: Option<CallMode>,
    /// Where session workspaces are created.
    #[arg(long, global = true, value_name = "DIR")]
    workspace_root: Option<PathBuf>,
    /// A GGUF model to use instead of the embedded SmolLM2.
    #[arg(long, global = true, value_name = "PATH")]
    model_file: Option<PathBuf>,
    /// CPU threads for the local model.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<u32>,
    /// The provider to use by default: local, anthropic, openai, or one from config.toml.
    #[arg(long, global = true, value_name = "NAME")]
    provider: Option<String>,
    /// The default provider's model (HTTP providers).
    #[arg(long, global = true, value_name = "MODEL")]
    model: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Plan a goal and run it to the end, printing every step as it streams.
    Run {
        /// What to do. With --plan, the plan file's goal is used when this is left out.
        #[arg(required_unless_present = "plan")]
        goal: Option<String>,
        /// Run this plan file (TOML, see docs/PLANS.md) instead of asking the model for a plan.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// One JSON event per line instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        approvals: ApprovalFlags,
    },
    /// Continue an interrupted or failed session: completed steps are kept.
    Resume {
        session_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        approvals: ApprovalFlags,
    },
    /// Change the plan of a saved session; `el-jefe resume` then runs only what changed.
    Step {
        #[command(subcommand)]
        action: StepCmd,
        /// Show what the edit would do (steps that run again, their cost) without making it.
        #[arg(long, global = true)]
        dry_run: bool,
    },
    /// Set a cap of a saved session's budget: el-jefe budget SESSION tokens 50000 [--agent ROLE]
    Budget {
        session_id: String,
        /// tokens, wall, tools or money.
        limit: String,
        /// 50000 tokens, 30m of wall time, 12 tool calls, 2.50 dollars.
        value: String,
        /// The cap of one agent role instead of the whole session's.
        #[arg(long, value_name = "ROLE")]
        agent: Option<String>,
    },
    /// Write a session's plan to a file that `el-jefe run --plan` runs again.
    SavePlan { session_id: String, file: PathBuf },
    /// Delete sessions (journal and workspace) idle for longer than a retention period.
    /// Running or paused sessions are never cleaned.
    Clean {
        /// How long sessions are kept: 30d, 12h, 2w...
        #[arg(long, value_name = "AGE", value_parser = age_arg)]
        older_than: std::time::Duration,
        /// List what would go, and free nothing.
        #[arg(long)]
        dry_run: bool,
        /// Delete the journals only; keep the workspaces (step outputs, files agents wrote).
        #[arg(long)]
        keep_workspaces: bool,
    },
    /// Every tool an agent could use here (built-in and from MCP servers) and its policy.
    Tools,
    /// List every session, newest first.
    Sessions {
        #[arg(long)]
        json: bool,
    },
    /// Everything about one session: plan, statuses, metrics and outputs.
    Show {
        session_id: String,
        #[arg(long)]
        json: bool,
    },
    /// List the configured providers and check each: reachable, authenticated, model there.
    Providers,
    /// The embedded model file.
    Model {
        #[command(subcommand)]
        action: ModelCmd,
    },
}

/// Nobody is at the keyboard in a headless run: tools whose policy is "ask" are denied unless
/// these allow them.
#[derive(Args)]
struct ApprovalFlags {
    /// Allow this tool without asking (repeatable; patterns like `mcp__time__*`).
    #[arg(long = "allow", value_name = "TOOL")]
    allow: Vec<String>,
    /// Allow every tool that would ask.
    #[arg(long)]
    yes: bool,
}

impl ApprovalFlags {
    fn approvals(self) -> Approvals {
        Approvals {
            all: self.yes,
            tools: self.allow,
        }
    }
}

#[derive(Subcommand)]
enum StepCmd {
    /// Add a step: el-jefe step add SESSION AGENT "TASK" [--after 1,2]
    Add {
        session_id: String,
        agent: String,
        task: String,
        /// The steps it runs after (comma-separated ids).
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        after: Vec<String>,
    },
    /// Remove a step; if others depend on it, say what becomes of them.
    Remove {
        session_id: String,
        step: String,
        /// remove: remove them too; rewire: they depend on what the step depended on.
        #[arg(long, value_parser = dependents_arg)]
        dependents: Option<Dependents>,
    },
    /// Give a step a new task, or a new agent when the text is a role name.
    Edit {
        session_id: String,
        step: String,
        task_or_agent: String,
    },
    /// Set the steps a step runs after (none: it depends on nothing).
    Deps {
        session_id: String,
        step: String,
        after: Vec<String>,
    },
}

fn age_arg(text: &str) -> Result<std::time::Duration, String> {
    el_jefe::format::parse_age(text)
}

fn dependents_arg(text: &str) -> Result<Dependents, String> {
    match text {
        "remove" => Ok(Dependents::Remove),
        "rewire" => Ok(Dependents::Rewire),
        _ => Err(format!("`{text}` is not a choice (remove or rewire)")),
    }
}

#[derive(Subcommand)]
enum ModelCmd {
    /// Print where the model file is expected.
    Path,
    /// Check that the model file is present and intact.
    Check,
    /// Where the pinned model comes from, as shell-readable KEY=value lines (used by setup).
    Info,
}

fn mode_arg(text: &str) -> Result<CallMode, String> {
    CallMode::parse(text).ok_or_else(|| format!("`{text}` is not a mode (streaming or legacy)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("el-jefe: {e:#}");
            2
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn real_main(cli: Cli) -> anyhow::Result<i32> {
    let dirs = AppDirs::from_env()?;
    let _log_guard = el_jefe::logging::init(&dirs.log_dir());
    let flags = Overrides {
        max_parallel: cli.global.max_parallel,
        mode: cli.global.mode,
        workspace_root: cli.global.workspace_root,
        model_file: cli.global.model_file,
        threads: cli.global.threads,
        providers: ProviderFlags {
            provider: cli.global.provider,
            model: cli.global.model,
        },
    };
    let config = Config::load(&dirs, &flags)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        config = ?config.file,
        "el-jefe {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    let Some(command) = cli.command else {
        return dashboard(&dirs, config);
    };
    match command {
        Cmd::Model { action } => model_command(&config, action),
        Cmd::Providers => providers_command(&config),
        Cmd::Tools => tools_command(config),
        Cmd::Sessions { json } => {
            let (store, now) = open_store(&dirs)?;
            let (sessions, warnings) = store.list();
            for w in warnings {
                eprintln!("warning: {w}");
            }
            if json {
                print!("{}", listing::sessions_json(&sessions));
            } else {
                print!("{}", listing::sessions_table(&sessions, now));
            }
            Ok(0)
        }
        Cmd::Show { session_id, json } => {
            let id = SessionId::parse(&session_id)?;
            let (store, now) = open_store(&dirs)?;
            let session = store.load(&id)?;
            if json {
                print!("{}", listing::show_json(&session, now));
            } else {
                print!("{}", listing::show_text(&session, now));
            }
            Ok(0)
        }
        Cmd::Run {
            goal,
            plan,
            json,
            approvals,
        } => {
            let start = match (plan, goal) {
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
            };
            let store = Store::open(&dirs.sessions())?;
            run_session(store, config, start, json, approvals.approvals())
        }
        Cmd::Clean {
            older_than,
            dry_run,
            keep_workspaces,
        } => {
            let (store, now) = open_store(&dirs)?;
            let expired = store.expired_sessions(older_than, now);
            print!(
                "{}",
                listing::clean_report(&expired, dry_run, keep_workspaces)
            );
            if dry_run {
                return Ok(0);
            }
            let mut failed = 0;
            for e in &expired {
                if let Err(err) = store.remove_session(e, keep_workspaces) {
                    eprintln!("el-jefe: {} was not cleaned: {err}", e.id);
                    failed += 1;
                }
            }
            Ok(if failed == 0 { 0 } else { 1 })
        }
        Cmd::Budget {
            session_id,
            limit,
            value,
            agent,
        } => {
            let id = SessionId::parse(&session_id)?;
            let (store, now) = open_store(&dirs)?;
            let roles = config.engine.roles.names();
            if let Some(role) = agent.as_deref().filter(|r| !roles.iter().any(|k| k == r)) {
                anyhow::bail!("unknown agent role `{role}` (known: {})", roles.join(", "));
            }
            let mut words: Vec<&str> = agent.iter().map(String::as_str).collect();
            words.extend([limit.as_str(), value.as_str()]);
            let set = set_saved_budget(
                &store,
                &id,
                |state| apply_cap_words(&state.budget, &words, &roles),
                now,
            );
            match set {
                Ok(budget) => {
                    println!("Budget of {id}: {}", budget.session.describe());
                    for (role, caps) in &budget.agents {
                        println!("  {role}: {}", caps.describe());
                    }
                    println!("Resume with: el-jefe resume {id}");
                    Ok(0)
                }
                Err(reason) => {
                    eprintln!("el-jefe: cannot set the budget: {reason}");
                    Ok(1)
                }
            }
        }
        Cmd::Step { action, dry_run } => step_command(&dirs, &config, action, dry_run),
        Cmd::SavePlan { session_id, file } => {
            let id = SessionId::parse(&session_id)?;
            let store = Store::open(&dirs.sessions())?;
            let session = store.load(&id)?;
            if !session.state.has_plan() {
                anyhow::bail!("{id} has no plan yet");
            }
            let state = &session.state;
            let text = render_plan_file(&state.goal, &state.plan(), &state.budget);
            std::fs::write(&file, text)
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!(
                "Saved the plan of {id} ({} steps) to {}",
                session.state.steps.len(),
                file.display()
            );
            Ok(0)
        }
        Cmd::Resume {
            session_id,
            json,
            approvals,
        } => {
            let id = SessionId::parse(&session_id)?;
            let store = Store::open(&dirs.sessions())?;
            // Unreadable or unknown: the engine's refusal says why.
            let stored = store.load(&id).ok().map(|s| Box::new(s.state));
            run_session(
                store,
                config,
                Start::Resume(id, stored),
                json,
                approvals.approvals(),
            )
        }
    }
}

/// The session store, with sessions whose process died marked interrupted first, and the time
/// it was read at.
fn open_store(dirs: &AppDirs) -> anyhow::Result<(Store, i64)> {
    let store = Store::open(&dirs.sessions())?;
    let now = Clock::new().now_ms();
    store.recover_orphans(now);
    Ok((store, now))
}

/// Builds an edit from the session as stored (adding a step needs its plan for a fresh id).
type MakeEdit = Box<dyn FnOnce(&SessionState) -> PlanEdit>;

fn step_command(
    dirs: &AppDirs,
    config: &Config,
    action: StepCmd,
    dry_run: bool,
) -> anyhow::Result<i32> {
    let roles = config.engine.roles.names();
    let ids = |list: Vec<String>| -> Vec<StepId> {
        list.iter()
            .filter(|s| !s.trim().is_empty() && s.as_str() != "none")
            .map(|s| StepId::new(s.trim()))
            .collect()
    };
    let (session, make_edit): (String, MakeEdit) = match action {
        StepCmd::Add {
            session_id,
            agent,
            task,
            after,
        } => {
            let after = ids(after);
            (
                session_id,
                Box::new(move |state| new_step(&state.plan(), &agent, &task, after)),
            )
        }
        StepCmd::Remove {
            session_id,
            step,
            dependents,
        } => (
            session_id,
            Box::new(move |_| PlanEdit::RemoveStep {
                step: StepId::new(step),
                dependents,
            }),
        ),
        StepCmd::Edit {
            session_id,
            step,
            task_or_agent,
        } => {
            let edit = change_step(StepId::new(step), &task_or_agent, &roles)
                .map_err(anyhow::Error::msg)?;
            (session_id, Box::new(move |_| edit))
        }
        StepCmd::Deps {
            session_id,
            step,
            after,
        } => {
            let after = ids(after);
            (
                session_id,
                Box::new(move |_| PlanEdit::SetDependencies {
                    step: StepId::new(step),
                    depends_on: after,
                }),
            )
        }
    };
    let id = SessionId::parse(&session)?;
    let (store, now) = open_store(dirs)?;
    match edit_saved_session(&store, &id, make_edit, &roles, dry_run, now) {
        Ok(saved) => {
            print!("{}", describe_saved_edit(&id, &saved, dry_run));
            Ok(0)
        }
        Err(reason) => {
            eprintln!("el-jefe: cannot edit the plan: {reason}");
            Ok(1)
        }
    }
}

/// Starts the configured MCP servers and puts their tools beside the built-in ones. A server
/// that fails is told about and left out; the run goes on.
async fn start_tools(config: &mut Config, announce: bool) -> anyhow::Result<Option<Arc<McpHub>>> {
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

fn tools_command(mut config: Config) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let hub = start_tools(&mut config, false).await?;
        let registry = config.engine.tools.clone();
        print!(
            "{}",
            el_jefe::headless::tools_table::tools_table(&registry, &config.engine.roles)
        );
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        Ok(0)
    })
}

fn dashboard(dirs: &AppDirs, config: Config) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the dashboard needs a terminal; for pipes and scripts use `el-jefe run \"<goal>\"`"
        );
    }
    let store = Store::open(&dirs.sessions())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut config = config;
    runtime.block_on(async {
        let hub = start_tools(&mut config, true).await?;
        let routes = load_routes(&config, true).await?;
        let default = routes.default_provider();
        let model_label = format!("{} {}", default.name(), default.model());
        let mode = config.engine.mode;
        let roles = config.engine.roles.names();
        let (engine, events) = start_engine_routed(config.engine, routes, store.clone());
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
        })
        .await?;
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        Ok(0)
    })
}

fn run_session(
    store: Store,
    mut config: Config,
    start: Start,
    json: bool,
    approvals: Approvals,
) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let hub = start_tools(&mut config, false).await?;
        let routes = load_routes(&config, false).await?;
        let (engine, mut events) = start_engine_routed(config.engine, routes, store);
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

/// The providers this run uses, the embedded model loaded only when one of them is it.
async fn load_routes(config: &Config, announce: bool) -> anyhow::Result<Routes> {
    let local = if registry::needs_local(&config.providers) {
        if announce {
            eprintln!("el-jefe: loading the model...");
        }
        Some(load_local(config).await?)
    } else {
        None
    };
    Ok(registry::build_routes(&config.providers, local)?)
}

#[cfg(feature = "local")]
async fn load_local(config: &Config) -> anyhow::Result<Arc<dyn Provider>> {
    let settings = config.local.clone();
    let provider = tokio::task::spawn_blocking(move || {
        el_jefe::provider::local::LocalProvider::load(settings)
    })
    .await??;
    Ok(Arc::new(provider))
}

#[cfg(not(feature = "local"))]
async fn load_local(_config: &Config) -> anyhow::Result<Arc<dyn Provider>> {
    anyhow::bail!(
        "this build has no embedded model (cargo feature `local` is off); choose another provider with --provider"
    )
}

fn providers_command(config: &Config) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let setup = &config.providers;
    let rows = runtime.block_on(async {
        let checks = setup
            .providers
            .values()
            .map(|p| async move { (p, check::check(p, &config.local).await) });
        futures::future::join_all(checks).await
    });
    let mut failed = false;
    for (p, verdict) in rows {
        let default = if p.name == setup.default {
            " (default)"
        } else {
            ""
        };
        let (model, endpoint) = match &p.endpoint {
            Endpoint::Local => (
                config
                    .local
                    .model_path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                "in-process".to_string(),
            ),
            Endpoint::Http { settings, .. } => (settings.model.clone(), settings.base_url.clone()),
        };
        println!(
            "{}{default}  [{}]  model {model}  at {endpoint}",
            p.name,
            p.kind().label()
        );
        if let Some(var) = p.api_key_env() {
            let set = p.http().is_some_and(|h| h.api_key.is_some());
            println!(
                "    API key from {var} ({})",
                if set { "set" } else { "not set" }
            );
        }
        if !p.fallback.is_empty() {
            println!("    falls back to {}", p.fallback.join(", "));
        }
        let used_by: Vec<&str> = setup
            .roles
            .iter()
            .filter(|(_, r)| r.provider.as_deref() == Some(p.name.as_str()))
            .map(|(role, _)| role.as_str())
            .collect();
        if !used_by.is_empty() {
            println!("    used by {}", used_by.join(", "));
        }
        println!("    {}", verdict.text());
        failed |= verdict.is_failure();
    }
    Ok(if failed { 1 } else { 0 })
}

fn model_command(config: &Config, action: ModelCmd) -> anyhow::Result<i32> {
    let path = &config.local.model_path;
    match action {
        ModelCmd::Path => {
            println!("{}", path.display());
            Ok(0)
        }
        ModelCmd::Info => {
            let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
            println!("MODEL_PATH={}", quote(&path.to_string_lossy()));
            println!("MODEL_PACKAGE={}", quote(model_file::MODEL_PACKAGE));
            println!("MODEL_MEMBER={}", quote(model_file::MODEL_MEMBER));
            println!("MODEL_SHA256={}", quote(model_file::MODEL_SHA256));
            Ok(0)
        }
        ModelCmd::Check => {
            let result = if config.local.pinned {
                model_file::verify_pinned(path)
            } else {
                model_file::check_custom(path)
            };
            match result {
                Ok(()) => {
                    println!("ok: {}", path.display());
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("el-jefe: {e}");
                    if !e.to_string().contains(SETUP_COMMAND) {
                        eprintln!("To install the embedded model run `{SETUP_COMMAND}`.");
                    }
                    Ok(1)
                }
            }
        }
    }
}
