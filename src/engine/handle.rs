//! The typed way to ask the engine for things: one method per intent.

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use super::request::{Issued, Request};
use crate::session::budget::Budget;
use crate::session::call::CallMode;
use crate::session::command::Command;
use crate::session::event::ApprovalDecision;
use crate::session::fork::ForkPoint;
use crate::session::ids::{SessionId, StepId};
use crate::session::plan::Plan;
use crate::session::plan_edit::PlanEdit;
use crate::session::provider_choice::ProviderChoice;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the engine has stopped")]
pub struct EngineClosed;

#[derive(Clone, Debug)]
pub struct EngineHandle {
    tx: UnboundedSender<Request>,
    /// The providers every session started through this handle asks for.
    providers: ProviderChoice,
}

impl EngineHandle {
    pub fn new(tx: UnboundedSender<Request>) -> Self {
        EngineHandle {
            tx,
            providers: ProviderChoice::default(),
        }
    }

    /// This handle, starting its sessions on `providers` instead of the engine's routing.
    pub fn with_providers(mut self, providers: ProviderChoice) -> Self {
        self.providers = providers;
        self
    }

    pub fn send(&self, command: Command) -> Result<(), EngineClosed> {
        self.issue(Issued::local(command))
    }

    /// A command with who issued it and, if wanted, where to answer.
    pub fn issue(&self, issued: Issued) -> Result<(), EngineClosed> {
        self.tx
            .send(Request::Command(issued))
            .map_err(|_| EngineClosed)
    }

    /// Starts planning and running a goal; the id is known at once.
    pub fn start_session(&self, goal: &str) -> Result<SessionId, EngineClosed> {
        self.start(goal, None, None)
    }

    /// Runs a plan as given, without asking the model to plan. An invalid plan is rejected.
    pub fn start_session_with_plan(
        &self,
        goal: &str,
        plan: Plan,
    ) -> Result<SessionId, EngineClosed> {
        self.start(goal, Some(plan), None)
    }

    /// A session with its own budget instead of the configured one (from a plan file).
    pub fn start_session_with_budget(
        &self,
        goal: &str,
        plan: Option<Plan>,
        budget: Budget,
    ) -> Result<SessionId, EngineClosed> {
        self.start(goal, plan, Some(budget))
    }

    /// A new session with `parent`'s work up to `at`, running on from there on this handle's
    /// providers.
    pub fn fork_session(
        &self,
        parent: &SessionId,
        at: ForkPoint,
    ) -> Result<SessionId, EngineClosed> {
        let created_at = chrono::Local::now();
        let id = SessionId::generate(created_at);
        self.send(Command::ForkSession {
            id: id.clone(),
            parent: parent.clone(),
            at,
            created_at,
            providers: self.providers.clone(),
        })?;
        Ok(id)
    }

    pub fn set_budget(&self, session: &SessionId, budget: Budget) -> Result<(), EngineClosed> {
        self.send(Command::SetBudget {
            session: session.clone(),
            budget,
        })
    }

    fn start(
        &self,
        goal: &str,
        plan: Option<Plan>,
        budget: Option<Budget>,
    ) -> Result<SessionId, EngineClosed> {
        let created_at = chrono::Local::now();
        let id = SessionId::generate(created_at);
        self.send(Command::StartSession {
            id: id.clone(),
            goal: goal.to_string(),
            created_at,
            plan,
            budget,
            origin: None,
            providers: self.providers.clone(),
        })?;
        Ok(id)
    }

    pub fn decide_approval(
        &self,
        session: &SessionId,
        call_id: &str,
        decision: ApprovalDecision,
    ) -> Result<(), EngineClosed> {
        self.send(Command::DecideApproval {
            session: session.clone(),
            call_id: call_id.to_string(),
            decision,
        })
    }

    pub fn pause_step(&self, session: &SessionId, step: &StepId) -> Result<(), EngineClosed> {
        self.send(Command::PauseStep {
            session: session.clone(),
            step: step.clone(),
        })
    }

    pub fn resume_step(&self, session: &SessionId, step: &StepId) -> Result<(), EngineClosed> {
        self.send(Command::ResumeStep {
            session: session.clone(),
            step: step.clone(),
        })
    }

    pub fn pause_session(&self, session: &SessionId) -> Result<(), EngineClosed> {
        self.send(Command::PauseSession {
            session: session.clone(),
        })
    }

    pub fn unpause_session(&self, session: &SessionId) -> Result<(), EngineClosed> {
        self.send(Command::UnpauseSession {
            session: session.clone(),
        })
    }

    pub fn interrupt_step(&self, session: &SessionId, step: &StepId) -> Result<(), EngineClosed> {
        self.send(Command::InterruptStep {
            session: session.clone(),
            step: step.clone(),
        })
    }

    pub fn interrupt_session(&self, session: &SessionId) -> Result<(), EngineClosed> {
        self.send(Command::InterruptSession {
            session: session.clone(),
        })
    }

    pub fn resume_session(&self, session: &SessionId) -> Result<(), EngineClosed> {
        self.send(Command::ResumeSession {
            session: session.clone(),
        })
    }

    pub fn edit_plan(&self, session: &SessionId, edit: PlanEdit) -> Result<(), EngineClosed> {
        self.send(Command::EditPlan {
            session: session.clone(),
            edit,
        })
    }

    pub fn set_mode(&self, mode: CallMode) -> Result<(), EngineClosed> {
        self.send(Command::SetMode { mode })
    }

    /// Interrupts all running work, waits until it is journaled, and stops the engine.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Request::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
    }
}
