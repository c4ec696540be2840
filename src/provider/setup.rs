//! Which providers exist and how each is reached: the result of reading config.toml, the usual
//! environment variables and flags (done by `config`), and what `registry` builds providers from.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::http::HttpSettings;
use super::{anthropic, openai};
use crate::session::redact::Redactor;

/// The name of the embedded model's provider.
pub const LOCAL: &str = "local";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Local,
    Anthropic,
    Openai,
}

impl ProviderKind {
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Local => "local",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Openai => "openai",
        }
    }
}

/// The wire format an HTTP provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Anthropic,
    Openai,
}

/// How a provider is reached: the embedded model has no URL, key or timeouts; an HTTP
/// provider always has them.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    Local,
    Http {
        wire: Wire,
        /// Boxed: far larger than the embedded model's nothing.
        settings: Box<HttpSettings>,
        /// Where the API key was read from at load (`settings.api_key`).
        api_key_env: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub name: String,
    pub endpoint: Endpoint,
    /// Tried in order when this provider gives up on a failure that may pass.
    pub fallback: Vec<String>,
    /// Named in the config file, or set up through its environment variables: listed as a
    /// provider the user meant to have, and checked.
    pub configured: bool,
}

impl ProviderConfig {
    pub fn kind(&self) -> ProviderKind {
        match &self.endpoint {
            Endpoint::Local => ProviderKind::Local,
            Endpoint::Http {
                wire: Wire::Anthropic,
                ..
            } => ProviderKind::Anthropic,
            Endpoint::Http {
                wire: Wire::Openai, ..
            } => ProviderKind::Openai,
        }
    }

    pub fn http(&self) -> Option<&HttpSettings> {
        match &self.endpoint {
            Endpoint::Local => None,
            Endpoint::Http { settings, .. } => Some(settings),
        }
    }

    pub fn http_mut(&mut self) -> Option<&mut HttpSettings> {
        match &mut self.endpoint {
            Endpoint::Local => None,
            Endpoint::Http { settings, .. } => Some(settings),
        }
    }

    pub fn api_key_env(&self) -> Option<&str> {
        match &self.endpoint {
            Endpoint::Local => None,
            Endpoint::Http { api_key_env, .. } => api_key_env.as_deref(),
        }
    }

    /// The API services refuse calls without a key; local servers (Ollama, vLLM...) do not.
    pub fn needs_key(&self) -> bool {
        self.http().is_some_and(|h| {
            h.api_key.is_none()
                && (h.base_url == anthropic::DEFAULT_BASE_URL
                    || h.base_url == openai::DEFAULT_BASE_URL)
        })
    }

    pub fn model(&self) -> Option<&str> {
        self.http().map(|h| h.model.as_str())
    }
}

/// Which provider and model a role runs on, when not the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleRoute {
    pub provider: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSetup {
    pub default: String,
    pub providers: BTreeMap<String, ProviderConfig>,
    pub roles: BTreeMap<String, RoleRoute>,
}

impl ProviderSetup {
    pub fn get(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.get(name)
    }

    /// Every API key read at load, in use or not: none may show anywhere.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(
            self.providers
                .values()
                .filter_map(|p| p.http()?.api_key.as_ref())
                .map(|k| k.expose()),
        )
    }

    /// The providers a run needs: the default, those of the roles, and their fallbacks.
    pub fn in_use(&self) -> Vec<&ProviderConfig> {
        let mut names: Vec<&str> = vec![self.default.as_str()];
        names.extend(self.roles.values().filter_map(|r| r.provider.as_deref()));
        let mut i = 0;
        while i < names.len() {
            if let Some(p) = self.providers.get(names[i]) {
                names.extend(p.fallback.iter().map(String::as_str));
            }
            i += 1;
        }
        let mut seen = Vec::new();
        for name in names {
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        seen.iter().filter_map(|n| self.providers.get(*n)).collect()
    }
}
