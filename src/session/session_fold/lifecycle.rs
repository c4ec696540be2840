//! The fold's handlers for a session's life: created, planned, paused, interrupted, resumed and
//! ended, with its warnings and budget.

use std::path::PathBuf;

use super::{SessionState, SessionStatus, StepState, StepStatus};
use crate::session::budget::{Budget, Scope};
use crate::session::call::CallMode;
use crate::session::ids::StepId;
use crate::session::origin::Origin;
use crate::session::plan::{Plan, PlanSource};
use crate::session::provider_choice::ProviderChoice;

/// What `SessionCreated` carries.
pub(super) struct Created<'a> {
    pub goal: &'a str,
    pub workspace: &'a PathBuf,
    pub mode: CallMode,
    pub provider: &'a str,
    pub model: &'a str,
    pub max_parallel: usize,
    pub origin: Option<&'a Origin>,
    pub choice: &'a ProviderChoice,
}

impl SessionState {
    pub(super) fn on_session_created(&mut self, at: i64, created: Created<'_>) {
        self.goal = created.goal.to_string();
        self.workspace = created.workspace.clone();
        self.mode = created.mode;
        self.provider = created.provider.to_string();
        self.model = created.model.to_string();
        self.max_parallel = created.max_parallel;
        self.origin = created.origin.cloned();
        self.choice = created.choice.clone();
        self.status = SessionStatus::Starting;
        self.created_at_ms = at;
        self.run_started_ms = Some(at);
    }

    pub(super) fn on_planning_started(&mut self, attempt: u32) {
        self.planning_attempt = attempt;
    }

    pub(super) fn on_plan_ready(&mut self, plan: &Plan, source: PlanSource) {
        self.steps = plan.steps.iter().cloned().map(StepState::new).collect();
        self.reindex();
        self.plan_source = Some(source);
        self.status = if self.paused {
            SessionStatus::Paused
        } else {
            SessionStatus::Running
        };
    }

    pub(super) fn on_warning(&mut self, message: &str, step: Option<&StepId>) {
        if let Some(s) = step.and_then(|id| self.step_mut(id)) {
            s.notice = Some(message.to_string());
        }
        self.warnings.push(message.to_string());
    }

    pub(super) fn on_budget_set(&mut self, budget: &Budget) {
        self.budget = budget.clone();
        // The engine checks the new caps and reports what is still over.
        self.needs_attention.clear();
    }

    pub(super) fn on_budget_reached(&mut self, scope: &Scope, reason: &str) {
        if !self.needs_attention.iter().any(|(s, _)| s == scope) {
            self.needs_attention
                .push((scope.clone(), reason.to_string()));
        }
    }

    /// Pausing the session (`paused` true) or letting it go on.
    pub(super) fn on_session_paused(&mut self, paused: bool) {
        self.paused = paused;
        let (from, to) = if paused {
            (SessionStatus::Running, SessionStatus::Paused)
        } else {
            (SessionStatus::Paused, SessionStatus::Running)
        };
        if self.status == from {
            self.status = to;
        }
    }

    pub(super) fn on_session_interrupted(&mut self, at: i64) {
        let live: Vec<StepId> = self.live_steps().map(|s| s.spec.id.clone()).collect();
        for id in live {
            self.end_step(&id, StepStatus::Interrupted, at);
        }
        self.paused = false;
        self.status = SessionStatus::Interrupted;
        self.end_run(at);
    }

    pub(super) fn on_session_resumed(&mut self, at: i64) {
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

    pub(super) fn on_session_completed(&mut self, at: i64) {
        self.status = SessionStatus::Completed;
        self.end_run(at);
    }

    pub(super) fn on_session_failed(&mut self, at: i64, error: &str) {
        self.status = SessionStatus::Failed;
        self.error = Some(error.to_string());
        self.end_run(at);
    }
}
