//! An agent task: runs one step as a loop of provider calls and tool calls, streaming its text
//! and every tool call to the engine as they happen.

use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::measured_call::{CallEnd, CallUpdate, measured_call};
use super::task::{Reporter, StepOutcome};
use crate::provider::{CallControl, ChatMessage, ChatRequest, Provider, ToolCall, ToolChoice};
use crate::session::builtin::call_detail;
use crate::session::event::{ApprovalDecision, Event, ToolStatus};
use crate::session::ids::StepId;
use crate::tools::{Policy, Sandbox, ToolRegistry};

/// What a step may use besides the model.
pub struct StepTools {
    pub registry: Arc<ToolRegistry>,
    pub sandbox: Sandbox,
    /// The agent role, for per-role policies.
    pub role: String,
    /// Provider calls the step may make before it must answer without tools.
    pub max_rounds: u32,
}

pub struct StepRun {
    pub provider: Arc<dyn Provider>,
    pub step: StepId,
    /// The step's prompt, with the tools it is offered.
    pub request: ChatRequest,
    pub control: CallControl,
    pub reporter: Reporter,
    pub tools: Option<StepTools>,
    /// The conversation of an earlier, interrupted attempt, to go on from.
    pub earlier_turns: Vec<ChatMessage>,
}

/// Told to the model when it has used up its tool rounds.
const LAST_ROUND_NOTE: &str =
    "You have used all the tool calls you may make for this step. Give your final answer now.";
/// Told to the model when it only repeated calls it had already made.
const REPEAT_NOTE: &str =
    "You already made that tool call and its result is above. Give your final answer now.";

pub async fn run_step(run: StepRun) -> StepOutcome {
    let StepRun {
        provider,
        step,
        request,
        control,
        reporter,
        tools,
        earlier_turns,
    } = run;
    let mut turns = earlier_turns;
    let max_rounds = tools.as_ref().map_or(1, |t| t.max_rounds.max(1));
    // Small models fall into calling the same tool with the same arguments over and over.
    let mut made: Vec<(String, serde_json::Value)> = turns
        .iter()
        .flat_map(|t| &t.tool_calls)
        .map(|c| (c.name.clone(), c.arguments.clone()))
        .collect();
    let mut only_repeats = false;
    for round in 1..=max_rounds {
        let mut call = request.clone();
        call.messages.extend(turns.iter().cloned());
        // A required tool call is the step's first move, not every move: then it may answer.
        if round > 1 || !turns.is_empty() {
            call.tool_choice = ToolChoice::Auto;
        }
        if !call.tools.is_empty() && (round == max_rounds || only_repeats) {
            call.tools = Arc::default();
            call.tool_choice = ToolChoice::Auto;
            call.messages.push(ChatMessage::user(if only_repeats {
                REPEAT_NOTE
            } else {
                LAST_ROUND_NOTE
            }));
        }
        let end = measured_call(&*provider, call, &control, |update| {
            if let Some(event) = update_event(Some(&step), update) {
                reporter.event(event);
            }
        })
        .await;
        let (text, tool_calls) = match end {
            CallEnd::Finished {
                text,
                tool_calls,
                stats,
            } => {
                reporter.event(Event::CallFinished {
                    step: Some(step.clone()),
                    call: stats,
                });
                (text, tool_calls)
            }
            CallEnd::Failed(error) => {
                reporter.event(Event::CallFailed {
                    step: Some(step.clone()),
                    error: error.message.clone(),
                    kind: Some(error.kind),
                });
                return StepOutcome::Failed {
                    error: error.message,
                };
            }
            CallEnd::Cancelled => return StepOutcome::Interrupted { forced: false },
        };
        let Some(tools) = tools.as_ref().filter(|_| !tool_calls.is_empty()) else {
            if text.trim().is_empty() {
                // Never a completed step with nothing in it; resuming the session tries again.
                return StepOutcome::Failed {
                    error: format!("{} gave an empty answer", provider.name()),
                };
            }
            return StepOutcome::Completed { output: text };
        };
        only_repeats = tool_calls
            .iter()
            .all(|c| made.iter().any(|(n, a)| *n == c.name && *a == c.arguments));
        made.extend(
            tool_calls
                .iter()
                .map(|c| (c.name.clone(), c.arguments.clone())),
        );
        turns.push(ChatMessage::assistant_with_tools(text, tool_calls.clone()));
        for (i, tool_call) in tool_calls.iter().enumerate() {
            match run_tool_call(tool_call, tools, &request, &control, &reporter, &step).await {
                Some(result) => turns.push(result),
                None => {
                    // Every call of the turn gets a result, so the saved conversation stays
                    // valid to send again when the step is resumed.
                    for unfinished in &tool_calls[i..] {
                        report_finished(
                            &reporter,
                            &step,
                            unfinished,
                            ToolStatus::Cancelled,
                            "interrupted".into(),
                            crate::session::session_fold::CANCELLED_TOOL_RESULT.into(),
                            0,
                        );
                    }
                    return StepOutcome::Interrupted { forced: false };
                }
            }
        }
    }
    StepOutcome::Failed {
        error: format!("no answer after {max_rounds} rounds of tool calls"),
    }
}

fn report_finished(
    reporter: &Reporter,
    step: &StepId,
    call: &ToolCall,
    status: ToolStatus,
    summary: String,
    content: String,
    duration_ms: u64,
) -> ChatMessage {
    reporter.event(Event::ToolCallFinished {
        step: step.clone(),
        call_id: call.id.clone(),
        tool: call.name.clone(),
        status,
        summary,
        content: content.clone(),
        duration_ms,
    });
    ChatMessage::tool_result(call.id.clone(), content, status.is_error())
}

/// Runs one tool call through its policy; None when the step was interrupted meanwhile.
async fn run_tool_call(
    call: &ToolCall,
    tools: &StepTools,
    request: &ChatRequest,
    control: &CallControl,
    reporter: &Reporter,
    step: &StepId,
) -> Option<ChatMessage> {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_millis() as u64;
    let offered = request.tools.iter().any(|t| t.name == call.name);
    let policy = if offered {
        tools.registry.policy(Some(&tools.role), &call.name)
    } else {
        Policy::Deny
    };
    match policy {
        Policy::Deny => {
            let why = if tools.registry.get(&call.name).is_none() {
                let names: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
                format!(
                    "there is no tool `{}`; the tools are: {}",
                    call.name,
                    names.join(", ")
                )
            } else {
                format!("the tool `{}` is not allowed for this agent", call.name)
            };
            let status = if tools.registry.get(&call.name).is_none() {
                ToolStatus::Error
            } else {
                ToolStatus::Denied
            };
            return Some(report_finished(
                reporter,
                step,
                call,
                status,
                why.clone(),
                why,
                elapsed(),
            ));
        }
        Policy::Ask => {
            let (reply, answer) = oneshot::channel();
            reporter.ask_approval(
                call.id.clone(),
                call.name.clone(),
                call_detail(&call.name, &call.arguments),
                reply,
            );
            let decision = tokio::select! {
                d = answer => d.unwrap_or(ApprovalDecision::Deny {
                    reason: Some("nobody could answer the approval request".into()),
                }),
                _ = control.cancel.cancelled() => return None,
            };
            if let ApprovalDecision::Deny { reason } = decision {
                let content = match &reason {
                    Some(r) => format!("This tool call was denied: {r}"),
                    None => "This tool call was denied by the user.".to_string(),
                };
                let summary = reason.unwrap_or_else(|| "by the user".into());
                return Some(report_finished(
                    reporter,
                    step,
                    call,
                    ToolStatus::Denied,
                    summary,
                    content,
                    elapsed(),
                ));
            }
        }
        Policy::Allow => {}
    }
    // A paused agent holds before every tool call, as it holds between tokens.
    let mut pause = control.pause.clone();
    tokio::select! {
        _ = pause.wait_until_running() => {}
        _ = control.cancel.cancelled() => return None,
    }
    let ran_from = Instant::now();
    let result = tools
        .registry
        .run(&call.name, &call.arguments, &tools.sandbox, &control.cancel)
        .await;
    if control.cancel.is_cancelled() {
        return None;
    }
    let took = ran_from.elapsed().as_millis() as u64;
    Some(match result {
        Ok(out) => report_finished(
            reporter,
            step,
            call,
            ToolStatus::Ok,
            out.summary,
            out.content,
            took,
        ),
        Err(e) => report_finished(
            reporter,
            step,
            call,
            ToolStatus::Error,
            e.message.lines().next().unwrap_or("").to_string(),
            e.message,
            took,
        ),
    })
}

/// The event that records what a running call reported; `step` is None for the planner, whose
/// text and tool calls are not news for the user (its text is the plan, read when it is done).
pub fn update_event(step: Option<&StepId>, update: CallUpdate) -> Option<Event> {
    let step = step.cloned();
    Some(match update {
        CallUpdate::Text(text, chunks) => Event::TextDelta {
            step: step?,
            text,
            chunks,
        },
        CallUpdate::ToolCall(call) => Event::ToolCallRequested { step: step?, call },
        CallUpdate::Retry(retry) => Event::CallRetry { step, retry },
        CallUpdate::Failover(failover) => Event::CallFailover { step, failover },
        CallUpdate::Warning(message) => Event::Warning { message, step },
        CallUpdate::Queued { provider, limit } => Event::CallQueued {
            step,
            provider,
            limit,
        },
        CallUpdate::Dequeued { waited_ms } => Event::CallDequeued { step, waited_ms },
    })
}
