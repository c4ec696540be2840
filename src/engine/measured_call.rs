//! One provider call, measured: time to first text and duration (pauses left out), cancellation,
//! and text held back while paused even when the provider itself cannot pause.

use std::collections::HashSet;

use futures::{FutureExt, StreamExt};
use tokio::time::Instant;

use crate::provider::{
    CallControl, ChatRequest, FailoverNotice, PauseSignal, Provider, ProviderError, ProviderEvent,
    RetryNotice, ToolCall,
};
use crate::session::call::CallStats;

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
    Queued {
        provider: String,
        limit: u32,
    },
    Dequeued {
        waited_ms: u64,
    },
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

    // Tool call ids must be unique in the conversation, or the next request is refused (Ollama
    // reuses its small random ids; a proxy may repeat one).
    let earlier_ids: HashSet<String> = request
        .messages
        .iter()
        .flat_map(|m| &m.tool_calls)
        .map(|c| c.id.clone())
        .collect();
    let mut taken_ids = earlier_ids.clone();
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
            Some(Ok(ProviderEvent::ToolCall(mut call))) => {
                call.id = unique_id(std::mem::take(&mut call.id), &mut taken_ids);
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
                    taken_ids.clone_from(&earlier_ids);
                }
                ttft_ms = None;
                watch = Stopwatch::start(&pause);
                on_update(CallUpdate::Retry(notice));
            }
            Some(Ok(ProviderEvent::FailingOver(notice))) => {
                text.clear();
                tool_calls.clear();
                taken_ids.clone_from(&earlier_ids);
                ttft_ms = None;
                watch = Stopwatch::start(&pause);
                serving = (notice.to.clone(), notice.to_model.clone());
                on_update(CallUpdate::Failover(notice));
            }
            Some(Ok(ProviderEvent::Warning(message))) => on_update(CallUpdate::Warning(message)),
            Some(Ok(ProviderEvent::WaitingForSlot { provider, limit })) => {
                on_update(CallUpdate::Queued { provider, limit })
            }
            Some(Ok(ProviderEvent::GotSlot { waited_ms })) => {
                // The call is only now sent: its time to first token starts here.
                ttft_ms = None;
                watch = Stopwatch::start(&pause);
                on_update(CallUpdate::Dequeued { waited_ms });
            }
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

/// `id`, or a variant of it that no earlier call of the conversation has.
fn unique_id(id: String, taken: &mut HashSet<String>) -> String {
    let base = if id.is_empty() {
        "call".to_string()
    } else {
        id
    };
    let mut candidate = base.clone();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{base}_{n}");
    }
    taken.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_tool_call_ids_get_a_suffix() {
        let mut taken: HashSet<String> = ["a".to_string()].into();
        assert_eq!(unique_id("a".into(), &mut taken), "a_2");
        assert_eq!(unique_id("a".into(), &mut taken), "a_3");
        assert_eq!(unique_id("b".into(), &mut taken), "b");
        assert_eq!(unique_id(String::new(), &mut taken), "call");
        assert_eq!(unique_id(String::new(), &mut taken), "call_2");
    }
}
