//! Every tool an agent could use here, with its policy, and the one place that runs them.

use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::builtin::{Args, Builtin};
use super::entry::{ToolEntry, ToolOrigin};
use super::mcp::McpHub;
use super::{Policy, PolicyBook, Sandbox, ToolError, ToolLimits, ToolOutput, fetch, files, shell};
use crate::provider::ToolSpec;

pub struct ToolRegistry {
    entries: Vec<ToolEntry>,
    policies: PolicyBook,
    limits: ToolLimits,
    http: reqwest::Client,
    mcp: Option<Arc<McpHub>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRegistry")
            .field(
                "tools",
                &self
                    .entries
                    .iter()
                    .map(|e| &e.spec.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl ToolRegistry {
    /// The built-in tools, with `policies` from the config.
    pub fn new(policies: PolicyBook, limits: ToolLimits) -> ToolRegistry {
        let entries = Builtin::ALL
            .into_iter()
            .map(|b| ToolEntry {
                spec: b.spec(),
                origin: ToolOrigin::Builtin(b),
                default_policy: b.default_policy(),
            })
            .collect();
        let http = reqwest::Client::builder()
            .user_agent(concat!("el-jefe/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap_or_default();
        ToolRegistry {
            entries,
            policies,
            limits,
            http,
            mcp: None,
        }
    }

    /// The built-in tools with their default policies and limits.
    pub fn builtin() -> ToolRegistry {
        ToolRegistry::new(PolicyBook::default(), ToolLimits::default())
    }

    /// Adds the tools of the MCP servers that started.
    pub fn with_mcp(mut self, hub: Arc<McpHub>) -> ToolRegistry {
        self.entries.extend(hub.tools());
        self.mcp = Some(hub);
        self
    }

    pub fn mcp(&self) -> Option<&McpHub> {
        self.mcp.as_deref()
    }

    pub fn entries(&self) -> &[ToolEntry] {
        &self.entries
    }

    pub fn get(&self, name: &str) -> Option<&ToolEntry> {
        self.entries.iter().find(|e| e.spec.name == name)
    }

    pub fn policy(&self, role: Option<&str>, name: &str) -> Policy {
        match self.get(name) {
            Some(entry) => self.policies.effective(role, name, entry.default_policy),
            None => Policy::Deny,
        }
    }

    /// The tools offered to a role: those it lists (all when it lists none) that its policy
    /// does not deny.
    pub fn offered(&self, role: &str, listed: Option<&[String]>) -> Vec<ToolSpec> {
        self.entries
            .iter()
            .filter(|e| {
                listed.is_none_or(|names| {
                    names
                        .iter()
                        .any(|n| super::policy::matches(n, &e.spec.name))
                })
            })
            .filter(|e| self.policy(Some(role), &e.spec.name) != Policy::Deny)
            .map(|e| e.spec.clone())
            .collect()
    }

    /// Runs a tool; an unknown tool or bad arguments come back as a tool error for the model.
    pub async fn run(
        &self,
        name: &str,
        arguments: &Value,
        sandbox: &Sandbox,
        cancel: &CancellationToken,
    ) -> Result<ToolOutput, ToolError> {
        let Some(entry) = self.get(name) else {
            let known: Vec<&str> = self.entries.iter().map(|e| e.spec.name.as_str()).collect();
            return Err(ToolError::new(format!(
                "there is no tool `{name}`; the tools are: {}",
                known.join(", ")
            )));
        };
        let max = self.limits.max_result_bytes;
        match &entry.origin {
            ToolOrigin::Builtin(b) => {
                let b = *b;
                let args = arguments.clone();
                let sandbox = sandbox.clone();
                match b {
                    Builtin::ReadFile => {
                        blocking(cancel, move || {
                            files::read_file(&sandbox, &Args::new(&args)?, max)
                        })
                        .await
                    }
                    Builtin::WriteFile => {
                        blocking(cancel, move || {
                            files::write_file(&sandbox, &Args::new(&args)?)
                        })
                        .await
                    }
                    Builtin::EditFile => {
                        blocking(cancel, move || {
                            files::edit_file(&sandbox, &Args::new(&args)?)
                        })
                        .await
                    }
                    Builtin::ListFiles => {
                        blocking(cancel, move || {
                            files::list_files(&sandbox, &Args::new(&args)?, max)
                        })
                        .await
                    }
                    Builtin::SearchFiles => {
                        blocking(cancel, move || {
                            files::search_files(&sandbox, &Args::new(&args)?, max)
                        })
                        .await
                    }
                    Builtin::RunCommand => {
                        shell::run_command(&sandbox, &Args::new(&args)?, &self.limits, cancel).await
                    }
                    Builtin::FetchUrl => {
                        let args = Args::new(&args)?;
                        tokio::select! {
                            done = fetch::fetch_url(&self.http, &args, &self.limits) => done,
                            _ = cancel.cancelled() => Err(ToolError::new("interrupted by the user")),
                        }
                    }
                }
            }
            ToolOrigin::Mcp { server, tool } => match &self.mcp {
                Some(hub) => {
                    tokio::select! {
                        done = hub.call(server, tool, arguments, max) => done,
                        _ = cancel.cancelled() => Err(ToolError::new("interrupted by the user")),
                    }
                }
                None => Err(ToolError::new(format!(
                    "MCP server `{server}` is not running"
                ))),
            },
        }
    }
}

/// File tools block on the disk: they run on the blocking pool, and an interrupt stops waiting.
async fn blocking(
    cancel: &CancellationToken,
    work: impl FnOnce() -> Result<ToolOutput, ToolError> + Send + 'static,
) -> Result<ToolOutput, ToolError> {
    tokio::select! {
        done = tokio::task::spawn_blocking(work) => {
            done.unwrap_or_else(|e| Err(ToolError::new(format!("the tool crashed: {e}"))))
        }
        _ = cancel.cancelled() => Err(ToolError::new("interrupted by the user")),
    }
}
