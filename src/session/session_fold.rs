//! Session state as a pure fold over its events: the same code serves live state, crash recovery
//! and `el-jefe show`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rustc_hash::FxHashMap;

use crate::format::whole_seconds;

use super::budget::{Budget, Scope};
use super::builtin::call_detail;
use super::call::CallMode;
use super::call::{ChatMessage, ChatRole, ToolCall};
use super::dag_index::DagIndex;
use super::event::{Envelope, Event};
use super::health::StallAction;
use super::ids::{SessionId, StepId};
use super::metrics::AgentMetrics;
use super::origin::Origin;
use super::plan::{PlanSource, StepSpec};
use super::provider_choice::ProviderChoice;

mod calls;
mod edits;
mod lifecycle;
mod steered;
pub use steered::Steered;
mod steps;
mod tool_calls;

use lifecycle::Created;
use tool_calls::ToolResult;

pub use super::status::{SessionStatus, StepStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct StepState {
    pub spec: StepSpec,
    pub status: StepStatus,
    /// 0 before the first start.
    pub attempt: u32,
    /// Text of the latest attempt (final answer once completed).
    pub output: String,
    /// What the agent's pane shows: the text and a line for each tool call and its result.
    pub transcript: String,
    pub output_file: Option<PathBuf>,
    pub error: Option<String>,
    pub max_tokens: u32,
    pub started_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
    /// Running time of finished attempts.
    busy_ms_done: u64,
    /// Who paused, resumed or interrupted it last, on a server ("paused by ana"); None when
    /// nobody did, or the user of the process running the engine.
    pub steered: Option<Steered>,
    pub metrics: AgentMetrics,
    /// Where the text of the call in progress starts in `output`: a retry or failover that
    /// throws that call's text away cuts back to here.
    call_text_start: usize,
    /// The latest retry, failover or warning about this step, for the user.
    pub notice: Option<String>,
    /// Calls that started over, throwing their text away.
    call_restarts: u32,
    call_transcript_start: usize,
    /// The conversation after the step's prompt: assistant turns with tool calls and the
    /// tools' results, always valid to send again (a call with no result gets a cancelled one
    /// before it is continued).
    pub turns: Vec<ChatMessage>,
    /// The last turn belongs to the call in progress and collects its tool calls.
    open_turn: bool,
    /// A tool call waiting for the user's approval.
    pub waiting_approval: Option<PendingApproval>,
    /// The provider on which the step's call waits for a free slot (`max_concurrent`).
    pub queued_on: Option<String>,
    /// Tokens (in and out) of the latest attempt: what running the step again would cost.
    pub run_tokens: u64,
    /// The health watch flagged the agent and it has shown no progress since.
    pub stalled: bool,
    /// Its work was done in the session this one was forked from, and copied here.
    pub inherited: bool,
    /// US dollars spent on calls whose model has a price.
    pub cost: f64,
    /// The provider and model its latest call ran on (or failed over to), once known.
    pub runs_on: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingApproval {
    pub call_id: String,
    pub tool: String,
    pub detail: String,
}

/// The result a tool call gets when the run stopped before it finished.
pub const CANCELLED_TOOL_RESULT: &str =
    "cancelled: the run was interrupted before this tool finished";

/// Adds a cancelled result for every tool call that has none, right after the results that
/// exist, so the conversation can be sent to any provider again.
fn settle_dangling_calls(turns: &mut Vec<ChatMessage>) {
    let mut settled = Vec::with_capacity(turns.len());
    let mut open: Vec<String> = Vec::new();
    let close = |open: &mut Vec<String>, settled: &mut Vec<ChatMessage>| {
        for id in open.drain(..) {
            settled.push(ChatMessage::tool_result(id, CANCELLED_TOOL_RESULT, true));
        }
    };
    for turn in turns.drain(..) {
        match turn.role {
            ChatRole::Tool => {
                if let Some(id) = &turn.tool_call_id {
                    open.retain(|o| o != id);
                }
            }
            ChatRole::Assistant | ChatRole::User | ChatRole::System => {
                close(&mut open, &mut settled);
                open = turn.tool_calls.iter().map(|c| c.id.clone()).collect();
            }
        }
        settled.push(turn);
    }
    close(&mut open, &mut settled);
    *turns = settled;
}

/// "no progress for 2m 0s; retrying".
pub fn stall_notice(idle_ms: u64, action: StallAction) -> String {
    let idle = whole_seconds(idle_ms);
    let what = match action {
        StallAction::Warn => "still waiting",
        StallAction::Retry => "starting it again",
        StallAction::Interrupt => "interrupting it",
    };
    format!("stalled: no progress for {idle}; {what}")
}

impl StepState {
    /// Progress: whatever the health watch said no longer holds.
    fn clear_stall(&mut self) {
        if self.stalled {
            self.stalled = false;
            self.notice = None;
        }
    }

    /// The call in progress starts over: its text so far is dropped.
    fn restart_call(&mut self) {
        let start = self.call_text_start.min(self.output.len());
        self.output.truncate(start);
        let start = self.call_transcript_start.min(self.transcript.len());
        self.transcript.truncate(start);
        if self.open_turn {
            self.turns.pop();
            self.open_turn = false;
        }
        self.metrics.live_chunks = 0;
        self.call_restarts += 1;
    }

    /// Changes whenever `output` was rewritten instead of appended to, so views that index it
    /// incrementally know to start over.
    pub fn text_generation(&self) -> u64 {
        (u64::from(self.attempt) << 32) | u64::from(self.call_restarts)
    }

    fn new(spec: StepSpec) -> Self {
        StepState {
            spec,
            status: StepStatus::Pending,
            attempt: 0,
            output: String::new(),
            transcript: String::new(),
            output_file: None,
            error: None,
            max_tokens: 0,
            started_at_ms: None,
            ended_at_ms: None,
            busy_ms_done: 0,
            metrics: AgentMetrics::default(),
            call_text_start: 0,
            notice: None,
            call_restarts: 0,
            call_transcript_start: 0,
            turns: Vec::new(),
            open_turn: false,
            waiting_approval: None,
            queued_on: None,
            run_tokens: 0,
            stalled: false,
            inherited: false,
            cost: 0.0,
            runs_on: None,
            steered: None,
        }
    }

    fn push_transcript_line(&mut self, line: &str) {
        if !self.transcript.is_empty() && !self.transcript.ends_with('\n') {
            self.transcript.push('\n');
        }
        self.transcript.push_str(line);
        self.transcript.push('\n');
    }

    fn tool_requested(&mut self, call: &ToolCall) {
        if self.open_turn {
            if let Some(turn) = self.turns.last_mut() {
                turn.tool_calls.push(call.clone());
            }
        } else {
            let text = self.output.get(self.call_text_start..).unwrap_or("");
            self.turns
                .push(ChatMessage::assistant_with_tools(text, vec![call.clone()]));
            self.open_turn = true;
        }
        self.metrics.tool_calls += 1;
        let line = format!(
            "▸ {} {}",
            call.name,
            call_detail(&call.name, &call.arguments)
        );
        self.push_transcript_line(&line);
    }

    fn call_finished(&mut self) {
        if self.open_turn {
            let text = self
                .output
                .get(self.call_text_start..)
                .unwrap_or("")
                .to_string();
            if let Some(turn) = self.turns.last_mut() {
                turn.content = text;
            }
            self.open_turn = false;
        }
        self.call_text_start = self.output.len();
        self.call_transcript_start = self.transcript.len();
    }

    /// 0.0 to 1.0; a running step estimates from tokens so far against its token limit.
    pub fn progress(&self) -> f64 {
        match self.status {
            StepStatus::Completed => 1.0,
            StepStatus::Pending => 0.0,
            StepStatus::Running
            | StepStatus::Paused
            | StepStatus::Failed
            | StepStatus::Interrupted => {
                if self.max_tokens == 0 {
                    0.0
                } else {
                    (self.metrics.live_chunks as f64 / self.max_tokens as f64).min(0.99)
                }
            }
        }
    }

    pub fn busy_ms(&self, now_ms: i64) -> u64 {
        let current = match (self.status.is_live(), self.started_at_ms) {
            (true, Some(start)) => (now_ms - start).max(0) as u64,
            _ => 0,
        };
        self.busy_ms_done + current
    }

    fn finish_attempt(&mut self, status: StepStatus, at_ms: i64) {
        if self.status.is_live()
            && let Some(start) = self.started_at_ms
        {
            self.busy_ms_done += (at_ms - start).max(0) as u64;
        }
        self.status = status;
        self.ended_at_ms = Some(at_ms);
        self.waiting_approval = None;
        self.queued_on = None;
        self.open_turn = false;
        self.stalled = false;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    pub id: SessionId,
    pub goal: String,
    pub workspace: PathBuf,
    pub mode: CallMode,
    pub provider: String,
    pub model: String,
    pub max_parallel: usize,
    pub status: SessionStatus,
    /// Paused as a whole (`P`): no new step starts until unpaused.
    pub paused: bool,
    /// Who started, paused, unpaused, interrupted, resumed or edited it last, on a server.
    pub steered: Option<Steered>,
    /// The schedule or trigger that started it, when no person did.
    pub origin: Option<Origin>,
    /// The providers it chose over the configured routing; a resume runs on them again.
    pub choice: ProviderChoice,
    pub created_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub planning_attempt: u32,
    pub plan_source: Option<PlanSource>,
    pub steps: Vec<StepState>,
    /// Position of each step in `steps`, so lookups stay cheap in big plans.
    step_index: FxHashMap<StepId, usize>,
    /// What the scheduler needs, kept up to date as events arrive.
    pub(crate) dag: DagIndex,
    pub warnings: Vec<String>,
    /// Each edit of the plan, in words, with the steps it sent back to run.
    pub plan_edits: Vec<String>,
    pub budget: Budget,
    /// Caps reached and not raised since: the scope and the reason, for the user.
    pub needs_attention: Vec<(Scope, String)>,
    /// US dollars the planner's calls cost, where priced.
    pub planner_cost: f64,
    /// The latest retry or failover of the planner's calls, while planning.
    pub planner_notice: Option<String>,
    /// Tools the user allowed for the rest of the session.
    pub allowed_tools: BTreeSet<String>,
    pub error: Option<String>,
    pub planner_metrics: AgentMetrics,
    /// The planner's calls made in the parent of a fork, copied with its plan.
    pub inherited_planner_metrics: AgentMetrics,
    /// The session this one was forked from, and the parent's last event before the cut.
    pub forked_from: Option<(SessionId, u64)>,
    /// Folding the events of an `Inherited` block.
    inheriting: bool,
    pub last_seq: u64,
    /// Start of the current run (creation or latest resume), None when not running.
    run_started_ms: Option<i64>,
    runs_ms_done: u64,
    /// Since when at least one step has been running, None while none is.
    steps_busy_since: Option<i64>,
    steps_busy_ms_done: u64,
}

impl SessionState {
    pub fn new(id: SessionId) -> Self {
        SessionState {
            id,
            goal: String::new(),
            workspace: PathBuf::new(),
            mode: CallMode::Streaming,
            provider: String::new(),
            model: String::new(),
            max_parallel: 1,
            status: SessionStatus::Starting,
            paused: false,
            steered: None,
            origin: None,
            choice: ProviderChoice::default(),
            created_at_ms: 0,
            ended_at_ms: None,
            planning_attempt: 0,
            plan_source: None,
            steps: Vec::new(),
            step_index: FxHashMap::default(),
            dag: DagIndex::default(),
            warnings: Vec::new(),
            plan_edits: Vec::new(),
            budget: Budget::default(),
            needs_attention: Vec::new(),
            planner_cost: 0.0,
            planner_notice: None,
            allowed_tools: BTreeSet::new(),
            error: None,
            planner_metrics: AgentMetrics::default(),
            inherited_planner_metrics: AgentMetrics::default(),
            forked_from: None,
            inheriting: false,
            last_seq: 0,
            run_started_ms: None,
            runs_ms_done: 0,
            steps_busy_since: None,
            steps_busy_ms_done: 0,
        }
    }

    /// Folds a whole history.
    pub fn replay<'a>(id: SessionId, events: impl IntoIterator<Item = &'a Envelope>) -> Self {
        let mut state = SessionState::new(id);
        for e in events {
            state.apply(e);
        }
        state
    }

    pub fn step(&self, id: &StepId) -> Option<&StepState> {
        self.step_index.get(id).map(|&i| &self.steps[i])
    }

    fn step_mut(&mut self, id: &StepId) -> Option<&mut StepState> {
        self.step_index.get(id).map(|&i| &mut self.steps[i])
    }

    /// Ends a step's attempt and keeps the scheduling index in step.
    fn end_step(&mut self, id: &StepId, status: StepStatus, at: i64) -> Option<&mut StepState> {
        let i = *self.step_index.get(id)?;
        let was_live = self.steps[i].status.is_live();
        let newly_completed =
            status == StepStatus::Completed && self.steps[i].status != StepStatus::Completed;
        self.steps[i].finish_attempt(status, at);
        self.dag.ended(i, was_live, newly_completed);
        self.track_busy(at);
        if newly_completed {
            let steps = &self.steps;
            self.dag
                .release_dependents(i, |d| steps[d].status == StepStatus::Pending);
        }
        Some(&mut self.steps[i])
    }

    pub fn has_plan(&self) -> bool {
        self.plan_source.is_some()
    }

    /// Steps that stopped before their end (interrupted or failed): what a resume runs again.
    pub fn steps_to_retry(&self) -> impl Iterator<Item = &StepState> {
        self.steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Interrupted | StepStatus::Failed))
    }

    /// Whether `resume` has anything to do: the session ended short of its end, or it runs
    /// with some steps stopped on their own.
    pub fn can_resume(&self) -> bool {
        self.status.can_resume() || self.steps_to_retry().next().is_some()
    }

    /// Total time spent running, across interruptions.
    pub fn active_ms(&self, now_ms: i64) -> u64 {
        let current = self
            .run_started_ms
            .map_or(0, |start| (now_ms - start).max(0) as u64);
        self.runs_ms_done + current
    }

    /// Wall time during which at least one step was running: what parallel steps shared.
    pub fn steps_wall_ms(&self, now_ms: i64) -> u64 {
        let current = self
            .steps_busy_since
            .map_or(0, |start| (now_ms - start).max(0) as u64);
        self.steps_busy_ms_done + current
    }

    /// Keeps `steps_busy_since` in step with the number of live steps.
    fn track_busy(&mut self, at_ms: i64) {
        match (self.dag.live > 0, self.steps_busy_since) {
            (true, None) => self.steps_busy_since = Some(at_ms),
            (false, Some(start)) => {
                self.steps_busy_ms_done += (at_ms - start).max(0) as u64;
                self.steps_busy_since = None;
            }
            (true, Some(_)) | (false, None) => {}
        }
    }

    fn end_run(&mut self, at_ms: i64) {
        if let Some(start) = self.run_started_ms.take() {
            self.runs_ms_done += (at_ms - start).max(0) as u64;
        }
        self.ended_at_ms = Some(at_ms);
    }

    /// Folds one event in: a table from each kind of event to its handler, grouped by subject
    /// in the files of this folder (lifecycle, steps, calls, tool calls, edits).
    pub fn apply(&mut self, envelope: &Envelope) {
        self.last_seq = self.last_seq.max(envelope.last_seq());
        self.note_steering(envelope);
        self.apply_event(envelope.at_ms, &envelope.event);
    }

    /// An event's change to the state at time `at`.
    fn apply_event(&mut self, at: i64, event: &Event) {
        match event {
            Event::SessionCreated {
                goal,
                workspace,
                mode,
                provider,
                model,
                max_parallel,
                origin,
                choice,
            } => self.on_session_created(
                at,
                Created {
                    goal,
                    workspace,
                    mode: *mode,
                    provider,
                    model,
                    max_parallel: *max_parallel,
                    origin: origin.as_ref(),
                    choice,
                },
            ),
            Event::PlanningStarted { attempt } => self.on_planning_started(*attempt),
            Event::PlanRejected { .. } => {}
            Event::PlanReady { plan, source } => self.on_plan_ready(plan, *source),
            Event::Warning { message, step } => self.on_warning(message, step.as_ref()),
            Event::StepStarted {
                step,
                attempt,
                max_tokens,
                continues,
                ..
            } => self.on_step_started(at, step, *attempt, *max_tokens, *continues),
            Event::TextDelta {
                step, text, chunks, ..
            } => self.on_text_delta(step, text, *chunks),
            Event::CallFinished { step, call } => self.on_call_finished(step.as_ref(), call),
            Event::CallFailed { step, kind, .. } => self.on_call_failed(step.as_ref(), *kind),
            Event::CallQueued {
                step,
                provider,
                limit,
            } => self.on_call_queued(step.as_ref(), provider, *limit),
            Event::CallDequeued { step, waited_ms } => {
                self.on_call_dequeued(step.as_ref(), *waited_ms)
            }
            Event::CallRetry { step, retry } => self.on_call_retry(step.as_ref(), retry),
            Event::CallFailover { step, failover } => {
                self.on_call_failover(step.as_ref(), failover)
            }
            Event::ToolCallRequested { step, call } => self.on_tool_call_requested(step, call),
            Event::ApprovalRequested {
                step,
                call_id,
                tool,
                detail,
            } => self.on_approval_requested(step, call_id, tool, detail),
            Event::ApprovalDecided {
                step,
                call_id,
                tool,
                decision,
            } => self.on_approval_decided(step, call_id, tool, decision),
            Event::ToolCallFinished {
                step,
                call_id,
                status,
                summary,
                content,
                duration_ms,
                ..
            } => self.on_tool_call_finished(
                step,
                ToolResult {
                    call_id,
                    status: *status,
                    summary,
                    content,
                    duration_ms: *duration_ms,
                },
            ),
            Event::StepPaused { step } => self.on_step_paused(step),
            Event::StepResumed { step } => self.on_step_resumed(step),
            Event::StepCompleted {
                step,
                output,
                output_file,
            } => self.on_step_completed(at, step, output, output_file.as_ref()),
            Event::StepFailed { step, error } => self.on_step_failed(at, step, error),
            Event::StepInterrupted { step, .. } => self.on_step_interrupted(at, step),
            Event::PlanEdited { edit, stale } => self.edit_plan(edit, stale),
            Event::BudgetSet { budget } => self.on_budget_set(budget),
            Event::BudgetReached { scope, reason, .. } => self.on_budget_reached(scope, reason),
            Event::StepStalled {
                step,
                idle_ms,
                action,
            } => self.on_step_stalled(step, *idle_ms, *action),
            Event::StepRequeued { step, reason } => self.on_step_requeued(step, reason),
            Event::SessionPaused => self.on_session_paused(true),
            Event::SessionUnpaused => self.on_session_paused(false),
            Event::SessionInterrupted { .. } => self.on_session_interrupted(at),
            Event::SessionResumed => self.on_session_resumed(at),
            Event::SessionCompleted => self.on_session_completed(at),
            Event::SessionFailed { error } => self.on_session_failed(at, error),
            Event::Inherited {
                parent,
                at_seq,
                events,
            } => self.on_inherited(at, parent, *at_seq, events),
        }
    }

    /// A fork's head: the parent's events folded in as if they happened now (so they take none
    /// of this session's time), their steps and calls marked inherited.
    fn on_inherited(&mut self, at: i64, parent: &SessionId, at_seq: u64, events: &[Envelope]) {
        let outermost = !self.inheriting;
        if outermost {
            self.forked_from = Some((parent.clone(), at_seq));
        }
        self.inheriting = true;
        for envelope in events {
            self.apply_event(at, &envelope.event);
            if let Some(step) = envelope.event.step().and_then(|id| self.step_index.get(id)) {
                self.steps[*step].inherited = true;
            }
        }
        self.inheriting = !outermost;
    }

    /// Where a planner call's figures go: inherited ones apart from this session's own.
    pub(super) fn planner_metrics_mut(&mut self) -> &mut AgentMetrics {
        if self.inheriting {
            &mut self.inherited_planner_metrics
        } else {
            &mut self.planner_metrics
        }
    }

    pub fn completed_steps(&self) -> usize {
        self.dag.completed
    }

    /// The running (or paused) steps, in plan order.
    pub fn live_steps(&self) -> impl Iterator<Item = &StepState> {
        self.steps.iter().filter(|s| s.status.is_live())
    }

    /// Why an agent of this role is held by a budget, if it is.
    pub fn attention_for(&self, role: &str) -> Option<&str> {
        self.needs_attention
            .iter()
            .find(|(scope, _)| match scope {
                Scope::Session => true,
                Scope::Role(r) => r == role,
            })
            .map(|(_, reason)| reason.as_str())
    }

    /// 1-based position of a step in the plan, for "step 2/3" labels.
    pub fn step_position(&self, id: &StepId) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| &s.spec.id == id)
            .map(|i| i + 1)
    }
}

#[cfg(test)]
mod tests;
