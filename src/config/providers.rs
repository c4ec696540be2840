//! Providers from config.toml, the usual environment variables and flags: which exist, how to
//! reach them, which one is the default, and which agent role uses which.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::provider::http::{ApiKey, HttpSettings, RetryPolicy};
use crate::provider::setup::{
    Endpoint, LOCAL, ProviderConfig, ProviderKind, ProviderSetup, RoleRoute, Wire,
};
use crate::provider::{anthropic, openai};

pub const ENV_PROVIDER: &str = "EL_JEFE_PROVIDER";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderFile {
    kind: Option<ProviderKind>,
    base_url: Option<String>,
    model: Option<String>,
    api_key_env: Option<String>,
    connect_timeout_secs: Option<f64>,
    idle_timeout_secs: Option<f64>,
    request_timeout_secs: Option<f64>,
    max_retries: Option<u32>,
    max_tokens: Option<u32>,
    stream_usage: Option<bool>,
    max_concurrent: Option<u32>,
    fallback: Option<Vec<String>>,
}

/// The flags that choose providers.
#[derive(Debug, Clone, Default)]
pub struct ProviderFlags {
    pub provider: Option<String>,
    pub model: Option<String>,
}

pub(super) struct ProviderInputs<'a> {
    pub default: Option<&'a str>,
    pub files: &'a BTreeMap<String, ProviderFile>,
    pub roles: BTreeMap<String, RoleRoute>,
    pub flags: &'a ProviderFlags,
}

pub(super) fn resolve(
    inputs: ProviderInputs<'_>,
    env: &impl Fn(&str) -> Option<String>,
    bad: &impl Fn(String) -> ConfigError,
) -> Result<ProviderSetup, ConfigError> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let mut providers = built_ins(&env);
    for (name, file) in inputs.files {
        let entry = merge(name, file, providers.remove(name), bad)?;
        providers.insert(name.clone(), entry);
    }
    for p in providers.values_mut() {
        if let Endpoint::Http {
            settings,
            api_key_env: Some(var),
            ..
        } = &mut p.endpoint
        {
            settings.api_key = env(var).map(|k| ApiKey::new(k.trim()));
        }
    }

    let default = inputs
        .flags
        .provider
        .clone()
        .or_else(|| env(ENV_PROVIDER))
        .or(inputs.default.map(String::from))
        .unwrap_or_else(|| LOCAL.to_string());
    if !providers.contains_key(&default) {
        return Err(bad(format!(
            "no provider named `{default}` (known: {})",
            known(&providers)
        )));
    }
    if let Some(model) = &inputs.flags.model {
        set_model(&mut providers, &default, model, bad)?;
    }
    check_role_routes(&providers, &default, &inputs.roles, bad)?;
    check_fallbacks(&providers, bad)?;
    Ok(ProviderSetup {
        default,
        providers,
        roles: inputs.roles,
    })
}

fn known(providers: &BTreeMap<String, ProviderConfig>) -> String {
    providers.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// `--model` for the default provider, which must speak HTTP.
fn set_model(
    providers: &mut BTreeMap<String, ProviderConfig>,
    default: &str,
    model: &str,
    bad: &impl Fn(String) -> ConfigError,
) -> Result<(), ConfigError> {
    let Some(p) = providers.get_mut(default) else {
        return Ok(());
    };
    match p.http_mut() {
        Some(http) => {
            http.model = model.to_string();
            Ok(())
        }
        None => Err(bad(format!(
            "--model names a model of an HTTP provider, and `{default}` is the embedded \
             model; use --model-file for another GGUF file"
        ))),
    }
}

/// Every role's route names a known provider, and a model only where there are models.
fn check_role_routes(
    providers: &BTreeMap<String, ProviderConfig>,
    default: &str,
    roles: &BTreeMap<String, RoleRoute>,
    bad: &impl Fn(String) -> ConfigError,
) -> Result<(), ConfigError> {
    for (role, route) in roles {
        let provider = route.provider.as_deref().unwrap_or(default);
        let Some(p) = providers.get(provider) else {
            return Err(bad(format!(
                "[agents.{role}] provider = \"{provider}\": no such provider (known: {})",
                known(providers)
            )));
        };
        if route.model.is_some() && p.kind() == ProviderKind::Local {
            return Err(bad(format!(
                "[agents.{role}] model: `{provider}` is the embedded model, which has no other \
                 models"
            )));
        }
    }
    Ok(())
}

/// A fallback names another provider that exists.
fn check_fallbacks(
    providers: &BTreeMap<String, ProviderConfig>,
    bad: &impl Fn(String) -> ConfigError,
) -> Result<(), ConfigError> {
    for p in providers.values() {
        for f in &p.fallback {
            if f == &p.name {
                return Err(bad(format!(
                    "[providers.{}] fallback names the provider itself",
                    p.name
                )));
            }
            if !providers.contains_key(f) {
                return Err(bad(format!(
                    "[providers.{}] fallback `{f}`: no such provider (known: {})",
                    p.name,
                    known(providers)
                )));
            }
        }
    }
    Ok(())
}

/// `local` always; `anthropic` and `openai` from their usual environment variables, so a key in
/// the environment is all it takes (`--provider anthropic`).
fn built_ins(env: &impl Fn(&str) -> Option<String>) -> BTreeMap<String, ProviderConfig> {
    let mut out = BTreeMap::new();
    out.insert(
        LOCAL.to_string(),
        ProviderConfig {
            name: LOCAL.into(),
            endpoint: Endpoint::Local,
            fallback: Vec::new(),
            configured: true,
        },
    );
    let remote = |name: &str, wire, prefix: &str, base: &str, model: &str| {
        let base_env = env(&format!("{prefix}_BASE_URL"));
        let key_env = format!("{prefix}_API_KEY");
        let configured = base_env.is_some() || env(&key_env).is_some();
        let model = env(&format!("{prefix}_MODEL")).unwrap_or_else(|| model.to_string());
        ProviderConfig {
            name: name.into(),
            endpoint: Endpoint::Http {
                wire,
                settings: Box::new(HttpSettings::new(
                    name,
                    base_env.as_deref().unwrap_or(base),
                    &model,
                )),
                api_key_env: Some(key_env),
            },
            fallback: Vec::new(),
            configured,
        }
    };
    out.insert(
        "anthropic".into(),
        remote(
            "anthropic",
            Wire::Anthropic,
            "ANTHROPIC",
            anthropic::DEFAULT_BASE_URL,
            "claude-sonnet-4-5",
        ),
    );
    out.insert(
        "openai".into(),
        remote(
            "openai",
            Wire::Openai,
            "OPENAI",
            openai::DEFAULT_BASE_URL,
            "gpt-4o-mini",
        ),
    );
    out
}

fn merge(
    name: &str,
    file: &ProviderFile,
    built_in: Option<ProviderConfig>,
    bad: &impl Fn(String) -> ConfigError,
) -> Result<ProviderConfig, ConfigError> {
    let section = format!("[providers.{name}]");
    let kind = match (file.kind, &built_in) {
        (Some(kind), _) => kind,
        (None, Some(b)) => b.kind(),
        (None, None) => {
            return Err(bad(format!(
                "{section}: `kind` is missing (anthropic, openai or local)"
            )));
        }
    };
    let mut entry = match built_in.filter(|b| b.kind() == kind) {
        Some(b) => b,
        None => ProviderConfig {
            name: name.to_string(),
            endpoint: new_endpoint(name, kind),
            fallback: Vec::new(),
            configured: true,
        },
    };
    entry.configured = true;
    if let Some(f) = &file.fallback {
        entry.fallback = f.clone();
    }
    let Endpoint::Http {
        settings: http,
        api_key_env,
        ..
    } = &mut entry.endpoint
    else {
        let http_only = [
            ("base_url", file.base_url.is_some()),
            ("model", file.model.is_some()),
            ("api_key_env", file.api_key_env.is_some()),
            ("max_concurrent", file.max_concurrent.is_some()),
        ];
        if let Some((field, _)) = http_only.iter().find(|(_, set)| *set) {
            return Err(bad(format!(
                "{section}: `{field}` does not apply to the embedded model ([local] sets it up)"
            )));
        }
        return Ok(entry);
    };
    if let Some(var) = &file.api_key_env {
        *api_key_env = Some(var.clone()).filter(|v| !v.is_empty());
    }
    file.apply_http(http, &section, bad)?;
    Ok(entry)
}

impl ProviderFile {
    /// The file's HTTP settings over the kind's defaults, each checked.
    fn apply_http(
        &self,
        http: &mut HttpSettings,
        section: &str,
        bad: &impl Fn(String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        if let Some(url) = &self.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(bad(format!(
                    "{section}: base_url `{url}` must start with http:// or https://"
                )));
            }
            http.base_url = url.trim_end_matches('/').to_string();
        }
        if let Some(model) = &self.model {
            http.model = model.clone();
        }
        if http.model.is_empty() {
            return Err(bad(format!("{section}: `model` is missing")));
        }
        let secs = |field: &str, value: Option<f64>, default: Duration| match value {
            None => Ok(default),
            Some(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
            Some(s) => Err(bad(format!(
                "{section}: {field} = {s} is outside 0 to 86400 seconds"
            ))),
        };
        http.connect_timeout = secs(
            "connect_timeout_secs",
            self.connect_timeout_secs,
            http.connect_timeout,
        )?;
        http.idle_timeout = secs(
            "idle_timeout_secs",
            self.idle_timeout_secs,
            http.idle_timeout,
        )?;
        http.request_timeout = secs(
            "request_timeout_secs",
            self.request_timeout_secs,
            http.request_timeout,
        )?;
        if let Some(n) = self.max_retries {
            if n > 10 {
                return Err(bad(format!(
                    "{section}: max_retries = {n} is outside 0 to 10"
                )));
            }
            http.retry = RetryPolicy {
                max_retries: n,
                ..http.retry
            };
        }
        if let Some(n) = self.max_tokens {
            if n == 0 {
                return Err(bad(format!("{section}: max_tokens must be at least 1")));
            }
            http.max_tokens = Some(n);
        }
        if let Some(b) = self.stream_usage {
            http.stream_usage = b;
        }
        if let Some(n) = self.max_concurrent {
            if !(1..=1024).contains(&n) {
                return Err(bad(format!(
                    "{section}: max_concurrent = {n} is outside 1 to 1024"
                )));
            }
            http.max_concurrent = Some(n);
        }
        Ok(())
    }
}

/// A provider named in the file only: the kind's usual server and key variable.
fn new_endpoint(name: &str, kind: ProviderKind) -> Endpoint {
    let http = |wire, base_url, key_env: &str| Endpoint::Http {
        wire,
        settings: Box::new(HttpSettings::new(name, base_url, "")),
        api_key_env: Some(key_env.into()),
    };
    match kind {
        ProviderKind::Local => Endpoint::Local,
        ProviderKind::Anthropic => http(
            Wire::Anthropic,
            anthropic::DEFAULT_BASE_URL,
            "ANTHROPIC_API_KEY",
        ),
        ProviderKind::Openai => http(Wire::Openai, openai::DEFAULT_BASE_URL, "OPENAI_API_KEY"),
    }
}
