//! The built-in tools by name: what each is called here and in Claude Code's agent files, and how
//! a call of one reads to a person. What they do lives with the tools.

use serde_json::Value;

use crate::format::clip_chars;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    ReadFile,
    WriteFile,
    EditFile,
    ListFiles,
    SearchFiles,
    RunCommand,
    FetchUrl,
}

impl Builtin {
    pub const ALL: [Builtin; 7] = [
        Builtin::ReadFile,
        Builtin::WriteFile,
        Builtin::EditFile,
        Builtin::ListFiles,
        Builtin::SearchFiles,
        Builtin::RunCommand,
        Builtin::FetchUrl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::ReadFile => "read_file",
            Builtin::WriteFile => "write_file",
            Builtin::EditFile => "edit_file",
            Builtin::ListFiles => "list_files",
            Builtin::SearchFiles => "search_files",
            Builtin::RunCommand => "run_command",
            Builtin::FetchUrl => "fetch_url",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Claude Code's names for the same tools, so its subagent files work here unchanged.
    pub fn from_claude_code_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "Read" => Builtin::ReadFile,
            "Write" => Builtin::WriteFile,
            "Edit" | "MultiEdit" => Builtin::EditFile,
            "Glob" | "LS" => Builtin::ListFiles,
            "Grep" => Builtin::SearchFiles,
            "Bash" => Builtin::RunCommand,
            "WebFetch" => Builtin::FetchUrl,
            _ => return None,
        })
    }

    /// What the user sees of a call before approving it: the command, the URL, the path.
    pub fn describe_call(self, arguments: &Value) -> String {
        let field = |k: &str| arguments.get(k).and_then(Value::as_str).unwrap_or("?");
        match self {
            Builtin::RunCommand => field("command").to_string(),
            Builtin::FetchUrl => field("url").to_string(),
            Builtin::SearchFiles => field("pattern").to_string(),
            Builtin::ListFiles => arguments
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or(".")
                .to_string(),
            Builtin::ReadFile | Builtin::WriteFile | Builtin::EditFile => field("path").to_string(),
        }
    }
}

/// What a call does, in a few words for people: the command, the URL, the path; for other
/// tools their arguments as compact JSON.
pub fn call_detail(tool: &str, arguments: &Value) -> String {
    match Builtin::from_name(tool) {
        Some(b) => clip_chars(&b.describe_call(arguments), 160),
        None => clip_chars(&arguments.to_string(), 160),
    }
}
