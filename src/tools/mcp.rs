//! MCP servers over stdio (the `mcpServers` shape of Claude Code's `.mcp.json`), through the
//! official Rust SDK. A server that fails to start or dies is reported, never fatal.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ContentBlock, Tool};
use rmcp::service::{Peer, RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::entry::{ToolEntry, ToolOrigin};
use super::{Policy, ToolError, ToolOutput, clip_result};
use crate::format::human_size;
use crate::provider::ToolSpec;

/// How long a server gets to start and list its tools.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// The end of a server's stderr kept to explain a failure.
const STDERR_TAIL: usize = 2048;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct McpServerConfig {
    /// Only "stdio" is supported; Claude Code also writes "http" and "sse".
    #[serde(default, rename = "type")]
    pub transport: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub cwd: Option<String>,
}

#[derive(Debug, Deserialize)]
struct McpFile {
    #[serde(rename = "mcpServers", default)]
    servers: BTreeMap<String, McpServerConfig>,
}

/// Reads `mcpServers` from each file that exists; later files override servers of the same
/// name. A broken file is an error naming it.
pub fn load_servers(files: &[&Path]) -> Result<BTreeMap<String, McpServerConfig>, String> {
    let mut servers = BTreeMap::new();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", file.display())),
        };
        let parsed: McpFile = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a valid MCP server file: {e}", file.display()))?;
        servers.extend(parsed.servers);
    }
    Ok(servers)
}

/// `${VAR}` and `${VAR:-default}` from the environment, as Claude Code expands them.
fn expand(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &rest[start + 2..start + len];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        out.push_str(
            &env(name)
                .or(default.map(str::to_string))
                .unwrap_or_default(),
        );
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Tool names providers accept: letters, digits, `_` and `-`.
fn tool_name_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStatus {
    Running,
    /// Never started, or stopped; the message says why.
    Failed(String),
}

struct Server {
    name: String,
    status: Mutex<ServerStatus>,
    /// For calls; None when the server never started.
    peer: Option<Peer<RoleClient>>,
    /// The connection itself, taken at shutdown.
    service: Mutex<Option<RunningService<RoleClient, ()>>>,
    tools: Vec<Tool>,
    stderr_tail: Arc<Mutex<String>>,
}

impl Server {
    fn failure(&self, what: &str) -> String {
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default();
        let tail = tail.trim();
        if tail.is_empty() {
            what.to_string()
        } else {
            format!("{what}; it said: {}", tail.lines().last().unwrap_or(tail))
        }
    }
}

/// The configured MCP servers, started.
pub struct McpHub {
    servers: Vec<Server>,
}

impl McpHub {
    /// Starts every server at once; each one either runs with its tools listed or is marked
    /// failed with the reason.
    pub async fn start(configs: &BTreeMap<String, McpServerConfig>) -> McpHub {
        let env = |name: &str| std::env::var(name).ok();
        let starts = configs
            .iter()
            .map(|(name, config)| start_server(name.clone(), config.clone(), &env));
        McpHub {
            servers: futures::future::join_all(starts).await,
        }
    }

    pub fn statuses(&self) -> Vec<(String, ServerStatus, usize)> {
        self.servers
            .iter()
            .map(|s| {
                let status = s
                    .status
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or(ServerStatus::Running);
                (s.name.clone(), status, s.tools.len())
            })
            .collect()
    }

    pub fn tools(&self) -> Vec<ToolEntry> {
        self.servers
            .iter()
            .flat_map(|server| {
                server.tools.iter().map(move |tool| ToolEntry {
                    spec: ToolSpec {
                        name: format!(
                            "mcp__{}__{}",
                            tool_name_part(&server.name),
                            tool_name_part(&tool.name)
                        ),
                        description: tool
                            .description
                            .as_deref()
                            .unwrap_or(tool.title.as_deref().unwrap_or(""))
                            .to_string(),
                        parameters: Value::Object((*tool.input_schema).clone()),
                    },
                    origin: ToolOrigin::Mcp {
                        server: server.name.clone(),
                        tool: tool.name.to_string(),
                    },
                    default_policy: if tool
                        .annotations
                        .as_ref()
                        .and_then(|a| a.read_only_hint)
                        .unwrap_or(false)
                    {
                        Policy::Allow
                    } else {
                        Policy::Ask
                    },
                })
            })
            .collect()
    }

    pub async fn call(
        &self,
        server: &str,
        tool: &str,
        arguments: &Value,
        max_bytes: usize,
    ) -> Result<ToolOutput, ToolError> {
        let Some(s) = self.servers.iter().find(|s| s.name == server) else {
            return Err(ToolError::new(format!("no MCP server `{server}`")));
        };
        let Some(client) = s.peer.as_ref() else {
            return Err(ToolError::new(format!(
                "MCP server `{server}` is not running"
            )));
        };
        if client.is_transport_closed() {
            let why = s.failure(&format!("MCP server `{server}` has stopped"));
            if let Ok(mut status) = s.status.lock() {
                *status = ServerStatus::Failed(why.clone());
            }
            return Err(ToolError::new(why));
        }
        let mut params = CallToolRequestParams::new(tool.to_string());
        if let Some(map) = arguments.as_object() {
            params = params.with_arguments(map.clone());
        } else if !arguments.is_null() {
            return Err(ToolError::new(format!(
                "the arguments must be a JSON object, not {arguments}"
            )));
        }
        let result = client.call_tool(params).await.map_err(|e| {
            let why = if client.is_transport_closed() {
                let why = s.failure(&format!("MCP server `{server}` stopped during the call"));
                if let Ok(mut status) = s.status.lock() {
                    *status = ServerStatus::Failed(why.clone());
                }
                why
            } else {
                format!("MCP server `{server}`: {e}")
            };
            ToolError::new(why)
        })?;
        let mut text = String::new();
        for block in &result.content {
            let piece = match block {
                ContentBlock::Text(t) => t.text.clone(),
                ContentBlock::Image(i) => format!("[image, {}]", i.mime_type),
                ContentBlock::Audio(a) => format!("[audio, {}]", a.mime_type),
                ContentBlock::Resource(r) => serde_json::to_string(&r.resource).unwrap_or_default(),
                ContentBlock::ResourceLink(r) => format!("[resource {}]", r.uri),
                _ => "[content of a kind not shown]".to_string(),
            };
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&piece);
        }
        if text.is_empty()
            && let Some(structured) = &result.structured_content
        {
            text = structured.to_string();
        }
        let content = clip_result(&text, max_bytes);
        if result.is_error == Some(true) {
            return Err(ToolError::new(content));
        }
        Ok(ToolOutput {
            summary: format!("{server}, {}", human_size(text.len() as u64)),
            content,
        })
    }

    /// Closes every server's connection and waits for it to exit (killing it if it lingers).
    pub async fn shutdown(&self) {
        let closing = self
            .servers
            .iter()
            .filter_map(|s| s.service.lock().ok().and_then(|mut c| c.take()))
            .map(|c| async move {
                let _ = c.cancel().await;
            });
        futures::future::join_all(closing).await;
    }
}

async fn start_server(
    name: String,
    config: McpServerConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Server {
    let stderr_tail = Arc::new(Mutex::new(String::new()));
    let failed = |why: String, tail: &Arc<Mutex<String>>| Server {
        name: name.clone(),
        status: Mutex::new(ServerStatus::Failed(why)),
        peer: None,
        service: Mutex::new(None),
        tools: Vec::new(),
        stderr_tail: tail.clone(),
    };
    if let Some(kind) = config.transport.as_deref().filter(|t| *t != "stdio") {
        return failed(
            format!("transport `{kind}` is not supported (only stdio servers)"),
            &stderr_tail,
        );
    }
    let Some(command) = config.command.as_deref().filter(|c| !c.trim().is_empty()) else {
        return failed("no `command` to start".into(), &stderr_tail);
    };
    // The server's stderr must never reach the dashboard's terminal.
    let spawned = TokioChildProcess::builder(server_command(command, &config, env))
        .stderr(Stdio::piped())
        .spawn();
    let (transport, stderr) = match spawned {
        Ok(parts) => parts,
        Err(e) => return failed(format!("could not start `{command}`: {e}"), &stderr_tail),
    };
    if let Some(stderr) = stderr {
        tokio::spawn(keep_stderr_tail(stderr, stderr_tail.clone(), name.clone()));
    }
    let started = tokio::time::timeout(STARTUP_TIMEOUT, async {
        let client = ().serve(transport).await.map_err(|e| e.to_string())?;
        let tools = client.list_all_tools().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((client, tools))
    })
    .await;
    match started {
        Ok(Ok((client, tools))) => {
            tracing::info!(server = %name, tools = tools.len(), "MCP server started");
            Server {
                name,
                status: Mutex::new(ServerStatus::Running),
                peer: Some(client.peer().clone()),
                service: Mutex::new(Some(client)),
                tools,
                stderr_tail,
            }
        }
        Ok(Err(e)) => {
            let s = failed(String::new(), &stderr_tail);
            let why = s.failure(&format!("did not start: {e}"));
            failed(why, &stderr_tail)
        }
        Err(_) => failed(
            format!("did not answer within {} s", STARTUP_TIMEOUT.as_secs()),
            &stderr_tail,
        ),
    }
}

/// The server's command line, with `${VAR}` expanded in the command, arguments, env and cwd.
fn server_command(
    command: &str,
    config: &McpServerConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(expand(command, env));
    cmd.args(config.args.iter().map(|a| expand(a, env)));
    for (k, v) in &config.env {
        cmd.env(k, expand(v, env));
    }
    if let Some(dir) = &config.cwd {
        cmd.current_dir(expand(dir, env));
    }
    cmd
}

/// Reads the server's stderr to the log, keeping its last `STDERR_TAIL` bytes to explain a
/// failure with.
async fn keep_stderr_tail(
    mut stderr: impl AsyncRead + Unpin,
    tail: Arc<Mutex<String>>,
    server: String,
) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stderr.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        tracing::debug!(server = %server, "mcp stderr: {}", text.trim_end());
        if let Ok(mut t) = tail.lock() {
            t.push_str(&text);
            if t.len() > STDERR_TAIL {
                let mut cut = t.len() - STDERR_TAIL;
                while !t.is_char_boundary(cut) {
                    cut += 1;
                }
                t.drain(..cut);
            }
        }
    }
}

#[cfg(test)]
mod tests;
