//! One provider call, measured: time to first text and duration (pauses left out), cancellation,
//! and text held back while paused even when the provider itself cannot pause.

use std::collections::HashSet;

use futures::{FutureExt, StreamExt};
use tokio::time::Instant;

use crate::provider::{
    CallControl, ChatRequest, ErrorKind, FailoverNotice, PauseSignal, Provider, ProviderError,
    ProviderEvent, RetryNotice, ToolCall, Usage,
};
use crate::session::call::{CallMode, CallStats, FinishReason};

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

/// What the call has produced so far and the figures of the attempt that is answering.
struct Attempt {
    /// (provider, model) answering now; a failover changes it.
    serving: (String, String),
    watch: Stopwatch,
    ttft_ms: Option<u64>,
    text: String,
    tool_calls: Vec<ToolCall>,
    /// Tool call ids of the conversation before this call, and those plus this call's.
    earlier_ids: HashSet<String>,
    taken_ids: HashSet<String>,
}

impl Attempt {
    fn start(serving: (String, String), request: &ChatRequest, pause: &PauseSignal) -> Self {
        // Tool call ids must be unique in the conversation, or the next request is refused
        // (Ollama reuses its small random ids; a proxy may repeat one).
        let earlier_ids: HashSet<String> = request
            .messages
            .iter()
            .flat_map(|m| &m.tool_calls)
            .map(|c| c.id.clone())
            .collect();
        Attempt {
            serving,
            watch: Stopwatch::start(pause),
            ttft_ms: None,
            text: String::new(),
            tool_calls: Vec::new(),
            taken_ids: earlier_ids.clone(),
            earlier_ids,
        }
    }

    fn saw_output(&mut self, pause: &PauseSignal) {
        if self.ttft_ms.is_none() {
            self.ttft_ms = Some(self.watch.active_ms(pause));
        }
    }

    /// Measuring starts again (a retry, a failover, a slot finally free); `discard` also
    /// forgets what was streamed, which the provider throws away.
    fn restart(&mut self, pause: &PauseSignal, discard: bool) {
        if discard {
            self.text.clear();
            self.tool_calls.clear();
            self.taken_ids.clone_from(&self.earlier_ids);
        }
        self.ttft_ms = None;
        self.watch = Stopwatch::start(pause);
    }

    fn add_tool_call(&mut self, mut call: ToolCall, pause: &PauseSignal) -> ToolCall {
        call.id = unique_id(std::mem::take(&mut call.id), &mut self.taken_ids);
        self.saw_output(pause);
        self.tool_calls.push(call.clone());
        call
    }

    fn finish(
        self,
        mode: CallMode,
        usage: Usage,
        finish: FinishReason,
        pause: &PauseSignal,
    ) -> CallEnd {
        let stats = CallStats {
            provider: self.serving.0,
            model: self.serving.1,
            mode,
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cache_read_tokens: usage.cache_read_tokens,
            cache_creation_tokens: usage.cache_creation_tokens,
            estimated: usage.estimated,
            ttft_ms: self.ttft_ms,
            duration_ms: self.watch.active_ms(pause),
            finish,
            // Priced by the engine, which holds the price table.
            cost_usd: None,
        };
        CallEnd::Finished {
            text: self.text,
            tool_calls: self.tool_calls,
            stats,
        }
    }
}

type StreamItem = Option<Result<ProviderEvent, ProviderError>>;

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
    let model = request
        .model
        .clone()
        .unwrap_or_else(|| provider.model().to_string());
    let mut pause = control.pause.clone();
    let mut attempt = Attempt::start((provider.name().to_string(), model), &request, &pause);
    let mut stream = provider.stream(request, control.clone());
    // An item read while merging that is not text: handled on the next turn.
    let mut held: Option<StreamItem> = None;
    loop {
        let item = match held.take() {
            Some(item) => item,
            None => tokio::select! {
                biased;
                _ = control.cancel.cancelled() => return CallEnd::Cancelled,
                item = stream.next() => item,
            },
        };
        let event = match item {
            Some(Ok(event)) => event,
            Some(Err(e)) if e.is_cancelled() => return CallEnd::Cancelled,
            Some(Err(e)) => return CallEnd::Failed(e),
            None => {
                return CallEnd::Failed(ProviderError::new(
                    ErrorKind::StreamCut,
                    "the provider's stream ended before the reply was complete",
                ));
            }
        };
        match event {
            ProviderEvent::Text(mut piece) => {
                attempt.saw_output(&pause);
                if pause.is_paused() {
                    tokio::select! {
                        biased;
                        _ = control.cancel.cancelled() => return CallEnd::Cancelled,
                        _ = pause.wait_until_running() => {}
                    }
                }
                let (pieces, next) = merge_waiting_text(&mut stream, &mut piece, &pause);
                held = next;
                attempt.text.push_str(&piece);
                on_update(CallUpdate::Text(piece, pieces));
            }
            ProviderEvent::ToolCall(call) => {
                on_update(CallUpdate::ToolCall(attempt.add_tool_call(call, &pause)));
            }
            ProviderEvent::Retrying(notice) => {
                attempt.restart(&pause, notice.discarded_text);
                on_update(CallUpdate::Retry(notice));
            }
            ProviderEvent::FailingOver(notice) => {
                attempt.restart(&pause, true);
                attempt.serving = (notice.to.clone(), notice.to_model.clone());
                on_update(CallUpdate::Failover(notice));
            }
            ProviderEvent::Warning(message) => on_update(CallUpdate::Warning(message)),
            ProviderEvent::WaitingForSlot { provider, limit } => {
                on_update(CallUpdate::Queued { provider, limit });
            }
            ProviderEvent::GotSlot { waited_ms } => {
                // The call is only now sent: its time to first token starts here.
                attempt.restart(&pause, false);
                on_update(CallUpdate::Dequeued { waited_ms });
            }
            ProviderEvent::Finished { usage, finish } => {
                return attempt.finish(mode, usage, finish, &pause);
            }
        }
    }
}

/// Appends the text pieces already waiting in the stream to `piece`, up to a bound and not while
/// paused; returns how many pieces it now holds and the non-text item read on the way, if any.
fn merge_waiting_text(
    stream: &mut (impl futures::Stream<Item = Result<ProviderEvent, ProviderError>> + Unpin),
    piece: &mut String,
    pause: &PauseSignal,
) -> (u32, Option<StreamItem>) {
    let mut pieces = 1;
    while pieces < MAX_MERGED_PIECES && !pause.is_paused() {
        match stream.next().now_or_never() {
            Some(Some(Ok(ProviderEvent::Text(more)))) => {
                piece.push_str(&more);
                pieces += 1;
            }
            Some(other) => return (pieces, Some(other)),
            None => break,
        }
    }
    (pieces, None)
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
