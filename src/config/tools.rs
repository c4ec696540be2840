//! `[tools]`: limits on what a tool call may take, how many rounds a step may use, and the
//! policies for every agent.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Bad, ConfigError, check_range};
use crate::tools::{Policy, PolicyBook, ToolLimits};

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ToolsFile {
    max_rounds: Option<u32>,
    max_result_bytes: Option<usize>,
    command_timeout_secs: Option<u64>,
    fetch_timeout_secs: Option<u64>,
    /// Tool name or pattern -> "allow" | "ask" | "deny", for every agent.
    policy: BTreeMap<String, String>,
}

impl ToolsFile {
    pub fn limits(&self, bad: Bad<'_>) -> Result<ToolLimits, ConfigError> {
        let defaults = ToolLimits::default();
        let limits = ToolLimits {
            max_result_bytes: self.max_result_bytes.unwrap_or(defaults.max_result_bytes),
            command_timeout: self
                .command_timeout_secs
                .map_or(defaults.command_timeout, std::time::Duration::from_secs),
            fetch_timeout: self
                .fetch_timeout_secs
                .map_or(defaults.fetch_timeout, std::time::Duration::from_secs),
            fetch_max_bytes: defaults.fetch_max_bytes,
        };
        check_range(
            bad,
            "tools.max_result_bytes",
            limits.max_result_bytes as u64,
            256,
            1 << 24,
        )?;
        check_range(
            bad,
            "tools.command_timeout_secs",
            limits.command_timeout.as_secs(),
            1,
            3600,
        )?;
        check_range(
            bad,
            "tools.fetch_timeout_secs",
            limits.fetch_timeout.as_secs(),
            1,
            600,
        )?;
        Ok(limits)
    }

    pub fn max_rounds(&self, bad: Bad<'_>) -> Result<u32, ConfigError> {
        let rounds = self.max_rounds.unwrap_or(8);
        check_range(bad, "tools.max_rounds", u64::from(rounds), 1, 100)?;
        Ok(rounds)
    }

    /// The rules for every agent, into `book`.
    pub fn policies(&self, book: &mut PolicyBook, bad: Bad<'_>) -> Result<(), ConfigError> {
        for (tool, value) in &self.policy {
            book.set_for_everyone(
                tool,
                parse_policy(&format!("tools.policy.{tool}"), value, bad)?,
            );
        }
        Ok(())
    }
}

pub(super) fn parse_policy(key: &str, value: &str, bad: Bad<'_>) -> Result<Policy, ConfigError> {
    Policy::parse(value).ok_or_else(|| {
        bad(format!(
            "{key} = \"{value}\": a policy is \"allow\", \"ask\" or \"deny\""
        ))
    })
}
