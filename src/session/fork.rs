//! Forking a session at a moment of its history: which of the parent's events the fork
//! inherits. Pure: the engine reads the parent's journal, cuts it here and writes the result as
//! one `Inherited` event at the head of the fork.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::event::{Envelope, Event};
use super::ids::{SessionId, StepId};
use super::session_fold::{SessionState, StepStatus};

/// Where to cut the parent's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum ForkPoint {
    /// Right after this event (its `seq`).
    Event { seq: u64 },
    /// Right before the step first started: every step completed by then is inherited.
    Step { step: StepId },
}

impl ForkPoint {
    pub fn describe(&self) -> String {
        match self {
            ForkPoint::Event { seq } => format!("event {seq}"),
            ForkPoint::Step { step } => format!("step {step}"),
        }
    }
}

/// What a fork takes from its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct ForkCut {
    /// The parent's last event before the cut.
    pub at_seq: u64,
    pub goal: String,
    /// The parent's events the fork inherits, in order.
    pub inherited: Vec<Envelope>,
    /// The steps that were complete at the cut, whose work the fork keeps.
    pub completed: Vec<StepId>,
}

/// Cuts `parent` (its events one by one, in order) at `at`. The fork keeps the planning, the
/// plan's edits and budget, and every event of each step complete at the cut; steps running,
/// failed or waiting at the cut start afresh in the fork, and the parent's lifecycle (paused,
/// interrupted, ended) stays with the parent.
pub fn cut(parent_id: &SessionId, parent: &[Envelope], at: &ForkPoint) -> Result<ForkCut, String> {
    let last = parent.last().map_or(0, |e| e.seq);
    let at_seq = match at {
        ForkPoint::Event { seq } if *seq == 0 || *seq > last => {
            return Err(format!(
                "{parent_id} has events 1 to {last}; there is no event {seq} to fork at"
            ));
        }
        ForkPoint::Event { seq } => *seq,
        ForkPoint::Step { step } => first_start(parent, step)
            .map(|seq| seq - 1)
            .ok_or_else(|| never_started(parent_id, parent, step))?,
    };
    let prefix: Vec<Envelope> = parent.iter().filter(|e| e.seq <= at_seq).cloned().collect();
    let state = SessionState::replay(parent_id.clone(), &prefix);
    if !state.has_plan() && state.goal.is_empty() {
        return Err(format!("{parent_id} has no goal yet at {}", at.describe()));
    }
    let completed: Vec<StepId> = state
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Completed)
        .map(|s| s.spec.id.clone())
        .collect();
    let done: HashSet<&StepId> = completed.iter().collect();
    let inherited = prefix
        .into_iter()
        .filter(|e| inherits(&e.event, &done))
        .collect();
    Ok(ForkCut {
        at_seq,
        goal: state.goal,
        inherited,
        completed,
    })
}

fn first_start(parent: &[Envelope], step: &StepId) -> Option<u64> {
    parent
        .iter()
        .find(|e| matches!(&e.event, Event::StepStarted { step: s, .. } if s == step))
        .map(|e| e.seq)
}

fn never_started(parent_id: &SessionId, parent: &[Envelope], step: &StepId) -> String {
    let state = SessionState::replay(parent_id.clone(), parent);
    if state.step(step).is_none() {
        let ids: Vec<&str> = state.steps.iter().map(|s| s.spec.id.as_str()).collect();
        return format!(
            "{parent_id} has no step {step} (its steps: {})",
            ids.join(", ")
        );
    }
    format!("step {step} of {parent_id} never started; fork --at-event SEQ instead")
}

/// Whether the fork keeps this event of its parent, given the steps complete at the cut.
fn inherits(event: &Event, completed: &HashSet<&StepId>) -> bool {
    let step_done = |step: &StepId| completed.contains(step);
    match event {
        // The fork is a session of its own; the parent's life stays the parent's.
        Event::SessionCreated { .. }
        | Event::SessionPaused
        | Event::SessionUnpaused
        | Event::SessionInterrupted { .. }
        | Event::SessionResumed
        | Event::SessionCompleted
        | Event::SessionFailed { .. }
        | Event::BudgetReached { .. } => false,
        // The plan as it stood, how it came to be, and what planning cost.
        Event::PlanningStarted { .. }
        | Event::PlanRejected { .. }
        | Event::PlanReady { .. }
        | Event::PlanEdited { .. }
        | Event::BudgetSet { .. }
        | Event::Inherited { .. } => true,
        Event::Warning { step, .. } => step.as_ref().is_none_or(step_done),
        Event::CallFinished { step, .. }
        | Event::CallFailed { step, .. }
        | Event::CallQueued { step, .. }
        | Event::CallDequeued { step, .. }
        | Event::CallRetry { step, .. }
        | Event::CallFailover { step, .. } => step.as_ref().is_none_or(step_done),
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
        | Event::StepRequeued { step, .. } => step_done(step),
    }
}

#[cfg(test)]
mod tests;
