//! A session's own choice of providers, when it is not the engine's configured routing: a
//! schedule's `--provider`, a fork's `--provider/--model/--agent-provider`, each side of an A/B.
//! Recorded in the session's journal, so a resume runs on what the session started on.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A provider by its configured name, and optionally one of its models.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderPick {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl ProviderPick {
    pub fn is_empty(&self) -> bool {
        self.provider.is_none() && self.model.is_none()
    }

    /// `PROVIDER` or `PROVIDER:MODEL` (the model may hold colons of its own: `ollama:llama3:8b`).
    pub fn parse(text: &str) -> Result<ProviderPick, String> {
        let text = text.trim();
        let (provider, model) = match text.split_once(':') {
            Some((p, m)) => (p.trim(), Some(m.trim())),
            None => (text, None),
        };
        if provider.is_empty() {
            return Err(format!(
                "`{text}` names no provider (PROVIDER or PROVIDER:MODEL)"
            ));
        }
        if model == Some("") {
            return Err(format!("`{text}` has an empty model after the colon"));
        }
        Ok(ProviderPick {
            provider: Some(provider.to_string()),
            model: model.map(String::from),
        })
    }
}

impl fmt::Display for ProviderPick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.provider, &self.model) {
            (Some(p), Some(m)) => write!(f, "{p}:{m}"),
            (Some(p), None) => f.write_str(p),
            (None, Some(m)) => write!(f, "(default provider):{m}"),
            (None, None) => f.write_str("(default provider)"),
        }
    }
}

/// Which providers a session runs on, over the configured routing: `default` for the planner
/// and every role not named, `roles` for those named. Empty means the configured routing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    #[serde(default, skip_serializing_if = "ProviderPick::is_empty")]
    pub default: ProviderPick,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, ProviderPick>,
}

impl ProviderChoice {
    pub fn is_default(&self) -> bool {
        self.default.is_empty() && self.roles.is_empty()
    }

    /// Everything on one provider (and model).
    pub fn all_on(pick: ProviderPick) -> ProviderChoice {
        ProviderChoice {
            default: pick,
            roles: BTreeMap::new(),
        }
    }

    /// Adds `ROLE=PROVIDER[:MODEL]`.
    pub fn add_role(&mut self, assignment: &str) -> Result<(), String> {
        let Some((role, pick)) = assignment.split_once('=') else {
            return Err(format!(
                "`{assignment}` is not ROLE=PROVIDER or ROLE=PROVIDER:MODEL"
            ));
        };
        let role = role.trim();
        if role.is_empty() {
            return Err(format!("`{assignment}` names no role before `=`"));
        }
        self.roles
            .insert(role.to_string(), ProviderPick::parse(pick)?);
        Ok(())
    }

    /// One line for listings: `anthropic:claude-x, writer=local`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.default.is_empty() {
            parts.push(self.default.to_string());
        }
        parts.extend(
            self.roles
                .iter()
                .map(|(role, pick)| format!("{role}={pick}")),
        );
        if parts.is_empty() {
            "the configured providers".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn picks_parse_with_and_without_a_model() {
        let pick = ProviderPick::parse("ollama:llama3:8b").unwrap();
        assert_eq!(pick.provider.as_deref(), Some("ollama"));
        assert_eq!(pick.model.as_deref(), Some("llama3:8b"));
        assert_eq!(pick.to_string(), "ollama:llama3:8b");
        assert_eq!(ProviderPick::parse(" local ").unwrap().to_string(), "local");
        assert!(
            ProviderPick::parse(":gpt")
                .unwrap_err()
                .contains("no provider")
        );
        assert!(
            ProviderPick::parse("openai:")
                .unwrap_err()
                .contains("empty model")
        );
    }

    #[test]
    fn roles_are_added_and_described() {
        let mut choice = ProviderChoice::all_on(ProviderPick::parse("openai:gpt-x").unwrap());
        choice.add_role("writer=local").unwrap();
        assert_eq!(choice.describe(), "openai:gpt-x, writer=local");
        assert!(
            choice
                .add_role("writer")
                .unwrap_err()
                .contains("ROLE=PROVIDER")
        );
        assert!(choice.add_role("=local").unwrap_err().contains("no role"));
        assert!(ProviderChoice::default().is_default());
    }

    #[test]
    fn an_empty_choice_writes_nothing() {
        let json = serde_json::to_string(&ProviderChoice::default()).unwrap();
        assert_eq!(json, "{}");
        let choice: ProviderChoice =
            serde_json::from_str(r#"{"default":{"provider":"local"}}"#).unwrap();
        assert_eq!(choice.default.provider.as_deref(), Some("local"));
    }
}
