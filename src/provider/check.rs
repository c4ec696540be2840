//! `el-jefe providers`: is each provider reachable, does it take our key, does it have the
//! model? One clear verdict per provider.

use std::time::Duration;

use serde_json::Value;

use super::anthropic::API_VERSION;
use super::http::HttpSettings;
use super::http::status::error_from_response;
use super::http::transport_error;
use super::setup::{Endpoint, ProviderConfig, Wire};
use super::{ErrorKind, LocalSettings, model_file};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok(String),
    /// Not configured and not usable as it stands: informational, not a failure.
    NotSetUp(String),
    Failed(String),
}

impl Verdict {
    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::Failed(_))
    }

    pub fn text(&self) -> String {
        match self {
            Verdict::Ok(s) => format!("ok: {s}"),
            Verdict::NotSetUp(s) => format!("not set up: {s}"),
            Verdict::Failed(s) => format!("FAILED: {s}"),
        }
    }
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn check(config: &ProviderConfig, local: &LocalSettings) -> Verdict {
    match &config.endpoint {
        Endpoint::Local => check_local(local),
        Endpoint::Http { wire, settings, .. } => check_http(config, *wire, settings).await,
    }
}

fn check_local(local: &LocalSettings) -> Verdict {
    let result = if local.pinned {
        model_file::verify_pinned(&local.model_path)
    } else {
        model_file::check_custom(&local.model_path)
    };
    match result {
        Ok(()) => Verdict::Ok(format!(
            "model file intact ({})",
            local.model_path.display()
        )),
        Err(e) => Verdict::Failed(e.to_string()),
    }
}

async fn check_http(config: &ProviderConfig, wire: Wire, http: &HttpSettings) -> Verdict {
    if config.needs_key() {
        let var = config.api_key_env().unwrap_or("the API key variable");
        let text = format!("{var} is not set");
        return if config.configured {
            Verdict::Failed(text)
        } else {
            Verdict::NotSetUp(text)
        };
    }
    let client = match reqwest::Client::builder()
        .connect_timeout(http.connect_timeout)
        .timeout(CHECK_TIMEOUT)
        .build()
    {
        Ok(c) => c,
        Err(e) => return Verdict::Failed(format!("no HTTP client: {e}")),
    };
    let anthropic = wire == Wire::Anthropic;
    let response = match models_request(&client, wire, http).send().await {
        Ok(r) => r,
        Err(e) => {
            let error = transport_error(&config.name, &e);
            return Verdict::Failed(format!("unreachable: {}", error.message));
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_default();
    if !(200..300).contains(&status) {
        let error = error_from_response(&config.name, status, &headers, &body);
        let auth = matches!(error.kind, ErrorKind::Auth | ErrorKind::Permission);
        return Verdict::Failed(if auth {
            format!("reachable, but not authenticated: {}", error.message)
        } else if anthropic && error.kind == ErrorKind::NotFound {
            format!("reachable and authenticated, but no model `{}`", http.model)
        } else {
            format!("reachable, but: {}", error.message)
        });
    }
    if anthropic {
        return Verdict::Ok(format!(
            "reachable, authenticated, model `{}` exists",
            http.model
        ));
    }
    model_listed(&body, &http.model)
}

/// Anthropic answers for one model; an OpenAI-compatible server lists its models.
fn models_request(
    client: &reqwest::Client,
    wire: Wire,
    http: &HttpSettings,
) -> reqwest::RequestBuilder {
    let key = http.api_key.as_ref().map(|k| k.expose().to_string());
    match wire {
        Wire::Anthropic => {
            let r = client
                .get(format!("{}/v1/models/{}", http.base_url, http.model))
                .header("anthropic-version", API_VERSION);
            match &key {
                Some(key) => r.header("x-api-key", key),
                None => r,
            }
        }
        Wire::Openai => {
            let r = client.get(format!("{}/models", http.base_url));
            match &key {
                Some(key) => r.bearer_auth(key),
                None => r,
            }
        }
    }
}

/// Whether `model` is in an OpenAI-style model list (`{"data": [{"id": ...}]}`).
fn model_listed(body: &[u8], model: &str) -> Verdict {
    let ids: Vec<String> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| {
            json["data"].as_array().map(|models| {
                models
                    .iter()
                    .filter_map(|m| m["id"].as_str().map(String::from))
                    .collect()
            })
        })
        .unwrap_or_default();
    if ids.iter().any(|id| id == model) {
        Verdict::Ok(format!("reachable, authenticated, model `{model}` listed"))
    } else if ids.is_empty() {
        Verdict::Ok(format!(
            "reachable and authenticated; the server lists no models, so `{model}` is unconfirmed"
        ))
    } else {
        let shown: Vec<&str> = ids.iter().take(8).map(String::as_str).collect();
        let more = if ids.len() > shown.len() { ", ..." } else { "" };
        Verdict::Failed(format!(
            "reachable and authenticated, but no model `{model}`; the server has: {}{more}",
            shown.join(", ")
        ))
    }
}
