//! Keys and mouse to actions. Which key does what depends on the overlay and the focused pane.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::actions::{Action, ApprovalChoice, Bar, Navigate, ReasonEdit, Scroll, Steer};
use super::app::{App, Focus, Overlay, View};
use super::command_bar::BarOutcome;
use crate::session::plan_edit::Dependents;

impl App {
    /// Handles a key press (releases and repeats of other kinds are ignored).
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        self.dirty = true;
        if let Some(action) = self.key_action(key) {
            self.perform(action);
        }
    }

    #[expect(
        clippy::wildcard_enum_match_arm,
        reason = "a key map names the keys it handles; every other key does nothing"
    )]
    fn key_action(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            // Ctrl-C never types into anything: it is always "leave", asking first if needed,
            // and a second Ctrl-C on that question means yes.
            return Some(match &self.overlay {
                Some(Overlay::Confirm { .. }) => Action::Steer(Steer::Confirm(true)),
                _ => Action::Navigate(Navigate::RequestQuit),
            });
        }
        match &self.overlay {
            Some(Overlay::Help) => {
                return matches!(key.code, KeyCode::Esc | KeyCode::Char('?' | 'q'))
                    .then_some(Action::Navigate(Navigate::CloseOverlay));
            }
            Some(Overlay::Confirm { .. }) => {
                return match key.code {
                    KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                        Some(Action::Steer(Steer::Confirm(true)))
                    }
                    KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                        Some(Action::Steer(Steer::Confirm(false)))
                    }
                    _ => None,
                };
            }
            Some(Overlay::Approval(prompt)) if prompt.deny_reason.is_some() => {
                return match key.code {
                    KeyCode::Enter => Some(Action::Steer(Steer::Decide(ApprovalChoice::Deny))),
                    KeyCode::Esc => {
                        Some(Action::Navigate(Navigate::EditReason(ReasonEdit::Cancel)))
                    }
                    KeyCode::Backspace => Some(Action::Navigate(Navigate::EditReason(
                        ReasonEdit::Backspace,
                    ))),
                    KeyCode::Char(c) => {
                        Some(Action::Navigate(Navigate::EditReason(ReasonEdit::Type(c))))
                    }
                    _ => None,
                };
            }
            Some(Overlay::Approval(prompt)) => {
                let prompt = prompt.clone();
                return match key.code {
                    KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                        Some(Action::Steer(Steer::Decide(ApprovalChoice::AllowOnce)))
                    }
                    KeyCode::Char('a' | 'A') => Some(Action::Steer(Steer::Decide(
                        ApprovalChoice::AllowForSession,
                    ))),
                    KeyCode::Char('n' | 'N') => Some(Action::Navigate(Navigate::StartDenial)),
                    KeyCode::Char('d' | 'D') => {
                        Some(Action::Steer(Steer::Decide(ApprovalChoice::Deny)))
                    }
                    KeyCode::Esc => Some(Action::Navigate(Navigate::SetApprovalAside)),
                    // Pause and interrupt still reach the agent: the prompt steps aside.
                    KeyCode::Char('p' | 'P' | 'i' | 'I') => {
                        self.select_asker(&prompt);
                        self.perform(Action::Navigate(Navigate::SetApprovalAside));
                        return self.key_action(key);
                    }
                    _ => None,
                };
            }
            Some(Overlay::EditPreview(_)) => {
                return match key.code {
                    KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                        Some(Action::Steer(Steer::ConfirmEdit(true)))
                    }
                    KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                        Some(Action::Steer(Steer::ConfirmEdit(false)))
                    }
                    _ => None,
                };
            }
            Some(Overlay::RemoveDependents(_)) => {
                return match key.code {
                    KeyCode::Char('r' | 'R') => Some(Action::Steer(Steer::AnswerRemoval(Some(
                        Dependents::Remove,
                    )))),
                    KeyCode::Char('k' | 'K') => Some(Action::Steer(Steer::AnswerRemoval(Some(
                        Dependents::Rewire,
                    )))),
                    KeyCode::Esc | KeyCode::Char('n' | 'N') => {
                        Some(Action::Steer(Steer::AnswerRemoval(None)))
                    }
                    _ => None,
                };
            }
            None => {}
        }
        if self.focus == Focus::CommandBar {
            let ids = self.session_ids();
            return match self.bar.key(key, &ids) {
                BarOutcome::Submit(line) => Some(Action::Bar(Bar::Run(line))),
                BarOutcome::Leave => Some(Action::Bar(Bar::Leave)),
                BarOutcome::Edited => None,
            };
        }
        let action = match key.code {
            KeyCode::Char('q') => Action::Navigate(Navigate::RequestQuit),
            KeyCode::Char('?') => Action::Navigate(Navigate::ShowHelp),
            KeyCode::Char('/') => Action::Bar(Bar::Focus("/".into())),
            KeyCode::Char(':') => Action::Bar(Bar::Focus(String::new())),
            KeyCode::Char('+') => Action::Bar(Bar::Focus("/add-step ".into())),
            KeyCode::Char('e') => Action::Navigate(Navigate::EditSelectedStep),
            KeyCode::Char('x') | KeyCode::Delete => Action::Steer(Steer::RemoveSelectedStep),
            KeyCode::Tab => Action::Navigate(Navigate::FocusNext),
            KeyCode::BackTab => Action::Navigate(Navigate::FocusPrevious),
            KeyCode::Esc => Action::Navigate(Navigate::Back),
            KeyCode::Char('p') => Action::Steer(Steer::TogglePauseStep),
            KeyCode::Char('P') => Action::Steer(Steer::TogglePauseSession),
            KeyCode::Char('i') => Action::Steer(Steer::AskInterruptStep),
            KeyCode::Char('I') => Action::Steer(Steer::AskInterruptSession),
            KeyCode::Char('r') => Action::Steer(Steer::ResumeSession),
            KeyCode::Char('a') => Action::Navigate(Navigate::ShowApprovals),
            KeyCode::Char('j') | KeyCode::Down => Action::Navigate(Navigate::Move(1)),
            KeyCode::Char('k') | KeyCode::Up => Action::Navigate(Navigate::Move(-1)),
            KeyCode::Char('g') => Action::Navigate(Navigate::MoveTo(0)),
            KeyCode::Enter => Action::Navigate(Navigate::Open),
            KeyCode::PageUp => Action::Navigate(Navigate::Scroll(Scroll::PageUp)),
            KeyCode::PageDown => Action::Navigate(Navigate::Scroll(Scroll::PageDown)),
            KeyCode::Home => Action::Navigate(Navigate::Scroll(Scroll::Top)),
            KeyCode::End | KeyCode::Char('G') => Action::Navigate(Navigate::Scroll(Scroll::Follow)),
            _ => return None,
        };
        Some(action)
    }

    #[expect(
        clippy::wildcard_enum_match_arm,
        reason = "wheel and left click do something; every other mouse event nothing"
    )]
    pub fn on_mouse(&mut self, mouse: MouseEvent) {
        if self.overlay.is_some() || self.view != View::Dashboard {
            return;
        }
        let at = Position::new(mouse.column, mouse.row);
        let action = match mouse.kind {
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let Some(&(step, _)) = self.areas.streams.iter().find(|(_, r)| r.contains(at))
                else {
                    return;
                };
                let rows = 3;
                Some(Action::Navigate(Navigate::ScrollStep(
                    step,
                    if mouse.kind == MouseEventKind::ScrollUp {
                        Scroll::Up(rows)
                    } else {
                        Scroll::Down(rows)
                    },
                )))
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(row) = row_in(self.areas.sessions, at) {
                    Some(Action::Navigate(Navigate::SelectSession(
                        self.areas.sessions_offset + row,
                    )))
                } else if let Some(row) = row_in(self.areas.steps, at) {
                    Some(Action::Navigate(Navigate::SelectStep(row)))
                } else {
                    self.areas
                        .streams
                        .iter()
                        .find(|(_, r)| r.contains(at))
                        .map(|&(step, _)| Action::Navigate(Navigate::SelectStep(step)))
                }
            }
            _ => None,
        };
        if let Some(action) = action {
            self.dirty = true;
            self.perform(action);
        }
    }
}

/// The list row under the pointer, inside a bordered pane.
fn row_in(area: Rect, at: Position) -> Option<usize> {
    let inner = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    inner.contains(at).then(|| (at.y - inner.y) as usize)
}
