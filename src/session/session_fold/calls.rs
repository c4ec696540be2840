//! The fold's handlers for provider calls: streamed text, calls finished or failed, waiting for
//! a slot, retries and failovers. A call without a step is the planner's.

use super::SessionState;
use crate::session::call::{CallStats, ErrorKind, FailoverNotice, RetryNotice};
use crate::session::ids::StepId;

impl SessionState {
    pub(super) fn on_text_delta(&mut self, step: &StepId, text: &str, chunks: u32) {
        if let Some(s) = self.step_mut(step) {
            s.clear_stall();
            s.output.push_str(text);
            s.transcript.push_str(text);
            s.metrics.live_chunks += u64::from(chunks);
        }
    }

    pub(super) fn on_call_finished(&mut self, step: Option<&StepId>, call: &CallStats) {
        match step {
            Some(id) => {
                if let Some(s) = self.step_mut(id) {
                    s.metrics.record_call(call);
                    s.cost += call.cost_usd.unwrap_or(0.0);
                    s.run_tokens += call.input_tokens + call.output_tokens;
                    s.runs_on = Some((call.provider.clone(), call.model.clone()));
                    s.call_finished();
                }
            }
            None => {
                self.planner_metrics_mut().record_call(call);
                self.planner_cost += call.cost_usd.unwrap_or(0.0);
            }
        }
    }

    pub(super) fn on_call_failed(&mut self, step: Option<&StepId>, kind: Option<ErrorKind>) {
        match step {
            Some(id) => {
                if let Some(s) = self.step_mut(id) {
                    s.metrics.record_failed_call(kind);
                }
            }
            None => self.planner_metrics_mut().record_failed_call(kind),
        }
    }

    pub(super) fn on_call_queued(&mut self, step: Option<&StepId>, provider: &str, limit: u32) {
        let notice = format!("waiting for a free slot on {provider} (max {limit} at once)");
        match step.and_then(|id| self.step_mut(id)) {
            Some(s) => {
                s.queued_on = Some(provider.to_string());
                s.notice = Some(notice);
            }
            None => self.planner_notice = Some(notice),
        }
    }

    pub(super) fn on_call_dequeued(&mut self, step: Option<&StepId>, waited_ms: u64) {
        match step.and_then(|id| self.step_mut(id)) {
            Some(s) => {
                if s.queued_on.take().is_some() {
                    s.notice = None;
                }
                s.metrics.record_slot_wait(waited_ms);
            }
            None => {
                self.planner_notice = None;
                self.planner_metrics_mut().record_slot_wait(waited_ms);
            }
        }
    }

    pub(super) fn on_call_retry(&mut self, step: Option<&StepId>, retry: &RetryNotice) {
        let notice = format!(
            "retry {}/{} in {:.1} s: {}",
            retry.retry,
            retry.max_retries,
            retry.delay_ms as f64 / 1000.0,
            retry.error
        );
        match step.and_then(|id| self.step_mut(id)) {
            Some(s) => {
                s.metrics.record_retry(retry.kind);
                if retry.discarded_text {
                    s.restart_call();
                }
                s.notice = Some(notice);
            }
            None => {
                self.planner_metrics_mut().record_retry(retry.kind);
                self.planner_notice = Some(notice);
            }
        }
    }

    pub(super) fn on_call_failover(&mut self, step: Option<&StepId>, failover: &FailoverNotice) {
        let notice = format!(
            "{} gave up ({}); continuing on {}",
            failover.from, failover.error, failover.to
        );
        match step.and_then(|id| self.step_mut(id)) {
            Some(s) => {
                s.metrics.record_failover(failover.kind);
                s.runs_on = Some((failover.to.clone(), failover.to_model.clone()));
                s.restart_call();
                s.notice = Some(notice.clone());
            }
            None => {
                self.planner_metrics_mut().record_failover(failover.kind);
                self.planner_notice = Some(notice.clone());
            }
        }
        self.warnings.push(notice);
    }
}
