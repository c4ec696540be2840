//! OpenAI Chat Completions, and every server that speaks it: OpenAI, Ollama (/v1), vLLM,
//! llama.cpp's server, LM Studio, OpenRouter.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::http::status::{one_line, parse_reply, reported_error};
use super::http::{Decoded, HttpProvider, HttpSettings, SseEvent, StreamDecoder, Wire};
use super::{
    ChatMessage, ChatRequest, ChatRole, ErrorKind, ProviderError, ToolCall, ToolChoice, Usage,
};
use crate::session::call::FinishReason;

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

pub type OpenAiProvider = HttpProvider<OpenAiWire>;

pub fn provider(settings: HttpSettings) -> Result<OpenAiProvider, ProviderError> {
    HttpProvider::new(OpenAiWire, settings)
}

pub struct OpenAiWire;

impl Wire for OpenAiWire {
    fn request(
        &self,
        client: &reqwest::Client,
        settings: &HttpSettings,
        request: &ChatRequest,
        streaming: bool,
    ) -> reqwest::RequestBuilder {
        let mut builder = client
            .post(format!("{}/chat/completions", settings.base_url))
            .json(&request_body(settings, request, streaming));
        if let Some(key) = &settings.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        builder
    }

    fn stream_decoder(&self, provider: &str) -> Box<dyn StreamDecoder> {
        Box::new(ChunkDecoder {
            provider: provider.to_string(),
            ..ChunkDecoder::default()
        })
    }

    fn decode_whole(&self, provider: &str, body: &[u8]) -> Result<Vec<Decoded>, ProviderError> {
        let json = parse_reply(provider, body)?;
        if json.get("error").is_some() {
            return Err(reported_error(provider, &json));
        }
        let choice = json
            .get("choices")
            .and_then(|c| c.get(0))
            .ok_or_else(|| malformed(provider, "a reply without choices"))?;
        let message = &choice["message"];
        let mut out = Vec::new();
        if let Some(text) = message["content"].as_str() {
            out.push(Decoded::Text(text.to_string()));
        }
        let mut calls = ToolCallParts::default();
        for (position, call) in message["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            calls.merge(position, call);
        }
        out.extend(calls.finish().into_iter().map(Decoded::ToolCall));
        let Some(reason) = choice["finish_reason"].as_str() else {
            return Err(cut_short(provider));
        };
        out.push(Decoded::Done {
            usage: usage_from(&json["usage"]),
            finish: finish_reason(reason),
        });
        Ok(out)
    }
}

fn request_body(settings: &HttpSettings, request: &ChatRequest, streaming: bool) -> Value {
    let mut body = json!({
        "model": settings.model_for(request),
        "messages": request.messages.iter().map(message_json).collect::<Vec<_>>(),
        "max_tokens": settings.max_tokens_for(request),
        "temperature": request.temperature,
        "stream": streaming,
    });
    if streaming && settings.stream_usage {
        body["stream_options"] = json!({ "include_usage": true });
    }
    if !request.stop.is_empty() {
        body["stop"] = json!(request.stop);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    }
                })
            })
            .collect();
        match &request.tool_choice {
            ToolChoice::Auto => {}
            ToolChoice::Required => body["tool_choice"] = json!("required"),
            ToolChoice::Tool(name) => {
                body["tool_choice"] = json!({"type": "function", "function": {"name": name}})
            }
        }
    }
    body
}

fn message_json(message: &ChatMessage) -> Value {
    match message.role {
        ChatRole::Tool => json!({
            "role": "tool",
            "tool_call_id": message.tool_call_id.clone().unwrap_or_default(),
            "content": message.content,
        }),
        ChatRole::Assistant if !message.tool_calls.is_empty() => json!({
            "role": "assistant",
            // Never null: llama-cpp-python refuses a null content with HTTP 500.
            "content": message.content,
            "tool_calls": message.tool_calls.iter().map(|c| json!({
                "id": c.id,
                "type": "function",
                "function": { "name": c.name, "arguments": arguments_text(&c.arguments) },
            })).collect::<Vec<_>>(),
        }),
        role @ (ChatRole::System | ChatRole::User | ChatRole::Assistant) => {
            json!({ "role": role.as_str(), "content": message.content })
        }
    }
}

/// Arguments go back as the JSON text the model wrote (or the raw text it wrote instead).
fn arguments_text(arguments: &Value) -> String {
    match arguments.as_str() {
        Some(raw) => raw.to_string(),
        None => arguments.to_string(),
    }
}

/// Reads `chat.completion.chunk`s up to `[DONE]`.
#[derive(Default)]
struct ChunkDecoder {
    provider: String,
    calls: ToolCallParts,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

impl StreamDecoder for ChunkDecoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<Decoded>, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            let Some(finish) = self.finish else {
                return Err(cut_short(&self.provider));
            };
            let mut out: Vec<Decoded> = self
                .calls
                .finish()
                .into_iter()
                .map(Decoded::ToolCall)
                .collect();
            out.push(Decoded::Done {
                usage: self.usage,
                finish,
            });
            return Ok(out);
        }
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            malformed(
                &self.provider,
                &format!("a chunk that is not valid JSON ({e}): {}", one_line(data)),
            )
        })?;
        if chunk.get("error").is_some() {
            return Err(reported_error(&self.provider, &chunk));
        }
        if let Some(usage) = usage_from(&chunk["usage"]) {
            self.usage = Some(usage);
        }
        let mut out = Vec::new();
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            // One answer is asked for; other choices would be a server's oddity.
            if choice["index"].as_u64().unwrap_or(0) != 0 {
                continue;
            }
            let delta = &choice["delta"];
            if let Some(text) = delta["content"].as_str() {
                out.push(Decoded::Text(text.to_string()));
            }
            for (position, part) in delta["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.calls.merge(position, part);
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.finish = Some(finish_reason(reason));
                out.extend(self.calls.finish().into_iter().map(Decoded::ToolCall));
            }
        }
        Ok(out)
    }
}

/// Tool calls arriving in fragments: merged by `index`; the id and name usually come only in
/// the first fragment of each, the arguments in pieces to concatenate.
#[derive(Default)]
struct ToolCallParts {
    parts: BTreeMap<u64, PartialCall>,
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

impl ToolCallParts {
    fn merge(&mut self, position: usize, part: &Value) {
        // Ollama leaves out `index` (each call comes whole); fall back to the array position.
        let index = part["index"].as_u64().unwrap_or(position as u64);
        let call = self.parts.entry(index).or_default();
        if let Some(id) = part["id"].as_str().filter(|s| !s.is_empty()) {
            call.id = id.to_string();
        }
        let function = &part["function"];
        if let Some(name) = function["name"].as_str().filter(|s| !s.is_empty()) {
            call.name = name.to_string();
        }
        if let Some(args) = function["arguments"].as_str() {
            call.arguments.push_str(args);
        }
    }

    fn finish(&mut self) -> Vec<ToolCall> {
        std::mem::take(&mut self.parts)
            .into_iter()
            .map(|(index, call)| ToolCall {
                // vLLM may never send an id: make one the reply can be matched with.
                id: if call.id.is_empty() {
                    format!("call_{index}")
                } else {
                    call.id
                },
                name: call.name,
                arguments: parse_arguments(&call.arguments),
            })
            .collect()
    }
}

/// A JSON object, `{}` for nothing, or the raw text when the model wrote something else.
pub fn parse_arguments(text: &str) -> Value {
    if text.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) if value.is_object() => value,
        Ok(_) | Err(_) => Value::String(text.to_string()),
    }
}

fn usage_from(usage: &Value) -> Option<Usage> {
    let input = usage.get("prompt_tokens")?.as_u64()?;
    let output = usage
        .get("completion_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let cached = usage["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap_or(0)
        .min(input);
    Some(Usage {
        input_tokens: input - cached,
        output_tokens: output,
        cache_read_tokens: cached,
        cache_creation_tokens: 0,
        estimated: false,
    })
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// Every complete reply says why it ended. llama-cpp-python, for one, ends a reply it cut short
/// (because another request arrived) with `[DONE]` and no finish reason.
fn cut_short(provider: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::StreamCut,
        format!(
            "{provider} ended its reply without a finish reason: it was cut short (a \
             single-slot server cuts a running reply when another request arrives; set \
             max_concurrent = 1 on this provider)"
        ),
    )
}

fn malformed(provider: &str, what: &str) -> ProviderError {
    ProviderError::new(ErrorKind::Malformed, format!("{provider} sent {what}"))
}

#[cfg(test)]
mod tests;
