//! Providers turn one chat request into a stream of text and a final usage report.

#[cfg(feature = "local")]
pub mod local;
pub mod model_file;
mod pause;
pub mod stop_matcher;

use futures::stream::BoxStream;
use tokio_util::sync::CancellationToken;

pub use pause::{PauseSignal, PauseSwitch};

use std::path::PathBuf;

/// How to run the embedded model (used by the `local` provider).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSettings {
    pub model_path: PathBuf,
    /// True for the pinned default model: its SHA-256 is checked before loading.
    pub pinned: bool,
    pub threads: u32,
    /// KV cache cells shared by every call at once (prompt + answer tokens).
    pub context_tokens: u32,
    /// Calls decoded together; more wait in line.
    pub max_sequences: u32,
    pub flash_attention: bool,
}

use crate::engine::event::{CallMode, FinishReason};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    /// 0 means greedy decoding: the same prompt always gives the same text.
    pub temperature: f32,
    pub stop: Vec<String>,
    /// A GBNF grammar the reply must follow (root rule `root`), for providers that support it.
    pub grammar: Option<String>,
    pub mode: CallMode,
    pub seed: u32,
}

impl ChatRequest {
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        ChatRequest {
            messages,
            max_tokens: 512,
            temperature: 0.7,
            stop: Vec::new(),
            grammar: None,
            mode: CallMode::Streaming,
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub estimated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    Text(String),
    Finished { usage: Usage, finish: FinishReason },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The model or service cannot be used at all; retrying will not help.
    #[error("{0}")]
    Unavailable(String),
    /// The request cannot be served as asked (too long, bad grammar...).
    #[error("{0}")]
    BadRequest(String),
    /// The call broke while running.
    #[error("{0}")]
    Failed(String),
    #[error("cancelled")]
    Cancelled,
}

/// How the caller steers a running call.
#[derive(Clone)]
pub struct CallControl {
    pub cancel: CancellationToken,
    pub pause: PauseSignal,
}

impl CallControl {
    /// For calls nobody will pause: planners, checks, benchmarks.
    pub fn unpausable(cancel: CancellationToken) -> Self {
        CallControl {
            cancel,
            pause: PauseSignal::never(),
        }
    }
}

pub type ProviderStream = BoxStream<'static, Result<ProviderEvent, ProviderError>>;

pub trait Provider: Send + Sync {
    /// Short name shown to the user and recorded in events ("local", "anthropic"...).
    fn name(&self) -> &str;
    fn model(&self) -> &str;
    /// Whether `ChatRequest::grammar` is honoured.
    fn supports_grammar(&self) -> bool;
    /// Starts a call. The stream ends after `Finished` or an error; dropping it abandons the call.
    fn stream(&self, request: ChatRequest, control: CallControl) -> ProviderStream;
}
