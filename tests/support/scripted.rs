//! A provider that plays back scripted replies with controlled timing (tokio's clock, so tests
//! run on a paused clock in no real time). It records every request it receives.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use std::time::Duration;

use el_jefe::provider::{
    CallControl, ChatRequest, Provider, ProviderError, ProviderEvent, ProviderStream, ToolCall,
    Usage,
};
use el_jefe::session::call::FinishReason;

#[derive(Debug, Clone)]
pub struct Script {
    pub chunks: Vec<String>,
    /// Before the first chunk.
    pub first_delay: Duration,
    /// Between chunks.
    pub delay: Duration,
    /// Fail with this message after the chunks instead of finishing.
    pub fail: Option<String>,
    /// With no delay, still let other tasks run between chunks, as a network stream does: no
    /// two chunks are ever ready at once.
    pub yield_between: bool,
    /// Tool calls the reply ends with (it then finishes with `FinishReason::ToolCalls`).
    pub tool_calls: Vec<ToolCall>,
    /// Wait this long for a free slot first, saying so as an HTTP provider with
    /// `max_concurrent` does.
    pub queued_for: Option<Duration>,
}

impl Script {
    /// A reply that only calls tools.
    pub fn calls(calls: Vec<ToolCall>) -> Script {
        Script {
            chunks: Vec::new(),
            first_delay: std::time::Duration::ZERO,
            delay: std::time::Duration::ZERO,
            fail: None,
            yield_between: false,
            tool_calls: calls,
            queued_for: None,
        }
    }

    pub fn text(text: &str, chunks: usize, delay: Duration) -> Script {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        let per = words.len().div_ceil(chunks.max(1)).max(1);
        Script {
            chunks: words.chunks(per).map(|c| c.concat()).collect(),
            first_delay: delay,
            delay,
            fail: None,
            yield_between: false,
            tool_calls: Vec::new(),
            queued_for: None,
        }
    }

    pub fn chunks(n: usize, delay: Duration) -> Script {
        Script {
            chunks: (0..n).map(|i| format!("w{i} ")).collect(),
            first_delay: delay,
            delay,
            fail: None,
            yield_between: false,
            tool_calls: Vec::new(),
            queued_for: None,
        }
    }
}

type ScriptFn = dyn Fn(&ChatRequest) -> Script + Send + Sync;

pub struct ScriptedProvider {
    script: Box<ScriptFn>,
    pub requests: Arc<Mutex<Vec<ChatRequest>>>,
    /// Keep every request for the test to look at (benchmarks do not: it would be their memory).
    record: bool,
    /// Asks for tools only on steps that need them, as the embedded model does.
    sparing_with_tools: bool,
    name: &'static str,
}

impl ScriptedProvider {
    pub fn new(script: impl Fn(&ChatRequest) -> Script + Send + Sync + 'static) -> Self {
        ScriptedProvider {
            script: Box::new(script),
            requests: Arc::new(Mutex::new(Vec::new())),
            record: true,
            sparing_with_tools: false,
            name: "scripted",
        }
    }

    /// Under another name, for tests with several providers.
    pub fn named(self, name: &'static str) -> Self {
        ScriptedProvider { name, ..self }
    }

    /// Like the embedded model: offered tools only on steps whose task asks for them.
    pub fn sparing_with_tools(self) -> Self {
        ScriptedProvider {
            sparing_with_tools: true,
            ..self
        }
    }

    /// A provider that keeps no requests.
    pub fn unrecorded(script: impl Fn(&ChatRequest) -> Script + Send + Sync + 'static) -> Self {
        ScriptedProvider {
            record: false,
            ..ScriptedProvider::new(script)
        }
    }

    /// Requests for steps (not the planner), in the order they were made.
    pub fn step_requests(&self) -> Vec<ChatRequest> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| !is_planner(r))
            .cloned()
            .collect()
    }
}

pub fn is_planner(request: &ChatRequest) -> bool {
    request.messages[0].content.contains("project planner")
}

/// The task line of a step request ("Your task (title): ..."), to tell steps apart.
pub fn task_of(request: &ChatRequest) -> String {
    request.messages[1]
        .content
        .lines()
        .find(|l| l.starts_with("Your task"))
        .unwrap_or_default()
        .to_string()
}

/// A plan JSON with the given (id, agent, deps) steps.
pub fn plan_json(steps: &[(&str, &str, &[&str])]) -> String {
    let steps: Vec<serde_json::Value> = steps
        .iter()
        .map(|(id, agent, deps)| {
            serde_json::json!({
                "id": id, "title": format!("Step {id}"), "agent": agent,
                "task": format!("task-{id}"), "depends_on": deps,
            })
        })
        .collect();
    serde_json::json!({ "steps": steps }).to_string()
}

impl Provider for ScriptedProvider {
    fn name(&self) -> &str {
        self.name
    }

    fn model(&self) -> &str {
        "script-1"
    }

    fn supports_grammar(&self) -> bool {
        false
    }

    fn tools_only_when_asked(&self) -> bool {
        self.sparing_with_tools
    }

    fn stream(&self, request: ChatRequest, _control: CallControl) -> ProviderStream {
        let script = (self.script)(&request);
        if self.record {
            self.requests.lock().unwrap().push(request);
        }
        let queue: Vec<Result<ProviderEvent, ProviderError>> = match script.queued_for {
            Some(_) => vec![Ok(ProviderEvent::WaitingForSlot {
                provider: "scripted".into(),
                limit: 1,
            })],
            None => Vec::new(),
        };
        let slot = futures::stream::iter(script.queued_for).then(|wait| async move {
            tokio::time::sleep(wait).await;
            Ok(ProviderEvent::GotSlot {
                waited_ms: wait.as_millis() as u64,
            })
        });
        let state = (script, 0usize, false);
        let reply = futures::stream::unfold(state, |(script, i, done)| async move {
            if done {
                return None;
            }
            if i < script.chunks.len() {
                let wait = if i == 0 {
                    script.first_delay
                } else {
                    script.delay
                };
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                } else if script.yield_between && i > 0 {
                    tokio::task::yield_now().await;
                }
                let chunk = script.chunks[i].clone();
                return Some((Ok(ProviderEvent::Text(chunk)), (script, i + 1, false)));
            }
            let call_index = i - script.chunks.len();
            if script.fail.is_none() && call_index < script.tool_calls.len() {
                let call = script.tool_calls[call_index].clone();
                return Some((Ok(ProviderEvent::ToolCall(call)), (script, i + 1, false)));
            }
            let finish = if script.tool_calls.is_empty() {
                FinishReason::Stop
            } else {
                FinishReason::ToolCalls
            };
            let item = match &script.fail {
                Some(message) => Err(ProviderError::failed(message.clone())),
                None => Ok(ProviderEvent::Finished {
                    usage: Usage {
                        input_tokens: 10,
                        output_tokens: script.chunks.len() as u64,
                        ..Usage::default()
                    },
                    finish,
                }),
            };
            Some((item, (script, i, true)))
        });
        Box::pin(futures::stream::iter(queue).chain(slot).chain(reply))
    }
}
