//! The fold's handlers for one step's run: started, paused, ended, stalled, queued again.

use std::path::PathBuf;

use super::{SessionState, StepStatus, settle_dangling_calls, stall_notice};
use crate::session::call::ChatRole;
use crate::session::health::StallAction;
use crate::session::ids::StepId;

impl SessionState {
    pub(super) fn on_step_started(
        &mut self,
        at: i64,
        step: &StepId,
        attempt: u32,
        max_tokens: u32,
        continues: bool,
    ) {
        if let Some(&i) = self.step_index.get(step) {
            self.dag.started(i, self.steps[i].status.is_live());
            self.track_busy(at);
        }
        let Some(s) = self.step_mut(step) else {
            return;
        };
        s.status = StepStatus::Running;
        s.attempt = attempt;
        s.output.clear();
        s.transcript.clear();
        if continues {
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
        s.max_tokens = max_tokens;
        s.started_at_ms = Some(at);
        s.ended_at_ms = None;
        s.metrics.live_chunks = 0;
        s.call_text_start = 0;
        s.notice = None;
        s.run_tokens = 0;
        s.stalled = false;
    }

    pub(super) fn on_step_paused(&mut self, step: &StepId) {
        if let Some(s) = self.step_mut(step)
            && s.status == StepStatus::Running
        {
            s.status = StepStatus::Paused;
        }
    }

    pub(super) fn on_step_resumed(&mut self, step: &StepId) {
        if let Some(s) = self.step_mut(step)
            && s.status == StepStatus::Paused
        {
            s.status = StepStatus::Running;
        }
    }

    pub(super) fn on_step_completed(
        &mut self,
        at: i64,
        step: &StepId,
        output: &str,
        output_file: Option<&PathBuf>,
    ) {
        if let Some(s) = self.end_step(step, StepStatus::Completed, at) {
            s.output = output.to_string();
            s.output_file = output_file.cloned();
        }
    }

    pub(super) fn on_step_failed(&mut self, at: i64, step: &StepId, error: &str) {
        if let Some(s) = self.end_step(step, StepStatus::Failed, at) {
            s.error = Some(error.to_string());
        }
    }

    pub(super) fn on_step_interrupted(&mut self, at: i64, step: &StepId) {
        self.end_step(step, StepStatus::Interrupted, at);
    }

    pub(super) fn on_step_stalled(&mut self, step: &StepId, idle_ms: u64, action: StallAction) {
        if let Some(s) = self.step_mut(step) {
            s.stalled = true;
            s.notice = Some(stall_notice(idle_ms, action));
        }
    }

    pub(super) fn on_step_requeued(&mut self, step: &StepId, reason: &str) {
        if let Some(&i) = self.step_index.get(step)
            && !self.steps[i].status.is_live()
            && self.steps[i].status != StepStatus::Completed
        {
            let s = &mut self.steps[i];
            s.status = StepStatus::Pending;
            s.error = None;
            s.notice = Some(reason.to_string());
            self.dag.pending_again(i);
        }
    }
}
