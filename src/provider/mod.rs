//! Providers turn one chat request into a stream of text and a final usage report.

pub mod anthropic;
pub mod check;
mod error;
pub mod failover;
pub mod http;
pub mod lazy;
#[cfg(feature = "local")]
pub mod local;
pub mod model_file;
pub mod openai;
mod pause;
pub mod registry;
pub mod routes;
pub mod setup;
pub(crate) mod stop_matcher;
pub mod tool_actions;

use futures::stream::BoxStream;
use tokio_util::sync::CancellationToken;

pub use crate::session::call::{
    ChatMessage, ChatRole, ErrorKind, FailoverNotice, RetryNotice, ToolCall,
};
pub use error::ProviderError;
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

use crate::session::call::{CallMode, FinishReason};

/// Whether the model must call a tool in its reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// Some tool, whichever.
    Required,
    /// This tool.
    Tool(String),
}

impl ToolChoice {
    /// From an agent file or config: `auto`, `required` or a tool's name.
    pub fn parse(text: &str) -> ToolChoice {
        match text.trim() {
            "" | "auto" => ToolChoice::Auto,
            "required" | "any" => ToolChoice::Required,
            name => ToolChoice::Tool(name.to_string()),
        }
    }
}

/// A tool offered to the model: its name, what it does, and a JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    /// The reply may not end before this many tokens (the local model only: it refuses the
    /// end-of-generation token until then). 0 lets the model stop whenever it likes.
    pub min_tokens: u32,
    /// 0 means greedy decoding: the same prompt always gives the same text.
    pub temperature: f32,
    pub stop: Vec<String>,
    /// A GBNF grammar the reply must follow (root rule `root`), for providers that support it.
    pub grammar: Option<String>,
    pub mode: CallMode,
    pub seed: u32,
    /// Shared: a step's request is cloned for every round of tool calls.
    pub tools: std::sync::Arc<[ToolSpec]>,
    /// Only meaningful with tools offered.
    pub tool_choice: ToolChoice,
    /// Overrides the provider's configured model for this call (per-role model choice).
    pub model: Option<String>,
}

impl ChatRequest {
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        ChatRequest {
            messages,
            max_tokens: 512,
            min_tokens: 0,
            temperature: 0.7,
            stop: Vec::new(),
            grammar: None,
            mode: CallMode::Streaming,
            seed: 0,
            tools: std::sync::Arc::default(),
            tool_choice: ToolChoice::Auto,
            model: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Prompt tokens billed at the full rate (for Anthropic: not counting cache reads/writes).
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_creation_tokens: u64,
    /// The provider reported no usage: these are our own estimate.
    pub estimated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    Text(String),
    ToolCall(ToolCall),
    Retrying(RetryNotice),
    FailingOver(FailoverNotice),
    /// Something the user should know that does not stop the call (streaming refused and a
    /// non-streaming call made instead...).
    Warning(String),
    /// The endpoint already runs as many calls as it may (`max_concurrent`): this one waits.
    WaitingForSlot {
        provider: String,
        limit: u32,
    },
    /// The waiting call got its slot and is sent now.
    GotSlot {
        waited_ms: u64,
    },
    Finished {
        usage: Usage,
        finish: FinishReason,
    },
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
    /// Whether a step is offered tools only when its task asks for what they do: a small model
    /// given a tool guide it has no use for copies the guide into its answer.
    fn tools_only_when_asked(&self) -> bool {
        false
    }
    /// Whether `ChatRequest::model` may name another of the provider's models (the embedded
    /// model is one file and cannot).
    fn can_switch_model(&self) -> bool {
        true
    }
    /// Starts a call. The stream ends after `Finished` or an error; dropping it abandons the call.
    fn stream(&self, request: ChatRequest, control: CallControl) -> ProviderStream;
}
