//! Steering the work: pause, interrupt, resume, answer approvals and edit plans. Everything
//! here is asked of the engine, and fails only when the engine has stopped.

use super::{ApprovalChoice, Steer};
use crate::engine::EngineClosed;
use crate::session::event::ApprovalDecision;
use crate::session::ids::SessionId;
use crate::session::session_fold::{SessionStatus, StepStatus};
use crate::tui::app::{App, Confirmable, Overlay};

impl App {
    pub(super) fn steer(&mut self, steer: Steer) -> Result<(), EngineClosed> {
        match steer {
            Steer::Confirm(yes) => self.confirm(yes),
            Steer::TogglePauseStep => self.toggle_pause_step(),
            Steer::TogglePauseSession => self.toggle_pause_session(None),
            Steer::AskInterruptStep => {
                self.ask_interrupt_step();
                Ok(())
            }
            Steer::AskInterruptSession => {
                self.ask_interrupt_session();
                Ok(())
            }
            Steer::ResumeSession => self.resume(None),
            Steer::Decide(choice) => self.decide_approval(choice),
            Steer::RemoveSelectedStep => match self.selected_step_id() {
                Some(step) => self.remove_step(step, None),
                None => Ok(()),
            },
            Steer::ConfirmEdit(yes) => self.confirm_edit(yes),
            Steer::AnswerRemoval(choice) => self.answer_removal(choice),
            Steer::TogglePauseSchedule => {
                self.toggle_pause_schedule();
                Ok(())
            }
            Steer::RunScheduleNow => {
                self.run_schedule_now();
                Ok(())
            }
        }
    }

    pub(super) fn decide_approval(&mut self, choice: ApprovalChoice) -> Result<(), EngineClosed> {
        let Some(Overlay::Approval(prompt)) = self.overlay.take() else {
            return Ok(());
        };
        let decision = match choice {
            ApprovalChoice::AllowOnce => ApprovalDecision::AllowOnce,
            ApprovalChoice::AllowForSession => ApprovalDecision::AllowForSession,
            ApprovalChoice::Deny => ApprovalDecision::Deny {
                reason: prompt
                    .deny_reason
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty()),
            },
        };
        self.engine
            .decide_approval(&prompt.session, &prompt.call_id, decision)?;
        // The next waiting call, if any, shows once the engine has recorded this answer.
        self.approvals_set_aside.insert(prompt.call_id);
        Ok(())
    }

    pub(super) fn confirm(&mut self, yes: bool) -> Result<(), EngineClosed> {
        let Some(Overlay::Confirm { action, .. }) = self.overlay.take() else {
            return Ok(());
        };
        if !yes {
            return Ok(());
        }
        match action {
            Confirmable::InterruptStep(session, step) => {
                self.engine.interrupt_step(&session, &step)
            }
            Confirmable::InterruptSession(session) => self.engine.interrupt_session(&session),
            Confirmable::Quit => {
                self.quit_requested = true;
                Ok(())
            }
        }
    }

    /// The selected step, if it belongs to a session this process can steer.
    pub(super) fn steerable_step(
        &mut self,
    ) -> Option<(SessionId, crate::session::ids::StepId, StepStatus, String)> {
        let Some(s) = self.session() else {
            self.complain("no session selected");
            return None;
        };
        if s.running_elsewhere {
            self.complain("that session is run by another el-jefe process");
            return None;
        }
        let Some(step) = s.selected() else {
            self.complain("no step selected");
            return None;
        };
        let label = format!(
            "{} (step {}/{})",
            step.spec.agent,
            s.selected_step + 1,
            s.state.steps.len()
        );
        Some((s.state.id.clone(), step.spec.id.clone(), step.status, label))
    }

    pub(super) fn toggle_pause_step(&mut self) -> Result<(), EngineClosed> {
        let Some((session, step, status, label)) = self.steerable_step() else {
            return Ok(());
        };
        match status {
            StepStatus::Running => self.engine.pause_step(&session, &step),
            StepStatus::Paused => self.engine.resume_step(&session, &step),
            other @ (StepStatus::Pending
            | StepStatus::Completed
            | StepStatus::Failed
            | StepStatus::Interrupted) => {
                self.complain(format!(
                    "{label} is {}; p pauses a running agent",
                    other.label()
                ));
                Ok(())
            }
        }
    }

    pub(super) fn ask_interrupt_step(&mut self) {
        let Some((session, step, status, label)) = self.steerable_step() else {
            return;
        };
        if !status.is_live() {
            return self.complain(format!(
                "{label} is {}; i interrupts a running agent",
                status.label()
            ));
        }
        self.overlay = Some(Overlay::Confirm {
            question: format!("Interrupt {label}? Its partial answer is kept in the journal."),
            action: Confirmable::InterruptStep(session, step),
        });
    }

    pub(super) fn ask_interrupt_session(&mut self) {
        let Some(s) = self.session() else {
            return self.complain("no session selected");
        };
        if !s.state.status.is_active() {
            let status = s.state.status.label();
            return self.complain(format!(
                "the session is {status}; I interrupts running work"
            ));
        }
        let (id, goal) = (s.state.id.clone(), s.state.goal.clone());
        self.overlay = Some(Overlay::Confirm {
            question: format!("Interrupt the whole session \"{goal}\"? r resumes it later."),
            action: Confirmable::InterruptSession(id),
        });
    }

    /// The given session, or the selected one.
    pub(super) fn target(&mut self, id: Option<SessionId>) -> Option<SessionId> {
        let target = id.or_else(|| self.session().map(|s| s.state.id.clone()));
        if target.is_none() {
            self.complain("no session selected");
        }
        target
    }

    pub(super) fn toggle_pause_session(
        &mut self,
        id: Option<SessionId>,
    ) -> Result<(), EngineClosed> {
        let Some(id) = self.target(id) else {
            return Ok(());
        };
        // Unknown here: the engine's answer says why not.
        let status = self.find(&id).map(|i| self.sessions[i].state.status);
        match status {
            Some(SessionStatus::Paused) => self.engine.unpause_session(&id),
            Some(SessionStatus::Starting | SessionStatus::Running) | None => {
                self.engine.pause_session(&id)
            }
            Some(
                s @ (SessionStatus::Completed
                | SessionStatus::Failed
                | SessionStatus::Interrupted
                | SessionStatus::Edited),
            ) => {
                self.complain(format!("the session is {}; nothing to pause", s.label()));
                Ok(())
            }
        }
    }

    pub(super) fn resume(&mut self, id: Option<SessionId>) -> Result<(), EngineClosed> {
        let Some(id) = self.target(id) else {
            return Ok(());
        };
        if let Some(i) = self.find(&id) {
            let state = &self.sessions[i].state;
            if !state.can_resume() {
                let status = state.status.label();
                self.complain(format!(
                    "the session is {status}; r resumes interrupted or failed work"
                ));
                return Ok(());
            }
        }
        self.say(format!("resuming {id}"));
        self.engine.resume_session(&id)
    }
}
