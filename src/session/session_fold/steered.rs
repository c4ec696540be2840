//! Who steered what: the person behind the latest pause, resume or interrupt of a step, and
//! behind the latest change of the session's course, from the `by` of the events they caused.

use super::{SessionState, StepState};
use crate::session::event::{Envelope, Event};
use crate::session::ids::StepId;

/// A person's command that changed the course of a step or session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steered {
    /// What they did: "paused", "resumed", "interrupted", "started", "edited"...
    pub action: &'static str,
    pub by: String,
}

fn steered(action: &'static str, by: Option<&String>) -> Option<Steered> {
    by.map(|by| Steered {
        action,
        by: by.clone(),
    })
}

/// "paused by ana" when the action names the status, else "running (resumed by ana)".
fn words(status: &'static str, steered: Option<&Steered>) -> String {
    match steered {
        Some(s) if s.action == status => format!("{status} by {}", s.by),
        Some(s) => format!("{status} ({} by {})", s.action, s.by),
        None => status.to_string(),
    }
}

impl SessionState {
    pub(super) fn note_steering(&mut self, envelope: &Envelope) {
        let by = envelope.by.as_ref();
        match &envelope.event {
            Event::StepPaused { step } => self.steer_step(step, steered("paused", by)),
            Event::StepResumed { step } => self.steer_step(step, steered("resumed", by)),
            Event::StepInterrupted { step, .. } => {
                self.steer_step(step, steered("interrupted", by));
            }
            // The step runs or ends on its own from here: an older pause no longer explains it.
            Event::StepStarted { step, .. }
            | Event::StepCompleted { step, .. }
            | Event::StepFailed { step, .. } => self.steer_step(step, None),
            Event::SessionCreated { .. } => self.steered = steered("started", by),
            Event::SessionPaused => self.steered = steered("paused", by),
            Event::SessionUnpaused => self.steered = steered("unpaused", by),
            Event::SessionInterrupted { .. } => self.steered = steered("interrupted", by),
            Event::SessionResumed => self.steered = steered("resumed", by),
            Event::PlanEdited { .. } => self.steered = steered("edited", by),
            Event::SessionCompleted | Event::SessionFailed { .. } => self.steered = None,
            Event::PlanningStarted { .. }
            | Event::PlanRejected { .. }
            | Event::PlanReady { .. }
            | Event::Warning { .. }
            | Event::TextDelta { .. }
            | Event::CallFinished { .. }
            | Event::CallFailed { .. }
            | Event::CallQueued { .. }
            | Event::CallDequeued { .. }
            | Event::CallRetry { .. }
            | Event::CallFailover { .. }
            | Event::ToolCallRequested { .. }
            | Event::ApprovalRequested { .. }
            | Event::ApprovalDecided { .. }
            | Event::ToolCallFinished { .. }
            | Event::StepStalled { .. }
            | Event::StepRequeued { .. }
            | Event::BudgetSet { .. }
            | Event::BudgetReached { .. }
            | Event::Inherited { .. } => {}
        }
    }

    fn steer_step(&mut self, step: &StepId, steered: Option<Steered>) {
        if let Some(s) = self.step_mut(step) {
            s.steered = steered;
        }
    }
}

impl StepState {
    /// "paused by ana", or the bare status when nobody in particular steered it.
    pub fn status_words(&self) -> String {
        words(self.status.label(), self.steered.as_ref())
    }
}

impl SessionState {
    /// "paused by ana", or the bare status when nobody in particular steered it.
    pub fn status_words(&self) -> String {
        words(self.status.label(), self.steered.as_ref())
    }
}
