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
    let chunks = guarded_chunks(provider.clone(), body, idle);
    chunks
        .eventsource()
        .map(move |item| match item {
            Ok(event) => Ok(SseEvent {
                name: event.event,
                data: event.data,
            }),
            Err(EventStreamError::Transport(e)) => Err(e),
            Err(EventStreamError::Utf8(e)) => Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("{provider}'s event stream is not valid UTF-8: {e}"),
            )),
            Err(EventStreamError::Parser(e)) => Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("{provider}'s event stream could not be parsed: {e}"),
            )),
        })
        .boxed()
}

/// The body's chunks, ending with an error when no byte arrives for `idle`, when the connection
/// breaks, when a line starts with `error:`, or at a byte that is not UTF-8. Chunks go on cut at
/// character boundaries, so the text before a bad byte is passed on at once; the SSE parser,
/// given a bad byte, would hold everything after it and fail only when the stream ends.
fn guarded_chunks(
    provider: String,
    body: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
    idle: Duration,
) -> impl Stream<Item = Result<Bytes, ProviderError>> + Send + 'static {
    struct State<S> {
        body: S,
        scanner: ErrorLineScanner,
        utf8: Utf8Splitter,
        provider: String,
        /// An error to report once the text before it has been passed on.
        failure: Option<ProviderError>,
        done: bool,
    }
    let state = State {
        body: Box::pin(body),
        scanner: ErrorLineScanner::default(),
        utf8: Utf8Splitter::default(),
        provider,
        failure: None,
        done: false,
    };
    stream::unfold(state, move |mut st| async move {
        if let Some(failure) = st.failure.take() {
            st.done = true;
            return Some((Err(failure), st));
        }
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
            Ok(None) => match st.utf8.finish() {
                Ok(()) => return None,
                Err(offset) => Err(not_utf8(&st.provider, offset)),
            },
            Ok(Some(Err(e))) => Err(super::transport_error(&st.provider, &e)),
            Ok(Some(Ok(bytes))) => match st.scanner.feed(&bytes) {
                Some(line) => Err(error_line(&st.provider, &line)),
                None => match st.utf8.split(&bytes) {
                    Ok(text) => Ok(text),
                    Err((text, offset)) => {
                        st.failure = Some(not_utf8(&st.provider, offset));
                        Ok(text)
                    }
                },
            },
        };
        st.done = item.is_err();
        Some((item, st))
    })
}

fn not_utf8(provider: &str, offset: u64) -> ProviderError {
    ProviderError::new(
        ErrorKind::Malformed,
        format!(
            "{provider} sent a byte that is not UTF-8 at offset {offset} of its event stream; \
             the text before it was kept"
        ),
    )
}

/// Cuts a byte stream at UTF-8 character boundaries, holding back a character split between
/// two chunks, and finds the first byte that is not UTF-8.
#[derive(Debug, Default)]
struct Utf8Splitter {
    /// The start of a character whose remaining bytes are in the next chunk.
    carry: Vec<u8>,
    /// Bytes of the stream passed on so far.
    offset: u64,
}

impl Utf8Splitter {
    /// The whole characters of `chunk` (with what was carried), or the valid text before a
    /// bad byte and that byte's offset in the stream.
    fn split(&mut self, chunk: &[u8]) -> Result<Bytes, (Bytes, u64)> {
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(chunk);
        match std::str::from_utf8(&joined) {
            Ok(_) => {
                self.offset += joined.len() as u64;
                Ok(Bytes::from(joined))
            }
            Err(e) => {
                let valid = e.valid_up_to();
                let rest = joined.split_off(valid);
                self.offset += valid as u64;
                match e.error_len() {
                    // A character cut by the chunk's end: its bytes come next.
                    None => {
                        self.carry = rest;
                        Ok(Bytes::from(joined))
                    }
                    Some(_) => Err((Bytes::from(joined), self.offset)),
                }
            }
        }
    }

    /// At the end of the stream: the offset of a character left unfinished, if any.
    fn finish(&self) -> Result<(), u64> {
        if self.carry.is_empty() {
            Ok(())
        } else {
            Err(self.offset)
        }
    }
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
    fn text_is_cut_at_character_boundaries_and_a_bad_byte_is_located() {
        let mut u = Utf8Splitter::default();
        let e_acute = "é".as_bytes();
        assert_eq!(
            u.split(&[b'a', e_acute[0]]).unwrap(),
            Bytes::from_static(b"a")
        );
        assert_eq!(u.split(&[e_acute[1], b'b']).unwrap(), Bytes::from("éb"));
        assert_eq!(u.finish(), Ok(()));
        let (text, offset) = u.split(b"cd\xffef").unwrap_err();
        assert_eq!(text, Bytes::from_static(b"cd"));
        assert_eq!(offset, 6);
        let mut u = Utf8Splitter::default();
        u.split(&[b'x', e_acute[0]]).unwrap();
        assert_eq!(u.finish(), Err(1));
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
