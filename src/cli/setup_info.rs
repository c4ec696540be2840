//! Commands that tell how this machine is set up: the tools agents get, the providers and
//! whether each answers, the embedded model file.

use super::Context;
use super::args::ModelCmd;
use super::run::start_tools;
use el_jefe::config::Config;
use el_jefe::provider::check;
use el_jefe::provider::model_file::{self, SETUP_COMMAND};
use el_jefe::provider::setup::Endpoint;

pub fn tools(cx: Context) -> anyhow::Result<i32> {
    let mut config = cx.config;
    cx.runtime.block_on(async {
        let hub = start_tools(&mut config, false).await?;
        let registry = config.engine.tools.clone();
        print!(
            "{}",
            el_jefe::headless::tools_table::tools_table(&registry, &config.engine.roles)
        );
        if let Some(hub) = hub {
            hub.shutdown().await;
        }
        Ok(0)
    })
}

pub fn providers(cx: &Context) -> anyhow::Result<i32> {
    let config = &cx.config;
    let setup = &config.providers;
    let rows = cx.runtime.block_on(async {
        let checks = setup
            .providers
            .values()
            .map(|p| async move { (p, check::check(p, &config.local).await) });
        futures::future::join_all(checks).await
    });
    let mut failed = false;
    for (p, verdict) in rows {
        let default = if p.name == setup.default {
            " (default)"
        } else {
            ""
        };
        let (model, endpoint) = match &p.endpoint {
            Endpoint::Local => (
                config
                    .local
                    .model_path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                "in-process".to_string(),
            ),
            Endpoint::Http { settings, .. } => (settings.model.clone(), settings.base_url.clone()),
        };
        println!(
            "{}{default}  [{}]  model {model}  at {endpoint}",
            p.name,
            p.kind().label()
        );
        if let Some(var) = p.api_key_env() {
            let set = p.http().is_some_and(|h| h.api_key.is_some());
            println!(
                "    API key from {var} ({})",
                if set { "set" } else { "not set" }
            );
        }
        if !p.fallback.is_empty() {
            println!("    falls back to {}", p.fallback.join(", "));
        }
        let used_by: Vec<&str> = setup
            .roles
            .iter()
            .filter(|(_, r)| r.provider.as_deref() == Some(p.name.as_str()))
            .map(|(role, _)| role.as_str())
            .collect();
        if !used_by.is_empty() {
            println!("    used by {}", used_by.join(", "));
        }
        println!("    {}", verdict.text());
        failed |= verdict.is_failure();
    }
    Ok(if failed { 1 } else { 0 })
}

pub fn model(config: &Config, action: ModelCmd) -> anyhow::Result<i32> {
    let path = &config.local.model_path;
    match action {
        ModelCmd::Path => {
            println!("{}", path.display());
            Ok(0)
        }
        ModelCmd::Info => {
            let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
            println!("MODEL_PATH={}", quote(&path.to_string_lossy()));
            println!("MODEL_PACKAGE={}", quote(model_file::MODEL_PACKAGE));
            println!("MODEL_MEMBER={}", quote(model_file::MODEL_MEMBER));
            println!("MODEL_SHA256={}", quote(model_file::MODEL_SHA256));
            Ok(0)
        }
        ModelCmd::Check => {
            let result = if config.local.pinned {
                model_file::verify_pinned(path)
            } else {
                model_file::check_custom(path)
            };
            match result {
                Ok(()) => {
                    println!("ok: {}", path.display());
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("el-jefe: {e}");
                    if !e.to_string().contains(SETUP_COMMAND) {
                        eprintln!("To install the embedded model run `{SETUP_COMMAND}`.");
                    }
                    Ok(1)
                }
            }
        }
    }
}
