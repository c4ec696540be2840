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

/// Who reports for the step, and how it is stopped.
struct StepContext<'a> {
    step: &'a StepId,
    reporter: &'a Reporter,
    control: &'a CallControl,
}

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
    let ctx = StepContext {
        step: &step,
        reporter: &reporter,
        control: &control,
    };
    let mut turns = earlier_turns;
    let max_rounds = tools.as_ref().map_or(1, |t| t.max_rounds.max(1));
    let mut repeats = RepeatWatch::of(&turns);
    for round in 1..=max_rounds {
        let last_chance = round == max_rounds || repeats.only_repeats;
        let call = round_request(&request, &turns, round, last_chance.then_some(&repeats));
        let (text, tool_calls) = match call_model(&*provider, call, &ctx).await {
            Ok(reply) => reply,
            Err(outcome) => return outcome,
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
        repeats.saw(&tool_calls);
        turns.push(ChatMessage::assistant_with_tools(text, tool_calls.clone()));
        if let Err(outcome) = run_tool_calls(&tool_calls, tools, &request, &ctx, &mut turns).await {
            return outcome;
        }
    }
    StepOutcome::Failed {
        error: format!("no answer after {max_rounds} rounds of tool calls"),
    }
}

/// Small models fall into calling the same tool with the same arguments over and over.
struct RepeatWatch {
    made: Vec<(String, serde_json::Value)>,
    /// The latest turn only repeated calls made before.
    only_repeats: bool,
}

impl RepeatWatch {
    fn of(turns: &[ChatMessage]) -> Self {
        RepeatWatch {
            made: turns
                .iter()
                .flat_map(|t| &t.tool_calls)
                .map(|c| (c.name.clone(), c.arguments.clone()))
                .collect(),
            only_repeats: false,
        }
    }

    fn saw(&mut self, calls: &[ToolCall]) {
        self.only_repeats = calls.iter().all(|c| {
            self.made
                .iter()
                .any(|(n, a)| *n == c.name && *a == c.arguments)
        });
        self.made
            .extend(calls.iter().map(|c| (c.name.clone(), c.arguments.clone())));
    }
}

/// The request of one round: the prompt and the conversation so far. On the last chance (the
/// last round, or after only repeats) the tools are taken away and the model told to answer.
fn round_request(
    request: &ChatRequest,
    turns: &[ChatMessage],
    round: u32,
    last_chance: Option<&RepeatWatch>,
) -> ChatRequest {
    let mut call = request.clone();
    call.messages.extend(turns.iter().cloned());
    // A required tool call is the step's first move, not every move: then it may answer.
    if round > 1 || !turns.is_empty() {
        call.tool_choice = ToolChoice::Auto;
    }
    if let Some(repeats) = last_chance
        && !call.tools.is_empty()
    {
        call.tools = Arc::default();
        call.tool_choice = ToolChoice::Auto;
        call.messages
            .push(ChatMessage::user(if repeats.only_repeats {
                REPEAT_NOTE
            } else {
                LAST_ROUND_NOTE
            }));
    }
    call
}

/// One provider call, reported as it streams; its text and tool calls, or how the step ends.
async fn call_model(
    provider: &dyn Provider,
    call: ChatRequest,
    ctx: &StepContext<'_>,
) -> Result<(String, Vec<ToolCall>), StepOutcome> {
    let end = measured_call(provider, call, ctx.control, |update| {
        if let Some(event) = update_event(Some(ctx.step), update) {
            ctx.reporter.event(event);
        }
    })
    .await;
    match end {
        CallEnd::Finished {
            text,
            tool_calls,
            stats,
        } => {
            ctx.reporter.event(Event::CallFinished {
                step: Some(ctx.step.clone()),
                call: stats,
            });
            Ok((text, tool_calls))
        }
        CallEnd::Failed(error) => {
            ctx.reporter.event(Event::CallFailed {
                step: Some(ctx.step.clone()),
                error: error.message.clone(),
                kind: Some(error.kind),
            });
            Err(StepOutcome::Failed {
                error: error.message,
            })
        }
        CallEnd::Cancelled => Err(StepOutcome::Interrupted { forced: false }),
    }
}

/// Runs a turn's tool calls in order, adding each result to the conversation.
async fn run_tool_calls(
    tool_calls: &[ToolCall],
    tools: &StepTools,
    request: &ChatRequest,
    ctx: &StepContext<'_>,
    turns: &mut Vec<ChatMessage>,
) -> Result<(), StepOutcome> {
    for (i, tool_call) in tool_calls.iter().enumerate() {
        let Some(result) = run_tool_call(tool_call, tools, request, ctx).await else {
            // Every call of the turn gets a result, so the saved conversation stays valid to
            // send again when the step is resumed.
            for unfinished in &tool_calls[i..] {
                ctx.report_finished(
                    unfinished,
                    ToolStatus::Cancelled,
                    "interrupted".into(),
                    crate::session::session_fold::CANCELLED_TOOL_RESULT.into(),
                    0,
                );
            }
            return Err(StepOutcome::Interrupted { forced: false });
        };
        turns.push(result);
    }
    Ok(())
}

impl StepContext<'_> {
    fn report_finished(
        &self,
        call: &ToolCall,
        status: ToolStatus,
        summary: String,
        content: String,
        duration_ms: u64,
    ) -> ChatMessage {
        self.reporter.event(Event::ToolCallFinished {
            step: self.step.clone(),
            call_id: call.id.clone(),
            tool: call.name.clone(),
            status,
            summary,
            content: content.clone(),
            duration_ms,
        });
        ChatMessage::tool_result(call.id.clone(), content, status.is_error())
    }
}

/// What the user said to a tool call that asks first.
enum Approval {
    Granted,
    Denied(ChatMessage),
    /// The step was interrupted while waiting.
    Cancelled,
}

/// Runs one tool call through its policy; None when the step was interrupted meanwhile.
async fn run_tool_call(
    call: &ToolCall,
    tools: &StepTools,
    request: &ChatRequest,
    ctx: &StepContext<'_>,
) -> Option<ChatMessage> {
    let started = Instant::now();
    let offered = request.tools.iter().any(|t| t.name == call.name);
    let policy = if offered {
        tools.registry.policy(Some(&tools.role), &call.name)
    } else {
        Policy::Deny
    };
    match policy {
        Policy::Deny => return Some(refuse(call, tools, request, ctx, started)),
        Policy::Ask => match ask_user(call, ctx, started).await {
            Approval::Granted => {}
            Approval::Denied(result) => return Some(result),
            Approval::Cancelled => return None,
        },
        Policy::Allow => {}
    }
    execute(call, tools, ctx).await
}

/// The result of a call the agent may not make: a tool that does not exist, or is not allowed.
fn refuse(
    call: &ToolCall,
    tools: &StepTools,
    request: &ChatRequest,
    ctx: &StepContext<'_>,
    started: Instant,
) -> ChatMessage {
    let exists = tools.registry.get(&call.name).is_some();
    let why = if exists {
        format!("the tool `{}` is not allowed for this agent", call.name)
    } else {
        let names: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
        format!(
            "there is no tool `{}`; the tools are: {}",
            call.name,
            names.join(", ")
        )
    };
    let status = if exists {
        ToolStatus::Denied
    } else {
        ToolStatus::Error
    };
    let took = started.elapsed().as_millis() as u64;
    ctx.report_finished(call, status, why.clone(), why, took)
}

async fn ask_user(call: &ToolCall, ctx: &StepContext<'_>, started: Instant) -> Approval {
    let (reply, answer) = oneshot::channel();
    ctx.reporter.ask_approval(
        call.id.clone(),
        call.name.clone(),
        call_detail(&call.name, &call.arguments),
        reply,
    );
    let decision = tokio::select! {
        d = answer => d.unwrap_or(ApprovalDecision::Deny {
            reason: Some("nobody could answer the approval request".into()),
        }),
        _ = ctx.control.cancel.cancelled() => return Approval::Cancelled,
    };
    let ApprovalDecision::Deny { reason } = decision else {
        return Approval::Granted;
    };
    let content = match &reason {
        Some(r) => format!("This tool call was denied: {r}"),
        None => "This tool call was denied by the user.".to_string(),
    };
    let summary = reason.unwrap_or_else(|| "by the user".into());
    let took = started.elapsed().as_millis() as u64;
    Approval::Denied(ctx.report_finished(call, ToolStatus::Denied, summary, content, took))
}

/// Runs an allowed call once the agent is not paused; None when interrupted meanwhile.
async fn execute(call: &ToolCall, tools: &StepTools, ctx: &StepContext<'_>) -> Option<ChatMessage> {
    // A paused agent holds before every tool call, as it holds between tokens.
    let mut pause = ctx.control.pause.clone();
    tokio::select! {
        _ = pause.wait_until_running() => {}
        _ = ctx.control.cancel.cancelled() => return None,
    }
    let ran_from = Instant::now();
    let result = tools
        .registry
        .run(
            &call.name,
            &call.arguments,
            &tools.sandbox,
            &ctx.control.cancel,
        )
        .await;
    if ctx.control.cancel.is_cancelled() {
        return None;
    }
    let took = ran_from.elapsed().as_millis() as u64;
    Some(match result {
        Ok(out) => ctx.report_finished(call, ToolStatus::Ok, out.summary, out.content, took),
        Err(e) => ctx.report_finished(
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
            parts: Vec::new(),
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
