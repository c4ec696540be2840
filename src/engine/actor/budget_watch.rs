//! The actor's side of budgets: pausing what a reached cap concerns, and letting it go on once
//! the cap is raised.

use super::Actor;
use crate::engine::task::TaskKey;
use crate::session::budget::{Budget, Scope, all_reached};
use crate::session::event::Event;
use crate::session::ids::{SessionId, StepId};
use crate::session::session_fold::StepStatus;

impl Actor {
    /// Pauses what a newly reached cap concerns: the whole session, or one role's agents (and
    /// starts no new step of that role). Each cap is reported once until it is raised.
    pub(super) fn check_budget(&mut self, id: &SessionId) {
        let now = self.clock.now_ms();
        let Some(live) = self.sessions.get(id) else {
            return;
        };
        if live.journal.is_none()
            || live.interrupting
            || !live.state.status.is_active()
            || live.state.budget.is_empty()
        {
            return;
        }
        let state = &live.state;
        // A cap reached by the last of a scope's work holds nothing back.
        let work_left = |scope: &Scope| {
            state.steps.iter().any(|s| {
                s.status != StepStatus::Completed
                    && match scope {
                        Scope::Session => true,
                        Scope::Role(role) => &s.spec.agent == role,
                    }
            })
        };
        let reached: Vec<_> = all_reached(state, now)
            .into_iter()
            .filter(|(scope, _, _)| !state.needs_attention.iter().any(|(s, _)| s == scope))
            .filter(|(scope, _, _)| work_left(scope))
            .collect();
        for (scope, limit, reason) in reached {
            tracing::warn!(session = %id, %scope, "{reason}");
            self.emit(
                id,
                Event::BudgetReached {
                    scope: scope.clone(),
                    limit,
                    reason,
                },
            );
            match scope {
                Scope::Session => {
                    let already = self.sessions.get(id).is_some_and(|l| l.state.paused);
                    if !already {
                        if let Some(live) = self.sessions.get_mut(id) {
                            live.paused_by_budget = true;
                        }
                        if let Err(reason) = self.set_session_paused(id, true) {
                            self.reject("budget".into(), reason);
                        }
                    }
                }
                Scope::Role(role) => self.pause_role(id, &role),
            }
        }
    }

    fn pause_role(&mut self, id: &SessionId, role: &str) {
        let Some(live) = self.sessions.get_mut(id) else {
            return;
        };
        let mut paused = Vec::new();
        for (key, task) in &live.tasks {
            let TaskKey::Step(step) = key else { continue };
            let Some(state) = live.state.step(step) else {
                continue;
            };
            if state.spec.agent == role && state.status == StepStatus::Running {
                task.pause.set(true);
                paused.push(step.clone());
            }
        }
        paused.sort();
        live.budget_paused.extend(paused.iter().cloned());
        for step in paused {
            self.emit(id, Event::StepPaused { step });
        }
    }

    /// Replaces the budget. What it held goes on, then the caps are checked again, so a cap
    /// still reached holds its agents once more.
    pub(super) fn set_budget(&mut self, id: &SessionId, budget: Budget) -> Result<(), String> {
        if !self.running_here(id) {
            self.take_over(id)?;
            self.emit(id, Event::BudgetSet { budget });
            self.close_journal(id);
            return Ok(());
        }
        self.emit(id, Event::BudgetSet { budget });
        self.release_budget_holds(id);
        self.check_budget(id);
        self.touched.insert(id.clone());
        Ok(())
    }

    fn release_budget_holds(&mut self, id: &SessionId) {
        let Some(live) = self.sessions.get_mut(id) else {
            return;
        };
        let unpause_session = std::mem::take(&mut live.paused_by_budget) && live.state.paused;
        let held: Vec<StepId> = live.budget_paused.drain().collect();
        let mut resumed = Vec::new();
        for step in held {
            let paused = live.state.step(&step).map(|s| s.status) == Some(StepStatus::Paused);
            if let (true, Some(task)) = (paused, live.tasks.get(&TaskKey::Step(step.clone()))) {
                // Still held if the whole session is paused.
                if !live.state.paused || unpause_session {
                    task.pause.set(false);
                    resumed.push(step);
                }
            }
        }
        resumed.sort();
        for step in resumed {
            self.emit(id, Event::StepResumed { step });
        }
        if unpause_session && let Err(reason) = self.set_session_paused(id, false) {
            self.reject("budget".into(), reason);
        }
    }
}
