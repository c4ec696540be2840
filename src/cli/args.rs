//! The command line's schema: every command, flag and argument, with its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use el_jefe::headless::Approvals;
use el_jefe::protocol::Role;
use el_jefe::schedule::policy::{Missed, Overlap};
use el_jefe::session::call::CallMode;
use el_jefe::session::plan_edit::Dependents;

#[derive(Parser)]
#[command(
    name = "el-jefe",
    version,
    about = "Mission control for LLM agent workflows"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Args)]
pub struct GlobalFlags {
    /// Most steps that run at once (default 3).
    #[arg(long, global = true, value_name = "N")]
    pub max_parallel: Option<usize>,
    /// streaming (text as it is generated) or legacy (whole replies).
    #[arg(long, global = true, value_parser = mode_arg)]
    pub mode: Option<CallMode>,
    /// Where session workspaces are created.
    #[arg(long, global = true, value_name = "DIR")]
    pub workspace_root: Option<PathBuf>,
    /// A GGUF model to use instead of the embedded SmolLM2.
    #[arg(long, global = true, value_name = "PATH")]
    pub model_file: Option<PathBuf>,
    /// CPU threads for the local model.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<u32>,
    /// The provider to use by default: local, anthropic, openai, or one from config.toml.
    #[arg(long, global = true, value_name = "NAME")]
    pub provider: Option<String>,
    /// The default provider's model (HTTP providers).
    #[arg(long, global = true, value_name = "MODEL")]
    pub model: Option<String>,
    /// Run one agent role on another provider (and model) in the sessions this command
    /// starts: --agent-provider writer=openai:gpt-4o-mini (repeatable).
    #[arg(long, global = true, value_name = "ROLE=PROVIDER[:MODEL]")]
    pub agent_provider: Vec<String>,
    /// Act on the sessions of this server (`el-jefe serve`), e.g. http://host:7777. Without
    /// it, a server of this data dir is used when one runs.
    #[arg(long, global = true, env = "EL_JEFE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Your token for that server (not needed for your own server on this machine).
    #[arg(
        long,
        global = true,
        env = "EL_JEFE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Subcommand)]
pub enum Cmd {
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
    /// A new session from a moment of another: the steps it had completed by then are kept
    /// as they were (no model call repeated), the rest runs again, on --provider/--model/
    /// --agent-provider if given.
    #[command(group(clap::ArgGroup::new("moment").required(true)))]
    Fork {
        session_id: String,
        /// Right after this event of the session (its number, as in `--json` output).
        #[arg(long, group = "moment", value_name = "SEQ")]
        at_event: Option<u64>,
        /// Right before this step first started: every step completed by then is kept.
        #[arg(long, group = "moment", value_name = "STEP")]
        at_step: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        approvals: ApprovalFlags,
    },
    /// Analytics over the sessions (this machine's, or the server's): per role, provider, model
    /// or day the median and p90 first token, tokens/s, tokens per step, cost per session,
    /// failure, retry and failover rates, the days as charts, and recommendations with their numbers.
    Stats {
        /// Only sessions created within this age: 30d, 12h, 2w.
        #[arg(long, value_name = "AGE", value_parser = age_arg)]
        since: Option<std::time::Duration>,
        /// role, provider, model or day.
        #[arg(long, default_value = "role", value_parser = group_arg)]
        by: el_jefe::session::stats::GroupBy,
        #[arg(long)]
        json: bool,
    },
    /// The dashboard, playing a session back as it happened: space plays or pauses, arrows
    /// step event by event, s changes speed (1x, 10x, max), f forks at the moment on screen.
    Replay { session_id: String },
    /// Two runs side by side, step by step: outputs (a word diff), tokens, cost, first token,
    /// tokens/s, tool calls, errors and retries, and a verdict per metric.
    Compare {
        a: String,
        b: String,
        #[arg(long)]
        json: bool,
    },
    /// Run the same plan on two providers at once (planned once, by A's provider), then
    /// compare them: el-jefe ab "goal" --a local --b openai:gpt-4o-mini
    #[command(group(clap::ArgGroup::new("what").required(true)))]
    Ab {
        /// What to do; with --plan, the plan file's goal when left out.
        #[arg(group = "what")]
        goal: Option<String>,
        #[arg(long, group = "what", value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Side A's provider: PROVIDER or PROVIDER:MODEL.
        #[arg(long, value_name = "PROVIDER[:MODEL]")]
        a: String,
        /// Side B's provider.
        #[arg(long, value_name = "PROVIDER[:MODEL]")]
        b: String,
        /// The comparison as JSON instead of text.
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
    /// Hold a session's agents (or one step's) where they are; `resume` releases them.
    Pause {
        session_id: String,
        /// Only this step.
        #[arg(long, value_name = "ID")]
        step: Option<String>,
    },
    /// Stop a session's agents (or one step's); the session stays resumable.
    Interrupt {
        session_id: String,
        /// Only this step.
        #[arg(long, value_name = "ID")]
        step: Option<String>,
    },
    /// Run the engine as a service: dashboards, the web page and scripts attach to it.
    Serve {
        /// The address to listen on. Beyond loopback it needs TLS or --insecure-behind-proxy.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7777")]
        listen: String,
        /// The TLS certificate chain (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The TLS private key (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Listen beyond loopback without TLS, because a TLS proxy stands in front.
        #[arg(long)]
        insecure_behind_proxy: bool,
    },
    /// Workflows that start themselves on `el-jefe serve`: at times, when files land in a
    /// folder, or when a webhook is called.
    Schedule {
        #[command(subcommand)]
        action: ScheduleCmd,
    },
    /// The people who may connect to this data dir's server.
    Users {
        #[command(subcommand)]
        action: UsersCmd,
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
pub struct ApprovalFlags {
    /// Allow this tool without asking (repeatable; patterns like `mcp__time__*`).
    #[arg(long = "allow", value_name = "TOOL")]
    pub allow: Vec<String>,
    /// Allow every tool that would ask.
    #[arg(long)]
    pub yes: bool,
}

impl ApprovalFlags {
    pub fn approvals(self) -> Approvals {
        Approvals {
            all: self.yes,
            tools: self.allow,
        }
    }
}

#[derive(Subcommand)]
pub enum StepCmd {
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

fn group_arg(text: &str) -> Result<el_jefe::session::stats::GroupBy, String> {
    el_jefe::session::stats::GroupBy::parse(text)
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
pub enum UsersCmd {
    /// Give someone a token (printed once) and a role.
    Add {
        name: String,
        /// viewer (watches), operator (also starts, steers, approves) or admin (also manages people).
        #[arg(long, value_parser = role_arg)]
        role: Role,
    },
    /// Everyone with a token, their role, and whether it was revoked.
    List,
    /// Refuse someone's token from now on.
    Revoke { name: String },
}

fn role_arg(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("`{text}` is not a role (viewer, operator or admin)"))
}

#[derive(Subcommand)]
pub enum ModelCmd {
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

#[derive(Subcommand)]
pub enum ScheduleCmd {
    /// Add one: el-jefe schedule add NAME (--cron "0 9 * * 1-5" | --every 30m | --at
    /// 2026-12-01T09:00 | --watch DIR | --webhook) (--goal "..." | --plan FILE)
    Add(Box<ScheduleAddArgs>),
    /// Every schedule: when it runs next, its last run and how that ended.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One schedule: its settings, and every recent firing and skip with the reason.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop firing until resumed (runs going on are not touched).
    Pause { name: String },
    /// Fire again; times that passed while paused are not made up.
    Resume { name: String },
    /// Remove it (its history stays in the schedules journal).
    Remove { name: String },
    /// Fire now, whatever its policies say.
    RunNow {
        name: String,
        /// A value for a placeholder: --var file=/data/q3.csv (repeatable).
        #[arg(long = "var", value_name = "KEY=VALUE", value_parser = var_arg)]
        vars: Vec<(String, String)>,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("when").required(true)))]
#[command(group(clap::ArgGroup::new("work").required(true)))]
pub struct ScheduleAddArgs {
    /// Letters, digits, '-' and '_': it names the webhook's URL too.
    pub name: String,
    /// Five cron fields: minute hour day-of-month month day-of-week.
    #[arg(long, group = "when", value_name = "EXPR")]
    pub cron: Option<String>,
    /// A fixed interval: 30m, 2h, 1d.
    #[arg(long, group = "when", value_name = "INTERVAL", value_parser = every_arg)]
    pub every: Option<std::time::Duration>,
    /// Once, at this local time (2026-12-01T09:00) or instant (with an offset).
    #[arg(long, group = "when", value_name = "TIME")]
    pub at: Option<String>,
    /// When files are created or changed in this folder; the file's path is {{file}}.
    #[arg(long, group = "when", value_name = "DIR")]
    pub watch: Option<PathBuf>,
    /// When POST /hooks/NAME is called with a good signature; the JSON body's fields are
    /// variables.
    #[arg(long, group = "when")]
    pub webhook: bool,
    /// Only files whose name matches (with --watch): '*.csv'.
    #[arg(long, requires = "watch", value_name = "PATTERN")]
    pub glob: Option<String>,
    /// The time zone of --cron and --at, an IANA name (Europe/Madrid); the server's own when
    /// left out.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The goal each run plans and runs ({{var}} placeholders allowed).
    #[arg(long, group = "work")]
    pub goal: Option<String>,
    /// A plan file each run runs (read now; {{var}} placeholders allowed).
    #[arg(long, group = "work", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// While the last run is still going: skip (times), queue (folders, webhooks) or allow.
    #[arg(long, value_parser = overlap_arg)]
    pub overlap: Option<Overlap>,
    /// Times missed while the server was down: skip (default) or run-once on start.
    #[arg(long, value_parser = missed_arg)]
    pub missed: Option<Missed>,
    /// At most this many runs in any hour; more are skipped.
    #[arg(long, value_name = "N")]
    pub max_per_hour: Option<u32>,
    /// Each run's token cap.
    #[arg(long, value_name = "N")]
    pub budget_tokens: Option<String>,
    /// Each run's cost cap in dollars.
    #[arg(long, value_name = "DOLLARS")]
    pub budget_money: Option<String>,
    /// Each run's wall-time cap: 30m.
    #[arg(long, value_name = "DURATION")]
    pub budget_wall: Option<String>,
}

fn every_arg(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("`{text}`: {e} (try 30m, 2h, 1d)"))
}

fn overlap_arg(text: &str) -> Result<Overlap, String> {
    match text {
        "skip" => Ok(Overlap::Skip),
        "queue" => Ok(Overlap::Queue),
        "allow" => Ok(Overlap::Allow),
        _ => Err(format!("`{text}` is not a choice (skip, queue or allow)")),
    }
}

fn missed_arg(text: &str) -> Result<Missed, String> {
    match text {
        "skip" => Ok(Missed::Skip),
        "run-once" => Ok(Missed::RunOnce),
        _ => Err(format!("`{text}` is not a choice (skip or run-once)")),
    }
}

fn var_arg(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}`: give KEY=VALUE"))
}
