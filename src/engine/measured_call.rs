//! One provider call, measured: time to first text and duration (pauses left out), cancellation,
//! and text held back while paused even when the provider itself cannot pause.

use futures::{FutureExt, StreamExt};
use tokio::time::Instant;

use super::event::CallStats;
use crate::provider::{CallControl, ChatRequest, Provider, ProviderError, ProviderEvent};

pub enum CallEnd {
    Finished { text: String, stats: CallStats },
    Failed(String),
    Cancelled,
}

/// Most streamed pieces forwarded as one text event when they are already waiting.
const MAX_MERGED_PIECES: u32 = 256;

/// `on_text` receives text and how many streamed pieces it holds: pieces already waiting in the
/// stream are merged, which costs no latency and saves the engine and the screen a lot of small
/// events when a provider delivers in bursts.
pub async fn measured_call(
    provider: &dyn Provider,
    request: ChatRequest,
    control: &CallControl,
    mut on_text: impl FnMut(String, u32),
) -> CallEnd {
    let mode = request.mode;
    let started = Instant::now();
    let paused_before = control.pause.paused_total();
    let active_ms = |pause: &crate::provider::PauseSignal| {
        let paused = pause.paused_total().saturating_sub(paused_before);
        started.elapsed().saturating_sub(paused).as_millis() as u64
    };
    let mut pause = control.pause.clone();
    let mut stream = provider.stream(request, control.clone());
    let mut text = String::new();
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
                    ttft_ms = Some(active_ms(&pause));
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
                on_text(piece, pieces);
            }
            Some(Ok(ProviderEvent::Finished { usage, finish })) => {
                let stats = CallStats {
                    provider: provider.name().to_string(),
                    model: provider.model().to_string(),
                    mode,
                    input_tokens: usage.input_tokens,
                    output_tokens: usage.output_tokens,
                    estimated: usage.estimated,
                    ttft_ms,
                    duration_ms: active_ms(&pause),
                    finish,
                };
                return CallEnd::Finished { text, stats };
            }
            Some(Err(ProviderError::Cancelled)) => return CallEnd::Cancelled,
            Some(Err(e)) => return CallEnd::Failed(e.to_string()),
            None => {
                return CallEnd::Failed(
                    "the provider's stream ended before the reply was complete".into(),
                );
            }
        }
    }
}
