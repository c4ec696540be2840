//! An HTTP error response turned into a `ProviderError` with the provider's own message.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::retry::{retry_after, should_retry};
use crate::provider::{ErrorKind, ProviderError};

/// Longest error body quoted to the user.
const MAX_MESSAGE_CHARS: usize = 300;

pub fn error_from_response(
    provider: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> ProviderError {
    let detail = ErrorDetail::parse(body);
    let kind = kind_for(status, &detail);
    let what = match kind {
        ErrorKind::Auth => "rejected the API key",
        ErrorKind::Permission => "refused access",
        ErrorKind::NotFound => "does not know this model or endpoint",
        ErrorKind::RateLimited => "is rate limiting us",
        ErrorKind::QuotaExhausted => "says the account's quota is used up",
        ErrorKind::Overloaded => "is overloaded",
        ErrorKind::TooLarge => "says the request is too large",
        ErrorKind::InvalidRequest => "rejected the request",
        ErrorKind::Server
        | ErrorKind::Timeout
        | ErrorKind::Connection
        | ErrorKind::StreamCut
        | ErrorKind::EmptyReply
        | ErrorKind::Malformed
        | ErrorKind::Provider
        | ErrorKind::Unavailable
        | ErrorKind::Cancelled => "failed",
    };
    let mut message = format!("{provider} {what} (HTTP {status})");
    if let Some(text) = detail.message.as_deref().filter(|m| !m.is_empty()) {
        message.push_str(": ");
        message.push_str(&one_line(text));
    }
    ProviderError {
        kind,
        message,
        retry_after: retry_after(headers),
        should_retry: should_retry(headers),
    }
}

/// What an error body says, in either provider's shape:
/// Anthropic `{"type":"error","error":{"type","message"}}`,
/// OpenAI `{"error":{"message","type","code"}}` (some servers send `{"error":"text"}`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    pub message: Option<String>,
    pub kind: Option<String>,
    pub code: Option<String>,
}

impl ErrorDetail {
    pub fn parse(body: &[u8]) -> ErrorDetail {
        match serde_json::from_slice::<Value>(body) {
            Ok(json) => ErrorDetail::from_json(&json),
            Err(_) => ErrorDetail {
                message: Some(String::from_utf8_lossy(body).trim().to_string())
                    .filter(|m| !m.is_empty()),
                ..ErrorDetail::default()
            },
        }
    }

    pub fn from_json(json: &Value) -> ErrorDetail {
        let error = json.get("error").unwrap_or(json);
        if let Some(text) = error.as_str() {
            return ErrorDetail {
                message: Some(text.to_string()),
                ..ErrorDetail::default()
            };
        }
        let field = |name: &str| {
            let value = error.get(name)?;
            value
                .as_str()
                .map(String::from)
                .or_else(|| value.as_number().map(ToString::to_string))
        };
        ErrorDetail {
            message: field("message").or_else(|| field("detail")),
            kind: field("type"),
            code: field("code"),
        }
    }

    /// The server could not read the request: pydantic's "1 validation error for ...",
    /// "Input should be a valid string". Some servers (llama-cpp-python) answer that with a 500,
    /// and it fails the same way however often it is sent.
    fn rejects_the_request_shape(&self) -> bool {
        self.message
            .as_deref()
            .is_some_and(|m| m.contains("validation error") || m.contains("Input should be"))
    }

    fn says(&self, what: &str) -> bool {
        self.kind.as_deref().is_some_and(|k| k.contains(what))
            || self.code.as_deref().is_some_and(|c| c.contains(what))
    }

    /// The kind an error reported inside a stream (no HTTP status to go by) belongs to.
    pub fn stream_kind(&self) -> ErrorKind {
        if self.says("overloaded") {
            ErrorKind::Overloaded
        } else if self.says("insufficient_quota") || self.says("billing") {
            ErrorKind::QuotaExhausted
        } else if self.says("rate_limit") {
            ErrorKind::RateLimited
        } else if self.says("api_error") || self.says("server_error") || self.says("timeout") {
            ErrorKind::Server
        } else if self.says("authentication") {
            ErrorKind::Auth
        } else if self.says("invalid_request") {
            ErrorKind::InvalidRequest
        } else {
            ErrorKind::Provider
        }
    }
}

fn kind_for(status: u16, detail: &ErrorDetail) -> ErrorKind {
    match status {
        400 | 422 if detail.says("context_length") => ErrorKind::TooLarge,
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        408 | 409 => ErrorKind::Server,
        413 => ErrorKind::TooLarge,
        // A 429 for an exhausted quota never clears by waiting.
        429 if detail.says("insufficient_quota") || detail.says("billing") => {
            ErrorKind::QuotaExhausted
        }
        429 => ErrorKind::RateLimited,
        529 => ErrorKind::Overloaded,
        500..=599 if detail.rejects_the_request_shape() => ErrorKind::InvalidRequest,
        500..=599 if detail.says("overloaded") => ErrorKind::Overloaded,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::InvalidRequest,
    }
}

/// An error the provider put in a reply body or a stream event (both protocols' shapes), as a
/// failed call whose kind comes from the error's type or code.
pub fn reported_error(provider: &str, json: &Value) -> ProviderError {
    let detail = ErrorDetail::from_json(json);
    let text = detail
        .message
        .clone()
        .unwrap_or_else(|| json.get("error").unwrap_or(json).to_string());
    ProviderError::new(
        detail.stream_kind(),
        format!("{provider} reported an error: {}", one_line(&text)),
    )
}

/// A whole (non-streaming) reply's JSON.
pub fn parse_reply(provider: &str, body: &[u8]) -> Result<Value, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            ErrorKind::Malformed,
            format!("{provider}'s reply is not valid JSON: {e}"),
        )
    })
}

pub fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = flat.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> ProviderError {
        error_from_response("p", status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn anthropic_and_openai_bodies_give_the_providers_message() {
        let e = classify(
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(
            e.message,
            "p rejected the API key (HTTP 401): invalid x-api-key"
        );
        assert!(!e.retryable());

        let e = classify(
            429,
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::QuotaExhausted);
        assert!(!e.retryable());

        let e = classify(
            429,
            r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert!(e.retryable());
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(classify(529, "{}").kind, ErrorKind::Overloaded);
        assert_eq!(classify(503, "Service Unavailable").kind, ErrorKind::Server);
        assert_eq!(classify(408, "").kind, ErrorKind::Server);
        assert_eq!(classify(409, "").kind, ErrorKind::Server);
        assert_eq!(classify(404, "").kind, ErrorKind::NotFound);
        assert_eq!(classify(403, "").kind, ErrorKind::Permission);
        assert_eq!(classify(413, "").kind, ErrorKind::TooLarge);
        assert_eq!(
            classify(400, r#"{"error":"bad"}"#).kind,
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            classify(400, r#"{"error":"bad"}"#).message,
            "p rejected the request (HTTP 400): bad"
        );
        for s in [408, 409, 429, 500, 502, 503, 529] {
            assert!(classify(s, "").retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 413, 422] {
            assert!(!classify(s, "").retryable(), "{s}");
        }
    }

    #[test]
    fn a_500_that_is_a_validation_error_is_not_retried() {
        // llama-cpp-python's answer to an assistant turn whose content is null.
        let e = classify(
            500,
            r#"{"error":{"message":"1 validation error for ChatCompletionRequestAssistantMessage\ncontent\n  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]","type":"internal_server_error","param":null,"code":null}}"#,
        );
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        assert!(!e.retryable());
        assert!(
            e.message
                .starts_with("p rejected the request (HTTP 500): 1 validation error")
        );
        assert!(classify(500, r#"{"error":{"message":"out of memory"}}"#).retryable());
    }

    #[test]
    fn the_servers_should_retry_header_overrides() {
        let mut h = HeaderMap::new();
        h.insert("x-should-retry", "false".parse().unwrap());
        assert!(!error_from_response("p", 503, &h, b"").retryable());
        h.insert("x-should-retry", "true".parse().unwrap());
        assert!(error_from_response("p", 400, &h, b"").retryable());
    }

    #[test]
    fn long_bodies_are_cut_to_one_line() {
        let body = format!("line one\nline two {}", "x".repeat(1000));
        let e = classify(500, &body);
        assert!(!e.message.contains('\n'));
        assert!(e.message.chars().count() < 400, "{}", e.message);
    }
}
