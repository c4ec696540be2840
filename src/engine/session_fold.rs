//! Session state as a pure fold over its events: the same code serves live state, crash recovery
//! and `el-jefe show`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rustc_hash::FxHashMap;

use super::budget::{Budget, Scope};
use super::dag_index::DagIndex;
use super::event::{ApprovalDecision, CallMode, Envelope, Event, ToolStatus};
use super::health::StallAction;
use super::ids::{SessionId, StepId};
use super::metrics::AgentMetrics;
use super::plan::{PlanSource, StepSpec};
use crate::provider::{ChatMessage, ChatRole, ToolCall};
use crate::tools::call_detail;

mod edits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Created, planning.
    Starting,
    Running,
    Paused,
    Completed,
    Failed,
    Interrupted,
    /// Ended, then its plan was edited: steps wait to run (`resume` runs them).
    Edited,
}

impl SessionStatus {
    pub fn label(self) -> &'static str {
        match self {
            SessionStatus::Starting => "starting",
            SessionStatus::Running => "running",
            SessionStatus::Paused => "paused",
            SessionStatus::Completed => "completed",
            SessionStatus::Failed => "failed",
            SessionStatus::Interrupted => "interrupted",
            SessionStatus::Edited => "edited",
        }
    }

    /// A process is (or was, before a crash) working on the session.
    pub fn is_active(self) -> bool {
        match self {
            SessionStatus::Starting | SessionStatus::Running | SessionStatus::Paused => true,
            SessionStatus::Completed
            | SessionStatus::Failed
            | SessionStatus::Interrupted
            | SessionStatus::Edited => false,
        }
    }

    pub fn can_resume(self) -> bool {
        matches!(
            self,
            SessionStatus::Interrupted | SessionStatus::Failed | SessionStatus::Edited
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Pending,
    Running,
    Paused,
    Completed,
    Failed,
    Interrupted,
}

impl StepStatus {
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Paused => "paused",
            StepStatus::Completed => "completed",
            StepStatus::Failed => "failed",
            StepStatus::Interrupted => "interrupted",
        }
    }

    /// An agent task exists for the step.
    pub fn is_live(self) -> bool {
        matches!(self, StepStatus::Running | StepStatus::Paused)
    }
}

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
    /// US dollars spent on calls whose model has a price.
    pub cost: f64,
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
    let secs = idle_ms / 1000;
    let idle = if secs >= 60 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    };
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
            cost: 0.0,
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

    pub fn apply(&mut self, envelope: &Envelope) {
        let at = envelope.at_ms;
        self.last_seq = envelope.seq;
        match &envelope.event {
            Event::SessionCreated {
                goal,
                workspace,
                mode,
                provider,
                model,
                max_parallel,
            } => {
                self.goal = goal.clone();
                self.workspace = workspace.clone();
                self.mode = *mode;
                self.provider = provider.clone();
                self.model = model.clone();
                self.max_parallel = *max_parallel;
                self.status = SessionStatus::Starting;
                self.created_at_ms = at;
                self.run_started_ms = Some(at);
            }
            Event::PlanningStarted { attempt } => {
                self.planning_attempt = *attempt;
            }
            Event::PlanRejected { .. } => {}
            Event::PlanReady { plan, source } => {
                self.steps = plan.steps.iter().cloned().map(StepState::new).collect();
                self.reindex();
                self.plan_source = Some(*source);
                self.status = if self.paused {
                    SessionStatus::Paused
                } else {
                    SessionStatus::Running
                };
            }
            Event::Warning { message, step } => {
                if let Some(s) = step.as_ref().and_then(|id| self.step_mut(id)) {
                    s.notice = Some(message.clone());
                }
                self.warnings.push(message.clone());
            }
            Event::StepStarted {
                step,
                attempt,
                max_tokens,
                continues,
                ..
            } => {
                if let Some(&i) = self.step_index.get(step) {
                    self.dag.started(i, self.steps[i].status.is_live());
                    self.track_busy(at);
                }
                if let Some(s) = self.step_mut(step) {
                    s.status = StepStatus::Running;
                    s.attempt = *attempt;
                    s.output.clear();
                    s.transcript.clear();
                    if *continues {
                        settle_dangling_calls(&mut s.turns);
                        let kept = s.turns.iter().filter(|t| t.role == ChatRole::Tool).count();
                        s.push_transcript_line(&format!(
                            "(continuing after {kept} tool result(s) of the earlier attempt)"
                        ));
                    } else {
                        s.turns.clear();
                    }
                    s.open_turn = false;
                    s.waiting_approval = None;
                    s.queued_on = None;
                    s.call_transcript_start = s.transcript.len();
                    s.output_file = None;
                    s.error = None;
                    s.max_tokens = *max_tokens;
                    s.started_at_ms = Some(at);
                    s.ended_at_ms = None;
                    s.metrics.live_chunks = 0;
                    s.call_text_start = 0;
                    s.notice = None;
                    s.run_tokens = 0;
                    s.stalled = false;
                }
            }
            Event::TextDelta { step, text, chunks } => {
                if let Some(s) = self.step_mut(step) {
                    s.clear_stall();
                    s.output.push_str(text);
                    s.transcript.push_str(text);
                    s.metrics.live_chunks += u64::from(*chunks);
                }
            }
            Event::CallFinished { step, call } => match step {
                Some(id) => {
                    if let Some(s) = self.step_mut(id) {
                        s.metrics.record_call(call);
                        s.cost += call.cost_usd.unwrap_or(0.0);
                        s.run_tokens += call.input_tokens + call.output_tokens;
                        s.call_finished();
                    }
                }
                None => {
                    self.planner_metrics.record_call(call);
                    self.planner_cost += call.cost_usd.unwrap_or(0.0);
                }
            },
            Event::CallFailed { step, kind, .. } => match step {
                Some(id) => {
                    if let Some(s) = self.step_mut(id) {
                        s.metrics.record_failed_call(*kind);
                    }
                }
                None => self.planner_metrics.record_failed_call(*kind),
            },
            Event::CallQueued {
                step,
                provider,
                limit,
            } => {
                let notice = format!("waiting for a free slot on {provider} (max {limit} at once)");
                match step.as_ref().and_then(|id| self.step_mut(id)) {
                    Some(s) => {
                        s.queued_on = Some(provider.clone());
                        s.notice = Some(notice);
                    }
                    None => self.planner_notice = Some(notice),
                }
            }
            Event::CallDequeued { step, waited_ms } => {
                match step.as_ref().and_then(|id| self.step_mut(id)) {
                    Some(s) => {
                        if s.queued_on.take().is_some() {
                            s.notice = None;
                        }
                        s.metrics.record_slot_wait(*waited_ms);
                    }
                    None => {
                        self.planner_notice = None;
                        self.planner_metrics.record_slot_wait(*waited_ms);
                    }
                }
            }
            Event::CallRetry { step, retry } => {
                let notice = format!(
                    "retry {}/{} in {:.1} s: {}",
                    retry.retry,
                    retry.max_retries,
                    retry.delay_ms as f64 / 1000.0,
                    retry.error
                );
                match step.as_ref().and_then(|id| self.step_mut(id)) {
                    Some(s) => {
                        s.metrics.record_retry(retry.kind);
                        if retry.discarded_text {
                            s.restart_call();
                        }
                        s.notice = Some(notice);
                    }
                    None => {
                        self.planner_metrics.record_retry(retry.kind);
                        self.planner_notice = Some(notice);
                    }
                }
            }
            Event::CallFailover { step, failover } => {
                let notice = format!(
                    "{} gave up ({}); continuing on {}",
                    failover.from, failover.error, failover.to
                );
                match step.as_ref().and_then(|id| self.step_mut(id)) {
                    Some(s) => {
                        s.metrics.record_failover(failover.kind);
                        s.restart_call();
                        s.notice = Some(notice.clone());
                    }
                    None => {
                        self.planner_metrics.record_failover(failover.kind);
                        self.planner_notice = Some(notice.clone());
                    }
                }
                self.warnings.push(notice);
            }
            Event::ToolCallRequested { step, call } => {
                if let Some(s) = self.step_mut(step) {
                    s.clear_stall();
                    s.tool_requested(call);
                }
            }
            Event::ApprovalRequested {
                step,
                call_id,
                tool,
                detail,
            } => {
                if let Some(s) = self.step_mut(step) {
                    s.waiting_approval = Some(PendingApproval {
                        call_id: call_id.clone(),
                        tool: tool.clone(),
                        detail: detail.clone(),
                    });
                    s.push_transcript_line("  … waiting for your approval");
                }
            }
            Event::ApprovalDecided {
                step,
                call_id,
                tool,
                decision,
            } => {
                if let ApprovalDecision::AllowForSession = decision {
                    self.allowed_tools.insert(tool.clone());
                }
                if let Some(s) = self.step_mut(step) {
                    if s.waiting_approval
                        .as_ref()
                        .is_some_and(|w| &w.call_id == call_id)
                    {
                        s.waiting_approval = None;
                    }
                    // A denial shows once, with the tool's result line.
                    match decision {
                        ApprovalDecision::AllowOnce => s.push_transcript_line("  ✓ approved once"),
                        ApprovalDecision::AllowForSession => {
                            s.push_transcript_line(&format!("  ✓ {tool} approved for this session"))
                        }
                        ApprovalDecision::Deny { .. } => {}
                    }
                }
            }
            Event::ToolCallFinished {
                step,
                call_id,
                status,
                summary,
                content,
                duration_ms,
                ..
            } => {
                if let Some(s) = self.step_mut(step) {
                    if s.waiting_approval
                        .as_ref()
                        .is_some_and(|w| &w.call_id == call_id)
                    {
                        s.waiting_approval = None;
                    }
                    s.turns.push(ChatMessage::tool_result(
                        call_id.clone(),
                        content.clone(),
                        status.is_error(),
                    ));
                    s.metrics.record_tool_result(*status, *duration_ms);
                    let mark = match status {
                        ToolStatus::Ok => "→",
                        ToolStatus::Error => "✗",
                        ToolStatus::Denied | ToolStatus::Cancelled => "⊘",
                    };
                    let first = summary.lines().next().unwrap_or("");
                    let line = match status {
                        ToolStatus::Ok | ToolStatus::Error => format!("  {mark} {first}"),
                        ToolStatus::Denied | ToolStatus::Cancelled => {
                            format!("  {mark} {}: {first}", status.label())
                        }
                    };
                    s.push_transcript_line(&line);
                }
            }
            Event::StepPaused { step } => {
                if let Some(s) = self.step_mut(step)
                    && s.status == StepStatus::Running
                {
                    s.status = StepStatus::Paused;
                }
            }
            Event::StepResumed { step } => {
                if let Some(s) = self.step_mut(step)
                    && s.status == StepStatus::Paused
                {
                    s.status = StepStatus::Running;
                }
            }
            Event::StepCompleted {
                step,
                output,
                output_file,
            } => {
                if let Some(s) = self.end_step(step, StepStatus::Completed, at) {
                    s.output = output.clone();
                    s.output_file = output_file.clone();
                }
            }
            Event::StepFailed { step, error } => {
                if let Some(s) = self.end_step(step, StepStatus::Failed, at) {
                    s.error = Some(error.clone());
                }
            }
            Event::StepInterrupted { step, .. } => {
                self.end_step(step, StepStatus::Interrupted, at);
            }
            Event::PlanEdited { edit, stale } => self.edit_plan(edit, stale),
            Event::BudgetSet { budget } => {
                self.budget = budget.clone();
                // The engine checks the new caps and reports what is still over.
                self.needs_attention.clear();
            }
            Event::BudgetReached { scope, reason, .. } => {
                if !self.needs_attention.iter().any(|(s, _)| s == scope) {
                    self.needs_attention.push((scope.clone(), reason.clone()));
                }
            }
            Event::StepStalled {
                step,
                idle_ms,
                action,
            } => {
                if let Some(s) = self.step_mut(step) {
                    s.stalled = true;
                    s.notice = Some(stall_notice(*idle_ms, *action));
                }
            }
            Event::StepRequeued { step, reason } => {
                if let Some(&i) = self.step_index.get(step)
                    && !self.steps[i].status.is_live()
                    && self.steps[i].status != StepStatus::Completed
                {
                    let s = &mut self.steps[i];
                    s.status = StepStatus::Pending;
                    s.error = None;
                    s.notice = Some(reason.clone());
                    self.dag.pending_again(i);
                }
            }
            Event::SessionPaused => {
                self.paused = true;
                if self.status == SessionStatus::Running {
                    self.status = SessionStatus::Paused;
                }
            }
            Event::SessionUnpaused => {
                self.paused = false;
                if self.status == SessionStatus::Paused {
                    self.status = SessionStatus::Running;
                }
            }
            Event::SessionInterrupted { .. } => {
                let live: Vec<StepId> = self.live_steps().map(|s| s.spec.id.clone()).collect();
                for id in live {
                    self.end_step(&id, StepStatus::Interrupted, at);
                }
                self.paused = false;
                self.status = SessionStatus::Interrupted;
                self.end_run(at);
            }
            Event::SessionResumed => {
                for (i, s) in self.steps.iter_mut().enumerate() {
                    match s.status {
                        StepStatus::Interrupted | StepStatus::Failed => {
                            s.status = StepStatus::Pending;
                            s.error = None;
                            self.dag.pending_again(i);
                        }
                        StepStatus::Pending
                        | StepStatus::Running
                        | StepStatus::Paused
                        | StepStatus::Completed => {}
                    }
                }
                self.paused = false;
                self.error = None;
                self.ended_at_ms = None;
                // The engine checks the budget again as the run goes on.
                self.needs_attention.clear();
                // Resuming a few steps of a session that is still running continues its run.
                self.run_started_ms.get_or_insert(at);
                self.status = if self.has_plan() {
                    SessionStatus::Running
                } else {
                    SessionStatus::Starting
                };
            }
            Event::SessionCompleted => {
                self.status = SessionStatus::Completed;
                self.end_run(at);
            }
            Event::SessionFailed { error } => {
                self.status = SessionStatus::Failed;
                self.error = Some(error.clone());
                self.end_run(at);
            }
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
mod tests {
    use super::*;
    use crate::engine::event::{CallStats, FinishReason, InterruptReason};
    use crate::engine::plan::Plan;

    struct Log {
        id: SessionId,
        seq: u64,
        events: Vec<Envelope>,
    }

    impl Log {
        fn new() -> Self {
            Log {
                id: SessionId::parse("session_20260101_000000_00000000").unwrap(),
                seq: 0,
                events: vec![],
            }
        }
        fn push(&mut self, at_ms: i64, event: Event) -> &mut Self {
            self.seq += 1;
            self.events.push(Envelope {
                seq: self.seq,
                at_ms,
                session: self.id.clone(),
                event,
            });
            self
        }
        fn state(&self) -> SessionState {
            SessionState::replay(self.id.clone(), &self.events)
        }
    }

    fn created() -> Event {
        Event::SessionCreated {
            goal: "g".into(),
            workspace: "/w".into(),
            mode: CallMode::Streaming,
            provider: "local".into(),
            model: "m".into(),
            max_parallel: 3,
        }
    }

    fn started(step: &str) -> Event {
        Event::StepStarted {
            step: step.into(),
            agent: "x".into(),
            attempt: 1,
            max_tokens: 10,
            continues: false,
        }
    }

    fn call(output_tokens: u64) -> CallStats {
        CallStats {
            provider: "local".into(),
            model: "m".into(),
            mode: CallMode::Streaming,
            input_tokens: 5,
            output_tokens,
            cache_read_tokens: 0,
            cache_creation_tokens: 0,
            estimated: false,
            ttft_ms: Some(10),
            duration_ms: 1000,
            finish: FinishReason::Stop,
            cost_usd: None,
        }
    }

    /// researcher -> analyst -> writer, one after another.
    fn linear_plan() -> Plan {
        let step = |id: &str, agent: &str, deps: &[&str]| StepSpec {
            id: id.into(),
            title: format!("step {id}"),
            agent: agent.into(),
            task: format!("task {id}"),
            depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
        };
        Plan {
            steps: vec![
                step("1", "researcher", &[]),
                step("2", "analyst", &["1"]),
                step("3", "writer", &["2"]),
            ],
        }
    }

    fn planned() -> Log {
        let mut log = Log::new();
        log.push(0, created()).push(
            100,
            Event::PlanReady {
                plan: linear_plan(),
                source: PlanSource::Model,
            },
        );
        log
    }

    #[test]
    fn a_full_run_folds_to_completed_with_metrics() {
        let mut log = planned();
        log.push(100, started("1"))
            .push(
                150,
                Event::TextDelta {
                    step: "1".into(),
                    text: "hello ".into(),
                    chunks: 1,
                },
            )
            .push(
                160,
                Event::TextDelta {
                    step: "1".into(),
                    text: "world".into(),
                    chunks: 1,
                },
            );
        let mid = log.state();
        assert_eq!(mid.status, SessionStatus::Running);
        assert_eq!(mid.steps[0].status, StepStatus::Running);
        assert_eq!(mid.steps[0].output, "hello world");
        assert!((mid.steps[0].progress() - 0.2).abs() < 1e-9);

        log.push(
            1100,
            Event::CallFinished {
                step: Some("1".into()),
                call: call(7),
            },
        )
        .push(
            1100,
            Event::StepCompleted {
                step: "1".into(),
                output: "hello world".into(),
                output_file: None,
            },
        );
        for (i, id) in ["2", "3"].into_iter().enumerate() {
            let t = 1100 + 1000 * i as i64;
            log.push(t, started(id))
                .push(
                    t + 1000,
                    Event::CallFinished {
                        step: Some(id.into()),
                        call: call(3),
                    },
                )
                .push(
                    t + 1000,
                    Event::StepCompleted {
                        step: id.into(),
                        output: "done".into(),
                        output_file: None,
                    },
                );
        }
        log.push(3100, Event::SessionCompleted);
        let s = log.state();
        assert_eq!(s.status, SessionStatus::Completed);
        let m = s.metrics(99_999);
        assert_eq!(m.wall_ms, 3100);
        assert_eq!(m.step_time_ms, 3000);
        // One step at a time, from 100 to 3100 ms: no parallel gain.
        assert_eq!(m.steps_wall_ms, 3000);
        assert_eq!(m.speedup, Some(1.0));
        assert_eq!(m.steps.completed, 3);
        assert_eq!(m.totals.output_tokens, 13);
        assert_eq!(m.totals.input_tokens, 15);
        assert_eq!(m.totals.api_calls, 3);
        assert_eq!(m.totals.words, 4);
        assert_eq!(s.agent_metrics()["researcher"].output_tokens, 7);
    }

    #[test]
    fn interrupt_marks_live_steps_and_resume_requeues_them_keeping_completed() {
        let mut log = planned();
        log.push(100, started("1"))
            .push(
                200,
                Event::StepCompleted {
                    step: "1".into(),
                    output: "facts".into(),
                    output_file: None,
                },
            )
            .push(200, started("2"))
            .push(300, Event::StepPaused { step: "2".into() })
            .push(
                400,
                Event::SessionInterrupted {
                    reason: InterruptReason::Recovered,
                },
            );
        let s = log.state();
        assert_eq!(s.status, SessionStatus::Interrupted);
        assert_eq!(s.steps[1].status, StepStatus::Interrupted);
        assert_eq!(s.steps[1].busy_ms(10_000), 200);
        assert_eq!(s.active_ms(10_000), 400);

        log.push(5000, Event::SessionResumed);
        let s = log.state();
        assert_eq!(s.status, SessionStatus::Running);
        assert_eq!(s.steps[0].status, StepStatus::Completed);
        assert_eq!(s.steps[0].output, "facts");
        assert_eq!(s.steps[1].status, StepStatus::Pending);
        assert_eq!(s.active_ms(5100), 500);
    }

    #[test]
    fn pause_and_unpause_of_a_session_and_a_step() {
        let mut log = planned();
        log.push(100, started("1"))
            .push(110, Event::SessionPaused)
            .push(111, Event::StepPaused { step: "1".into() });
        let s = log.state();
        assert_eq!(s.status, SessionStatus::Paused);
        assert_eq!(s.steps[0].status, StepStatus::Paused);
        log.push(120, Event::StepResumed { step: "1".into() })
            .push(121, Event::SessionUnpaused);
        let s = log.state();
        assert_eq!(s.status, SessionStatus::Running);
        assert_eq!(s.steps[0].status, StepStatus::Running);
    }

    #[test]
    fn a_new_attempt_starts_from_empty_text() {
        let mut log = planned();
        log.push(100, started("1"))
            .push(
                110,
                Event::TextDelta {
                    step: "1".into(),
                    text: "partial".into(),
                    chunks: 1,
                },
            )
            .push(
                120,
                Event::StepInterrupted {
                    step: "1".into(),
                    forced: false,
                },
            )
            .push(130, Event::SessionResumed)
            .push(
                140,
                Event::StepStarted {
                    step: "1".into(),
                    agent: "researcher".into(),
                    attempt: 2,
                    max_tokens: 10,
                    continues: false,
                },
            );
        let s = log.state();
        assert_eq!(s.steps[0].attempt, 2);
        assert_eq!(s.steps[0].output, "");
    }

    #[test]
    fn failed_planner_calls_count_as_errors() {
        let mut log = Log::new();
        log.push(0, created()).push(
            5,
            Event::CallFailed {
                step: None,
                error: "boom".into(),
                kind: None,
            },
        );
        let s = log.state();
        assert_eq!(s.planner_metrics.errors, 1);
        assert_eq!(s.agent_metrics()["planner"].errors, 1);
    }
}
