//! Builds the providers a run needs from the configuration, fallbacks wired in.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::anthropic::AnthropicWire;
use super::failover::FailoverProvider;
use super::http::{EndpointSlots, HttpProvider, HttpSettings};
use super::openai::OpenAiWire;
use super::routes::{Route, Routes};
use super::setup::{Endpoint, ProviderConfig, ProviderSetup, Wire};
use super::{Provider, ProviderError};

/// Whether the embedded model has to be loaded for this setup.
pub fn needs_local(setup: &ProviderSetup) -> bool {
    setup.in_use().iter().any(|p| p.endpoint == Endpoint::Local)
}

/// Every provider in use, each with its fallbacks. `local` is the loaded embedded model when
/// `needs_local` said so.
pub fn build_routes(
    setup: &ProviderSetup,
    local: Option<Arc<dyn Provider>>,
) -> Result<Routes, ProviderError> {
    let mut plain: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
    let slots = endpoint_slots(setup);
    for config in setup.in_use() {
        let provider = match &config.endpoint {
            Endpoint::Local => local.clone().ok_or_else(|| {
                ProviderError::unavailable("the embedded model is needed but was not loaded")
            })?,
            Endpoint::Http { wire, settings, .. } => {
                build_http(config, *wire, (**settings).clone(), &slots)?
            }
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

/// One limit per endpoint (base URL) that any provider limits: providers naming the same
/// server take turns in the same slots, with the smallest limit given.
fn endpoint_slots(setup: &ProviderSetup) -> BTreeMap<String, EndpointSlots> {
    let mut limits: BTreeMap<String, u32> = BTreeMap::new();
    for http in setup.providers.values().filter_map(ProviderConfig::http) {
        if let Some(n) = http.max_concurrent {
            let limit = limits.entry(http.base_url.clone()).or_insert(n);
            *limit = (*limit).min(n);
        }
    }
    limits
        .into_iter()
        .map(|(url, n)| (url, EndpointSlots::new(n)))
        .collect()
}

/// An HTTP provider; its calls take turns in `slots[base_url]` when its endpoint is limited.
fn build_http(
    config: &ProviderConfig,
    wire: Wire,
    http: HttpSettings,
    slots: &BTreeMap<String, EndpointSlots>,
) -> Result<Arc<dyn Provider>, ProviderError> {
    if config.needs_key() {
        let var = config.api_key_env().unwrap_or("an API key variable");
        return Err(ProviderError::unavailable(format!(
            "provider `{}` needs an API key: set {var} (or point base_url at a server that \
             needs none)",
            config.name
        )));
    }
    let slots = slots.get(&http.base_url).cloned();
    Ok(match wire {
        Wire::Anthropic => Arc::new(HttpProvider::with_slots(AnthropicWire, http, slots)?),
        Wire::Openai => Arc::new(HttpProvider::with_slots(OpenAiWire, http, slots)?),
    })
}
