//! `el-jefe tools`: every tool an agent could use here, where it comes from and its policy.

use crate::engine::roles::RoleBook;
use crate::tools::ToolOrigin;
use crate::tools::ToolRegistry;
use crate::tools::mcp::ServerStatus;

pub fn tools_table(registry: &ToolRegistry, roles: &RoleBook) -> String {
    let mut rows = vec![[
        "TOOL".to_string(),
        "FROM".to_string(),
        "POLICY".to_string(),
        "OFFERED TO".to_string(),
    ]];
    for entry in registry.entries() {
        let name = &entry.spec.name;
        let policy = registry.policy(None, name);
        let from = match &entry.origin {
            ToolOrigin::Builtin(_) => "built-in".to_string(),
            ToolOrigin::Mcp { server, .. } => format!("mcp: {server}"),
        };
        let offered: Vec<String> = roles
            .iter()
            .filter(|role| {
                registry
                    .offered(&role.name, role.tools.as_deref())
                    .iter()
                    .any(|t| &t.name == name)
            })
            .map(|role| match registry.policy(Some(&role.name), name) {
                p if p == policy => role.name.clone(),
                p => format!("{} ({})", role.name, p.label()),
            })
            .collect();
        let offered = if offered.is_empty() {
            "-".to_string()
        } else {
            offered.join(", ")
        };
        rows.push([name.clone(), from, policy.label().to_string(), offered]);
    }
    let widths: Vec<usize> = (0..3)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        for (c, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<width$}  ", row[c]));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    match registry.mcp() {
        None => out.push_str(
            "\nNo MCP servers configured (.mcp.json here, or mcp.json in the config folder).\n",
        ),
        Some(hub) => {
            out.push_str("\nMCP servers:\n");
            for (name, status, tools) in hub.statuses() {
                match status {
                    ServerStatus::Running => {
                        out.push_str(&format!("  {name}: running, {tools} tool(s)\n"))
                    }
                    ServerStatus::Failed(why) => {
                        out.push_str(&format!("  {name}: FAILED: {why}\n"))
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{Policy, PolicyBook, ToolLimits};

    #[test]
    fn the_table_shows_origin_policy_and_who_is_offered_what() {
        let mut policies = PolicyBook::default();
        policies.set_for_role("writer", "fetch_url", Policy::Deny);
        policies.set_for_role("analyst", "run_command", Policy::Allow);
        let registry = ToolRegistry::new(policies, ToolLimits::default());
        let mut roles = RoleBook::built_in();
        roles.get_mut("researcher").unwrap().tools = Some(vec!["read_file".into()]);
        let table = tools_table(&registry, &roles);
        let line = |tool: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("{tool} ")))
                .unwrap_or_else(|| panic!("no {tool} in\n{table}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            line("read_file"),
            "read_file built-in allow researcher, analyst, writer"
        );
        // The researcher was cut down to read_file above; nobody else lists fetch_url.
        assert_eq!(line("fetch_url"), "fetch_url built-in ask -");
        assert_eq!(
            line("run_command"),
            "run_command built-in ask analyst (allow)"
        );
        assert_eq!(line("write_file"), "write_file built-in allow writer");
        assert!(table.contains("No MCP servers configured"), "{table}");
    }
}
