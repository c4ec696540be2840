//! What happened: the one vocabulary shared by the session fold, the journal and every front end.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::budget::{Budget, Limit, Scope};
use super::call::{CallMode, CallStats, ErrorKind, FailoverNotice, RetryNotice, ToolCall};
use super::health::StallAction;
use super::ids::{SessionId, StepId};
use super::origin::Origin;
use super::plan::{Plan, PlanSource};
use super::plan_edit::PlanEdit;
use super::provider_choice::ProviderChoice;
use super::redact::Redactor;

/// The user's answer to a tool call waiting for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    AllowOnce,
    /// Allow this tool without asking again for the rest of the session.
    AllowForSession,
    /// The reason, if any, is given to the model as the tool's result.
    Deny {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl ApprovalDecision {
    pub fn allows(&self) -> bool {
        match self {
            ApprovalDecision::AllowOnce | ApprovalDecision::AllowForSession => true,
            ApprovalDecision::Deny { .. } => false,
        }
    }
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    Ok,
    /// The tool ran and failed, or could not run (bad arguments, refused path...).
    Error,
    /// Policy or the user said no.
    Denied,
    /// Interrupted before it finished (or before it started).
    Cancelled,
}

impl ToolStatus {
    pub fn label(self) -> &'static str {
        match self {
            ToolStatus::Ok => "ok",
            ToolStatus::Error => "error",
            ToolStatus::Denied => "denied",
            ToolStatus::Cancelled => "cancelled",
        }
    }

    /// The model is told the tool did not give a normal result.
    pub fn is_error(self) -> bool {
        !matches!(self, ToolStatus::Ok)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterruptReason {
    /// The user asked for it.
    User,
    /// The process that ran the session ended without finishing it (crash, kill -9, power loss).
    Recovered,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    SessionCreated {
        goal: String,
        workspace: PathBuf,
        mode: CallMode,
        provider: String,
        model: String,
        max_parallel: usize,
        /// The schedule or trigger that started it, when no person did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<Origin>,
        /// The providers it chose over the configured routing (`provider` and `model` above
        /// are the planner's, as chosen).
        #[serde(default, skip_serializing_if = "ProviderChoice::is_default")]
        choice: ProviderChoice,
    },
    PlanningStarted {
        attempt: u32,
    },
    PlanRejected {
        attempt: u32,
        error: String,
    },
    PlanReady {
        plan: Plan,
        source: PlanSource,
    },
    Warning {
        message: String,
        /// The step it concerns, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<StepId>,
    },
    StepStarted {
        step: StepId,
        agent: String,
        attempt: u32,
        max_tokens: u32,
        /// This attempt goes on from the conversation (tool calls and results) of the one
        /// before, instead of starting over.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        continues: bool,
    },
    TextDelta {
        step: StepId,
        text: String,
        /// How many streamed pieces this holds (the journal merges consecutive ones); each piece
        /// is about one token, which is how progress is estimated while a call streams.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        chunks: u32,
        /// Only in a journal, where the deltas of one step in one engine turn are written as one
        /// line: the deltas it holds, so a replay can give them back one by one as they were.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parts: Vec<DeltaPart>,
    },
    /// A provider call finished; `step` is None for the planner's calls.
    CallFinished {
        step: Option<StepId>,
        call: CallStats,
    },
    CallFailed {
        step: Option<StepId>,
        error: String,
        /// Absent in journals written before kinds were recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<ErrorKind>,
    },
    /// The call waits for a free slot on its provider's endpoint (`max_concurrent`); `step`
    /// is None for the planner.
    CallQueued {
        step: Option<StepId>,
        provider: String,
        limit: u32,
    },
    /// The waiting call got its slot and was sent.
    CallDequeued {
        step: Option<StepId>,
        waited_ms: u64,
    },
    /// An attempt failed and the provider tries again; `step` is None for the planner.
    CallRetry {
        step: Option<StepId>,
        retry: RetryNotice,
    },
    /// A provider gave up and the call continues on its fallback.
    CallFailover {
        step: Option<StepId>,
        failover: FailoverNotice,
    },
    /// The model asked for a tool to be run.
    ToolCallRequested {
        step: StepId,
        call: ToolCall,
    },
    /// The tool's policy is "ask": the agent waits for the user.
    ApprovalRequested {
        step: StepId,
        call_id: String,
        tool: String,
        /// What the call would do: the command line, the URL, the path.
        detail: String,
    },
    ApprovalDecided {
        step: StepId,
        call_id: String,
        tool: String,
        decision: ApprovalDecision,
    },
    /// A tool call ended; `content` is exactly what the model was given back.
    ToolCallFinished {
        step: StepId,
        call_id: String,
        tool: String,
        status: ToolStatus,
        /// One line for people: "notes.md, 1.2 KB", or the error.
        summary: String,
        content: String,
        duration_ms: u64,
    },
    StepPaused {
        step: StepId,
    },
    StepResumed {
        step: StepId,
    },
    StepCompleted {
        step: StepId,
        output: String,
        output_file: Option<PathBuf>,
    },
    StepFailed {
        step: StepId,
        error: String,
    },
    StepInterrupted {
        step: StepId,
        /// The agent did not stop within the grace period and was aborted.
        forced: bool,
    },
    /// The health watch saw no progress from a running agent for `idle_ms`.
    StepStalled {
        step: StepId,
        idle_ms: u64,
        action: StallAction,
    },
    /// An interrupted step goes back to waiting, to run again (a stall's retry).
    StepRequeued {
        step: StepId,
        reason: String,
    },
    /// The session's budget, as set at its start or raised since.
    BudgetSet {
        budget: Budget,
    },
    /// A cap was reached: the agents it concerns are paused until it is raised.
    BudgetReached {
        scope: Scope,
        limit: Limit,
        reason: String,
    },
    /// The user changed the plan (checked by `plan_edit::apply_edit` before it was accepted).
    PlanEdited {
        edit: PlanEdit,
        /// Completed steps whose output no longer fits: they run again.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        stale: Vec<StepId>,
    },
    SessionPaused,
    SessionUnpaused,
    SessionInterrupted {
        reason: InterruptReason,
    },
    /// An interrupted or failed session was picked up again.
    SessionResumed,
    SessionCompleted,
    SessionFailed {
        error: String,
    },
    /// The head of a fork: the parent's events it keeps (its planning and plan, and every event
    /// of the steps complete at the cut), folded as this session's history but counted as
    /// inherited, not as work done here.
    Inherited {
        parent: SessionId,
        /// The parent's last event before the cut.
        at_seq: u64,
        events: Vec<Envelope>,
    },
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl Event {
    /// The step the event is about, if it is about one.
    pub fn step(&self) -> Option<&StepId> {
        match self {
            Event::Warning { step, .. }
            | Event::CallFinished { step, .. }
            | Event::CallFailed { step, .. }
            | Event::CallQueued { step, .. }
            | Event::CallDequeued { step, .. }
            | Event::CallRetry { step, .. }
            | Event::CallFailover { step, .. } => step.as_ref(),
            Event::StepStarted { step, .. }
            | Event::TextDelta { step, .. }
            | Event::ToolCallRequested { step, .. }
            | Event::ApprovalRequested { step, .. }
            | Event::ApprovalDecided { step, .. }
            | Event::ToolCallFinished { step, .. }
            | Event::StepPaused { step }
            | Event::StepResumed { step }
            | Event::StepCompleted { step, .. }
            | Event::StepFailed { step, .. }
            | Event::StepInterrupted { step, .. }
            | Event::StepStalled { step, .. }
            | Event::StepRequeued { step, .. } => Some(step),
            Event::SessionCreated { .. }
            | Event::PlanningStarted { .. }
            | Event::PlanRejected { .. }
            | Event::PlanReady { .. }
            | Event::BudgetSet { .. }
            | Event::BudgetReached { .. }
            | Event::PlanEdited { .. }
            | Event::SessionPaused
            | Event::SessionUnpaused
            | Event::SessionInterrupted { .. }
            | Event::SessionResumed
            | Event::SessionCompleted
            | Event::SessionFailed { .. }
            | Event::Inherited { .. } => None,
        }
    }

    /// Hides every secret in the event's text: the one place text from providers, tools, models
    /// and people passes before it is folded, journaled or shown.
    pub fn redact(&mut self, redactor: &Redactor) {
        if redactor.is_empty() {
            return;
        }
        let r = redactor;
        match self {
            Event::SessionCreated { goal, .. } => r.scrub(goal),
            Event::Inherited { events, .. } => {
                events.iter_mut().for_each(|e| e.event.redact(r));
            }
            Event::PlanRejected { error, .. }
            | Event::CallFailed { error, .. }
            | Event::StepFailed { error, .. }
            | Event::SessionFailed { error } => r.scrub(error),
            Event::PlanReady { plan, .. } => plan.steps.iter_mut().for_each(|s| s.redact(r)),
            Event::Warning { message, .. } => r.scrub(message),
            Event::TextDelta { text, .. } => r.scrub(text),
            Event::CallRetry { retry, .. } => r.scrub(&mut retry.error),
            Event::CallFailover { failover, .. } => r.scrub(&mut failover.error),
            Event::ToolCallRequested { call, .. } => r.scrub_json(&mut call.arguments),
            Event::ApprovalRequested { detail, .. } => r.scrub(detail),
            Event::ApprovalDecided { decision, .. } => match decision {
                ApprovalDecision::Deny {
                    reason: Some(reason),
                } => r.scrub(reason),
                ApprovalDecision::Deny { reason: None }
                | ApprovalDecision::AllowOnce
                | ApprovalDecision::AllowForSession => {}
            },
            Event::ToolCallFinished {
                summary, content, ..
            } => {
                r.scrub(summary);
                r.scrub(content);
            }
            Event::StepCompleted { output, .. } => r.scrub(output),
            Event::StepRequeued { reason, .. } | Event::BudgetReached { reason, .. } => {
                r.scrub(reason)
            }
            Event::PlanEdited { edit, .. } => edit.redact(r),
            Event::PlanningStarted { .. }
            | Event::StepStarted { .. }
            | Event::CallFinished { .. }
            | Event::CallQueued { .. }
            | Event::CallDequeued { .. }
            | Event::StepPaused { .. }
            | Event::StepResumed { .. }
            | Event::StepInterrupted { .. }
            | Event::StepStalled { .. }
            | Event::BudgetSet { .. }
            | Event::SessionPaused
            | Event::SessionUnpaused
            | Event::SessionInterrupted { .. }
            | Event::SessionResumed
            | Event::SessionCompleted => {}
        }
    }

    /// Events that end a session run; the journal syncs them to disk.
    pub fn ends_session(&self) -> bool {
        matches!(
            self,
            Event::SessionCompleted
                | Event::SessionFailed { .. }
                | Event::SessionInterrupted { .. }
        )
    }
}

/// One text delta inside a merged journal line: its number, its length in bytes, its pieces.
/// Written as `[seq, len, chunks]`: a line may hold hundreds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u64, u32, u32)", into = "(u64, u32, u32)")]
pub struct DeltaPart {
    pub seq: u64,
    pub len: u32,
    pub chunks: u32,
}

impl From<(u64, u32, u32)> for DeltaPart {
    fn from((seq, len, chunks): (u64, u32, u32)) -> Self {
        DeltaPart { seq, len, chunks }
    }
}

impl From<DeltaPart> for (u64, u32, u32) {
    fn from(part: DeltaPart) -> Self {
        (part.seq, part.len, part.chunks)
    }
}

/// An event with its place in the session's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub session: SessionId,
    /// Who issued the command that caused it, when a person did so on a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub event: Event,
}

impl Envelope {
    /// The highest number this envelope stands for: a merged journal line holds several.
    pub fn last_seq(&self) -> u64 {
        if let Event::TextDelta { parts, .. } = &self.event {
            parts.iter().map(|p| p.seq).fold(self.seq, u64::max)
        } else {
            self.seq
        }
    }

    /// The events as they were made: a merged journal line gives back each delta it holds, any
    /// other envelope itself. A line whose parts do not add up to its text is given whole.
    pub fn unmerged(self) -> Vec<Envelope> {
        let Event::TextDelta {
            step, text, parts, ..
        } = &self.event
        else {
            return vec![self];
        };
        let total: usize = parts.iter().map(|p| p.len as usize).sum();
        if parts.is_empty() || total != text.len() {
            return vec![self];
        }
        let mut at = 0;
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            let end = at + part.len as usize;
            let Some(piece) = text.get(at..end) else {
                return vec![self];
            };
            out.push(Envelope {
                seq: part.seq,
                at_ms: self.at_ms,
                session: self.session.clone(),
                by: None,
                event: Event::TextDelta {
                    step: step.clone(),
                    text: piece.to_string(),
                    chunks: part.chunks,
                    parts: Vec::new(),
                },
            });
            at = end;
        }
        out
    }
}

/// What the engine tells its front ends.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The events of one engine turn, in order, each already journaled. Delivered together, so
    /// a front end wakes once per turn rather than once per streamed token.
    Events(Vec<Arc<Envelope>>),
    ModeChanged(CallMode),
    /// A command could not be carried out; the reason is one line for the user.
    Rejected {
        command: String,
        reason: String,
    },
    /// Something failed outside any command (a workspace file could not be written...).
    Problem {
        message: String,
    },
    /// The engine stopped: every session is interrupted or finished and journaled.
    ShutDown,
    /// Attached to a server: the connection to it was lost (what is shown may be stale until
    /// it is back) or made again.
    Link {
        connected: bool,
        message: String,
    },
}
