//! Agent roles: who can run a step, with what instructions and limits.
//!
//! A role is a markdown file: front matter (`key: value` lines between `---` fences) and a body
//! that becomes the system prompt, the same shape as Claude Code's subagent files.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub system_prompt: String,
    pub max_tokens: u32,
    /// Replies shorter than this are not allowed to end (config `min_tokens`; local model).
    pub min_tokens: u32,
    pub temperature: f32,
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
        let mut fields = BTreeMap::new();
        for (n, line) in front.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once(':').ok_or_else(|| {
                err(format!(
                    "front matter line {}: expected `key: value`",
                    n + 2
                ))
            })?;
            fields.insert(key.trim().to_string(), unquote(value.trim()).to_string());
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
        })
    }
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
    pub fn built_in() -> RoleBook {
        let roles = BUILT_IN
            .iter()
            .map(|(name, text)| Role::parse(name, text).expect("built-in agent files are valid"))
            .collect();
        RoleBook { roles }
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
