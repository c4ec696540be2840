//! The actor's handling of what front ends ask: start, resume, pause, interrupt, plan edits,
//! approvals, and shutting down.

use tokio::sync::oneshot;

use super::Actor;
use crate::engine::live_session::LiveSession;
use crate::engine::task::TaskKey;
use crate::session::budget::Budget;
use crate::session::call::CallMode;
use crate::session::event::{ApprovalDecision, EngineEvent, Event};
use crate::session::ids::{SessionId, StepId};
use crate::session::origin::Origin;
use crate::session::plan::{Plan, PlanSource};
use crate::session::plan_edit::{PlanEdit, apply_edit};
use crate::session::plan_validation::{MAX_GIVEN_STEPS, validate_with_limit};
use crate::session::provider_choice::ProviderChoice;
use crate::session::session_fold::{SessionState, StepStatus};
use crate::store::paths::workspace_path;

/// What a start command may bring besides its goal.
pub(super) struct Given {
    pub plan: Option<Plan>,
    pub budget: Option<Budget>,
    pub origin: Option<Origin>,
    pub providers: ProviderChoice,
}

impl Actor {
    /// A new session, with the configured budget unless the command brings its own.
    pub(super) fn start_with_budget(
        &mut self,
        id: &SessionId,
        goal: &str,
        created_at: chrono::DateTime<chrono::Local>,
        given: Given,
    ) -> Result<(), String> {
        if self.shutdown.is_some() {
            return Err("el-jefe is shutting down".into());
        }
        self.start_session(
            id,
            goal,
            created_at,
            given.plan,
            given.origin,
            given.providers,
        )?;
        let budget = given.budget.unwrap_or_else(|| self.settings.budget.clone());
        if !budget.is_empty() {
            self.emit(id, Event::BudgetSet { budget });
        }
        Ok(())
    }

    pub(super) fn interrupt_step(&mut self, id: &SessionId, step: &StepId) -> Result<(), String> {
        let task = self
            .sessions
            .get(id)
            .and_then(|live| live.tasks.get(&TaskKey::Step(step.clone())))
            .ok_or_else(|| format!("step {step} of {id} is not running"))?;
        task.cancel.cancel();
        Ok(())
    }

    pub(super) fn set_mode(&mut self, mode: CallMode) {
        self.mode = mode;
        let _ = self.out.send(EngineEvent::ModeChanged(mode));
    }

    pub(super) fn start_session(
        &mut self,
        id: &SessionId,
        goal: &str,
        created_at: chrono::DateTime<chrono::Local>,
        plan: Option<Plan>,
        origin: Option<Origin>,
        choice: ProviderChoice,
    ) -> Result<(), String> {
        let plan = match plan {
            Some(plan) => Some(
                validate_with_limit(plan, &self.settings.roles.names(), MAX_GIVEN_STEPS)
                    .map_err(|e| format!("invalid plan: {e}"))?,
            ),
            None => None,
        };
        self.open_session(id, goal, created_at, origin, choice)?;
        tracing::info!(session = %id, given_plan = plan.is_some(), "session started");
        match plan {
            Some(plan) => self.emit(
                id,
                Event::PlanReady {
                    plan,
                    source: PlanSource::Given,
                },
            ),
            None => self.start_planner(id),
        }
        Ok(())
    }

    /// Makes a new session: its workspace, journal and routes, and its first event.
    pub(super) fn open_session(
        &mut self,
        id: &SessionId,
        goal: &str,
        created_at: chrono::DateTime<chrono::Local>,
        origin: Option<Origin>,
        choice: ProviderChoice,
    ) -> Result<(), String> {
        let goal = goal.trim();
        if goal.is_empty() {
            return Err("the goal is empty".into());
        }
        if self.sessions.contains_key(id) {
            return Err(format!("session {id} already exists"));
        }
        self.routes
            .check_choice(&choice, &self.settings.roles.names())?;
        let routes = self.routes.chosen(&choice)?;
        let workspace = workspace_path(&self.settings.workspace_root, goal, created_at);
        std::fs::create_dir_all(&workspace)
            .map_err(|e| format!("cannot create the workspace {}: {e}", workspace.display()))?;
        let journal = self.store.create_session(id).map_err(|e| e.to_string())?;
        self.sessions.insert(
            id.clone(),
            LiveSession::new(SessionState::new(id.clone()), journal, routes.clone()),
        );
        self.emit(
            id,
            Event::SessionCreated {
                goal: goal.to_string(),
                workspace,
                mode: self.mode,
                provider: routes.default_provider().name().to_string(),
                model: routes.default_route().model_name().to_string(),
                max_parallel: self.settings.max_parallel,
                origin,
                choice,
            },
        );
        Ok(())
    }

    pub(super) fn resume_session(&mut self, id: &SessionId) -> Result<(), String> {
        if self.shutdown.is_some() {
            return Err("el-jefe is shutting down".into());
        }
        if let Some(live) = self.sessions.get(id)
            && live.journal.is_some()
        {
            if live.interrupting {
                return Err(format!("{id} is being interrupted"));
            }
            if live.state.steps_to_retry().next().is_none() {
                return Err(format!("{id} is already {}", live.state.status.label()));
            }
            // Running, with some steps interrupted on their own: run those again.
            self.emit(id, Event::SessionResumed);
            return Ok(());
        }
        if let Some(live) = self.sessions.get(id)
            && !live.state.status.can_resume()
        {
            let status = live.state.status.label();
            return Err(format!("{id} is {status} and cannot be resumed"));
        }
        let (journal, stored) = self.store.reopen_session(id).map_err(|e| e.to_string())?;
        if !stored.state.status.can_resume() {
            return Err(format!(
                "{id} is {} and cannot be resumed",
                stored.state.status.label()
            ));
        }
        let routes = self.routes.chosen(&stored.state.choice).map_err(|why| {
            format!("{id} ran on providers this engine cannot give it again: {why}")
        })?;
        tracing::info!(session = %id, "session resumed");
        self.sessions
            .insert(id.clone(), LiveSession::new(stored.state, journal, routes));
        for message in stored.warnings {
            self.emit(
                id,
                Event::Warning {
                    message,
                    step: None,
                },
            );
        }
        self.emit(id, Event::SessionResumed);
        if !self.sessions[id].state.has_plan() {
            self.start_planner(id);
        }
        Ok(())
    }

    /// Edits a session's plan. A session that is not running here is taken over from disk for
    /// the edit and let go again; `resume` then runs what the edit left waiting.
    pub(super) fn edit_plan(&mut self, id: &SessionId, edit: PlanEdit) -> Result<(), String> {
        let running_here = self.running_here(id);
        if !running_here {
            self.take_over(id)?;
        }
        let checked = self.check_edit(id, &edit);
        if let Ok(stale) = &checked {
            self.emit(
                id,
                Event::PlanEdited {
                    edit,
                    stale: stale.clone(),
                },
            );
        }
        if !running_here {
            self.close_journal(id);
        }
        checked.map(|_| ())
    }

    /// The session is running in this process, its journal open.
    pub(super) fn running_here(&self, id: &SessionId) -> bool {
        self.sessions.get(id).is_some_and(|l| l.journal.is_some())
    }

    /// Takes a session that is not running here over from disk, journal locked, so an event can
    /// be written to it; `close_journal` lets it go again.
    pub(super) fn take_over(&mut self, id: &SessionId) -> Result<(), String> {
        if self.shutdown.is_some() {
            return Err("el-jefe is shutting down".into());
        }
        let (journal, stored) = self.store.reopen_session(id).map_err(|e| e.to_string())?;
        // Taken over only to write an event: no call is made on these routes.
        let routes = self.routes.clone();
        self.sessions
            .insert(id.clone(), LiveSession::new(stored.state, journal, routes));
        Ok(())
    }

    /// The steps the edit makes stale, or why it cannot be made now.
    pub(super) fn check_edit(
        &self,
        id: &SessionId,
        edit: &PlanEdit,
    ) -> Result<Vec<StepId>, String> {
        let live = &self.sessions[id];
        let state = &live.state;
        if live.interrupting {
            return Err(format!("{id} is being interrupted"));
        }
        if !state.has_plan() {
            return Err(format!(
                "{id} has no plan yet; edit it once planning is done"
            ));
        }
        if state.status.is_active() && live.journal.is_none() {
            return Err(format!("{id} is {}", state.status.label()));
        }
        let status = |step: &StepId| state.step(step).map_or(StepStatus::Pending, |s| s.status);
        apply_edit(&state.plan(), status, edit, &self.settings.roles.names())
            .map(|outcome| outcome.stale)
            .map_err(|e| e.to_string())
    }

    pub(super) fn set_step_paused(
        &mut self,
        id: &SessionId,
        step: &StepId,
        paused: bool,
    ) -> Result<(), String> {
        let Some(live) = self.sessions.get(id) else {
            return Err(format!("no running session {id}"));
        };
        let status = live.state.step(step).map(|s| s.status);
        let task = live.tasks.get(&TaskKey::Step(step.clone()));
        let event = match (task, status, paused) {
            (Some(task), Some(StepStatus::Running), true) => {
                task.pause.set(true);
                Event::StepPaused { step: step.clone() }
            }
            (Some(task), Some(StepStatus::Paused), false) => {
                task.pause.set(false);
                Event::StepResumed { step: step.clone() }
            }
            (_, Some(status), _) => return Err(format!("step {step} is {}", status.label())),
            (_, None, _) => return Err(format!("{id} has no step {step}")),
        };
        self.emit(id, event);
        Ok(())
    }

    pub(super) fn set_session_paused(
        &mut self,
        id: &SessionId,
        paused: bool,
    ) -> Result<(), String> {
        let Some(live) = self.sessions.get(id) else {
            return Err(format!("no running session {id}"));
        };
        if !live.state.status.is_active() || live.interrupting {
            return Err(format!("{id} is {}", live.state.status.label()));
        }
        if live.state.paused == paused {
            let already = if paused { "paused" } else { "not paused" };
            return Err(format!("{id} is already {already}"));
        }
        let mut changed: Vec<StepId> = live
            .tasks
            .iter()
            .filter(|(_, task)| task.pause.set(paused))
            .filter_map(|(key, _)| match key {
                TaskKey::Step(step) => Some(step.clone()),
                TaskKey::Planner => None,
            })
            .collect();
        changed.sort();
        self.emit(
            id,
            if paused {
                Event::SessionPaused
            } else {
                Event::SessionUnpaused
            },
        );
        for step in changed {
            self.emit(
                id,
                if paused {
                    Event::StepPaused { step }
                } else {
                    Event::StepResumed { step }
                },
            );
        }
        Ok(())
    }

    pub(super) fn interrupt_session(&mut self, id: &SessionId) -> Result<(), String> {
        let Some(live) = self.sessions.get_mut(id) else {
            return Err(format!("no running session {id}"));
        };
        if !live.state.status.is_active() {
            let status = live.state.status.label();
            return Err(format!("{id} is already {status}"));
        }
        live.interrupting = true;
        live.cancel_all();
        self.touched.insert(id.clone());
        Ok(())
    }

    pub(super) fn begin_shutdown(&mut self, done: Option<oneshot::Sender<()>>) {
        let waiting = self.shutdown.get_or_insert_with(Vec::new);
        waiting.extend(done);
        let active: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.state.status.is_active() && !s.interrupting)
            .map(|(id, _)| id.clone())
            .collect();
        for id in active {
            // Active and not being interrupted: nothing to refuse.
            if let Err(reason) = self.interrupt_session(&id) {
                tracing::warn!(session = %id, "not interrupted at shutdown: {reason}");
            }
        }
    }

    /// Answers a waiting tool call; allowing a tool for the session also answers every other
    /// call of that tool waiting in the session.
    pub(super) fn decide_approval(
        &mut self,
        id: &SessionId,
        call_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), String> {
        let Some(live) = self.sessions.get_mut(id) else {
            return Err(format!("no running session {id}"));
        };
        let Some(waiting) = live.approvals.remove(call_id) else {
            return Err(format!(
                "no tool call {call_id} of {id} is waiting for approval"
            ));
        };
        let mut answered = vec![(call_id.to_string(), waiting, decision.clone())];
        if decision == ApprovalDecision::AllowForSession {
            let tool = answered[0].1.tool.clone();
            let same: Vec<String> = live
                .approvals
                .iter()
                .filter(|(_, w)| w.tool == tool)
                .map(|(c, _)| c.clone())
                .collect();
            for other in same {
                if let Some(w) = live.approvals.remove(&other) {
                    answered.push((other, w, ApprovalDecision::AllowForSession));
                }
            }
        }
        for (call_id, waiting, decision) in answered {
            self.emit(
                id,
                Event::ApprovalDecided {
                    step: waiting.step,
                    call_id,
                    tool: waiting.tool,
                    decision: decision.clone(),
                },
            );
            let _ = waiting.reply.send(decision);
        }
        Ok(())
    }
}
