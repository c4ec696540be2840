//! One provider call, measured: time to first text and duration (pauses left out), cancellation,
//! and text held back while paused even when the provider itself cannot pause.

use futures::{FutureExt, StreamExt};
use tokio::time::Instant;

use super::event::CallStats;
use crate::provider::{
    CallControl, ChatRequest, FailoverNotice, PauseSignal, Provider, ProviderError, ProviderEvent,
    RetryNotice, ToolCall,
};

pub enum CallEnd {
    Finished {
        text: String,
        tool_calls: Vec<ToolCall>,
        stats: CallStats,
    },
    Failed(ProviderError),
    Cancelled,
}

/// What the caller hears while a call runs.
pub enum CallUpdate {
    /// Text, and how many streamed pieces it holds.
    Text(String, u32),
    ToolCall(ToolCall),
    Retry(RetryNotice),
    Failover(FailoverNotice),
    Warning(String),
}

/// Most streamed pieces forwarded as one text event when they are already waiting.
const MAX_MERGED_PIECES: u32 = 256;

/// Measures from `started`, leaving out time spent paused.
struct Stopwatch {
    started: Instant,
    paused_before: std::time::Duration,
}

impl Stopwatch {
    fn start(pause: &PauseSignal) -> Self {
        Stopwatch {
            started: Instant::now(),
            paused_before: pause.paused_total(),
        }
    }

    fn active_ms(&self, pause: &PauseSignal) -> u64 {
        let paused = pause.paused_total().saturating_sub(self.paused_before);
        self.started.elapsed().saturating_sub(paused).as_millis() as u64
    }
}

/// Text pieces already waiting in the stream are merged, which costs no latency and saves the
/// engine and the screen a lot of small events when a provider delivers in bursts. After a
/// retry or failover that throws streamed text away, measuring starts again: the figures
/// describe the attempt that answered.
pub async fn measured_call(
    provider: &dyn Provider,
    request: ChatRequest,
    control: &CallControl,
    mut on_update: impl FnMut(CallUpdate),
) -> CallEnd {
    let mode = request.mode;
    let mut serving = (provider.name().to_string(), provider.model().to_string());
    if let Some(model) = &request.model {
        serving.1 = model.clone();
    }
    let mut pause = control.pause.clone();
    let mut watch = Stopwatch::start(&pause);
    let mut stream = provider.stream(request, control.clone());
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    let mut ttft_ms = None;
    // An item read while merging that is not text: handled on the next turn.
    let mut held: Option<Option<Result<ProviderEvent, ProviderError>>> = None;
    loop {
        let item = match held.take() {
            Some(item) => item,
            None => tokio::select! {
                biased;
                _ = control.cancel.cancelled() => return CallEnd::Cancelled,
                item = stream.next() => item,
            },
        };
        match item {
            Some(Ok(ProviderEvent::Text(mut piece))) => {
                if ttft_ms.is_none() {
                    ttft_ms = Some(watch.active_ms(&pause));
                }
                if pause.is_paused() {
                    tokio::select! {
                        biased;
                        _ = control.cancel.cancelled() => return CallEnd::Cancelled,
                        _ = pause.wait_until_running() => {}
                    }
                }
                let mut pieces = 1;
                while pieces < MAX_MERGED_PIECES && !pause.is_paused() {
                    match stream.next().now_or_never() {
                        Some(Some(Ok(ProviderEvent::Text(more)))) => {
                            piece.push_str(&more);
                            pieces += 1;
                        }
                        Some(other) => {
                            held = Some(other);
                            break;
                        }
                        None => break,
                    }
                }
                text.push_str(&piece);
                on_update(CallUpdate::Text(piece, pieces));
            }
            Some(Ok(ProviderEvent::ToolCall(call))) => {
                if ttft_ms.is_none() {
                    ttft_ms = Some(watch.active_ms(&pause));
                }
                tool_calls.push(call.clone());
                on_update(CallUpdate::ToolCall(call));
            }
            Some(Ok(ProviderEvent::Retrying(notice))) => {
                if notice.discarded_text {
                    text.clear();
                    tool_calls.clear();
                }
                ttft_ms = None;
                watch = Stopwatch::start(&pause);
                on_update(CallUpdate::Retry(notice));
            }
            Some(Ok(ProviderEvent::FailingOver(notice))) => {
                text.clear();
                tool_calls.clear();
                ttft_ms = None;
                watch = Stopwatch::start(&pause);
                serving = (notice.to.clone(), notice.to_model.clone());
                on_update(CallUpdate::Failover(notice));
            }
            Some(Ok(ProviderEvent::Warning(message))) => on_update(CallUpdate::Warning(message)),
            Some(Ok(ProviderEvent::Finished { usage, finish })) => {
                let stats = CallStats {
                    provider: serving.0,
                    model: serving.1,
                    mode,
                    input_tokens: usage.input_tokens,
                    output_tokens: usage.output_tokens,
                    cache_read_tokens: usage.cache_read_tokens,
                    cache_creation_tokens: usage.cache_creation_tokens,
                    estimated: usage.estimated,
                    ttft_ms,
                    duration_ms: watch.active_ms(&pause),
                    finish,
                    // Priced by the engine, which holds the price table.
                    cost_usd: None,
                };
                return CallEnd::Finished {
                    text,
                    tool_calls,
                    stats,
                };
            }
            Some(Err(e)) if e.is_cancelled() => return CallEnd::Cancelled,
            Some(Err(e)) => return CallEnd::Failed(e),
            None => {
                return CallEnd::Failed(ProviderError::new(
                    crate::provider::ErrorKind::StreamCut,
                    "the provider's stream ended before the reply was complete",
                ));
            }
        }
    }
}
