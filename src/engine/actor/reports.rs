//! The actor's handling of what its tasks report, and of the health watch over them.

use super::Actor;
use crate::engine::live_session::WaitingApproval;
use crate::engine::task::{PlanOutcome, Report, ReportKind, StepOutcome, TaskKey};
use crate::session::event::{ApprovalDecision, Event};
use crate::session::health::{StallAction, is_stalled};
use crate::session::ids::{SessionId, StepId};
use crate::session::session_fold::StepStatus;
use crate::store::paths::slug;

impl Actor {
    pub(super) fn on_report(&mut self, report: Report) {
        let Some(live) = self.sessions.get_mut(&report.session) else {
            return;
        };
        // A task that was replaced or already finished may still have something queued.
        match live.tasks.get_mut(&report.task) {
            Some(task) if task.attempt == report.attempt => {
                // Anything an agent reports is a sign of life for the health watch.
                task.last_progress_ms = self.turn_ms;
                task.stall_reported = false;
            }
            _ => return,
        }
        if report.kind.ends_task() {
            live.tasks.remove(&report.task);
        }
        let id = report.session;
        match report.kind {
            ReportKind::Event(Event::CallFinished { step, mut call }) => {
                call.cost_usd = self
                    .settings
                    .prices
                    .get(&call.model)
                    .map(|p| p.cost(call.input_tokens, call.output_tokens));
                self.emit(&id, Event::CallFinished { step, call });
            }
            ReportKind::Event(event) => self.emit(&id, event),
            ReportKind::ApprovalNeeded {
                call_id,
                tool,
                detail,
                reply,
            } => {
                let TaskKey::Step(step) = report.task else {
                    return;
                };
                if live.state.allowed_tools.contains(&tool) {
                    let _ = reply.send(ApprovalDecision::AllowForSession);
                    return;
                }
                live.approvals.insert(
                    call_id.clone(),
                    WaitingApproval {
                        step: step.clone(),
                        tool: tool.clone(),
                        reply,
                    },
                );
                self.emit(
                    &id,
                    Event::ApprovalRequested {
                        step,
                        call_id,
                        tool,
                        detail,
                    },
                );
            }
            ReportKind::StepDone(outcome) => {
                if let TaskKey::Step(step) = report.task {
                    self.finish_step(&id, step, outcome);
                }
            }
            ReportKind::PlanDone(outcome) => {
                self.touched.insert(id.clone());
                match outcome {
                    PlanOutcome::Ready { plan, source } => {
                        self.emit(&id, Event::PlanReady { plan, source })
                    }
                    PlanOutcome::Interrupted { .. } => {}
                }
            }
        }
    }

    pub(super) fn finish_step(&mut self, id: &SessionId, step: StepId, outcome: StepOutcome) {
        if let Some(live) = self.sessions.get_mut(id) {
            live.approvals.retain(|_, w| w.step != step);
        }
        let event = match outcome {
            StepOutcome::Completed { mut output } => {
                // The workspace file is written before `emit` would scrub the event.
                self.settings.redactor.scrub(&mut output);
                let output_file = self.sessions.get(id).and_then(|live| {
                    let spec = &live.state.step(&step)?.spec;
                    let name = format!(
                        "step-{}-{}.md",
                        slug(step.as_str(), 20),
                        slug(&spec.agent, 30)
                    );
                    Some(live.state.workspace.join(name))
                });
                if let Some(path) = &output_file {
                    self.store.write_file(path.clone(), output.clone());
                }
                Event::StepCompleted {
                    step,
                    output,
                    output_file,
                }
            }
            StepOutcome::Failed { error } => Event::StepFailed { step, error },
            StepOutcome::Interrupted { forced } => Event::StepInterrupted { step, forced },
        };
        let interrupted = if let Event::StepInterrupted { step, .. } = &event {
            Some(step.clone())
        } else {
            None
        };
        let requeue = match (&interrupted, self.sessions.get_mut(id)) {
            (Some(step), Some(live)) => live.requeue_after_stop.remove(step) && !live.interrupting,
            (None, _) | (_, None) => false,
        };
        let step = interrupted;
        self.emit(id, event);
        if let (true, Some(step)) = (requeue, step) {
            self.emit(
                id,
                Event::StepRequeued {
                    step,
                    reason: "started again after a stall".into(),
                },
            );
        }
    }

    /// Flags running agents that have reported nothing for too long, once per stall, and acts.
    pub(super) fn check_health(&mut self) {
        let now = self.clock.now_ms();
        let health = self.settings.health;
        let mut stalled = Vec::new();
        for (id, live) in &mut self.sessions {
            for (key, task) in &mut live.tasks {
                let TaskKey::Step(step) = key else {
                    continue;
                };
                let Some(state) = live.state.step(step) else {
                    continue;
                };
                // Paused or waiting for the user: no progress is expected, and the clock
                // starts afresh when it goes on.
                if state.status != StepStatus::Running
                    || state.waiting_approval.is_some()
                    || state.queued_on.is_some()
                {
                    task.last_progress_ms = now;
                    continue;
                }
                if !task.stall_reported && is_stalled(&health, task.last_progress_ms, now) {
                    task.stall_reported = true;
                    let idle_ms = (now - task.last_progress_ms).max(0) as u64;
                    match health.on_stall {
                        StallAction::Warn => {}
                        StallAction::Interrupt => task.cancel.cancel(),
                        StallAction::Retry => {
                            live.requeue_after_stop.insert(step.clone());
                            task.cancel.cancel();
                        }
                    }
                    stalled.push((id.clone(), step.clone(), idle_ms));
                }
            }
        }
        for (id, step, idle_ms) in stalled {
            tracing::warn!(session = %id, %step, idle_ms, action = health.on_stall.label(), "agent stalled");
            self.emit(
                &id,
                Event::StepStalled {
                    step,
                    idle_ms,
                    action: health.on_stall,
                },
            );
        }
    }
}
