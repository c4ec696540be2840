//! What a call to a model is made of, as the rest of El Jefe speaks of it: the conversation's
//! messages and tool calls, how a call is made and why it ended, why one failed, and the notices
//! a provider gives while it tries again or moves on to the next.

use serde::{Deserialize, Serialize};

/// Streaming calls show text as it is generated; legacy calls wait for the whole reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CallMode {
    #[default]
    Streaming,
    Legacy,
}

impl CallMode {
    /// From a flag, an environment variable or the config file.
    pub fn parse(text: &str) -> Option<CallMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "streaming" | "stream" => Some(CallMode::Streaming),
            "legacy" | "non-streaming" => Some(CallMode::Legacy),
            _ => None,
        }
    }

    pub fn toggled(self) -> CallMode {
        match self {
            CallMode::Streaming => CallMode::Legacy,
            CallMode::Legacy => CallMode::Streaming,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CallMode::Streaming => "streaming",
            CallMode::Legacy => "legacy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its answer (end of generation token or stop string).
    Stop,
    /// The answer hit the max tokens limit (or the model's context window).
    Length,
    /// The model stopped to have tools run.
    ToolCalls,
    /// The provider's content filter cut the answer.
    ContentFilter,
    /// The model declined to answer.
    Refusal,
    /// Any other reason a provider gave (Anthropic's `pause_turn`...).
    #[serde(other)]
    Other,
}

impl FinishReason {
    pub fn label(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool calls",
            FinishReason::ContentFilter => "content filter",
            FinishReason::Refusal => "refusal",
            FinishReason::Other => "other",
        }
    }
}

/// One provider call, as measured by the agent that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallStats {
    pub provider: String,
    pub model: String,
    pub mode: CallMode,
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_read_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_creation_tokens: u64,
    /// True when the provider reported no usage and the figures are our own count.
    #[serde(default)]
    pub estimated: bool,
    /// Time to the first piece of text, pauses excluded.
    pub ttft_ms: Option<u64>,
    /// Whole call, pauses excluded.
    pub duration_ms: u64,
    pub finish: FinishReason,
    /// US dollars, when a price table knows the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    System,
    User,
    Assistant,
    /// The result of a tool call, answering one of the assistant's calls.
    Tool,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
            ChatRole::Tool => "tool",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
    /// The tools an assistant turn called, in order.
    pub tool_calls: Vec<ToolCall>,
    /// For a `Tool` message: the call it answers.
    pub tool_call_id: Option<String>,
    /// For a `Tool` message: the tool failed, and `content` says why.
    pub is_error: bool,
}

impl ChatMessage {
    fn plain(role: ChatRole, content: String) -> Self {
        ChatMessage {
            role,
            content,
            tool_calls: Vec::new(),
            tool_call_id: None,
            is_error: false,
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage::plain(ChatRole::System, content.into())
    }
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage::plain(ChatRole::User, content.into())
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage::plain(ChatRole::Assistant, content.into())
    }
    pub fn assistant_with_tools(content: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        ChatMessage {
            tool_calls: calls,
            ..ChatMessage::plain(ChatRole::Assistant, content.into())
        }
    }
    pub fn tool_result(
        call_id: impl Into<String>,
        content: impl Into<String>,
        is_error: bool,
    ) -> Self {
        ChatMessage {
            tool_call_id: Some(call_id.into()),
            is_error,
            ..ChatMessage::plain(ChatRole::Tool, content.into())
        }
    }
}

/// A tool call the model made, complete (streamed fragments already joined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// A JSON object; when the model's arguments were not valid JSON, the raw text as a string
    /// so the tool can say what was wrong.
    pub arguments: serde_json::Value,
}

/// The provider will try the same call again after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryNotice {
    pub provider: String,
    /// The retry about to happen: 1 for the first.
    pub retry: u32,
    pub max_retries: u32,
    pub delay_ms: u64,
    pub kind: ErrorKind,
    pub error: String,
    /// The failed attempt had already streamed text; it is thrown away and the call restarts.
    pub discarded_text: bool,
}

/// A provider gave up; the call continues on the next one in its fallback list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverNotice {
    pub from: String,
    pub to: String,
    pub to_model: String,
    pub kind: ErrorKind,
    pub error: String,
    pub discarded_text: bool,
}

/// Why a provider call failed, sorted into kinds the retry logic, the metrics and the user can
/// act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The API key is missing, wrong or revoked (401).
    Auth,
    /// The key may not use this resource (403).
    Permission,
    /// Unknown model or endpoint (404).
    NotFound,
    /// The request itself is wrong (400, 422...); retrying sends the same mistake again.
    InvalidRequest,
    /// The request is too large for the service (413) or the model's context.
    TooLarge,
    /// Too many requests for now (429).
    RateLimited,
    /// The account has no credit left: waiting does not help.
    QuotaExhausted,
    /// The service is overloaded (Anthropic 529, `overloaded_error`).
    Overloaded,
    /// 5xx, 408 and 409: the service's own trouble.
    Server,
    /// No answer in time: connecting, between two chunks, or overall.
    Timeout,
    /// The connection could not be made or broke.
    Connection,
    /// The reply ended before the protocol's end marker, or without saying why it ended.
    StreamCut,
    /// The reply ended properly but held no text and no tool call: a proxy's way of passing on
    /// a failure upstream.
    EmptyReply,
    /// The reply could not be understood (bad JSON, wrong shape).
    Malformed,
    /// The provider reported an error we have no better kind for.
    Provider,
    /// The provider cannot run at all here (missing model file, no API key).
    Unavailable,
    /// The caller stopped the call.
    Cancelled,
}

impl ErrorKind {
    /// Whether trying the same request again may succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Overloaded
                | ErrorKind::Server
                | ErrorKind::Timeout
                | ErrorKind::Connection
                | ErrorKind::StreamCut
                | ErrorKind::EmptyReply
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::Permission => "permission",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::TooLarge => "too large",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::QuotaExhausted => "quota",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Server => "server",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::StreamCut => "stream cut",
            ErrorKind::EmptyReply => "empty reply",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Provider => "provider",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
