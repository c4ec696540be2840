//! What agents can do besides talking: built-in tools confined to the session workspace, tools
//! from MCP servers, and the policy that says which of them need the user's approval.

pub mod builtin;
pub(crate) mod entry;
pub(crate) mod fetch;
pub(crate) mod files;
pub mod mcp;
pub(crate) mod policy;
pub(crate) mod registry;
pub(crate) mod sandbox;
pub(crate) mod shell;

use std::time::Duration;

pub use entry::{ToolEntry, ToolOrigin};
pub use policy::{Policy, PolicyBook};
pub use registry::ToolRegistry;
pub use sandbox::Sandbox;

/// A tool that ran and failed: the message goes back to the model as the tool's result, so it
/// can correct itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    pub message: String,
}

impl ToolError {
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A tool's successful result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// What the model receives.
    pub content: String,
    /// One line for the user: "notes.md, 1.2 KB".
    pub summary: String,
}

/// Bounds on what one tool call may take and give back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToolLimits {
    /// Cap on a result sent back to the model (a small model's context is small).
    pub max_result_bytes: usize,
    pub command_timeout: Duration,
    pub fetch_timeout: Duration,
    /// Cap on a fetched body before it is turned into text.
    pub fetch_max_bytes: usize,
}

impl Default for ToolLimits {
    fn default() -> Self {
        ToolLimits {
            max_result_bytes: 16 * 1024,
            command_timeout: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(20),
            fetch_max_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary, saying how much was cut.
pub fn clip_result(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[... {} more bytes not shown]",
        &text[..end],
        text.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_characters_whole_and_says_what_was_cut() {
        assert_eq!(clip_result("short", 10), "short");
        let clipped = clip_result("ééééé", 3);
        assert!(clipped.starts_with("é\n"), "{clipped}");
        assert!(
            clipped.ends_with("[... 8 more bytes not shown]"),
            "{clipped}"
        );
    }
}
