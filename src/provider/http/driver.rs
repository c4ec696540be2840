//! One call to an HTTP provider: send, read the reply (streamed or whole), retry what may
//! succeed next time, and say so at every step.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::slots::{EndpointSlots, SlotPermit};
use super::sse::sse_events;
use super::status::error_from_response;
use super::{Decoded, HttpSettings, Wire, estimate_tokens, transport_error};
use crate::provider::{
    CallControl, ChatRequest, ErrorKind, Provider, ProviderError, ProviderEvent, ProviderStream,
    RetryNotice, Usage,
};
use crate::session::call::{CallMode, FinishReason};
use crate::session::redact::Redactor;

type Sender = mpsc::Sender<Result<ProviderEvent, ProviderError>>;

pub struct HttpProvider<W: Wire> {
    inner: Arc<Inner<W>>,
}

struct Inner<W> {
    wire: W,
    settings: HttpSettings,
    client: reqwest::Client,
    /// Error text may quote the request back, key included.
    redactor: Redactor,
    /// Calls allowed at once on the endpoint, when limited.
    slots: Option<EndpointSlots>,
}

impl<W: Wire> HttpProvider<W> {
    /// A provider with its own limit of calls at once (`max_concurrent`), if it has one.
    pub fn new(wire: W, settings: HttpSettings) -> Result<Self, ProviderError> {
        let slots = settings.max_concurrent.map(EndpointSlots::new);
        HttpProvider::with_slots(wire, settings, slots)
    }

    /// A provider whose calls take turns in `slots`, which other providers naming the same
    /// endpoint may share.
    pub fn with_slots(
        wire: W,
        settings: HttpSettings,
        slots: Option<EndpointSlots>,
    ) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("el-jefe/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::unavailable(format!("{}: no HTTP client: {e}", settings.name))
            })?;
        let redactor = Redactor::new(settings.api_key.as_ref().map(|k| k.expose()));
        Ok(HttpProvider {
            inner: Arc::new(Inner {
                wire,
                settings,
                client,
                redactor,
                slots,
            }),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.inner.settings
    }
}

impl<W: Wire> Provider for HttpProvider<W> {
    fn name(&self) -> &str {
        &self.inner.settings.name
    }

    fn model(&self) -> &str {
        &self.inner.settings.model
    }

    fn supports_grammar(&self) -> bool {
        false
    }

    fn stream(&self, request: ChatRequest, control: CallControl) -> ProviderStream {
        let (tx, rx) = mpsc::channel(256);
        let inner = self.inner.clone();
        tokio::spawn(async move {
            // Whichever comes first: the call ends, the caller cancels, or the caller drops the
            // stream. Leaving the select drops the request, which closes the connection.
            let cancelled = tokio::select! {
                _ = inner.call(request, &tx) => false,
                _ = control.cancel.cancelled() => true,
                _ = tx.closed() => false,
            };
            if cancelled {
                let _ = tx.send(Err(ProviderError::cancelled())).await;
            }
        });
        ReceiverStream::new(rx).boxed()
    }
}

/// What one attempt produced before it ended.
#[derive(Default)]
struct Progress {
    streamed: bool,
    text_chars: usize,
    text_chunks: u64,
    /// Some text that is not only white space.
    visible_text: bool,
    tool_calls: usize,
}

impl Progress {
    /// An answer: some words, or a tool to run.
    fn has_content(&self) -> bool {
        self.visible_text || self.tool_calls > 0
    }
}

impl<W: Wire> Inner<W> {
    async fn call(&self, request: ChatRequest, tx: &Sender) {
        let name = &self.settings.name;
        let policy = self.settings.retry;
        let mut streaming = request.mode == CallMode::Streaming;
        let mut retries = 0;
        loop {
            let mut progress = Progress::default();
            // Held for the attempt only: a backoff wait leaves the slot to others.
            let _slot = match self.take_slot(tx).await {
                Ok(slot) => slot,
                Err(_) => return,
            };
            let error = match self.attempt(&request, streaming, tx, &mut progress).await {
                Ok(()) => return,
                // Every failure passes here, whatever produced it, before anything quotes it.
                Err(e) => self.scrub(e),
            };
            let started = progress.text_chars > 0 || progress.tool_calls > 0;
            // Only a refusal of the request itself: an error inside a stream that did start
            // may well mention the stream too.
            if streaming && !progress.streamed && !started && self.wire.rejects_streaming(&error) {
                streaming = false;
                let warning = format!(
                    "{name} refused a streaming call ({}); asking again without streaming",
                    error.message
                );
                if tx.send(Ok(ProviderEvent::Warning(warning))).await.is_err() {
                    return;
                }
                continue;
            }
            if !error.retryable() || retries >= policy.max_retries {
                let _ = tx.send(Err(error)).await;
                return;
            }
            retries += 1;
            let delay = policy.delay(retries, error.retry_after, fastrand::f64());
            tracing::warn!(provider = %name, retry = retries, delay = ?delay, error = %error.message, "retrying a provider call");
            let notice = RetryNotice {
                provider: name.clone(),
                retry: retries,
                max_retries: policy.max_retries,
                delay_ms: delay.as_millis() as u64,
                kind: error.kind,
                error: error.message,
                discarded_text: progress.text_chars > 0,
            };
            if tx.send(Ok(ProviderEvent::Retrying(notice))).await.is_err() {
                return;
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        request: &ChatRequest,
        streaming: bool,
        tx: &Sender,
        progress: &mut Progress,
    ) -> Result<(), ProviderError> {
        let name = &self.settings.name;
        let response = self
            .wire
            .request(&self.client, &self.settings, request, streaming)
            .timeout(self.settings.request_timeout)
            .send()
            .await
            .map_err(|e| transport_error(name, &e))?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = tokio::time::timeout(self.settings.idle_timeout, response.bytes())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(error_from_response(name, status.as_u16(), &headers, &body));
        }
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let input_chars = request.messages.iter().map(|m| m.content.len()).sum();
        if streaming && is_sse {
            return self.read_stream(response, tx, progress, input_chars).await;
        }
        if streaming {
            let warning =
                format!("{name} answered without streaming; the reply arrives all at once");
            send(tx, ProviderEvent::Warning(warning)).await?;
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(name, &e))?;
        let pieces = self.wire.decode_whole(name, &body)?;
        if self.deliver(pieces, tx, progress, input_chars).await? {
            Ok(())
        } else {
            Err(ProviderError::new(
                ErrorKind::Malformed,
                format!("{name}'s reply had no finish reason"),
            ))
        }
    }

    async fn read_stream(
        &self,
        response: reqwest::Response,
        tx: &Sender,
        progress: &mut Progress,
        input_chars: usize,
    ) -> Result<(), ProviderError> {
        let name = &self.settings.name;
        let mut events = sse_events(
            name.clone(),
            response.bytes_stream(),
            self.settings.idle_timeout,
        );
        let mut decoder = self.wire.stream_decoder(name);
        progress.streamed = true;
        while let Some(event) = events.next().await {
            let pieces = decoder.event(&event?)?;
            if self.deliver(pieces, tx, progress, input_chars).await? {
                return Ok(());
            }
        }
        Err(ProviderError::new(
            ErrorKind::StreamCut,
            format!("{name}'s stream ended before the reply was complete (no end marker)"),
        ))
    }

    /// Passes pieces on; true once the reply is complete.
    async fn deliver(
        &self,
        pieces: Vec<Decoded>,
        tx: &Sender,
        progress: &mut Progress,
        input_chars: usize,
    ) -> Result<bool, ProviderError> {
        for piece in pieces {
            match piece {
                Decoded::Text(text) if text.is_empty() => {}
                Decoded::Text(text) => {
                    progress.visible_text |= !text.trim().is_empty();
                    progress.text_chars += text.len();
                    progress.text_chunks += 1;
                    send(tx, ProviderEvent::Text(text)).await?;
                }
                Decoded::ToolCall(call) => {
                    progress.tool_calls += 1;
                    send(tx, ProviderEvent::ToolCall(call)).await?;
                }
                Decoded::Done { usage, finish } => {
                    if !progress.has_content() {
                        return Err(empty_reply(&self.settings.name, usage, finish));
                    }
                    let usage = usage.unwrap_or_else(|| Usage {
                        input_tokens: estimate_tokens(input_chars),
                        // Servers stream about one token per chunk; a whole reply is counted
                        // by its length.
                        output_tokens: if progress.streamed {
                            progress.text_chunks
                        } else {
                            estimate_tokens(progress.text_chars)
                        },
                        estimated: true,
                        ..Usage::default()
                    });
                    send(tx, ProviderEvent::Finished { usage, finish }).await?;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Waits for a free slot on the endpoint when it has a `max_concurrent` limit, saying so
    /// when the wait is not immediate. Err only when the caller has gone away.
    async fn take_slot(&self, tx: &Sender) -> Result<Option<SlotPermit>, ProviderError> {
        let Some(slots) = &self.slots else {
            return Ok(None);
        };
        if let Some(permit) = slots.try_take() {
            return Ok(Some(permit));
        }
        send(
            tx,
            ProviderEvent::WaitingForSlot {
                provider: self.settings.name.clone(),
                limit: slots.limit(),
            },
        )
        .await?;
        let waiting_since = tokio::time::Instant::now();
        let permit = slots.take().await;
        let waited_ms = waiting_since.elapsed().as_millis() as u64;
        send(tx, ProviderEvent::GotSlot { waited_ms }).await?;
        Ok(Some(permit))
    }

    fn scrub(&self, mut error: ProviderError) -> ProviderError {
        self.redactor.scrub(&mut error.message);
        error
    }
}

/// A reply that ended properly with nothing in it. LiteLLM, for one, turns a failure upstream
/// (a cut stream, a full context, a crashed backend) into exactly this; it is never an answer.
fn empty_reply(provider: &str, usage: Option<Usage>, finish: FinishReason) -> ProviderError {
    let reported = match usage {
        Some(u) => format!(", usage {} in / {} out", u.input_tokens, u.output_tokens),
        None => String::new(),
    };
    ProviderError::new(
        ErrorKind::EmptyReply,
        format!(
            "{provider} ended its reply without any text or tool call (finish: {}{reported}); \
             a server or proxy reports a failure it could not pass on this way",
            finish.label()
        ),
    )
}

/// Sends to the caller; a caller that has gone away ends the call.
async fn send(tx: &Sender, event: ProviderEvent) -> Result<(), ProviderError> {
    tx.send(Ok(event))
        .await
        .map_err(|_| ProviderError::cancelled())
}
