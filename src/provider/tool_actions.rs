//! Tool calling for a model that has none built in (the embedded one): the tools are described
//! in the system prompt, a grammar makes every reply either one tool call or an answer, and the
//! reply is decoded back into the same events native tool calling gives.
//!
//! A reply is either `CALL {"tool": "read_file", "arguments": {"path": "notes.md"}}` or
//! `ANSWER: <text>`; the answer's text streams as it is generated.

use std::collections::VecDeque;
use std::fmt::Write;

use futures::StreamExt;
use serde_json::Value;

use super::{
    ChatMessage, ChatRequest, ChatRole, ProviderError, ProviderEvent, ProviderStream, ToolCall,
    ToolChoice, ToolSpec,
};
use crate::session::call::FinishReason;

const CALL: &str = "CALL ";
const ANSWER: &str = "ANSWER:";
/// Arguments that hold whole texts rather than names.
const LONG_TEXT_ARGUMENTS: [&str; 4] = ["content", "new_text", "old_text", "text"];

/// The request as the model sees it: tools described in the system prompt, earlier calls and
/// results written in the action format, and the grammar that keeps the reply in it.
pub fn action_request(mut request: ChatRequest) -> ChatRequest {
    let tools = std::mem::take(&mut request.tools);
    let guide = tool_guide(&tools);
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    let mut names: Vec<(String, String)> = Vec::new();
    for m in request.messages.drain(..) {
        match m.role {
            ChatRole::System => {
                messages.push(ChatMessage::system(format!("{}\n\n{guide}", m.content)));
            }
            ChatRole::User => messages.push(m),
            ChatRole::Assistant if m.tool_calls.is_empty() => messages.push(m),
            ChatRole::Assistant => {
                // One call per reply in this format: earlier calls are replayed one by one.
                for call in &m.tool_calls {
                    names.push((call.id.clone(), call.name.clone()));
                    // Spelled as the grammar makes the model spell it.
                    messages.push(ChatMessage::assistant(format!(
                        "{CALL}{{\"tool\": {}, \"arguments\": {}}}",
                        Value::String(call.name.clone()),
                        call.arguments
                    )));
                }
            }
            ChatRole::Tool => {
                let id = m.tool_call_id.clone().unwrap_or_default();
                let name = names
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map_or("the tool", |(_, n)| n.as_str());
                let kind = if m.is_error {
                    "Error from"
                } else {
                    "Result of"
                };
                messages.push(ChatMessage::user(format!("{kind} {name}:\n{}", m.content)));
            }
        }
    }
    if !messages.iter().any(|m| m.role == ChatRole::System) {
        messages.insert(0, ChatMessage::system(guide));
    }
    request.messages = messages;
    request.grammar = Some(action_grammar(&tools, &request.tool_choice));
    request
}

fn tool_guide(tools: &[ToolSpec]) -> String {
    let mut g = String::from(
        "When the task needs a file of the workspace, a command or a web page, reply with \
         exactly one tool call line, and you will get its result:\n\
         CALL {\"tool\": \"<name>\", \"arguments\": {...}}\n\
         Otherwise, or once you have what you need, reply with your answer, starting with:\n\
         ANSWER: <your answer>\n\nTools:\n",
    );
    for tool in tools {
        let _ = writeln!(
            g,
            "- {} {}: {}",
            tool.name,
            argument_outline(&tool.parameters),
            tool.description
        );
    }
    g
}

/// `{"path": string}`: the required arguments, as the model must write them.
fn argument_outline(schema: &Value) -> String {
    let parts: Vec<String> = required_properties(schema)
        .iter()
        .map(|(name, kind)| format!("\"{name}\": {kind}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Required properties in the schema's order, with their JSON type ("string", "integer"...).
fn required_properties(schema: &Value) -> Vec<(String, String)> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props = schema.get("properties").and_then(Value::as_object);
    required
        .iter()
        .map(|name| {
            let kind = props
                .and_then(|p| p.get(*name))
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("value");
            (name.to_string(), kind.to_string())
        })
        .collect()
}

/// GBNF: a call to one of `tools` with its required arguments, or an answer; only a call when
/// `choice` requires one (and only of the named tool when it names one the model is offered).
pub fn action_grammar(tools: &[ToolSpec], choice: &ToolChoice) -> String {
    let mut g = String::new();
    let (allowed, must_call): (Vec<usize>, bool) = match choice {
        ToolChoice::Tool(name) if tools.iter().any(|t| &t.name == name) => (
            tools
                .iter()
                .enumerate()
                .filter(|(_, t)| &t.name == name)
                .map(|(i, _)| i)
                .collect(),
            true,
        ),
        ToolChoice::Required => ((0..tools.len()).collect(), true),
        ToolChoice::Tool(_) | ToolChoice::Auto => ((0..tools.len()).collect(), false),
    };
    let calls: Vec<String> = allowed.iter().map(|i| format!("tool{i}")).collect();
    if calls.is_empty() {
        let _ = writeln!(g, "root ::= answer");
    } else {
        let _ = writeln!(
            g,
            "root ::= {}",
            if must_call { "call" } else { "call | answer" }
        );
        let _ = writeln!(
            g,
            r#"call ::= "{CALL}{{\"tool\": " ({}) "}}""#,
            calls.join(" | ")
        );
    }
    for (i, tool) in tools.iter().enumerate() {
        let args: Vec<String> = required_properties(&tool.parameters)
            .iter()
            .map(|(name, kind)| {
                let value = match kind.as_str() {
                    // Whole file contents need room; names, paths and URLs do not, and a
                    // small model left unbounded rambles on inside them.
                    "string" if LONG_TEXT_ARGUMENTS.contains(&name.as_str()) => "text",
                    "string" => "string",
                    "integer" => "integer",
                    "number" => "number",
                    "boolean" => "boolean",
                    _ => "value",
                };
                format!(r#""\"{}\": " {value}"#, gbnf_literal(name))
            })
            .collect();
        let body = if args.is_empty() {
            r#""{}""#.to_string()
        } else {
            format!(r#""{{" {} "}}""#, args.join(r#" ", " "#))
        };
        let _ = writeln!(
            g,
            r#"tool{i} ::= "\"{}\", \"arguments\": " {body}"#,
            gbnf_literal(&tool.name)
        );
    }
    let _ = writeln!(g, r#"answer ::= "{ANSWER} " [^\x00]*"#);
    let _ = writeln!(g, r#"string ::= "\"" char{{0,200}} "\"""#);
    let _ = writeln!(g, r#"text ::= "\"" char* "\"""#);
    let _ = writeln!(g, r#"char ::= [^"\\\x00-\x1f] | "\\" ["\\/bfnrt]"#);
    let _ = writeln!(g, r#"integer ::= "-"? [0-9]{{1,12}}"#);
    let _ = writeln!(g, r#"number ::= "-"? [0-9]{{1,12}} ("." [0-9]{{1,12}})?"#);
    let _ = writeln!(g, r#"boolean ::= "true" | "false""#);
    let _ = writeln!(g, r#"value ::= string | number | boolean | "null""#);
    g
}

/// A name inside a GBNF literal that spells a JSON string: quotes and backslashes escaped twice.
fn gbnf_literal(name: &str) -> String {
    name.replace('\\', "\\\\\\\\").replace('"', "\\\\\\\"")
}

/// Turns the text of a reply in the action format into answer text or a tool call.
#[derive(Debug, Default)]
pub struct ActionDecoder {
    mode: Mode,
    /// Calls decoded so far, for unique ids.
    calls: u32,
}

#[derive(Debug, Default)]
enum Mode {
    /// Not yet known whether this is a call or an answer.
    #[default]
    Opening,
    Answer {
        /// Spaces right after `ANSWER:` are not part of the answer.
        started: bool,
    },
    Call,
}

impl ActionDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Text to pass on as the answer, if any.
    pub fn push(&mut self, buffer: &mut String, piece: &str) -> Option<String> {
        buffer.push_str(piece);
        if let Mode::Opening = self.mode {
            let trimmed = buffer.trim_start();
            if let Some(rest) = trimmed.strip_prefix(ANSWER) {
                let rest = rest.to_string();
                self.mode = Mode::Answer { started: false };
                buffer.clear();
                return self.answer_text(&rest);
            } else if trimmed.starts_with(CALL.trim_end()) && trimmed.len() >= CALL.len() {
                self.mode = Mode::Call;
            } else if !ANSWER.starts_with(trimmed) && !CALL.starts_with(trimmed) {
                // Not the format at all (a model without the grammar): it is all answer.
                let all = std::mem::take(buffer);
                self.mode = Mode::Answer { started: false };
                return self.answer_text(&all);
            }
            return None;
        }
        match self.mode {
            Mode::Answer { .. } => {
                let text = std::mem::take(buffer);
                self.answer_text(&text)
            }
            Mode::Call | Mode::Opening => None,
        }
    }

    fn answer_text(&mut self, text: &str) -> Option<String> {
        let Mode::Answer { started } = &mut self.mode else {
            return None;
        };
        let text = if *started { text } else { text.trim_start() };
        if text.is_empty() {
            return None;
        }
        *started = true;
        Some(text.to_string())
    }

    /// At the end of the reply: the tool call it made, or the text still held back.
    pub fn finish(&mut self, buffer: &mut String) -> Result<ToolCall, String> {
        let text = std::mem::take(buffer);
        match self.mode {
            Mode::Call => {
                let json = text
                    .trim_start()
                    .strip_prefix(CALL.trim_end())
                    .unwrap_or("");
                match serde_json::from_str::<Value>(json.trim()) {
                    Ok(v) => match (v.get("tool").and_then(Value::as_str), v.get("arguments")) {
                        (Some(name), Some(args)) => {
                            self.calls += 1;
                            Ok(ToolCall {
                                id: format!("call_{:08x}_{}", fastrand::u32(..), self.calls),
                                name: name.to_string(),
                                arguments: args.clone(),
                            })
                        }
                        _ => Err(text),
                    },
                    Err(_) => Err(text),
                }
            }
            Mode::Opening | Mode::Answer { .. } => Err(text),
        }
    }
}

/// Wraps a stream of replies in the action format into text and tool-call events.
pub fn decode_actions(stream: ProviderStream) -> ProviderStream {
    struct State {
        inner: ProviderStream,
        decoder: ActionDecoder,
        buffer: String,
        out: VecDeque<Result<ProviderEvent, ProviderError>>,
    }
    let state = State {
        inner: stream,
        decoder: ActionDecoder::new(),
        buffer: String::new(),
        out: VecDeque::new(),
    };
    Box::pin(futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(item) = s.out.pop_front() {
                return Some((item, s));
            }
            match s.inner.next().await? {
                Ok(ProviderEvent::Text(piece)) => {
                    if let Some(text) = s.decoder.push(&mut s.buffer, &piece) {
                        s.out.push_back(Ok(ProviderEvent::Text(text)));
                    }
                }
                Ok(ProviderEvent::Finished { usage, finish }) => {
                    let finish = match s.decoder.finish(&mut s.buffer) {
                        Ok(call) => {
                            s.out.push_back(Ok(ProviderEvent::ToolCall(call)));
                            FinishReason::ToolCalls
                        }
                        Err(rest) => {
                            if !rest.is_empty() {
                                s.out.push_back(Ok(ProviderEvent::Text(rest)));
                            }
                            finish
                        }
                    };
                    s.out
                        .push_back(Ok(ProviderEvent::Finished { usage, finish }));
                }
                other => s.out.push_back(other),
            }
        }
    }))
}

#[cfg(test)]
mod tests;
