//! Agent roles: who can run a step, with what instructions and limits.
//!
//! A role is a markdown file: front matter (`key: value` lines between `---` fences) and a body
//! that becomes the system prompt, the same shape as Claude Code's subagent files.

use std::collections::BTreeMap;

use crate::provider::ToolChoice;

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub system_prompt: String,
    pub max_tokens: u32,
    /// Replies shorter than this are not allowed to end (config `min_tokens`; local model).
    pub min_tokens: u32,
    pub temperature: f32,
    /// Tool names or patterns (`mcp__github__*`) the role may use; None means every tool.
    pub tools: Option<Vec<String>>,
    /// A model of the role's provider to use instead of the provider's own.
    pub model: Option<String>,
    /// Whether the step's first reply must call a tool (`tool_choice: required` or a tool's
    /// name in the front matter); later replies are free, so the agent can answer.
    pub first_tool_choice: ToolChoice,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("agent definition {source_name}: {problem}")]
pub struct RoleError {
    pub source_name: String,
    pub problem: String,
}

const BUILT_IN: [(&str, &str); 3] = [
    (
        "assets/agents/researcher.md",
        include_str!("../../assets/agents/researcher.md"),
    ),
    (
        "assets/agents/analyst.md",
        include_str!("../../assets/agents/analyst.md"),
    ),
    (
        "assets/agents/writer.md",
        include_str!("../../assets/agents/writer.md"),
    ),
];

const DEFAULT_MAX_TOKENS: u32 = 320;
const DEFAULT_TEMPERATURE: f32 = 0.7;

impl Role {
    pub fn parse(source_name: &str, text: &str) -> Result<Role, RoleError> {
        let err = |problem: String| RoleError {
            source_name: source_name.to_string(),
            problem,
        };
        let text = text.replace("\r\n", "\n");
        let rest = text
            .strip_prefix("---\n")
            .ok_or_else(|| err("must start with a `---` front matter line".into()))?;
        let end = rest
            .find("\n---")
            .ok_or_else(|| err("front matter has no closing `---` line".into()))?;
        let (front, body) = (&rest[..end], &rest[end + 4..]);
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        let mut last_key: Option<String> = None;
        for (n, line) in front.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            // A YAML block list item (`  - Read`) continues the key above it.
            if let (Some(item), Some(key)) = (line.trim_start().strip_prefix("- "), &last_key) {
                let value = fields.entry(key.clone()).or_default();
                if !value.is_empty() {
                    value.push_str(", ");
                }
                value.push_str(item.trim());
                continue;
            }
            let (key, value) = line.split_once(':').ok_or_else(|| {
                err(format!(
                    "front matter line {}: expected `key: value`",
                    n + 2
                ))
            })?;
            fields.insert(key.trim().to_string(), unquote(value.trim()).to_string());
            last_key = Some(key.trim().to_string());
        }
        let name = fields
            .remove("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| err("front matter has no `name`".into()))?;
        let description = fields.remove("description").unwrap_or_default();
        let max_tokens = match fields.remove("max_tokens") {
            Some(v) => v
                .parse()
                .map_err(|_| err(format!("max_tokens `{v}` is not a whole number")))?,
            None => DEFAULT_MAX_TOKENS,
        };
        let temperature = match fields.remove("temperature") {
            Some(v) => v
                .parse()
                .map_err(|_| err(format!("temperature `{v}` is not a number")))?,
            None => DEFAULT_TEMPERATURE,
        };
        let tools = fields.remove("tools").map(|v| parse_tool_list(&v));
        let model = fields
            .remove("model")
            .filter(|m| !m.is_empty() && m != "inherit");
        let first_tool_choice = fields
            .remove("tool_choice")
            .map_or(ToolChoice::Auto, |c| ToolChoice::parse(&c));
        let system_prompt = body.trim_start_matches(['-', '\n']).trim().to_string();
        if system_prompt.is_empty() {
            return Err(err("has no instructions after the front matter".into()));
        }
        Ok(Role {
            name,
            description,
            system_prompt,
            max_tokens,
            min_tokens: 0,
            temperature,
            tools,
            model,
            first_tool_choice,
        })
    }
}

/// `a, b`, `[a, b]` or `["a", "b"]`; Claude Code's tool names (`Read`, `Bash`...) become ours.
pub fn parse_tool_list(value: &str) -> Vec<String> {
    value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|t| unquote(t.trim()).trim().trim_matches('\''))
        .filter(|t| !t.is_empty())
        .map(
            |t| match crate::tools::builtin::Builtin::from_claude_code_name(t) {
                Some(b) => b.name().to_string(),
                None => t.to_string(),
            },
        )
        .collect()
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
}

/// The roles a session can use, in a stable order.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleBook {
    roles: Vec<Role>,
}

impl RoleBook {
    #[expect(
        clippy::expect_used,
        reason = "the built-in agent files are compiled in, and a unit test parses every one"
    )]
    pub fn built_in() -> RoleBook {
        let roles = BUILT_IN
            .iter()
            .map(|(name, text)| Role::parse(name, text).expect("built-in agent files are valid"))
            .collect();
        RoleBook { roles }
    }

    /// Adds the agents defined by the `*.md` files in `dir` (a missing folder has none); one
    /// with the name of a known role replaces it.
    pub fn load_dir(&mut self, dir: &std::path::Path) -> Result<(), RoleError> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let mut files: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        files.sort();
        for file in files {
            let source_name = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|e| RoleError {
                source_name: source_name.clone(),
                problem: format!("cannot read it: {e}"),
            })?;
            let role = Role::parse(&source_name, &text)?;
            if !role
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(RoleError {
                    source_name,
                    problem: format!(
                        "name `{}` may only have letters, digits, `-` and `_`",
                        role.name
                    ),
                });
            }
            match self.get_mut(&role.name) {
                Some(existing) => *existing = role,
                None => self.roles.push(role),
            }
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Role> {
        self.roles.iter_mut().find(|r| r.name == name)
    }

    pub fn names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.name.clone()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Role> {
        self.roles.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_roles_are_researcher_analyst_writer() {
        let book = RoleBook::built_in();
        assert_eq!(book.names(), ["researcher", "analyst", "writer"]);
        for role in book.iter() {
            assert!(!role.description.is_empty());
            assert!(role.system_prompt.len() > 50);
        }
    }

    #[test]
    fn parse_reads_front_matter_and_body() {
        let role = Role::parse(
            "x.md",
            "---\nname: poet\ndescription: \"Writes verse\"\nmax_tokens: 99\n---\nWrite poems.\n",
        )
        .unwrap();
        assert_eq!(role.name, "poet");
        assert_eq!(role.description, "Writes verse");
        assert_eq!(role.max_tokens, 99);
        assert_eq!(role.temperature, DEFAULT_TEMPERATURE);
        assert_eq!(role.system_prompt, "Write poems.");
    }

    #[test]
    fn claude_code_subagent_files_parse_with_their_tool_names() {
        let text = "---\nname: code-reviewer\ndescription: Reviews code for bugs\n\
            tools: Read, Grep, Glob, Bash, mcp__github__*\nmodel: inherit\n---\nReview it.\n";
        let role = Role::parse("code-reviewer.md", text).unwrap();
        assert_eq!(
            role.tools.as_deref().unwrap(),
            [
                "read_file",
                "search_files",
                "list_files",
                "run_command",
                "mcp__github__*"
            ]
        );
        assert_eq!(role.model, None);
        let block = "---\nname: w\ntools:\n  - Write\n  - fetch_url\nmodel: sonnet\n---\nGo.\n";
        let role = Role::parse("w.md", block).unwrap();
        assert_eq!(role.tools.as_deref().unwrap(), ["write_file", "fetch_url"]);
        assert_eq!(role.model.as_deref(), Some("sonnet"));
        let none = Role::parse("n.md", "---\nname: n\ntools: []\n---\nGo.\n").unwrap();
        assert_eq!(none.tools.as_deref(), Some(&[][..]));
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let e = Role::parse("x.md", "name: a\n").unwrap_err();
        assert!(e.to_string().contains("x.md") && e.problem.contains("---"));
        let e = Role::parse("x.md", "---\nname: a\nmax_tokens: lots\n---\nhi").unwrap_err();
        assert!(e.problem.contains("max_tokens"));
        let e = Role::parse("x.md", "---\ndescription: d\n---\nhi").unwrap_err();
        assert!(e.problem.contains("name"));
        let e = Role::parse("x.md", "---\nname: a\n---\n").unwrap_err();
        assert!(e.problem.contains("instructions"));
    }
}
