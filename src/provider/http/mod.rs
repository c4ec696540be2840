//! What the HTTP providers share: settings, the API key, the retry loop, error mapping and the
//! SSE reader. Each protocol (Anthropic, OpenAI) supplies only its `Wire`: how to build a
//! request and how to read a reply.

mod driver;
pub(crate) mod retry;
pub(crate) mod slots;
pub(crate) mod sse;
pub mod status;

use std::fmt;
use std::time::Duration;

pub use driver::HttpProvider;
pub use retry::RetryPolicy;
pub use slots::EndpointSlots;
pub use sse::SseEvent;

use crate::provider::{ChatRequest, ErrorKind, ProviderError, ToolCall, Usage};
use crate::session::call::FinishReason;

/// A secret that never prints: `Debug` and `Display` show only that it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// The name the user gave this provider ("anthropic", "ollama"...), shown in every message.
    pub name: String,
    /// Without a trailing slash: `https://api.anthropic.com`, `http://localhost:11434/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<ApiKey>,
    pub connect_timeout: Duration,
    /// Longest silence between two chunks of a streamed reply.
    pub idle_timeout: Duration,
    /// Longest a whole call may take, streaming included.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Most tokens one answer may use on this provider; agents asking for more get this.
    pub max_tokens: Option<u32>,
    /// OpenAI-style servers: ask for a usage chunk at the end of a stream.
    pub stream_usage: bool,
    /// Most calls at once on this endpoint; more wait their turn. None: no limit.
    pub max_concurrent: Option<u32>,
}

impl HttpSettings {
    pub fn new(name: &str, base_url: &str, model: &str) -> Self {
        HttpSettings {
            name: name.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(600),
            retry: RetryPolicy::default(),
            max_tokens: None,
            stream_usage: true,
            max_concurrent: None,
        }
    }

    pub fn model_for(&self, request: &ChatRequest) -> String {
        request.model.clone().unwrap_or_else(|| self.model.clone())
    }

    pub fn max_tokens_for(&self, request: &ChatRequest) -> u32 {
        match self.max_tokens {
            Some(cap) => request.max_tokens.min(cap),
            None => request.max_tokens,
        }
    }
}

/// A piece of a reply, whichever protocol it came in.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Text(String),
    ToolCall(ToolCall),
    /// The protocol's end marker: the reply is complete. `usage` is None when the server
    /// reported none.
    Done {
        usage: Option<Usage>,
        finish: FinishReason,
    },
}

/// Reads one streamed reply, event by event.
pub trait StreamDecoder: Send {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<Decoded>, ProviderError>;
}

/// One protocol: how to ask and how to read the answer.
pub trait Wire: Send + Sync + 'static {
    fn request(
        &self,
        client: &reqwest::Client,
        settings: &HttpSettings,
        request: &ChatRequest,
        streaming: bool,
    ) -> reqwest::RequestBuilder;

    fn stream_decoder(&self, provider: &str) -> Box<dyn StreamDecoder>;

    /// A whole (non-streaming) reply.
    fn decode_whole(&self, provider: &str, body: &[u8]) -> Result<Vec<Decoded>, ProviderError>;

    /// The server refused the request because it asked to stream (some models and servers
    /// do not stream at all): worth one more try without streaming.
    fn rejects_streaming(&self, error: &ProviderError) -> bool {
        error.kind == ErrorKind::InvalidRequest && error.message.to_lowercase().contains("stream")
    }
}

/// A connection-level failure, in words a user can act on.
pub fn transport_error(provider: &str, error: &reqwest::Error) -> ProviderError {
    let cause = root_cause(error);
    if error.is_timeout() {
        ProviderError::new(
            ErrorKind::Timeout,
            format!("{provider} did not answer in time ({cause})"),
        )
    } else if error.is_connect() {
        ProviderError::new(
            ErrorKind::Connection,
            format!("could not connect to {provider}: {cause}"),
        )
    } else {
        ProviderError::new(
            ErrorKind::Connection,
            format!("the connection to {provider} broke: {cause}"),
        )
    }
}

/// The innermost error's words ("Connection refused (os error 111)"), where the useful detail
/// lives; reqwest's own top line is generic.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// A rough token count for text whose real count the server did not report: about four
/// characters per token for English with the usual tokenizers.
pub fn estimate_tokens(text_chars: usize) -> u64 {
    text_chars.div_ceil(4) as u64
}
