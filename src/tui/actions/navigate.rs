//! Moving around the dashboard: focus, selection, scrolling, views and overlays.

use super::{Navigate, ReasonEdit, Scroll};
use crate::tui::app::{App, Confirmable, Focus, Overlay, View};

impl App {
    pub(super) fn navigate(&mut self, navigate: Navigate) {
        match navigate {
            Navigate::RequestQuit => self.request_quit(),
            Navigate::ShowHelp => self.overlay = Some(Overlay::Help),
            Navigate::CloseOverlay => self.overlay = None,
            Navigate::FocusNext => self.cycle_focus(1),
            Navigate::FocusPrevious => self.cycle_focus(Focus::RING.len() - 1),
            Navigate::Back => self.back(),
            Navigate::Move(delta) if self.view == View::Schedules => self.move_schedule(delta),
            Navigate::Move(delta) => self.move_selection(delta),
            Navigate::MoveTo(index) => self.move_to(index),
            Navigate::Open => self.open(),
            Navigate::Scroll(scroll) => {
                if let Some(step) = self.session().map(|s| s.selected_step) {
                    self.scroll_step(step, scroll);
                }
            }
            Navigate::ScrollStep(step, scroll) => self.scroll_step(step, scroll),
            Navigate::SelectSession(index) => self.select_session(index),
            Navigate::SelectStep(index) => self.select_step(index),
            Navigate::StartDenial => {
                if let Some(Overlay::Approval(prompt)) = &mut self.overlay {
                    prompt.deny_reason = Some(String::new());
                }
            }
            Navigate::EditReason(edit) => self.edit_reason(edit),
            Navigate::SetApprovalAside => self.set_approval_aside(),
            Navigate::AsideToAsker => {
                if let Some(Overlay::Approval(prompt)) = &self.overlay {
                    let prompt = prompt.clone();
                    self.select_asker(&prompt);
                }
                self.set_approval_aside();
            }
            Navigate::ShowApprovals => {
                self.approvals_set_aside.clear();
                self.refresh_approval_prompt();
                if self.overlay.is_none() {
                    self.say("no tool call is waiting for approval");
                }
            }
            Navigate::EditSelectedStep => {
                if let Some(step) = self.selected_step_id() {
                    self.focus_bar(format!("/edit-step {step} "));
                }
            }
            Navigate::AnalyticsGrouping => self.next_grouping(),
            Navigate::AnalyticsUpdate => self.update_analytics(),
            Navigate::MarkForCompare => self.mark_for_compare(),
            Navigate::CompareScroll(by) => {
                self.compare_scroll = self.compare_scroll.saturating_add_signed(by as i16);
            }
            Navigate::AnalyticsScroll(by) => {
                self.analytics_scroll = self.analytics_scroll.saturating_add_signed(by as i16);
            }
        }
        // Choosing another session ends the replay of this one: the screen shows one moment
        // of one session or the present of all of them.
        let replayed = self.replay_deck.as_ref().map(|d| d.session().clone());
        if let Some(id) = replayed
            && self.session().map(|s| &s.state.id) != Some(&id)
        {
            self.leave_replay();
        }
    }

    /// `by` places along the ring of focusable panes.
    fn cycle_focus(&mut self, by: usize) {
        let ring = Focus::RING;
        let at = ring.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ring[(at + by) % ring.len()];
    }

    fn back(&mut self) {
        if self.expanded {
            self.expanded = false;
        } else if self.view != View::Dashboard {
            self.view = View::Dashboard;
        } else {
            self.message = None;
        }
    }

    fn move_to(&mut self, index: usize) {
        match self.focus {
            Focus::Sessions => self.selected = index.min(self.sessions.len().saturating_sub(1)),
            Focus::Steps => {
                if let Some(s) = self.session_mut() {
                    s.selected_step = index.min(s.state.steps.len().saturating_sub(1));
                }
            }
            Focus::Streams | Focus::CommandBar => {}
        }
    }

    fn open(&mut self) {
        match self.focus {
            Focus::Sessions => self.focus = Focus::Steps,
            Focus::Steps => {
                self.expanded = true;
                self.focus = Focus::Streams;
            }
            Focus::Streams => self.expanded = !self.expanded,
            Focus::CommandBar => {}
        }
    }

    fn select_session(&mut self, index: usize) {
        if index < self.sessions.len() {
            self.selected = index;
            self.focus = Focus::Sessions;
        }
    }

    fn select_step(&mut self, index: usize) {
        if let Some(s) = self.session_mut()
            && index < s.state.steps.len()
        {
            s.selected_step = index;
            self.focus = Focus::Steps;
        }
    }

    fn edit_reason(&mut self, edit: ReasonEdit) {
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
    }

    fn set_approval_aside(&mut self) {
        if let Some(Overlay::Approval(prompt)) = self.overlay.take() {
            self.approvals_set_aside.insert(prompt.call_id);
            self.say(format!(
                "{} {}",
                prompt.tool,
                crate::tui::app::APPROVAL_NOTE_END
            ));
        }
        self.refresh_approval_prompt();
    }

    pub(super) fn request_quit(&mut self) {
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

    pub(super) fn move_selection(&mut self, delta: i32) {
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

    pub(super) fn scroll_step(&mut self, step: usize, scroll: Scroll) {
        // Page size and wrap width come from where the pane was drawn last.
        let (width, height) = self
            .areas
            .streams
            .panes
            .iter()
            .find(|pane| pane.step == step)
            .map_or((80, 20), |pane| {
                (pane.inner.width as usize, pane.inner.height as usize)
            });
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
}
