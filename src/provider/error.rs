//! Why a provider call failed, sorted into kinds the retry logic, the metrics and the user can
//! act on.

use std::time::Duration;

use crate::session::call::ErrorKind;

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
