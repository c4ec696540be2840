//! Forking: a new session that inherits a parent's work up to a moment and runs on from there,
//! no model call repeated for what it inherits.

use super::Actor;
use crate::session::event::Event;
use crate::session::fork::{ForkPoint, cut};
use crate::session::ids::SessionId;
use crate::session::provider_choice::ProviderChoice;
use crate::session::session_fold::StepStatus;

pub(super) struct ForkOrder {
    pub parent: SessionId,
    pub at: ForkPoint,
    pub created_at: chrono::DateTime<chrono::Local>,
    pub providers: ProviderChoice,
}

impl Actor {
    pub(super) fn fork_session(&mut self, id: &SessionId, order: ForkOrder) -> Result<(), String> {
        if self.shutdown.is_some() {
            return Err("el-jefe is shutting down".into());
        }
        let parent_events = self
            .store
            .events(&order.parent)
            .map_err(|e| e.to_string())?;
        let fork = cut(&order.parent, &parent_events, &order.at)?;
        self.open_session(id, &fork.goal, order.created_at, None, order.providers)?;
        tracing::info!(
            session = %id,
            parent = %order.parent,
            at_seq = fork.at_seq,
            inherited_steps = fork.completed.len(),
            "session forked"
        );
        self.emit(
            id,
            Event::Inherited {
                parent: order.parent,
                at_seq: fork.at_seq,
                events: fork.inherited,
            },
        );
        self.copy_inherited_outputs(id);
        let budget = self.settings.budget.clone();
        let has_budget = self
            .sessions
            .get(id)
            .is_some_and(|l| !l.state.budget.is_empty());
        if !has_budget && !budget.is_empty() {
            self.emit(id, Event::BudgetSet { budget });
        }
        if !self.sessions.get(id).is_some_and(|l| l.state.has_plan()) {
            self.start_planner(id);
        }
        Ok(())
    }

    /// The kept steps' output files, written again in the fork's workspace so it holds every
    /// step's output like any session's.
    fn copy_inherited_outputs(&self, id: &SessionId) {
        let Some(live) = self.sessions.get(id) else {
            return;
        };
        let state = &live.state;
        for step in state.steps.iter().filter(|s| s.inherited) {
            if step.status != StepStatus::Completed {
                continue;
            }
            if let Some(name) = step.output_file.as_ref().and_then(|f| f.file_name()) {
                self.store
                    .write_file(state.workspace.join(name), step.output.clone());
            }
        }
    }
}
