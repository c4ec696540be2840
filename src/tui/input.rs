//! Keys and mouse to actions: an open overlay or the focused command bar takes the key with its
//! own key map (in its pane's module); otherwise these are the dashboard's keys.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Position;

use super::actions::{Action, Bar, Navigate, Replay, Scroll, Steer};
use super::app::{App, Focus, Overlay, View};
use super::panes;

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
            Some(Overlay::Help) => return panes::overlays::help_key(key),
            Some(Overlay::Confirm { .. }) => return panes::overlays::confirm_key(key),
            Some(Overlay::Approval(prompt)) => {
                let action = panes::approval::key(prompt, key);
                if action == Some(Action::Navigate(Navigate::AsideToAsker)) {
                    // The prompt stepped aside with its asker selected; the key goes on to it.
                    self.perform(Action::Navigate(Navigate::AsideToAsker));
                    return self.key_action(key);
                }
                return action;
            }
            Some(Overlay::EditPreview(_)) => return panes::plan_edit::preview_key(key),
            Some(Overlay::RemoveDependents(_)) => return panes::plan_edit::removal_key(key),
            None => {}
        }
        if self.focus == Focus::CommandBar {
            return panes::command_bar::key(self, key);
        }
        if self.view == View::Schedules
            && let Some(action) = panes::schedules::key(key)
        {
            return Some(action);
        }
        if self.view == View::Analytics
            && let Some(action) = panes::analytics::key(key)
        {
            return Some(action);
        }
        if self.view == View::Compare
            && let Some(action) = panes::compare::key(key)
        {
            return Some(action);
        }
        if self.replay_deck.is_some() && self.view == View::Dashboard {
            if let Some(action) = panes::replay_bar::key(key) {
                return Some(action);
            }
            if panes::replay_bar::steers(key) {
                self.complain(
                    "in replay, keys act on the moment on screen: esc leaves replay to steer",
                );
                return None;
            }
        }
        let action = match key.code {
            KeyCode::Char('R') => Action::Replay(Replay::Enter(None)),
            KeyCode::Char('c') => Action::Navigate(Navigate::MarkForCompare),
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
            MouseEventKind::ScrollUp => panes::streams::wheel(self, at, true),
            MouseEventKind::ScrollDown => panes::streams::wheel(self, at, false),
            MouseEventKind::Down(MouseButton::Left) => panes::sessions::click(self, at)
                .or_else(|| panes::steps::click(self, at))
                .or_else(|| panes::streams::click(self, at)),
            _ => None,
        };
        if let Some(action) = action {
            self.dirty = true;
            self.perform(action);
        }
    }
}
