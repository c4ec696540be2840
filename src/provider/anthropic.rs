//! Anthropic's Messages API.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::http::status::{one_line, parse_reply, reported_error};
use super::http::{Decoded, HttpProvider, HttpSettings, SseEvent, StreamDecoder, Wire};
use super::openai::parse_arguments;
use super::{
    ChatMessage, ChatRequest, ChatRole, ErrorKind, ProviderError, ToolCall, ToolChoice, Usage,
};
use crate::session::call::FinishReason;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";

pub type AnthropicProvider = HttpProvider<AnthropicWire>;

pub fn provider(settings: HttpSettings) -> Result<AnthropicProvider, ProviderError> {
    HttpProvider::new(AnthropicWire, settings)
}

pub struct AnthropicWire;

impl Wire for AnthropicWire {
    fn request(
        &self,
        client: &reqwest::Client,
        settings: &HttpSettings,
        request: &ChatRequest,
        streaming: bool,
    ) -> reqwest::RequestBuilder {
        let mut builder = client
            .post(format!("{}/v1/messages", settings.base_url))
            .header("anthropic-version", API_VERSION)
            .json(&request_body(settings, request, streaming));
        if let Some(key) = &settings.api_key {
            builder = builder.header("x-api-key", key.expose());
        }
        builder
    }

    fn stream_decoder(&self, provider: &str) -> Box<dyn StreamDecoder> {
        Box::new(EventDecoder {
            provider: provider.to_string(),
            ..EventDecoder::default()
        })
    }

    fn decode_whole(&self, provider: &str, body: &[u8]) -> Result<Vec<Decoded>, ProviderError> {
        let json = parse_reply(provider, body)?;
        if json["type"] == "error" {
            return Err(reported_error(provider, &json));
        }
        let mut out = Vec::new();
        for block in json["content"].as_array().into_iter().flatten() {
            match block["type"].as_str() {
                Some("text") => out.push(Decoded::Text(
                    block["text"].as_str().unwrap_or_default().to_string(),
                )),
                Some("tool_use") => {
                    let id = block["id"].as_str().unwrap_or_default();
                    let input = block["input"].as_object().cloned().unwrap_or_default();
                    // Blocks that share an id are one call, split by a proxy: join them.
                    if let Some(Decoded::ToolCall(last)) = out.last_mut()
                        && !id.is_empty()
                        && last.id == id
                        && let Value::Object(fields) = &mut last.arguments
                    {
                        fields.extend(input);
                        continue;
                    }
                    out.push(Decoded::ToolCall(ToolCall {
                        id: id.to_string(),
                        name: block["name"].as_str().unwrap_or_default().to_string(),
                        arguments: Value::Object(input),
                    }));
                }
                // Thinking and server-tool blocks are not part of the answer.
                _ => {}
            }
        }
        let mut usage = Usage::default();
        update_usage(&mut usage, &json["usage"]);
        out.push(Decoded::Done {
            usage: Some(usage),
            finish: stop_reason(json["stop_reason"].as_str()),
        });
        Ok(out)
    }
}

fn request_body(settings: &HttpSettings, request: &ChatRequest, streaming: bool) -> Value {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == ChatRole::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut body = json!({
        "model": settings.model_for(request),
        "max_tokens": settings.max_tokens_for(request),
        "messages": conversation(&request.messages),
        "temperature": request.temperature.clamp(0.0, 1.0),
        "stream": streaming,
    });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n\n"));
    }
    if !request.stop.is_empty() {
        body["stop_sequences"] = json!(request.stop);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        match &request.tool_choice {
            ToolChoice::Auto => {}
            ToolChoice::Required => body["tool_choice"] = json!({"type": "any"}),
            ToolChoice::Tool(name) => body["tool_choice"] = json!({"type": "tool", "name": name}),
        }
    }
    body
}

/// The messages in Anthropic's shape. Tool results travel in a user turn that must BEGIN with
/// one `tool_result` per `tool_use` of the assistant turn before it (any text after them), or
/// the API answers 400. A turn that was interrupted before its tools ran gets error results,
/// so the history never holds a `tool_use` without its answer.
fn conversation(messages: &[ChatMessage]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut owed: Vec<String> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    let flush = |out: &mut Vec<Value>,
                 owed: &mut Vec<String>,
                 results: &mut Vec<Value>,
                 text: Option<&str>| {
        if owed.is_empty() && results.is_empty() {
            if let Some(text) = text {
                out.push(json!({"role": "user", "content": text}));
            }
            return;
        }
        // Results in the order the calls were made, then any the model never asked for.
        let mut content: Vec<Value> = Vec::new();
        for id in owed.iter() {
            match results.iter().position(|r| r["tool_use_id"] == id.as_str()) {
                Some(i) => content.push(results.remove(i)),
                None => content.push(json!({
                    "type": "tool_result",
                    "tool_use_id": id,
                    "content": "the tool was not run: the turn was interrupted",
                    "is_error": true,
                })),
            }
        }
        content.append(results);
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            content.push(json!({"type": "text", "text": text}));
        }
        owed.clear();
        out.push(json!({"role": "user", "content": content}));
    };
    for message in messages {
        match message.role {
            ChatRole::System => {}
            ChatRole::Tool => results.push(json!({
                "type": "tool_result",
                "tool_use_id": message.tool_call_id.clone().unwrap_or_default(),
                "content": message.content,
                "is_error": message.is_error,
            })),
            ChatRole::User => flush(&mut out, &mut owed, &mut results, Some(&message.content)),
            ChatRole::Assistant => {
                flush(&mut out, &mut owed, &mut results, None);
                if message.tool_calls.is_empty() {
                    out.push(json!({"role": "assistant", "content": message.content}));
                    continue;
                }
                let mut content = Vec::new();
                if !message.content.is_empty() {
                    content.push(json!({"type": "text", "text": message.content}));
                }
                for call in &message.tool_calls {
                    owed.push(call.id.clone());
                    let input =
                        Value::Object(call.arguments.as_object().cloned().unwrap_or_default());
                    content.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
                }
                out.push(json!({"role": "assistant", "content": content}));
            }
        }
    }
    flush(&mut out, &mut owed, &mut results, None);
    out
}

/// A tool_use block's id, name and input JSON text so far.
#[derive(Debug, Default)]
struct ToolBlock {
    id: String,
    name: String,
    json: String,
}

impl ToolBlock {
    fn into_call(self) -> ToolCall {
        // The API promises an object; anything else is reported as received.
        let arguments = parse_arguments(&self.json);
        ToolCall {
            id: self.id,
            name: self.name,
            arguments,
        }
    }
}

/// Reads the event sequence message_start, content blocks, message_delta, message_stop.
///
/// LiteLLM's proxy splits one tool call into many tool_use blocks that share its id, each with
/// a fragment of the input: a finished block is held until the next block shows whether it
/// goes on, and blocks with the same id are joined into one call.
#[derive(Default)]
struct EventDecoder {
    provider: String,
    /// Tool-use blocks being streamed, by block index.
    tools: BTreeMap<u64, ToolBlock>,
    /// The last finished tool-use block, which the next block may continue.
    finished_tool: Option<ToolBlock>,
    usage: Usage,
    finish: Option<FinishReason>,
}

impl EventDecoder {
    fn flush_tool(&mut self, out: &mut Vec<Decoded>) {
        if let Some(block) = self.finished_tool.take() {
            out.push(Decoded::ToolCall(block.into_call()));
        }
    }
}

impl StreamDecoder for EventDecoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<Decoded>, ProviderError> {
        if event.data.trim().is_empty() {
            return Ok(Vec::new());
        }
        let json: Value = serde_json::from_str(&event.data).map_err(|e| {
            ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "{} sent an event that is not valid JSON ({e}): {}",
                    self.provider,
                    one_line(&event.data)
                ),
            )
        })?;
        let kind = json["type"].as_str().unwrap_or(event.name.as_str());
        let index = json["index"].as_u64().unwrap_or(0);
        let mut out = Vec::new();
        match kind {
            "message_start" => update_usage(&mut self.usage, &json["message"]["usage"]),
            "content_block_start" => self.on_block_start(&json["content_block"], index, &mut out),
            "content_block_delta" => self.on_block_delta(&json["delta"], index, &mut out),
            "content_block_stop" => {
                if let Some(tool) = self.tools.remove(&index) {
                    self.flush_tool(&mut out);
                    self.finished_tool = Some(tool);
                }
            }
            "message_delta" => {
                self.flush_tool(&mut out);
                if let Some(reason) = json["delta"]["stop_reason"].as_str() {
                    self.finish = Some(stop_reason(Some(reason)));
                }
                update_usage(&mut self.usage, &json["usage"]);
            }
            "message_stop" => {
                self.flush_tool(&mut out);
                out.push(Decoded::Done {
                    usage: Some(self.usage),
                    finish: self.finish.unwrap_or(FinishReason::Stop),
                });
            }
            "error" => return Err(reported_error(&self.provider, &json)),
            // ping, and event types added after this was written.
            _ => {}
        }
        Ok(out)
    }
}

impl EventDecoder {
    /// A text block may carry its first text; a tool block starts gathering its arguments (or
    /// goes on with the one just stopped, when a server splits a block in two).
    fn on_block_start(&mut self, block: &Value, index: u64, out: &mut Vec<Decoded>) {
        match block["type"].as_str() {
            Some("tool_use") => {
                let id = block["id"].as_str().unwrap_or_default().to_string();
                let continued = self.finished_tool.take_if(|t| !id.is_empty() && t.id == id);
                let tool = continued.unwrap_or_else(|| ToolBlock {
                    id,
                    name: block["name"].as_str().unwrap_or_default().to_string(),
                    json: String::new(),
                });
                self.flush_tool(out);
                self.tools.insert(index, tool);
            }
            Some("text") => {
                self.flush_tool(out);
                if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
                    out.push(Decoded::Text(text.to_string()));
                }
            }
            _ => self.flush_tool(out),
        }
    }

    fn on_block_delta(&mut self, delta: &Value, index: u64, out: &mut Vec<Decoded>) {
        match delta["type"].as_str() {
            Some("text_delta") => out.push(Decoded::Text(
                delta["text"].as_str().unwrap_or_default().to_string(),
            )),
            Some("input_json_delta") => {
                if let Some(tool) = self.tools.get_mut(&index) {
                    tool.json
                        .push_str(delta["partial_json"].as_str().unwrap_or_default());
                }
            }
            // thinking, signature and citation deltas are not the answer.
            _ => {}
        }
    }
}

/// Usage figures are cumulative: each report replaces the ones it names.
fn update_usage(usage: &mut Usage, report: &Value) {
    let field = |name: &str| report.get(name).and_then(Value::as_u64);
    if let Some(n) = field("input_tokens") {
        usage.input_tokens = n;
    }
    if let Some(n) = field("output_tokens") {
        usage.output_tokens = n;
    }
    if let Some(n) = field("cache_read_input_tokens") {
        usage.cache_read_tokens = n;
    }
    if let Some(n) = field("cache_creation_input_tokens") {
        usage.cache_creation_tokens = n;
    }
}

fn stop_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("end_turn") | Some("stop_sequence") => FinishReason::Stop,
        Some("max_tokens") | Some("model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::Refusal,
        Some(_) => FinishReason::Other,
    }
}

#[cfg(test)]
mod tests;
