//! What analytics needs of one session, taken from its events once: each provider call with its
//! role, provider, model and figures, each step's end, and the session's totals. `el-jefe stats`
//! reads these summaries instead of whole journals.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::call::{CallStats, FinishReason};
use super::event::{Envelope, Event};
use super::ids::{SessionId, StepId};
use super::session_fold::{SessionState, StepStatus};

/// Bumped whenever the summary changes shape or meaning: older ones are rebuilt.
pub const SUMMARY_VERSION: u32 = 1;

/// The role the planner's calls are counted under.
pub const PLANNER_ROLE: &str = "planner";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub version: u32,
    pub id: SessionId,
    pub created_at_ms: i64,
    pub status: String,
    pub goal: String,
    /// Forked from another session: its inherited work is not in `calls`.
    pub forked: bool,
    pub max_parallel: usize,
    /// From the first step's start to the last step's end, pauses included.
    pub steps_wall_ms: u64,
    /// Step time over wall time: what running steps side by side gained.
    pub speedup: Option<f64>,
    /// Times a budget cap stopped work.
    pub budget_hits: u32,
    pub calls: Vec<CallRecord>,
    pub steps: Vec<StepRecord>,
    /// Time calls waited for a free slot on a provider (`max_concurrent`), per provider.
    pub slot_waits: Vec<SlotWait>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Ok,
    /// Failed and tried again on the same provider.
    Retried,
    /// Failed and moved to a fallback provider.
    FailedOver,
    /// Failed for good.
    Failed,
}

/// One attempt at a provider call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub at_ms: i64,
    /// None for the planner's calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepId>,
    /// The step's agent role, or `planner`.
    pub role: String,
    pub provider: String,
    /// Empty when a failed attempt named no model and none was seen on its provider.
    pub model: String,
    pub outcome: CallOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<u64>,
    pub duration_ms: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    /// The provider reported no usage; the tokens are our estimate.
    pub estimated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The answer stopped at the token limit.
    pub hit_token_cap: bool,
}

impl CallRecord {
    /// Output tokens a second after the first one: the model's speed, without its start-up.
    pub fn tokens_per_second(&self) -> Option<f64> {
        let streaming_ms = self.duration_ms.saturating_sub(self.ttft_ms.unwrap_or(0));
        (self.outcome == CallOutcome::Ok && self.output_tokens > 0 && streaming_ms > 0)
            .then(|| self.output_tokens as f64 * 1000.0 / streaming_ms as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: StepId,
    pub role: String,
    pub status: String,
    /// Done in the parent of a fork.
    pub inherited: bool,
    pub output_tokens: u64,
    pub busy_ms: u64,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotWait {
    pub provider: String,
    pub waited_ms: u64,
    pub calls: u64,
}

/// Reads the session out of its events (in journal order, as `Store::events` gives them).
pub fn summarize(id: &SessionId, events: &[Envelope]) -> SessionSummary {
    let state = SessionState::replay(id.clone(), events);
    let mut calls = CallLog::default();
    for env in events {
        calls.note(&state, env.at_ms, &env.event);
    }
    let metrics = state.metrics(state.ended_at_ms.unwrap_or(state.created_at_ms));
    let steps = state
        .steps
        .iter()
        .map(|s| StepRecord {
            id: s.spec.id.clone(),
            role: s.spec.agent.clone(),
            status: s.status.label().to_string(),
            inherited: s.inherited,
            output_tokens: s.metrics.output_tokens,
            busy_ms: s.busy_ms(state.ended_at_ms.unwrap_or(state.created_at_ms)),
            attempts: s.attempt,
        })
        .collect();
    let slot_waits = calls.slot_waits();
    SessionSummary {
        version: SUMMARY_VERSION,
        id: id.clone(),
        created_at_ms: state.created_at_ms,
        status: state.status.label().to_string(),
        goal: state.goal.clone(),
        forked: state.forked_from.is_some(),
        max_parallel: state.max_parallel,
        steps_wall_ms: metrics.steps_wall_ms,
        speedup: metrics.speedup,
        budget_hits: calls.budget_hits,
        calls: calls.records,
        steps,
        slot_waits,
    }
}

/// Collects call records (and budget stops) as the events go by, remembering what a failure
/// does not say.
#[derive(Default)]
struct CallLog {
    records: Vec<CallRecord>,
    /// The model last seen on each provider, for failures that name only the provider.
    models: HashMap<String, String>,
    /// Where each waiting call waits, until it gets its slot.
    queued: HashMap<Option<StepId>, String>,
    waits: Vec<SlotWait>,
    budget_hits: u32,
}

impl CallLog {
    fn note(&mut self, state: &SessionState, at_ms: i64, event: &Event) {
        match event {
            Event::SessionCreated {
                provider, model, ..
            } => {
                self.models.insert(provider.clone(), model.clone());
            }
            Event::CallFinished { step, call } => {
                self.models
                    .insert(call.provider.clone(), call.model.clone());
                self.records
                    .push(ok_record(state, step.as_ref(), at_ms, call));
            }
            Event::CallRetry { step, retry } => {
                self.failure(
                    state,
                    step.as_ref(),
                    at_ms,
                    &retry.provider,
                    CallOutcome::Retried,
                );
            }
            Event::CallFailover { step, failover } => {
                self.failure(
                    state,
                    step.as_ref(),
                    at_ms,
                    &failover.from,
                    CallOutcome::FailedOver,
                );
                self.models
                    .insert(failover.to.clone(), failover.to_model.clone());
            }
            Event::CallFailed { step, .. } => {
                // The last provider the step's calls used is the one that gave up.
                let provider = self
                    .records
                    .iter()
                    .rev()
                    .find(|r| r.step == *step)
                    .map(|r| r.provider.clone())
                    .unwrap_or_else(|| state.provider.clone());
                self.failure(state, step.as_ref(), at_ms, &provider, CallOutcome::Failed);
            }
            Event::CallQueued { step, provider, .. } => {
                self.queued.insert(step.clone(), provider.clone());
            }
            Event::CallDequeued { step, waited_ms } => {
                if let Some(provider) = self.queued.remove(step) {
                    self.waits.push(SlotWait {
                        provider,
                        waited_ms: *waited_ms,
                        calls: 1,
                    });
                }
            }
            Event::PlanningStarted { .. }
            | Event::PlanRejected { .. }
            | Event::PlanReady { .. }
            | Event::Warning { .. }
            | Event::StepStarted { .. }
            | Event::TextDelta { .. }
            | Event::ToolCallRequested { .. }
            | Event::ApprovalRequested { .. }
            | Event::ApprovalDecided { .. }
            | Event::ToolCallFinished { .. }
            | Event::StepPaused { .. }
            | Event::StepResumed { .. }
            | Event::StepCompleted { .. }
            | Event::StepFailed { .. }
            | Event::StepInterrupted { .. }
            | Event::StepStalled { .. }
            | Event::StepRequeued { .. }
            | Event::BudgetSet { .. }
            | Event::PlanEdited { .. }
            | Event::SessionPaused
            | Event::SessionUnpaused
            | Event::SessionInterrupted { .. }
            | Event::SessionResumed
            | Event::SessionCompleted
            | Event::SessionFailed { .. }
            // A fork's inherited work was measured in its parent, and counted there.
            | Event::Inherited { .. } => {}
            Event::BudgetReached { .. } => self.budget_hits += 1,
        }
    }

    fn failure(
        &mut self,
        state: &SessionState,
        step: Option<&StepId>,
        at_ms: i64,
        provider: &str,
        outcome: CallOutcome,
    ) {
        self.records.push(CallRecord {
            at_ms,
            step: step.cloned(),
            role: role(state, step),
            provider: provider.to_string(),
            model: self.models.get(provider).cloned().unwrap_or_default(),
            outcome,
            ttft_ms: None,
            duration_ms: 0,
            input_tokens: 0,
            output_tokens: 0,
            cache_read_tokens: 0,
            estimated: false,
            cost_usd: None,
            hit_token_cap: false,
        });
    }

    fn slot_waits(&self) -> Vec<SlotWait> {
        let mut by_provider: Vec<SlotWait> = Vec::new();
        for w in &self.waits {
            match by_provider.iter_mut().find(|b| b.provider == w.provider) {
                Some(b) => {
                    b.waited_ms += w.waited_ms;
                    b.calls += 1;
                }
                None => by_provider.push(w.clone()),
            }
        }
        by_provider
    }
}

fn role(state: &SessionState, step: Option<&StepId>) -> String {
    match step {
        None => PLANNER_ROLE.to_string(),
        Some(id) => state
            .step(id)
            .map_or_else(|| "?".to_string(), |s| s.spec.agent.clone()),
    }
}

fn ok_record(
    state: &SessionState,
    step: Option<&StepId>,
    at_ms: i64,
    call: &CallStats,
) -> CallRecord {
    CallRecord {
        at_ms,
        step: step.cloned(),
        role: role(state, step),
        provider: call.provider.clone(),
        model: call.model.clone(),
        outcome: CallOutcome::Ok,
        ttft_ms: call.ttft_ms,
        duration_ms: call.duration_ms,
        input_tokens: call.input_tokens,
        output_tokens: call.output_tokens,
        cache_read_tokens: call.cache_read_tokens,
        estimated: call.estimated,
        cost_usd: call.cost_usd,
        hit_token_cap: call.finish == FinishReason::Length,
    }
}

/// Steps that ran here and finished, for per-step figures.
pub fn finished_steps(summary: &SessionSummary) -> impl Iterator<Item = &StepRecord> {
    summary
        .steps
        .iter()
        .filter(|s| !s.inherited && s.status == StepStatus::Completed.label())
}
