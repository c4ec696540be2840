//! The `el-jefe` command line: the schema (`args`), then one file per group of commands. One
//! async runtime serves whichever command runs.

mod args;
mod run;
mod saved;
mod setup_info;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use args::{Cli, Cmd};
use el_jefe::config::providers::ProviderFlags;
use el_jefe::config::{Config, Overrides};
use el_jefe::store::paths::AppDirs;

/// What every command may need: where things are, the configuration, the runtime.
pub struct Context {
    pub dirs: AppDirs,
    pub config: Config,
    pub runtime: tokio::runtime::Runtime,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run_cli(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("el-jefe: {e:#}");
            2
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn run_cli(cli: Cli) -> anyhow::Result<i32> {
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cx = Context {
        dirs,
        config,
        runtime,
    };
    let Some(command) = cli.command else {
        return run::dashboard(cx);
    };
    match command {
        Cmd::Model { action } => setup_info::model(&cx.config, action),
        Cmd::Providers => setup_info::providers(&cx),
        Cmd::Tools => setup_info::tools(cx),
        Cmd::Sessions { json } => saved::list(&cx, json),
        Cmd::Show { session_id, json } => saved::show(&cx, &session_id, json),
        Cmd::Run {
            goal,
            plan,
            json,
            approvals,
        } => run::run(cx, goal, plan, json, approvals.approvals()),
        Cmd::Resume {
            session_id,
            json,
            approvals,
        } => run::resume(cx, &session_id, json, approvals.approvals()),
        Cmd::Clean {
            older_than,
            dry_run,
            keep_workspaces,
        } => saved::clean(&cx, older_than, dry_run, keep_workspaces),
        Cmd::Budget {
            session_id,
            limit,
            value,
            agent,
        } => saved::budget(&cx, &session_id, agent, &limit, &value),
        Cmd::Step { action, dry_run } => saved::step(&cx, action, dry_run),
        Cmd::SavePlan { session_id, file } => saved::save_plan(&cx, &session_id, &file),
    }
}
