//! Why a provider call failed, sorted into kinds the retry logic, the metrics and the user can
//! act on.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// One line for the user, naming the provider's own words where it gave any.
    pub message: String,
    /// How long the provider asked us to wait before trying again.
    pub retry_after: Option<Duration>,
    /// The provider's explicit verdict on retrying (`x-should-retry`), which overrides ours.
    pub should_retry: Option<bool>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: message.into(),
            retry_after: None,
            should_retry: None,
        }
    }

    pub fn cancelled() -> Self {
        ProviderError::new(ErrorKind::Cancelled, "cancelled")
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        ProviderError::new(ErrorKind::Unavailable, message)
    }

    /// A failure with no better kind (a local decode error...).
    pub fn failed(message: impl Into<String>) -> Self {
        ProviderError::new(ErrorKind::Provider, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        ProviderError::new(ErrorKind::InvalidRequest, message)
    }

    pub fn is_cancelled(&self) -> bool {
        self.kind == ErrorKind::Cancelled
    }

    pub fn retryable(&self) -> bool {
        self.should_retry.unwrap_or_else(|| self.kind.retryable())
    }
}
