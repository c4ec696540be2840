//! Which tools run without asking: per tool, for every agent or for one role, with patterns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Runs without asking.
    Allow,
    /// Waits for the user's approval.
    Ask,
    /// Never runs; the tool is not even offered to the model.
    Deny,
}

impl Policy {
    pub fn label(self) -> &'static str {
        match self {
            Policy::Allow => "allow",
            Policy::Ask => "ask",
            Policy::Deny => "deny",
        }
    }

    pub fn parse(text: &str) -> Option<Policy> {
        match text {
            "allow" => Some(Policy::Allow),
            "ask" => Some(Policy::Ask),
            "deny" => Some(Policy::Deny),
            _ => None,
        }
    }
}

/// Rules from the config: a tool name or a pattern ending in `*` (`mcp__github__*`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyBook {
    everyone: Vec<(String, Policy)>,
    roles: BTreeMap<String, Vec<(String, Policy)>>,
}

pub fn matches(pattern: &str, tool: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => tool.starts_with(prefix),
        None => pattern == tool,
    }
}

/// The most specific rule wins: an exact name over a pattern, a longer pattern over a shorter.
fn lookup(rules: &[(String, Policy)], tool: &str) -> Option<Policy> {
    rules
        .iter()
        .filter(|(p, _)| matches(p, tool))
        .max_by_key(|(p, _)| (!p.ends_with('*'), p.len()))
        .map(|(_, policy)| *policy)
}

impl PolicyBook {
    pub fn set_for_everyone(&mut self, pattern: &str, policy: Policy) {
        self.everyone.push((pattern.to_string(), policy));
    }

    pub fn set_for_role(&mut self, role: &str, pattern: &str, policy: Policy) {
        self.roles
            .entry(role.to_string())
            .or_default()
            .push((pattern.to_string(), policy));
    }

    /// The role's own rule, else the rule for everyone, else the tool's default.
    pub fn effective(&self, role: Option<&str>, tool: &str, default: Policy) -> Policy {
        role.and_then(|r| self.roles.get(r))
            .and_then(|rules| lookup(rules, tool))
            .or_else(|| lookup(&self.everyone, tool))
            .unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_rules_beat_global_rules_which_beat_defaults() {
        let mut book = PolicyBook::default();
        book.set_for_everyone("run_command", Policy::Allow);
        book.set_for_everyone("mcp__*", Policy::Deny);
        book.set_for_everyone("mcp__time__*", Policy::Allow);
        book.set_for_role("writer", "run_command", Policy::Deny);
        assert_eq!(
            book.effective(Some("writer"), "run_command", Policy::Ask),
            Policy::Deny
        );
        assert_eq!(
            book.effective(Some("analyst"), "run_command", Policy::Ask),
            Policy::Allow
        );
        assert_eq!(book.effective(None, "fetch_url", Policy::Ask), Policy::Ask);
        assert_eq!(
            book.effective(None, "mcp__time__now", Policy::Ask),
            Policy::Allow
        );
        assert_eq!(
            book.effective(None, "mcp__git__log", Policy::Ask),
            Policy::Deny
        );
    }
}
