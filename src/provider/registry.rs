//! Builds the providers a run needs from the configuration, fallbacks wired in.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::failover::FailoverProvider;
use super::{Provider, ProviderError, anthropic, openai};
use crate::config::providers::{ProviderConfig, ProviderKind, ProviderSetup};
use crate::engine::{Route, Routes};

/// Whether the embedded model has to be loaded for this setup.
pub fn needs_local(setup: &ProviderSetup) -> bool {
    setup.in_use().iter().any(|p| p.kind == ProviderKind::Local)
}

/// Every provider in use, each with its fallbacks. `local` is the loaded embedded model when
/// `needs_local` said so.
pub fn build_routes(
    setup: &ProviderSetup,
    local: Option<Arc<dyn Provider>>,
) -> Result<Routes, ProviderError> {
    let mut plain: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
    for config in setup.in_use() {
        let provider = match config.kind {
            ProviderKind::Local => local.clone().ok_or_else(|| {
                ProviderError::unavailable("the embedded model is needed but was not loaded")
            })?,
            _ => build_http(config)?,
        };
        plain.insert(config.name.clone(), provider);
    }
    let chained = |name: &str| -> Arc<dyn Provider> {
        let first = plain[name].clone();
        let fallbacks = &setup.providers[name].fallback;
        if fallbacks.is_empty() {
            return first;
        }
        let mut chain = vec![first];
        chain.extend(fallbacks.iter().map(|f| plain[f].clone()));
        Arc::new(FailoverProvider::new(chain))
    };
    let mut routes = Routes::single(chained(&setup.default));
    for (role, route) in &setup.roles {
        let name = route.provider.as_deref().unwrap_or(&setup.default);
        routes = routes.with_role(
            role,
            Route {
                provider: chained(name),
                model: route.model.clone(),
            },
        );
    }
    Ok(routes)
}

pub fn build_http(config: &ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError> {
    let http = config.http.clone().expect("HTTP providers have settings");
    if config.needs_key() {
        let var = config
            .api_key_env
            .as_deref()
            .unwrap_or("an API key variable");
        return Err(ProviderError::unavailable(format!(
            "provider `{}` needs an API key: set {var} (or point base_url at a server that \
             needs none)",
            config.name
        )));
    }
    Ok(match config.kind {
        ProviderKind::Anthropic => Arc::new(anthropic::provider(http)?),
        ProviderKind::Openai => Arc::new(openai::provider(http)?),
        ProviderKind::Local => unreachable!("the embedded model is not an HTTP provider"),
    })
}
