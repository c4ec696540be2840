//! The config file's schema: every section and key `config.toml` may hold. Anything else is an
//! error naming the line, so a typo never passes unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;
use super::agents::AgentFile;
use super::health::HealthFile;
use super::local::LocalFile;
use super::planner::PlannerFile;
use super::providers::ProviderFile;
use super::tools::ToolsFile;
use crate::session::budget::{Budget, Price};
use crate::session::call::CallMode;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ConfigFile {
    pub max_parallel: Option<usize>,
    pub mode: Option<CallMode>,
    pub workspace_root: Option<PathBuf>,
    pub context_chars_per_dependency: Option<usize>,
    /// The default provider's name.
    pub provider: Option<String>,
    pub providers: BTreeMap<String, ProviderFile>,
    pub planner: PlannerFile,
    pub tools: ToolsFile,
    pub local: LocalFile,
    pub agents: BTreeMap<String, AgentFile>,
    pub health: HealthFile,
    /// Caps for every session; `[budget.agents.<role>]` for one role.
    pub budget: Budget,
    /// Model name -> price per million tokens, for money caps and cost figures.
    pub prices: BTreeMap<String, Price>,
}

/// The file at `path`, or the defaults when there is none and none was asked for by name.
pub(super) fn read(path: &Path, named: bool) -> Result<(ConfigFile, Option<PathBuf>), ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((parse(path, &text)?, Some(path.to_path_buf()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
            Ok((ConfigFile::default(), None))
        }
        Err(e) => Err(ConfigError {
            origin: path.display().to_string(),
            message: format!("cannot read it: {e}"),
        }),
    }
}

fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError {
        origin: path.display().to_string(),
        // toml's message already says the line, the column and what is wrong.
        message: e.to_string().trim_end().to_string(),
    })
}
