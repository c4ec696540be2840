//! A response body read as server-sent events, with the guards the SSE format itself lacks: an
//! idle timeout between chunks, and llama.cpp's non-standard `error:` lines, which standard
//! parsers drop without a word.

use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures::stream::{self, BoxStream, Stream, StreamExt};

use super::status::{ErrorDetail, one_line};
use crate::provider::{ErrorKind, ProviderError};

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, empty when absent.
    pub name: String,
    pub data: String,
}

pub fn sse_events(
    provider: String,
    body: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
    idle: Duration,
) -> BoxStream<'static, Result<SseEvent, ProviderError>> {
    let chunks = guarded_chunks(provider, body, idle);
    chunks
        .eventsource()
        .map(|item| match item {
            Ok(event) => Ok(SseEvent {
                name: event.event,
                data: event.data,
            }),
            Err(EventStreamError::Transport(e)) => Err(e),
            Err(EventStreamError::Utf8(e)) => Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("the event stream is not valid UTF-8: {e}"),
            )),
            Err(EventStreamError::Parser(e)) => Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("the event stream could not be parsed: {e}"),
            )),
        })
        .boxed()
}

/// The body's chunks, ending with an error when no byte arrives for `idle`, when the connection
/// breaks, or when a line starts with `error:`.
fn guarded_chunks(
    provider: String,
    body: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
    idle: Duration,
) -> impl Stream<Item = Result<Bytes, ProviderError>> + Send + 'static {
    struct State<S> {
        body: S,
        scanner: ErrorLineScanner,
        provider: String,
        done: bool,
    }
    let state = State {
        body: Box::pin(body),
        scanner: ErrorLineScanner::default(),
        provider,
        done: false,
    };
    stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        let item = match tokio::time::timeout(idle, st.body.next()).await {
            Err(_) => Err(ProviderError::new(
                ErrorKind::Timeout,
                format!(
                    "{} sent nothing for {} s in the middle of its reply (stalled stream)",
                    st.provider,
                    idle.as_secs_f64()
                ),
            )),
            Ok(None) => return None,
            Ok(Some(Err(e))) => Err(super::transport_error(&st.provider, &e)),
            Ok(Some(Ok(bytes))) => match st.scanner.feed(&bytes) {
                Some(line) => Err(error_line(&st.provider, &line)),
                None => Ok(bytes),
            },
        };
        st.done = item.is_err();
        Some((item, st))
    })
}

fn error_line(provider: &str, payload: &str) -> ProviderError {
    let detail = serde_json::from_str(payload)
        .map(|json| ErrorDetail::from_json(&json))
        .unwrap_or_default();
    let text = detail
        .message
        .clone()
        .unwrap_or_else(|| payload.to_string());
    ProviderError::new(
        detail.stream_kind(),
        format!(
            "{provider} reported an error mid-stream: {}",
            one_line(&text)
        ),
    )
}

/// Finds lines that begin with `error:` across chunk boundaries, keeping no more of a line than
/// it takes to tell.
#[derive(Debug, Default)]
struct ErrorLineScanner {
    /// The current line so far, while it may still be (or is) an error line.
    line: Vec<u8>,
    /// The current line cannot be an error line: skip to its end.
    skipping: bool,
}

const PREFIX: &[u8] = b"error:";
const MAX_ERROR_LINE: usize = 64 * 1024;

impl ErrorLineScanner {
    /// The payload of the first complete `error:` line in `chunk`, if any.
    fn feed(&mut self, chunk: &[u8]) -> Option<String> {
        for &b in chunk {
            if b == b'\n' || b == b'\r' {
                let found = (!self.skipping && self.line.starts_with(PREFIX)).then(|| {
                    String::from_utf8_lossy(&self.line[PREFIX.len()..])
                        .trim()
                        .to_string()
                });
                self.line.clear();
                self.skipping = false;
                if found.is_some() {
                    return found;
                }
                continue;
            }
            if self.skipping {
                continue;
            }
            self.line.push(b);
            let n = self.line.len();
            if (n <= PREFIX.len() && self.line[..] != PREFIX[..n]) || n > MAX_ERROR_LINE {
                self.line.clear();
                self.skipping = true;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_found_across_chunks_and_line_endings() {
        let mut s = ErrorLineScanner::default();
        assert_eq!(s.feed(b"data: {\"x\":1}\n\ner"), None);
        assert_eq!(s.feed(b"ror: {\"message\":\"boom\"}"), None);
        assert_eq!(s.feed(b"\r\n"), Some("{\"message\":\"boom\"}".into()));
        let mut s = ErrorLineScanner::default();
        assert_eq!(s.feed(b"data: error: not at the start\n"), None);
        assert_eq!(s.feed(b"errors: plural\n: comment\n"), None);
    }

    #[test]
    fn an_error_line_becomes_the_providers_message() {
        let e = error_line(
            "srv",
            r#"{"code":500,"message":"context full","type":"server_error"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Server);
        assert_eq!(e.message, "srv reported an error mid-stream: context full");
        let e = error_line("srv", "plain words");
        assert_eq!(e.kind, ErrorKind::Provider);
        assert!(e.message.ends_with("plain words"));
    }
}
