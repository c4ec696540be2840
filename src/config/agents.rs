//! `[agents.<role>]`: the roles' own settings on top of their agent files, their tool policies,
//! and the provider and model a role runs on.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::tools::parse_policy;
use super::{Bad, ConfigError, check_range};
use crate::engine::roles::{RoleBook, parse_tool_list};
use crate::provider::setup::RoleRoute;
use crate::tools::PolicyBook;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct AgentFile {
    max_tokens: Option<u32>,
    min_tokens: Option<u32>,
    temperature: Option<f32>,
    /// The tools this role is offered (names or patterns); absent: as its agent file says.
    tools: Option<Vec<String>>,
    /// Tool name or pattern -> policy, for this role only.
    policy: BTreeMap<String, String>,
    provider: Option<String>,
    model: Option<String>,
}

/// The built-in roles, those of the agent files in `dirs` (later ones win), then the config's
/// settings for each.
pub(super) fn roles(
    dirs: &[PathBuf],
    agents: &BTreeMap<String, AgentFile>,
    bad: Bad<'_>,
) -> Result<RoleBook, ConfigError> {
    let mut roles = RoleBook::built_in();
    for dir in dirs {
        roles.load_dir(dir).map_err(|e| ConfigError {
            origin: e.source_name.clone(),
            message: e.problem,
        })?;
    }
    for (name, agent) in agents {
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
            role.tools = Some(parse_tool_list(&tools.join(",")));
        }
    }
    for role in roles.iter() {
        check_range(
            bad,
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
    Ok(roles)
}

/// Each role's own tool rules, into `book`.
pub(super) fn policies(
    agents: &BTreeMap<String, AgentFile>,
    book: &mut PolicyBook,
    bad: Bad<'_>,
) -> Result<(), ConfigError> {
    for (name, agent) in agents {
        for (tool, value) in &agent.policy {
            let policy = parse_policy(&format!("agents.{name}.policy.{tool}"), value, bad)?;
            book.set_for_role(name, tool, policy);
        }
    }
    Ok(())
}

/// The roles that name their own provider or model.
pub(super) fn routes(agents: &BTreeMap<String, AgentFile>) -> BTreeMap<String, RoleRoute> {
    agents
        .iter()
        .filter(|(_, a)| a.provider.is_some() || a.model.is_some())
        .map(|(name, a)| {
            let route = RoleRoute {
                provider: a.provider.clone(),
                model: a.model.clone(),
            };
            (name.clone(), route)
        })
        .collect()
}
