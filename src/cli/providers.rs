//! The providers a run starts with: the configured routes built, the embedded model loaded now
//! when they use it, and otherwise ready to load on the first call of a session that chooses it.

use std::sync::Arc;

use el_jefe::config::Config;
use el_jefe::provider::lazy::{Describe, LazyProvider, Loader};
use el_jefe::provider::routes::Routes;
use el_jefe::provider::setup::LOCAL;
use el_jefe::provider::{LocalSettings, Provider, ProviderError, registry};

pub async fn load_routes(config: &Config, announce: bool) -> anyhow::Result<Routes> {
    let local = if registry::needs_local(&config.providers) {
        if announce {
            eprintln!("el-jefe: loading the model...");
        }
        load_local(config.local.clone())
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?
    } else {
        lazy_local(config.local.clone())
    };
    Ok(registry::build_routes(&config.providers, Some(local))?)
}

/// The embedded model as it describes itself once loaded (`LocalProvider`), loading on first use.
fn lazy_local(settings: LocalSettings) -> Arc<dyn Provider> {
    let describe = Describe {
        name: LOCAL.to_string(),
        model: settings
            .model_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| LOCAL.to_string()),
        supports_grammar: true,
        tools_only_when_asked: true,
        can_switch_model: false,
    };
    let loader: Loader = Arc::new(move || Box::pin(load_local(settings.clone())));
    Arc::new(LazyProvider::new(describe, loader))
}

#[cfg(feature = "local")]
async fn load_local(settings: LocalSettings) -> Result<Arc<dyn Provider>, ProviderError> {
    let loaded = tokio::task::spawn_blocking(move || {
        el_jefe::provider::local::LocalProvider::load(settings)
    })
    .await
    .map_err(|e| ProviderError::unavailable(format!("loading the model stopped: {e}")))?;
    match loaded {
        Ok(provider) => Ok(Arc::new(provider)),
        Err(e) => Err(ProviderError::unavailable(e.to_string())),
    }
}

#[cfg(not(feature = "local"))]
async fn load_local(_settings: LocalSettings) -> Result<Arc<dyn Provider>, ProviderError> {
    Err(ProviderError::unavailable(
        "this build has no embedded model (cargo feature `local` is off); choose another \
         provider with --provider",
    ))
}
