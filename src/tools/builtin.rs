//! The built-in tools: what each is called, what it takes, and how its arguments are read.

use serde_json::{Value, json};

use super::ToolError;
use super::policy::Policy;
use crate::provider::ToolSpec;
pub use crate::session::builtin::Builtin;

impl Builtin {
    /// Reading is always fine, writing stays in the workspace, anything reaching outside it
    /// (a shell, the network) asks first.
    pub fn default_policy(self) -> Policy {
        match self {
            Builtin::ReadFile
            | Builtin::ListFiles
            | Builtin::SearchFiles
            | Builtin::WriteFile
            | Builtin::EditFile => Policy::Allow,
            Builtin::RunCommand | Builtin::FetchUrl => Policy::Ask,
        }
    }

    pub fn spec(self) -> ToolSpec {
        let (description, parameters) = match self {
            Builtin::ReadFile => (
                "Read a text file from the workspace.",
                object(
                    &[("path", "string", "path relative to the workspace")],
                    &["path"],
                ),
            ),
            Builtin::WriteFile => (
                "Create or replace a file in the workspace with the given content.",
                object(
                    &[
                        ("path", "string", "path relative to the workspace"),
                        ("content", "string", "the whole new content of the file"),
                    ],
                    &["path", "content"],
                ),
            ),
            Builtin::EditFile => (
                "Replace one exact, unique piece of text in a workspace file.",
                object(
                    &[
                        ("path", "string", "path relative to the workspace"),
                        (
                            "old_text",
                            "string",
                            "the exact text to replace; must occur once",
                        ),
                        ("new_text", "string", "the text to put in its place"),
                    ],
                    &["path", "old_text", "new_text"],
                ),
            ),
            Builtin::ListFiles => (
                "List files and directories in the workspace.",
                object(
                    &[
                        (
                            "path",
                            "string",
                            "directory relative to the workspace (default: .)",
                        ),
                        (
                            "recursive",
                            "boolean",
                            "include subdirectories (default: true)",
                        ),
                    ],
                    &[],
                ),
            ),
            Builtin::SearchFiles => (
                "Search workspace files for lines matching a regular expression.",
                object(
                    &[
                        ("pattern", "string", "regular expression (Rust syntax)"),
                        ("path", "string", "file or directory to search (default: .)"),
                    ],
                    &["pattern"],
                ),
            ),
            Builtin::RunCommand => (
                "Run a shell command in the workspace directory and return its output.",
                object(
                    &[
                        ("command", "string", "the command line, run by sh -c"),
                        ("timeout_secs", "integer", "kill it after this many seconds"),
                    ],
                    &["command"],
                ),
            ),
            Builtin::FetchUrl => (
                "Fetch a web page or file over HTTP(S) and return its text.",
                object(&[("url", "string", "an http or https URL")], &["url"]),
            ),
        };
        ToolSpec {
            name: self.name().to_string(),
            description: description.to_string(),
            parameters,
        }
    }
}

fn object(props: &[(&str, &str, &str)], required: &[&str]) -> Value {
    let properties: serde_json::Map<String, Value> = props
        .iter()
        .map(|(name, kind, description)| {
            (
                name.to_string(),
                json!({"type": kind, "description": description}),
            )
        })
        .collect();
    json!({"type": "object", "properties": properties, "required": required})
}

/// A tool call's arguments, read with errors the model can act on.
#[derive(Debug)]
pub struct Args<'a> {
    map: &'a serde_json::Map<String, Value>,
}

impl<'a> Args<'a> {
    pub fn new(arguments: &'a Value) -> Result<Args<'a>, ToolError> {
        if let Some(map) = arguments.as_object() {
            Ok(Args { map })
        } else if let Some(raw) = arguments.as_str() {
            Err(ToolError::new(format!(
                "the arguments were not valid JSON: {raw}"
            )))
        } else {
            Err(ToolError::new(format!(
                "the arguments must be a JSON object, not {arguments}"
            )))
        }
    }

    pub fn str(&self, key: &str) -> Result<&'a str, ToolError> {
        self.opt_str(key)?
            .ok_or_else(|| ToolError::new(format!("missing argument `{key}`")))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ToolError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ToolError::new(format!(
                "argument `{key}` must be a string, not {other}"
            ))),
        }
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, ToolError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(other) => Err(ToolError::new(format!(
                "argument `{key}` must be true or false, not {other}"
            ))),
        }
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, ToolError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(Value::String(s)) if s.trim().parse::<u64>().is_ok() => Ok(s.trim().parse().ok()),
            Some(other) => Err(ToolError::new(format!(
                "argument `{key}` must be a whole number, not {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_specs_are_valid_schemas() {
        for b in Builtin::ALL {
            assert_eq!(Builtin::from_name(b.name()), Some(b));
            let spec = b.spec();
            assert_eq!(spec.parameters["type"], "object");
            for required in spec.parameters["required"].as_array().unwrap() {
                assert!(
                    spec.parameters["properties"]
                        .get(required.as_str().unwrap())
                        .is_some()
                );
            }
        }
        assert_eq!(
            Builtin::from_claude_code_name("Bash"),
            Some(Builtin::RunCommand)
        );
    }

    #[test]
    fn arguments_say_what_is_wrong() {
        let v = json!({"path": 3, "n": "12"});
        let a = Args::new(&v).unwrap();
        assert_eq!(
            a.str("path").unwrap_err().message,
            "argument `path` must be a string, not 3"
        );
        assert_eq!(
            a.str("other").unwrap_err().message,
            "missing argument `other`"
        );
        assert_eq!(a.opt_u64("n").unwrap(), Some(12));
        let raw = json!("{\"path\": ");
        assert!(
            Args::new(&raw)
                .unwrap_err()
                .message
                .contains("not valid JSON")
        );
    }
}
