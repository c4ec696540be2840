//! The `el-jefe` command line: the schema (`args`), then one file per group of commands. One
//! async runtime serves whichever command runs.

mod args;
mod attached;
mod providers;
mod run;
mod saved;
mod schedules;
mod serve;
mod setup_info;
mod users;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use args::{Cli, Cmd, UsersCmd};
use attached::Steer;
use el_jefe::client::Target;
use el_jefe::config::providers::ProviderFlags;
use el_jefe::config::{Config, Overrides};
use el_jefe::session::fork::ForkPoint;
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::provider_choice::{ProviderChoice, ProviderPick};
use el_jefe::store::paths::AppDirs;

/// What every command may need: where things are, the configuration, the runtime.
pub struct Context {
    pub dirs: AppDirs,
    pub config: Config,
    pub runtime: tokio::runtime::Runtime,
    /// Providers the sessions this command starts ask for over the engine's routing.
    pub session_providers: ProviderChoice,
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
    let server = ServerChoice {
        url: cli.global.server.clone(),
        token: cli.global.token.clone(),
    };
    let provider_flags = ProviderFlags {
        provider: cli.global.provider,
        model: cli.global.model,
    };
    // Sessions a server starts run on its providers: the flags name them, and this machine's
    // configuration (which may not know them) is left alone.
    let to_server = server.target(&dirs).is_some()
        && matches!(
            cli.command,
            None | Some(Cmd::Run { .. } | Cmd::Schedule { .. })
        );
    // A fork records the providers it runs on, so a later resume runs it on them again.
    let as_choice = to_server || matches!(cli.command, Some(Cmd::Fork { .. } | Cmd::Ab { .. }));
    let mut session_providers = ProviderChoice::default();
    for assignment in &cli.global.agent_provider {
        session_providers
            .add_role(assignment)
            .map_err(|e| anyhow::anyhow!("--agent-provider: {e}"))?;
    }
    if as_choice {
        session_providers.default = ProviderPick {
            provider: provider_flags.provider.clone(),
            model: provider_flags.model.clone(),
        };
    }
    let flags = Overrides {
        max_parallel: cli.global.max_parallel,
        mode: cli.global.mode,
        workspace_root: cli.global.workspace_root,
        model_file: cli.global.model_file,
        threads: cli.global.threads,
        providers: if as_choice {
            ProviderFlags::default()
        } else {
            provider_flags
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
        session_providers,
    };
    let Some(command) = cli.command else {
        return match server.target(&cx.dirs) {
            Some(target) => attached::dashboard(cx, target, None),
            None => run::dashboard(cx, None),
        };
    };
    match command {
        Cmd::Model { action } => setup_info::model(&cx.config, action),
        Cmd::Providers => setup_info::providers(&cx),
        Cmd::Tools => setup_info::tools(cx),
        Cmd::Sessions { json } => match server.target(&cx.dirs) {
            Some(target) => attached::list(&cx, target, json),
            None => saved::list(&cx, json),
        },
        Cmd::Show { session_id, json } => match server.target(&cx.dirs) {
            Some(target) => attached::show(&cx, target, &session_id, json),
            None => saved::show(&cx, &session_id, json),
        },
        Cmd::Run {
            goal,
            plan,
            json,
            approvals,
        } => {
            let start = run::start_of(goal, plan)?;
            match server.target(&cx.dirs) {
                Some(target) => attached::run(cx, target, start, json, approvals.approvals()),
                None => run::run(cx, start, json, approvals.approvals()),
            }
        }
        Cmd::Resume {
            session_id,
            json,
            approvals,
        } => {
            let id = SessionId::parse(&session_id)?;
            match server.target(&cx.dirs) {
                Some(target) => attached::run(
                    cx,
                    target,
                    el_jefe::headless::Start::Resume(id, None),
                    json,
                    approvals.approvals(),
                ),
                None => run::resume(cx, id, json, approvals.approvals()),
            }
        }
        Cmd::Fork {
            session_id,
            at_event,
            at_step,
            json,
            approvals,
        } => {
            let parent = SessionId::parse(&session_id)?;
            let at = match (at_event, at_step) {
                (Some(seq), _) => ForkPoint::Event { seq },
                (None, Some(step)) => ForkPoint::Step {
                    step: StepId::new(step),
                },
                (None, None) => anyhow::bail!("say where to fork: --at-event SEQ or --at-step ID"),
            };
            let start = el_jefe::headless::Start::Fork { parent, at };
            match server.target(&cx.dirs) {
                Some(target) => attached::run(cx, target, start, json, approvals.approvals()),
                None => run::run(cx, start, json, approvals.approvals()),
            }
        }
        Cmd::Stats { since, by, json } => match server.target(&cx.dirs) {
            Some(target) => attached::stats(&cx, target, since, by, json),
            None => saved::stats(&cx, since, by, json),
        },
        Cmd::Replay { session_id } => {
            let id = SessionId::parse(&session_id)?;
            match server.target(&cx.dirs) {
                Some(target) => attached::dashboard(cx, target, Some(id)),
                None => run::dashboard(cx, Some(id)),
            }
        }
        Cmd::Compare { a, b, json } => match server.target(&cx.dirs) {
            Some(target) => attached::compare(&cx, target, &a, &b, json),
            None => saved::compare(&cx, &a, &b, json),
        },
        Cmd::Ab {
            goal,
            plan,
            a,
            b,
            json,
            approvals,
        } => {
            let start = run::start_of(goal, plan)?;
            let side = |text: &str, flag: &str| -> anyhow::Result<ProviderChoice> {
                let mut choice = cx.session_providers.clone();
                choice.default =
                    ProviderPick::parse(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
                Ok(choice)
            };
            let sides = (side(&a, "--a")?, side(&b, "--b")?);
            match server.target(&cx.dirs) {
                Some(target) => attached::ab(cx, target, start, sides, json, approvals.approvals()),
                None => run::ab(cx, start, sides, json, approvals.approvals()),
            }
        }
        Cmd::Pause { session_id, step } => {
            let target = server.required(&cx.dirs, "pause")?;
            attached::steer(&cx, target, Steer::Pause, &session_id, step)
        }
        Cmd::Interrupt { session_id, step } => {
            let target = server.required(&cx.dirs, "interrupt")?;
            attached::steer(&cx, target, Steer::Interrupt, &session_id, step)
        }
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
        } => match server.target(&cx.dirs) {
            Some(target) => attached::budget(&cx, target, &session_id, agent, &limit, &value),
            None => saved::budget(&cx, &session_id, agent, &limit, &value),
        },
        Cmd::Step { action, dry_run } => match server.target(&cx.dirs) {
            Some(target) => attached::step(&cx, target, action, dry_run),
            None => saved::step(&cx, action, dry_run),
        },
        Cmd::SavePlan { session_id, file } => saved::save_plan(&cx, &session_id, &file),
        Cmd::Serve {
            listen,
            tls_cert,
            tls_key,
            insecure_behind_proxy,
        } => serve::serve_command(
            cx,
            serve::ServeOptions {
                listen,
                tls: tls_cert.zip(tls_key),
                insecure_behind_proxy,
            },
        ),
        Cmd::Schedule { action } => {
            let target = server.required(&cx.dirs, "schedule")?;
            schedules::schedule(&cx, target, action)
        }
        Cmd::Users { action } => match action {
            UsersCmd::Add { name, role } => users::add(&cx, &name, role),
            UsersCmd::List => users::list(&cx),
            UsersCmd::Revoke { name } => users::revoke(&cx, &name),
        },
    }
}

/// `--server` and `--token`, or this data dir's own server when one runs.
struct ServerChoice {
    url: Option<String>,
    token: Option<String>,
}

impl ServerChoice {
    /// The server to act on; None to run the engine in this process.
    fn target(&self, dirs: &AppDirs) -> Option<Target> {
        let own = Target::own_server(dirs);
        match &self.url {
            Some(url) => {
                // Your own server's token comes from its file when none is given.
                let own_token = own
                    .filter(|o| o.url.trim_end_matches('/') == url.trim_end_matches('/'))
                    .and_then(|o| o.token);
                Some(Target {
                    url: url.clone(),
                    token: self.token.clone().or(own_token),
                })
            }
            None => own.map(|mut o| {
                if self.token.is_some() {
                    o.token = self.token.clone();
                }
                o
            }),
        }
    }

    fn required(&self, dirs: &AppDirs, what: &str) -> anyhow::Result<Target> {
        self.target(dirs).ok_or_else(|| {
            anyhow::anyhow!(
                "`{what}` acts on a server's sessions, and no server runs for this data dir: \
                 start one with `el-jefe serve`, or give --server URL (in the dashboard, use its \
                 keys)"
            )
        })
    }
}
