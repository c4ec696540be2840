//! Settings: built-in defaults, then `config.toml`, then environment variables, then flags.

mod agents;
mod file;
mod health;
mod layers;
mod local;
mod planner;
pub mod providers;
mod tools;

use std::path::PathBuf;

use crate::engine::EngineSettings;
use crate::provider::LocalSettings;
use crate::provider::setup::ProviderSetup;
use crate::session::call::CallMode;
use crate::store::paths::AppDirs;
use crate::tools::{PolicyBook, ToolLimits, ToolRegistry};
use file::ConfigFile;
use layers::{Env, layered};
use providers::{ProviderFlags, ProviderInputs};

/// Environment variables read on top of the config file.
pub const ENV_CONFIG_FILE: &str = "EL_JEFE_CONFIG";
pub const ENV_MAX_PARALLEL: &str = "EL_JEFE_MAX_PARALLEL";
pub const ENV_MODE: &str = "EL_JEFE_MODE";
pub const ENV_WORKSPACE_ROOT: &str = "EL_JEFE_WORKSPACE_ROOT";
pub const ENV_MODEL: &str = "EL_JEFE_MODEL";
pub const ENV_THREADS: &str = "EL_JEFE_THREADS";

/// Command-line flags that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub max_parallel: Option<usize>,
    pub mode: Option<CallMode>,
    pub workspace_root: Option<PathBuf>,
    pub model_file: Option<PathBuf>,
    pub threads: Option<u32>,
    pub providers: ProviderFlags,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub engine: EngineSettings,
    pub tool_policies: PolicyBook,
    pub tool_limits: ToolLimits,
    /// Files that may list MCP servers (`mcpServers`), in the order they apply.
    pub mcp_files: Vec<PathBuf>,
    /// Folders custom agent files were read from.
    pub agent_dirs: Vec<PathBuf>,
    pub local: LocalSettings,
    pub providers: ProviderSetup,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("config error in {origin}: {message}")]
pub struct ConfigError {
    /// The file, or the environment variable or flag, that holds the bad value.
    pub origin: String,
    pub message: String,
}

impl Config {
    /// Reads the real environment and config file.
    pub fn load(dirs: &AppDirs, flags: &Overrides) -> Result<Config, ConfigError> {
        Config::load_with(dirs, |name| std::env::var(name).ok(), flags)
    }

    /// `env` stands in for the process environment, so tests can supply their own.
    pub fn load_with(
        dirs: &AppDirs,
        env: impl Fn(&str) -> Option<String>,
        flags: &Overrides,
    ) -> Result<Config, ConfigError> {
        let env = Env::new(&env);
        let named = env.path(ENV_CONFIG_FILE);
        let path = named.clone().unwrap_or_else(|| dirs.config_file());
        let (file, source) = file::read(&path, named.is_some())?;
        let origin = source
            .as_ref()
            .map_or_else(|| "defaults".to_string(), |p| p.display().to_string());
        let bad = |message: String| ConfigError {
            origin: origin.clone(),
            message,
        };

        let project = std::env::current_dir().unwrap_or_default();
        let agent_dirs = vec![
            dirs.config.join("agents"),
            project.join(".el-jefe").join("agents"),
        ];
        let roles = agents::roles(&agent_dirs, &file.agents, &bad)?;
        let mut policies = PolicyBook::default();
        file.tools.policies(&mut policies, &bad)?;
        agents::policies(&file.agents, &mut policies, &bad)?;
        let tool_limits = file.tools.limits(&bad)?;
        let max_tool_rounds = file.tools.max_rounds(&bad)?;
        let health = file.health.settings(&bad)?;
        let planner = file.planner.settings(&bad)?;
        let local = file.local.settings(flags, &env, dirs, &bad)?;
        check_budget(&file, &bad)?;
        let top = TopLevel::layered(flags, &env, &file, dirs, &bad)?;
        let providers = providers::resolve(
            ProviderInputs {
                default: file.provider.as_deref(),
                files: &file.providers,
                roles: agents::routes(&file.agents),
                flags: &flags.providers,
            },
            &|name: &str| env.text(name),
            &bad,
        )?;

        Ok(Config {
            engine: EngineSettings {
                max_parallel: top.max_parallel,
                mode: top.mode,
                workspace_root: top.workspace_root,
                roles,
                planner,
                context_chars_per_dependency: file.context_chars_per_dependency.unwrap_or(3000),
                tools: std::sync::Arc::new(ToolRegistry::new(policies.clone(), tool_limits)),
                max_tool_rounds,
                health,
                budget: file.budget,
                prices: file.prices,
                redactor: providers.redactor(),
            },
            providers,
            tool_policies: policies,
            tool_limits,
            mcp_files: vec![dirs.config.join("mcp.json"), project.join(".mcp.json")],
            agent_dirs,
            local,
            file: source,
        })
    }
}

/// The top-level settings that a flag and an environment variable can also set.
struct TopLevel {
    mode: CallMode,
    max_parallel: usize,
    workspace_root: PathBuf,
}

impl TopLevel {
    fn layered(
        flags: &Overrides,
        env: &Env<'_>,
        file: &ConfigFile,
        dirs: &AppDirs,
        bad: Bad<'_>,
    ) -> Result<Self, ConfigError> {
        let mode = layered(
            flags.mode,
            env.parsed(ENV_MODE, CallMode::parse, "a mode (streaming or legacy)")?,
            file.mode,
            CallMode::default,
        );
        let max_parallel = layered(
            flags.max_parallel,
            env.number(ENV_MAX_PARALLEL)?.map(|n| n as usize),
            file.max_parallel,
            || 3,
        );
        check_range(bad, "max_parallel", max_parallel as u64, 1, 32)?;
        let workspace_root = layered(
            flags.workspace_root.clone(),
            env.path(ENV_WORKSPACE_ROOT),
            file.workspace_root.clone(),
            || dirs.default_workspace_root(),
        );
        Ok(TopLevel {
            mode,
            max_parallel,
            workspace_root,
        })
    }
}

/// A money cap means nothing without the prices to count it in.
fn check_budget(file: &ConfigFile, bad: Bad<'_>) -> Result<(), ConfigError> {
    let money_capped = file.budget.session.money.is_some()
        || file.budget.agents.values().any(|c| c.money.is_some());
    if money_capped && file.prices.is_empty() {
        return Err(bad(
            "a money budget needs prices: add [prices.\"<model>\"] with input_per_mtok and output_per_mtok".into(),
        ));
    }
    Ok(())
}

/// What section files use to say a value is wrong, naming the file it came from.
type Bad<'a> = &'a dyn Fn(String) -> ConfigError;

fn check_range(
    bad: Bad<'_>,
    name: &str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(bad(format!("{name} = {value} is outside {min} to {max}")))
    }
}

#[cfg(test)]
mod tests;
