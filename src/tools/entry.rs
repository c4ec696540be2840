//! One tool as the registry lists it: what the model is shown, where it comes from, and its
//! policy when the config names no other. Built-in tools and MCP servers both produce these.

use super::Policy;
use super::builtin::Builtin;
use crate::provider::ToolSpec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOrigin {
    Builtin(Builtin),
    /// A tool of a configured MCP server, offered as `mcp__<server>__<tool>`.
    Mcp {
        server: String,
        tool: String,
    },
}

#[derive(Debug, Clone)]
pub struct ToolEntry {
    pub spec: ToolSpec,
    pub origin: ToolOrigin,
    /// The policy when no rule in the config names the tool.
    pub default_policy: Policy,
}
