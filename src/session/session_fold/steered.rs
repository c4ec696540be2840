//! Who steered what: the person behind the latest pause, resume or interrupt of a step, and
//! behind the latest change of the session's course, from the `by` of the events they caused.

use super::{SessionState, StepState};
use crate::session::event::{Envelope, Event};

impl SessionState {
    pub(super) fn note_steering(&mut self, envelope: &Envelope) {
        let by = &envelope.by;
        match &envelope.event {
            Event::StepPaused { step }
            | Event::StepResumed { step }
            | Event::StepInterrupted { step, .. } => {
                if let Some(s) = self.step_mut(step) {
                    s.steered_by.clone_from(by);
                }
            }
            // The step runs or ends on its own from here: an older pause no longer explains it.
            Event::StepStarted { step, .. }
            | Event::StepCompleted { step, .. }
            | Event::StepFailed { step, .. } => {
                if let Some(s) = self.step_mut(step) {
                    s.steered_by = None;
                }
            }
            Event::SessionCreated { .. }
            | Event::SessionPaused
            | Event::SessionUnpaused
            | Event::SessionInterrupted { .. }
            | Event::SessionResumed
            | Event::PlanEdited { .. } => self.steered_by.clone_from(by),
            Event::SessionCompleted | Event::SessionFailed { .. } => self.steered_by = None,
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
            | Event::BudgetReached { .. } => {}
        }
    }
}

impl StepState {
    /// "paused by ana", or the bare status when nobody in particular steered it.
    pub fn status_words(&self) -> String {
        match &self.steered_by {
            Some(by) => format!("{} by {by}", self.status.label()),
            None => self.status.label().to_string(),
        }
    }
}

impl SessionState {
    /// "paused by ana", or the bare status when nobody in particular steered it.
    pub fn status_words(&self) -> String {
        match &self.steered_by {
            Some(by) => format!("{} by {by}", self.status.label()),
            None => self.status.label().to_string(),
        }
    }
}
