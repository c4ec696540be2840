//! Settings: built-in defaults, then `config.toml`, then environment variables, then flags.

pub mod providers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::EngineSettings;
use crate::engine::planner::PlannerSettings;
use crate::engine::roles::RoleBook;
use crate::provider::LocalSettings;
use crate::provider::model_file::{MODEL_FILE_NAME, default_model_path};
use crate::provider::setup::{ProviderSetup, RoleRoute};
use crate::session::budget::{Budget, Price};
use crate::session::call::CallMode;
use crate::session::health::{HealthSettings, StallAction};
use crate::session::plan_validation::MAX_STEPS;
use crate::store::paths::AppDirs;
use crate::tools::{Policy, PolicyBook, ToolLimits, ToolRegistry};
use providers::{ProviderFile, ProviderFlags, ProviderInputs};

/// Environment variables read on top of the config file.
pub const ENV_CONFIG_FILE: &str = "EL_JEFE_CONFIG";
pub const ENV_MAX_PARALLEL: &str = "EL_JEFE_MAX_PARALLEL";
pub const ENV_MODE: &str = "EL_JEFE_MODE";
pub const ENV_WORKSPACE_ROOT: &str = "EL_JEFE_WORKSPACE_ROOT";
pub const ENV_MODEL: &str = "EL_JEFE_MODEL";
pub const ENV_THREADS: &str = "EL_JEFE_THREADS";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    max_parallel: Option<usize>,
    mode: Option<CallMode>,
    workspace_root: Option<PathBuf>,
    context_chars_per_dependency: Option<usize>,
    /// The default provider's name.
    provider: Option<String>,
    #[serde(default)]
    providers: BTreeMap<String, ProviderFile>,
    #[serde(default)]
    planner: PlannerFile,
    #[serde(default)]
    tools: ToolsFile,
    #[serde(default)]
    local: LocalFile,
    #[serde(default)]
    agents: BTreeMap<String, AgentFile>,
    #[serde(default)]
    health: HealthFile,
    /// Caps for every session; `[budget.agents.<role>]` for one role.
    #[serde(default)]
    budget: Budget,
    /// Model name -> price per million tokens, for money caps and cost figures.
    #[serde(default)]
    prices: BTreeMap<String, Price>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthFile {
    /// Seconds without progress before an agent is stalled; 0 turns the watch off.
    stall_after_secs: Option<u64>,
    /// warn, retry or interrupt.
    on_stall: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlannerFile {
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    min_steps: Option<usize>,
    max_steps: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolsFile {
    max_rounds: Option<u32>,
    max_result_bytes: Option<usize>,
    command_timeout_secs: Option<u64>,
    fetch_timeout_secs: Option<u64>,
    /// Tool name or pattern -> "allow" | "ask" | "deny", for every agent.
    #[serde(default)]
    policy: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalFile {
    model_path: Option<PathBuf>,
    threads: Option<u32>,
    context_tokens: Option<u32>,
    max_sequences: Option<u32>,
    flash_attention: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentFile {
    max_tokens: Option<u32>,
    min_tokens: Option<u32>,
    temperature: Option<f32>,
    /// The tools this role is offered (names or patterns); absent: as its agent file says.
    tools: Option<Vec<String>>,
    /// Tool name or pattern -> policy, for this role only.
    #[serde(default)]
    policy: BTreeMap<String, String>,
    provider: Option<String>,
    model: Option<String>,
}

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
        let explicit = env(ENV_CONFIG_FILE)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let path = explicit.clone().unwrap_or_else(|| dirs.config_file());
        let (file, source) = match std::fs::read_to_string(&path) {
            Ok(text) => (parse_file(&path, &text)?, Some(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                (ConfigFile::default(), None)
            }
            Err(e) => {
                return Err(ConfigError {
                    origin: path.display().to_string(),
                    message: format!("cannot read it: {e}"),
                });
            }
        };
        let origin = source
            .as_ref()
            .map_or_else(|| "defaults".to_string(), |p| p.display().to_string());
        let bad = |message: String| ConfigError {
            origin: origin.clone(),
            message,
        };

        let mut roles = RoleBook::built_in();
        let project = std::env::current_dir().unwrap_or_default();
        let agent_dirs = vec![
            dirs.config.join("agents"),
            project.join(".el-jefe").join("agents"),
        ];
        for dir in &agent_dirs {
            roles.load_dir(dir).map_err(|e| ConfigError {
                origin: e.source_name.clone(),
                message: e.problem,
            })?;
        }
        let mut policies = PolicyBook::default();
        let parse_policy = |key: &str, value: &str| {
            Policy::parse(value).ok_or_else(|| {
                bad(format!(
                    "{key} = \"{value}\": a policy is \"allow\", \"ask\" or \"deny\""
                ))
            })
        };
        for (tool, value) in &file.tools.policy {
            policies.set_for_everyone(tool, parse_policy(&format!("tools.policy.{tool}"), value)?);
        }
        for (name, agent) in &file.agents {
            for (tool, value) in &agent.policy {
                let policy = parse_policy(&format!("agents.{name}.policy.{tool}"), value)?;
                policies.set_for_role(name, tool, policy);
            }
        }
        for (name, agent) in &file.agents {
            let known = roles.names().join(", ");
            let role = roles
                .get_mut(name)
                .ok_or_else(|| bad(format!("[agents.{name}]: no such agent (known: {known})")))?;
            if let Some(t) = agent.max_tokens {
                role.max_tokens = t;
            }
            if let Some(t) = agent.min_tokens {
                role.min_tokens = t;
            }
            if let Some(t) = agent.temperature {
                role.temperature = t;
            }
            if let Some(tools) = &agent.tools {
                role.tools = Some(crate::engine::roles::parse_tool_list(&tools.join(",")));
            }
        }
        let defaults = ToolLimits::default();
        let tool_limits = ToolLimits {
            max_result_bytes: file
                .tools
                .max_result_bytes
                .unwrap_or(defaults.max_result_bytes),
            command_timeout: file
                .tools
                .command_timeout_secs
                .map_or(defaults.command_timeout, std::time::Duration::from_secs),
            fetch_timeout: file
                .tools
                .fetch_timeout_secs
                .map_or(defaults.fetch_timeout, std::time::Duration::from_secs),
            fetch_max_bytes: defaults.fetch_max_bytes,
        };
        let health = {
            let defaults = HealthSettings::default();
            let stall_after = match file.health.stall_after_secs {
                None => defaults.stall_after,
                Some(0) => None,
                Some(secs) => {
                    check_range(&bad, "health.stall_after_secs", secs, 5, 86_400)?;
                    Some(std::time::Duration::from_secs(secs))
                }
            };
            let on_stall = match file.health.on_stall.as_deref() {
                None => defaults.on_stall,
                Some(word) => StallAction::parse(word).ok_or_else(|| {
                    bad(format!(
                        "health.on_stall = \"{word}\" is not an action (warn, retry or interrupt)"
                    ))
                })?,
            };
            HealthSettings {
                stall_after,
                on_stall,
            }
        };
        let money_capped = file.budget.session.money.is_some()
            || file.budget.agents.values().any(|c| c.money.is_some());
        if money_capped && file.prices.is_empty() {
            return Err(bad(
                "a money budget needs prices: add [prices.\"<model>\"] with input_per_mtok and output_per_mtok".into(),
            ));
        }
        let max_tool_rounds = file.tools.max_rounds.unwrap_or(8);
        check_range(&bad, "tools.max_rounds", u64::from(max_tool_rounds), 1, 100)?;
        check_range(
            &bad,
            "tools.max_result_bytes",
            tool_limits.max_result_bytes as u64,
            256,
            1 << 24,
        )?;
        check_range(
            &bad,
            "tools.command_timeout_secs",
            tool_limits.command_timeout.as_secs(),
            1,
            3600,
        )?;
        check_range(
            &bad,
            "tools.fetch_timeout_secs",
            tool_limits.fetch_timeout.as_secs(),
            1,
            600,
        )?;

        let env_num = |name: &str| -> Result<Option<u64>, ConfigError> {
            match env(name).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| ConfigError {
                    origin: format!("environment variable {name}"),
                    message: format!("`{v}` is not a whole number"),
                }),
            }
        };
        let env_mode = match env(ENV_MODE).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(CallMode::parse(&v).ok_or_else(|| ConfigError {
                origin: format!("environment variable {ENV_MODE}"),
                message: format!("`{v}` is not a mode (streaming or legacy)"),
            })?),
        };

        let max_parallel = flags
            .max_parallel
            .or(env_num(ENV_MAX_PARALLEL)?.map(|n| n as usize))
            .or(file.max_parallel)
            .unwrap_or(3);
        let threads = flags
            .threads
            .or(env_num(ENV_THREADS)?.map(|n| n as u32))
            .or(file.local.threads)
            .unwrap_or_else(default_threads);
        let model_path = flags
            .model_file
            .clone()
            .or(env(ENV_MODEL).filter(|v| !v.is_empty()).map(PathBuf::from))
            .or(file.local.model_path.clone())
            .unwrap_or_else(|| default_model_path(&dirs.data));
        let workspace_root = flags
            .workspace_root
            .clone()
            .or(env(ENV_WORKSPACE_ROOT)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from))
            .or(file.workspace_root.clone())
            .unwrap_or_else(|| dirs.default_workspace_root());
        let planner_defaults = PlannerSettings::default();
        let planner = PlannerSettings {
            max_tokens: file
                .planner
                .max_tokens
                .unwrap_or(planner_defaults.max_tokens),
            temperature: file
                .planner
                .temperature
                .unwrap_or(planner_defaults.temperature),
            // A smaller max_steps alone lowers the default minimum with it.
            min_steps: file.planner.min_steps.unwrap_or(
                planner_defaults
                    .min_steps
                    .min(file.planner.max_steps.unwrap_or(usize::MAX)),
            ),
            max_steps: file.planner.max_steps.unwrap_or(planner_defaults.max_steps),
        };
        let local = LocalSettings {
            pinned: model_path.file_name().is_some_and(|n| n == MODEL_FILE_NAME),
            model_path,
            threads,
            context_tokens: file.local.context_tokens.unwrap_or(8_192),
            max_sequences: file.local.max_sequences.unwrap_or(8),
            flash_attention: file.local.flash_attention.unwrap_or(true),
        };

        check_range(&bad, "max_parallel", max_parallel as u64, 1, 32)?;
        check_range(&bad, "local.threads", u64::from(threads), 1, 256)?;
        check_range(
            &bad,
            "local.context_tokens",
            u64::from(local.context_tokens),
            512,
            1 << 20,
        )?;
        check_range(
            &bad,
            "local.max_sequences",
            u64::from(local.max_sequences),
            1,
            64,
        )?;
        check_range(
            &bad,
            "planner.max_steps",
            planner.max_steps as u64,
            1,
            MAX_STEPS as u64,
        )?;
        check_range(
            &bad,
            "planner.min_steps",
            planner.min_steps as u64,
            1,
            planner.max_steps as u64,
        )?;
        check_range(
            &bad,
            "planner.max_tokens",
            u64::from(planner.max_tokens),
            16,
            1 << 16,
        )?;
        for role in roles.iter() {
            check_range(
                &bad,
                &format!("agents.{}.max_tokens", role.name),
                u64::from(role.max_tokens),
                1,
                1 << 16,
            )?;
            if role.min_tokens > role.max_tokens {
                return Err(bad(format!(
                    "agents.{0}.min_tokens = {1} is more than agents.{0}.max_tokens = {2}",
                    role.name, role.min_tokens, role.max_tokens
                )));
            }
            if !(0.0..=2.0).contains(&role.temperature) {
                return Err(bad(format!(
                    "agents.{}.temperature = {} is outside 0 to 2",
                    role.name, role.temperature
                )));
            }
        }
        if !(0.0..=2.0).contains(&planner.temperature) {
            return Err(bad(format!(
                "planner.temperature = {} is outside 0 to 2",
                planner.temperature
            )));
        }

        let role_routes = file
            .agents
            .iter()
            .filter(|(_, a)| a.provider.is_some() || a.model.is_some())
            .map(|(name, a)| {
                let route = RoleRoute {
                    provider: a.provider.clone(),
                    model: a.model.clone(),
                };
                (name.clone(), route)
            })
            .collect();
        let providers = providers::resolve(
            ProviderInputs {
                default: file.provider.as_deref(),
                files: &file.providers,
                roles: role_routes,
                flags: &flags.providers,
            },
            &env,
            &bad,
        )?;

        Ok(Config {
            engine: EngineSettings {
                max_parallel,
                mode: flags.mode.or(env_mode).or(file.mode).unwrap_or_default(),
                workspace_root,
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

fn parse_file(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError {
        origin: path.display().to_string(),
        // toml's message already says the line, the column and what is wrong.
        message: e.to_string().trim_end().to_string(),
    })
}

fn check_range(
    bad: &impl Fn(String) -> ConfigError,
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

fn default_threads() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(8) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn dirs(root: &Path) -> AppDirs {
        AppDirs {
            data: root.join("data"),
            config: root.join("config"),
        }
    }

    fn load(
        root: &Path,
        file: Option<&str>,
        env: &[(&str, &str)],
        flags: &Overrides,
    ) -> Result<Config, ConfigError> {
        let d = dirs(root);
        if let Some(text) = file {
            std::fs::create_dir_all(&d.config).unwrap();
            std::fs::write(d.config_file(), text).unwrap();
        }
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with(&d, |k| env.get(k).cloned(), flags)
    }

    #[test]
    fn defaults_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let c = load(dir.path(), None, &[], &Overrides::default()).unwrap();
        assert_eq!(c.engine.max_parallel, 3);
        assert_eq!(c.engine.mode, CallMode::Streaming);
        assert!(c.local.pinned);
        assert_eq!(
            c.local.model_path,
            dir.path().join("data/models").join(MODEL_FILE_NAME)
        );
        assert_eq!(c.engine.workspace_root, dir.path().join("data/workspaces"));
        assert!(c.file.is_none());
    }

    #[test]
    fn file_then_environment_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = "max_parallel = 2\nmode = \"legacy\"\n[agents.writer]\nmax_tokens = 50\n[local]\nthreads = 1\n";
        let c = load(dir.path(), Some(file), &[], &Overrides::default()).unwrap();
        assert_eq!(c.engine.max_parallel, 2);
        assert_eq!(c.engine.mode, CallMode::Legacy);
        assert_eq!(c.engine.roles.get("writer").unwrap().max_tokens, 50);
        assert_eq!(c.local.threads, 1);
        let c = load(
            dir.path(),
            Some(file),
            &[(ENV_MAX_PARALLEL, "5"), (ENV_MODE, "streaming")],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.engine.max_parallel, 5);
        assert_eq!(c.engine.mode, CallMode::Streaming);
        let flags = Overrides {
            max_parallel: Some(7),
            model_file: Some("/m/other.gguf".into()),
            ..Default::default()
        };
        let c = load(dir.path(), Some(file), &[(ENV_MAX_PARALLEL, "5")], &flags).unwrap();
        assert_eq!(c.engine.max_parallel, 7);
        assert!(
            !c.local.pinned,
            "a custom model is not checked against the pinned hash"
        );
    }

    #[test]
    fn a_bad_file_names_the_file_the_line_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(
            dir.path(),
            Some("max_parallel = 2\nmax_paralel = 3\n"),
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("config.toml"), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("max_paralel"), "{text}");

        let err = load(
            dir.path(),
            Some("max_parallel = \"many\"\n"),
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = load(
            dir.path(),
            Some("max_parallel = 0\n"),
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            err.message.contains("max_parallel = 0 is outside 1 to 32"),
            "{err}"
        );
        let err = load(
            dir.path(),
            Some("[agents.poet]\nmax_tokens = 3\n"),
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.message.contains("no such agent"), "{err}");
        let err = load(
            dir.path(),
            Some("[agents.writer]\nmax_tokens = 30\nmin_tokens = 40\n"),
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            err.message.contains(
                "agents.writer.min_tokens = 40 is more than agents.writer.max_tokens = 30"
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(
            dir.path(),
            None,
            &[(ENV_MAX_PARALLEL, "lots")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(err.origin, "environment variable EL_JEFE_MAX_PARALLEL");
        let err = load(
            dir.path(),
            None,
            &[(ENV_MODE, "fast")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.message.contains("streaming or legacy"));
        let err = load(
            dir.path(),
            None,
            &[(ENV_CONFIG_FILE, "/nope/x.toml")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nope/x.toml"));
    }
}
