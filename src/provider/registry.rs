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

/// Every provider in use, each with its fallbacks, and every other configured provider for
/// sessions that choose one by name. `local` is the embedded model, loaded or to be loaded on
/// its first call; a provider in use that cannot be built is an error, one only named is kept
/// with the reason it cannot be used.
pub fn build_routes(
    setup: &ProviderSetup,
    local: Option<Arc<dyn Provider>>,
) -> Result<Routes, ProviderError> {
    let slots = endpoint_slots(setup);
    let in_use: Vec<&str> = setup.in_use().iter().map(|p| p.name.as_str()).collect();
    let mut plain: BTreeMap<&str, Result<Arc<dyn Provider>, String>> = BTreeMap::new();
    for config in setup.providers.values() {
        let provider = match &config.endpoint {
            Endpoint::Local => local.clone().ok_or_else(|| {
                ProviderError::unavailable("the embedded model is needed but was not loaded")
            }),
            Endpoint::Http { wire, settings, .. } => {
                build_http(config, *wire, (**settings).clone(), &slots)
            }
        };
        match provider {
            Ok(p) => plain.insert(&config.name, Ok(p)),
            Err(e) if in_use.contains(&config.name.as_str()) => return Err(e),
            Err(e) => plain.insert(&config.name, Err(e.message)),
        };
    }
    let chained = |name: &str| -> Result<Arc<dyn Provider>, String> {
        let first = plain[name].clone()?;
        let fallbacks = &setup.providers[name].fallback;
        if fallbacks.is_empty() {
            return Ok(first);
        }
        let mut chain = vec![first];
        for f in fallbacks {
            chain.push(
                plain[f.as_str()]
                    .clone()
                    .map_err(|why| format!("its fallback `{f}` is not available: {why}"))?,
            );
        }
        Ok(Arc::new(FailoverProvider::new(chain)))
    };
    let named: BTreeMap<String, Result<Arc<dyn Provider>, String>> = setup
        .providers
        .keys()
        .map(|name| (name.clone(), chained(name)))
        .collect();
    let in_use_route = |name: &str| named[name].clone().map_err(ProviderError::unavailable);
    let mut routes = Routes::single(in_use_route(&setup.default)?);
    for (role, route) in &setup.roles {
        let name = route.provider.as_deref().unwrap_or(&setup.default);
        routes = routes.with_role(
            role,
            Route {
                provider: in_use_route(name)?,
                model: route.model.clone(),
            },
        );
    }
    Ok(routes.with_named(named))
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
