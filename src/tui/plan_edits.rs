//! Editing the selected session's plan from the dashboard: the edit is checked here with the
//! same rules the engine applies, so a mistake is a one-line message, a removal that strands
//! other steps asks about them, and an edit that re-runs finished work shows what it would cost
//! before anything happens.

use std::path::PathBuf;

use super::app::{App, EditPreview, Overlay, RemovalQuestion};
use crate::engine::EngineClosed;
use crate::format::group_thousands;
use crate::session::budget::{Scope, apply_cap_words, usage};
use crate::session::ids::StepId;
use crate::session::plan_edit::{
    Dependents, EditError, PlanEdit, apply_edit, change_step, new_step,
};
use crate::session::plan_file::render_plan_file;
use crate::session::session_fold::{SessionState, StepStatus};
use crate::tui::slash_command::step_ids;

impl App {
    pub(super) fn add_step(&mut self, agent: String, text: String) -> Result<(), EngineClosed> {
        self.propose_edit(|state, _| {
            let (task, after) = split_after(&text, state);
            Ok(new_step(&state.plan(), &agent, &task, after))
        })
    }

    pub(super) fn edit_step(&mut self, step: StepId, text: String) -> Result<(), EngineClosed> {
        self.propose_edit(|_, roles| change_step(step, &text, roles))
    }

    pub(super) fn remove_step(
        &mut self,
        step: StepId,
        dependents: Option<Dependents>,
    ) -> Result<(), EngineClosed> {
        self.propose_edit(|_, _| Ok(PlanEdit::RemoveStep { step, dependents }))
    }

    pub(super) fn set_deps(
        &mut self,
        step: StepId,
        after: Vec<StepId>,
    ) -> Result<(), EngineClosed> {
        self.propose_edit(|_, _| {
            Ok(PlanEdit::SetDependencies {
                step,
                depends_on: after,
            })
        })
    }

    /// The selected step's id, for the keys that edit it.
    pub(super) fn selected_step_id(&mut self) -> Option<StepId> {
        let id = self
            .session()
            .and_then(|s| s.selected())
            .map(|s| s.spec.id.clone());
        if id.is_none() {
            self.complain("no step selected");
        }
        id
    }

    /// Checks the edit against the selected session; applies it at once when it touches no
    /// finished work, otherwise asks first.
    fn propose_edit(
        &mut self,
        make: impl FnOnce(&SessionState, &[String]) -> Result<PlanEdit, String>,
    ) -> Result<(), EngineClosed> {
        let Some(view) = self.session() else {
            self.complain("no session selected");
            return Ok(());
        };
        if view.running_elsewhere {
            self.complain("that session is run by another el-jefe process; edit it there");
            return Ok(());
        }
        let state = &view.state;
        if !state.has_plan() {
            self.complain("the session has no plan yet; edit it once planning is done");
            return Ok(());
        }
        let edit = match make(state, &self.roles) {
            Ok(edit) => edit,
            Err(reason) => {
                self.complain(reason);
                return Ok(());
            }
        };
        let status = |id: &StepId| state.step(id).map_or(StepStatus::Pending, |s| s.status);
        let outcome = match apply_edit(&state.plan(), status, &edit, &self.roles) {
            Ok(outcome) => outcome,
            Err(EditError::HasDependents { step, dependents }) => {
                self.overlay = Some(Overlay::RemoveDependents(RemovalQuestion {
                    session: state.id.clone(),
                    step,
                    dependents,
                }));
                return Ok(());
            }
            Err(e) => {
                self.complain(e.to_string());
                return Ok(());
            }
        };
        let ended = !state.status.is_active();
        let leaves_work = outcome.leaves_work(|id| state.step(id).map(|s| s.status));
        if outcome.stale.is_empty() && !(ended && leaves_work) {
            let id = state.id.clone();
            self.say(format!("plan edited: {}", edit.describe()));
            return self.engine.edit_plan(&id, edit);
        }
        let new_steps: Vec<StepId> = outcome
            .plan
            .steps
            .iter()
            .filter(|s| state.step(&s.id).is_none())
            .map(|s| s.id.clone())
            .collect();
        let stale = outcome
            .stale
            .iter()
            .map(|id| {
                let step = state.step(id);
                (
                    id.clone(),
                    step.map_or(String::new(), |s| s.spec.agent.clone()),
                    step.map_or(0, |s| s.run_tokens),
                )
            })
            .collect();
        self.overlay = Some(Overlay::EditPreview(EditPreview {
            session: state.id.clone(),
            title: edit.describe(),
            edit,
            stale,
            new_steps,
            removed: outcome.removed,
            resume_after: ended && leaves_work,
        }));
        Ok(())
    }

    /// The answer to the impact preview.
    pub(super) fn confirm_edit(&mut self, yes: bool) -> Result<(), EngineClosed> {
        let Some(Overlay::EditPreview(preview)) = self.overlay.take() else {
            return Ok(());
        };
        if !yes {
            self.say("plan left as it was");
            return Ok(());
        }
        self.engine
            .edit_plan(&preview.session, preview.edit.clone())?;
        if preview.resume_after {
            self.engine.resume_session(&preview.session)?;
        }
        self.say(format!("plan edited: {}", preview.title));
        Ok(())
    }

    /// The answer to "what becomes of the steps that need the removed one".
    pub(super) fn answer_removal(
        &mut self,
        choice: Option<Dependents>,
    ) -> Result<(), EngineClosed> {
        let Some(Overlay::RemoveDependents(question)) = self.overlay.take() else {
            return Ok(());
        };
        match choice {
            Some(choice)
                if self
                    .session()
                    .is_some_and(|s| s.state.id == question.session) =>
            {
                self.remove_step(question.step, Some(choice))
            }
            Some(_) => {
                self.complain("the selection moved to another session; nothing was removed");
                Ok(())
            }
            None => {
                self.say("nothing removed");
                Ok(())
            }
        }
    }

    /// `/budget`: what the selected session may spend and has spent, or a cap set.
    pub(super) fn budget_command(&mut self, words: &[String]) -> Result<(), EngineClosed> {
        let Some(view) = self.session() else {
            self.complain("no session selected");
            return Ok(());
        };
        let state = &view.state;
        if words.is_empty() {
            let spent = usage(state, &Scope::Session, self.now_ms);
            let mut text = format!(
                "budget: {} · spent {} tokens, {} tool calls",
                state.budget.session.describe(),
                group_thousands(spent.tokens),
                spent.tool_calls
            );
            if spent.money > 0.0 {
                text.push_str(&format!(", ${:.2}", spent.money));
            }
            for (role, caps) in &state.budget.agents {
                text.push_str(&format!(" · {role}: {}", caps.describe()));
            }
            self.say(text);
            return Ok(());
        }
        if view.running_elsewhere {
            self.complain("that session is run by another el-jefe process");
            return Ok(());
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match apply_cap_words(&state.budget, &words, &self.roles) {
            Ok(budget) => {
                let id = state.id.clone();
                self.say(format!("budget set: {}", budget.session.describe()));
                self.engine.set_budget(&id, budget)
            }
            Err(reason) => {
                self.complain(reason);
                Ok(())
            }
        }
    }

    pub(super) fn save_plan(&mut self, file: PathBuf) {
        let Some(view) = self.session() else {
            return self.complain("no session selected");
        };
        if !view.state.has_plan() {
            return self.complain("the session has no plan yet");
        }
        let text = render_plan_file(&view.state.goal, &view.state.plan(), &view.state.budget);
        let steps = view.state.steps.len();
        match std::fs::write(&file, text) {
            Ok(()) => {
                let shown = std::path::absolute(&file).unwrap_or(file);
                self.say(format!(
                    "saved the plan ({steps} steps) to {}; el-jefe run --plan runs it",
                    shown.display()
                ));
            }
            Err(e) => self.complain(format!("cannot write {}: {e}", file.display())),
        }
    }
}

/// "Sum it up after 2, 3" -> ("Sum it up", [2, 3]) when 2 and 3 are steps of the plan; otherwise
/// "after" is part of the task ("Plan what happens after dinner").
fn split_after(text: &str, state: &SessionState) -> (String, Vec<StepId>) {
    if let Some(at) = text.rfind(" after ") {
        let ids = step_ids(&text[at + " after ".len()..]);
        if !ids.is_empty() && ids.iter().all(|id| state.step(id).is_some()) {
            return (text[..at].trim().to_string(), ids);
        }
    }
    (text.trim().to_string(), Vec::new())
}
