//! What the user can do, and what each does to the dashboard and asks of the engine. The one
//! place the dashboard talks to the engine.

use super::app::{App, Confirmable, Focus, Overlay, View};
use super::slash_command::{SlashCommand, parse};
use crate::engine::EngineClosed;
use crate::session::event::ApprovalDecision;
use crate::session::ids::SessionId;
use crate::session::plan_edit::Dependents;
use crate::session::session_fold::{SessionStatus, StepStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Up(usize),
    Down(usize),
    PageUp,
    PageDown,
    Top,
    /// Back to the end, following new text.
    Follow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    RequestQuit,
    ShowHelp,
    CloseOverlay,
    Confirm(bool),
    /// The command bar, with this text to start from ("/" for a command, "" for a goal).
    FocusBar(String),
    LeaveBar,
    RunLine(String),
    FocusNext,
    FocusPrevious,
    /// Esc: out of the full-width stream, out of a view, or clear the message.
    Back,
    TogglePauseStep,
    TogglePauseSession,
    AskInterruptStep,
    AskInterruptSession,
    ResumeSession,
    /// Up or down in the focused list (or between stream panes).
    Move(i32),
    MoveTo(usize),
    /// Enter on the focused pane.
    Open,
    /// The selected step's stream.
    Scroll(Scroll),
    /// A given step's stream (mouse wheel over its pane).
    ScrollStep(usize, Scroll),
    SelectSession(usize),
    SelectStep(usize),
    /// Answers the approval prompt on screen.
    Decide(ApprovalChoice),
    /// Starts typing a reason for denying the tool call on screen.
    StartDenial,
    /// Typing the denial reason.
    EditReason(ReasonEdit),
    /// Puts the approval prompt aside; the agent keeps waiting.
    SetApprovalAside,
    /// Brings back the prompts put aside.
    ShowApprovals,
    /// `e`: the command bar, ready to edit the selected step.
    EditSelectedStep,
    /// `x`: removes the selected step (asking what is needed).
    RemoveSelectedStep,
    /// Yes or no to the impact preview of a plan edit.
    ConfirmEdit(bool),
    /// What becomes of the steps that need a removed one; None cancels.
    AnswerRemoval(Option<Dependents>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalChoice {
    AllowOnce,
    AllowForSession,
    /// With the reason typed so far, if any.
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonEdit {
    Type(char),
    Backspace,
    /// Back to choosing, without denying.
    Cancel,
}

impl App {
    pub fn perform(&mut self, action: Action) {
        let result = match action {
            Action::RequestQuit => {
                self.request_quit();
                Ok(())
            }
            Action::ShowHelp => {
                self.overlay = Some(Overlay::Help);
                Ok(())
            }
            Action::CloseOverlay => {
                self.overlay = None;
                Ok(())
            }
            Action::Confirm(yes) => self.confirm(yes),
            Action::FocusBar(start) => {
                if self.focus != Focus::CommandBar {
                    self.focus_before_bar = self.focus;
                }
                self.focus = Focus::CommandBar;
                self.bar.set_text(start);
                Ok(())
            }
            Action::LeaveBar => {
                self.focus = self.focus_before_bar;
                Ok(())
            }
            Action::RunLine(line) => {
                self.focus = self.focus_before_bar;
                match parse(&line) {
                    Ok(Some(command)) => self.run_command(command),
                    Ok(None) => Ok(()),
                    Err(reason) => {
                        self.complain(reason);
                        Ok(())
                    }
                }
            }
            Action::FocusNext | Action::FocusPrevious => {
                let ring = Focus::RING;
                let at = ring.iter().position(|f| *f == self.focus).unwrap_or(0);
                let step = if action == Action::FocusNext {
                    1
                } else {
                    ring.len() - 1
                };
                self.focus = ring[(at + step) % ring.len()];
                Ok(())
            }
            Action::Back => {
                if self.expanded {
                    self.expanded = false;
                } else if self.view != View::Dashboard {
                    self.view = View::Dashboard;
                } else {
                    self.message = None;
                }
                Ok(())
            }
            Action::TogglePauseStep => self.toggle_pause_step(),
            Action::TogglePauseSession => self.toggle_pause_session(None),
            Action::AskInterruptStep => {
                self.ask_interrupt_step();
                Ok(())
            }
            Action::AskInterruptSession => {
                self.ask_interrupt_session();
                Ok(())
            }
            Action::ResumeSession => self.resume(None),
            Action::Move(delta) => {
                self.move_selection(delta);
                Ok(())
            }
            Action::MoveTo(index) => {
                match self.focus {
                    Focus::Sessions => {
                        self.selected = index.min(self.sessions.len().saturating_sub(1))
                    }
                    Focus::Steps => {
                        if let Some(s) = self.session_mut() {
                            s.selected_step = index.min(s.state.steps.len().saturating_sub(1));
                        }
                    }
                    Focus::Streams | Focus::CommandBar => {}
                }
                Ok(())
            }
            Action::Open => {
                match self.focus {
                    Focus::Sessions => self.focus = Focus::Steps,
                    Focus::Steps => {
                        self.expanded = true;
                        self.focus = Focus::Streams;
                    }
                    Focus::Streams => self.expanded = !self.expanded,
                    Focus::CommandBar => {}
                }
                Ok(())
            }
            Action::Scroll(scroll) => {
                if let Some(step) = self.session().map(|s| s.selected_step) {
                    self.scroll_step(step, scroll);
                }
                Ok(())
            }
            Action::ScrollStep(step, scroll) => {
                self.scroll_step(step, scroll);
                Ok(())
            }
            Action::SelectSession(index) => {
                if index < self.sessions.len() {
                    self.selected = index;
                    self.focus = Focus::Sessions;
                }
                Ok(())
            }
            Action::SelectStep(index) => {
                if let Some(s) = self.session_mut()
                    && index < s.state.steps.len()
                {
                    s.selected_step = index;
                    self.focus = Focus::Steps;
                }
                Ok(())
            }
            Action::Decide(choice) => self.decide_approval(choice),
            Action::StartDenial => {
                if let Some(Overlay::Approval(prompt)) = &mut self.overlay {
                    prompt.deny_reason = Some(String::new());
                }
                Ok(())
            }
            Action::EditReason(edit) => {
                if let Some(Overlay::Approval(prompt)) = &mut self.overlay {
                    match (edit, &mut prompt.deny_reason) {
                        (ReasonEdit::Type(c), Some(reason)) => reason.push(c),
                        (ReasonEdit::Backspace, Some(reason)) => {
                            reason.pop();
                        }
                        (ReasonEdit::Cancel, reason) => *reason = None,
                        (ReasonEdit::Type(_) | ReasonEdit::Backspace, None) => {}
                    }
                }
                Ok(())
            }
            Action::SetApprovalAside => {
                if let Some(Overlay::Approval(prompt)) = self.overlay.take() {
                    self.approvals_set_aside.insert(prompt.call_id);
                    self.say(format!("{} {}", prompt.tool, super::app::APPROVAL_NOTE_END));
                }
                self.refresh_approval_prompt();
                Ok(())
            }
            Action::EditSelectedStep => {
                if let Some(step) = self.selected_step_id() {
                    self.perform(Action::FocusBar(format!("/edit-step {step} ")));
                }
                Ok(())
            }
            Action::RemoveSelectedStep => match self.selected_step_id() {
                Some(step) => self.remove_step(step, None),
                None => Ok(()),
            },
            Action::ConfirmEdit(yes) => self.confirm_edit(yes),
            Action::AnswerRemoval(choice) => self.answer_removal(choice),
            Action::ShowApprovals => {
                self.approvals_set_aside.clear();
                self.refresh_approval_prompt();
                if self.overlay.is_none() {
                    self.say("no tool call is waiting for approval");
                }
                Ok(())
            }
        };
        if let Err(EngineClosed) = result {
            self.complain("the engine has stopped; restart el-jefe");
        }
    }

    fn decide_approval(&mut self, choice: ApprovalChoice) -> Result<(), EngineClosed> {
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

    fn request_quit(&mut self) {
        if self.work_running_here() {
            self.overlay = Some(Overlay::Confirm {
                question: "Work is running. Quit? Running agents are interrupted and saved; \
                           resume them later with r or /resume."
                    .into(),
                action: Confirmable::Quit,
            });
        } else {
            self.quit_requested = true;
        }
    }

    fn confirm(&mut self, yes: bool) -> Result<(), EngineClosed> {
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

    fn move_selection(&mut self, delta: i32) {
        let moved = |at: usize, len: usize| -> usize {
            (at as i64 + i64::from(delta)).clamp(0, len.saturating_sub(1) as i64) as usize
        };
        match self.focus {
            Focus::Sessions => {
                self.selected = moved(self.selected, self.sessions.len());
                self.expanded = false;
            }
            Focus::Steps => {
                if let Some(s) = self.session_mut() {
                    s.selected_step = moved(s.selected_step, s.state.steps.len());
                }
            }
            Focus::Streams => {
                if let Some(s) = self.session_mut() {
                    let panes = s.stream_steps();
                    if let Some(at) = panes.iter().position(|&i| i == s.selected_step) {
                        s.selected_step = panes[moved(at, panes.len())];
                    } else if let Some(&first) = panes.first() {
                        s.selected_step = first;
                    }
                }
            }
            Focus::CommandBar => {}
        }
    }

    fn scroll_step(&mut self, step: usize, scroll: Scroll) {
        // Page size and wrap width come from where the pane was drawn last.
        let (width, height) = self
            .areas
            .streams
            .iter()
            .find(|(s, _)| *s == step)
            .map_or((80, 20), |(_, r)| (r.width as usize, r.height as usize));
        let page = height.saturating_sub(1).max(1);
        let Some(session) = self.session_mut() else {
            return;
        };
        let Some((view, text)) = session.stream(step) else {
            return;
        };
        match scroll {
            Scroll::Up(n) => view.scroll_up(text, width, height, n),
            Scroll::Down(n) => view.scroll_down(text, width, height, n),
            Scroll::PageUp => view.scroll_up(text, width, height, page),
            Scroll::PageDown => view.scroll_down(text, width, height, page),
            Scroll::Top => view.scroll_to_top(),
            Scroll::Follow => view.follow_end(),
        }
    }

    /// The selected step, if it belongs to a session this process can steer.
    fn steerable_step(
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

    fn toggle_pause_step(&mut self) -> Result<(), EngineClosed> {
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

    fn ask_interrupt_step(&mut self) {
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

    fn ask_interrupt_session(&mut self) {
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
    fn target(&mut self, id: Option<SessionId>) -> Option<SessionId> {
        let target = id.or_else(|| self.session().map(|s| s.state.id.clone()));
        if target.is_none() {
            self.complain("no session selected");
        }
        target
    }

    fn toggle_pause_session(&mut self, id: Option<SessionId>) -> Result<(), EngineClosed> {
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

    fn resume(&mut self, id: Option<SessionId>) -> Result<(), EngineClosed> {
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

    fn run_command(&mut self, command: SlashCommand) -> Result<(), EngineClosed> {
        match command {
            SlashCommand::Start(goal) => {
                let id = self.engine.start_session(&goal)?;
                self.select_when_seen = Some(id);
                self.view = View::Dashboard;
                self.say(format!("starting: {goal}"));
                Ok(())
            }
            SlashCommand::Interrupt(id) => {
                let Some(id) = self.target(id) else {
                    return Ok(());
                };
                self.engine.interrupt_session(&id)
            }
            SlashCommand::Pause(id) => self.toggle_pause_session(id),
            SlashCommand::Resume(id) => self.resume(id),
            SlashCommand::Status => {
                let line = self.status_line();
                self.say(line);
                Ok(())
            }
            SlashCommand::Monitor => {
                self.view = if self.view == View::Monitor {
                    View::Dashboard
                } else {
                    View::Monitor
                };
                Ok(())
            }
            SlashCommand::Metrics => {
                self.view = if self.view == View::Metrics {
                    View::Dashboard
                } else {
                    View::Metrics
                };
                Ok(())
            }
            SlashCommand::Mode(mode) => self.engine.set_mode(mode.unwrap_or(self.mode.toggled())),
            SlashCommand::Sessions => {
                self.view = View::Dashboard;
                self.focus = Focus::Sessions;
                Ok(())
            }
            SlashCommand::AddStep { agent, text } => self.add_step(agent, text),
            SlashCommand::RemoveStep(step) => self.remove_step(step, None),
            SlashCommand::EditStep { step, text } => self.edit_step(step, text),
            SlashCommand::SetDeps { step, after } => self.set_deps(step, after),
            SlashCommand::Budget(words) => self.budget_command(&words),
            SlashCommand::SavePlan(file) => {
                self.save_plan(file);
                Ok(())
            }
            SlashCommand::Help => {
                self.overlay = Some(Overlay::Help);
                Ok(())
            }
            SlashCommand::Quit => {
                self.request_quit();
                Ok(())
            }
        }
    }

    fn status_line(&self) -> String {
        let m = crate::session::metrics::system_metrics(self.sessions.iter().map(|s| &s.state));
        let by_status: Vec<String> = m
            .by_status
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        format!(
            "{} sessions ({}) · {} active · mode {} · model {}",
            m.sessions,
            if by_status.is_empty() {
                "none".into()
            } else {
                by_status.join(", ")
            },
            m.active_sessions,
            self.mode.label(),
            self.model_label
        )
    }
}
