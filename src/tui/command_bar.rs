//! The command bar's editing state: a one-line text area with history and Tab completion.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use tui_textarea::{CursorMove, TextArea};

use super::slash_command::completions;
use crate::session::ids::SessionId;

pub struct CommandBar {
    pub textarea: TextArea<'static>,
    history: Vec<String>,
    /// Where Up/Down is in the history; None while editing a new line.
    history_pos: Option<usize>,
    /// What was typed before browsing history, restored by going past the newest entry.
    draft: String,
    /// Tab cycling: the candidates and which one is shown.
    completion: Option<(Vec<String>, usize)>,
}

/// What a key did in the bar.
#[derive(Debug, PartialEq, Eq)]
pub enum BarOutcome {
    /// Enter: the line to run (the bar is cleared and the line kept in history).
    Submit(String),
    /// Esc: leave the bar.
    Leave,
    Edited,
}

impl Default for CommandBar {
    fn default() -> Self {
        CommandBar {
            textarea: new_textarea(String::new()),
            history: Vec::new(),
            history_pos: None,
            draft: String::new(),
            completion: None,
        }
    }
}

fn new_textarea(text: String) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text]);
    t.set_cursor_line_style(Style::default());
    t.set_placeholder_text("type a goal to start it, or /help");
    t.set_placeholder_style(Style::default().add_modifier(Modifier::DIM));
    t.move_cursor(CursorMove::End);
    t
}

impl CommandBar {
    pub fn text(&self) -> &str {
        self.textarea.lines().first().map_or("", String::as_str)
    }

    pub fn set_text(&mut self, text: String) {
        self.textarea = new_textarea(text);
    }

    #[expect(
        clippy::wildcard_enum_match_arm,
        reason = "a key map names the keys it handles; the text area takes every other one"
    )]
    pub fn key(&mut self, key: KeyEvent, session_ids: &[SessionId]) -> BarOutcome {
        if key.code != KeyCode::Tab && key.code != KeyCode::BackTab {
            self.completion = None;
        }
        match key.code {
            KeyCode::Enter => {
                let line = self.text().trim().to_string();
                self.set_text(String::new());
                self.history_pos = None;
                if !line.is_empty() && self.history.last() != Some(&line) {
                    self.history.push(line.clone());
                }
                BarOutcome::Submit(line)
            }
            KeyCode::Esc => BarOutcome::Leave,
            KeyCode::Up => {
                self.browse_history(-1);
                BarOutcome::Edited
            }
            KeyCode::Down => {
                self.browse_history(1);
                BarOutcome::Edited
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.complete(key.code == KeyCode::BackTab, session_ids);
                BarOutcome::Edited
            }
            // One line only: no newlines, whatever the text area would do with them.
            KeyCode::Char('m' | 'j') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                BarOutcome::Edited
            }
            _ => {
                self.textarea.input(key);
                BarOutcome::Edited
            }
        }
    }

    fn browse_history(&mut self, direction: i32) {
        if self.history.is_empty() {
            return;
        }
        let newest = self.history.len() - 1;
        let next = match (self.history_pos, direction) {
            (None, -1) => {
                self.draft = self.text().to_string();
                Some(newest)
            }
            (None, _) => None,
            (Some(0), -1) => Some(0),
            (Some(p), -1) => Some(p - 1),
            (Some(p), _) if p < newest => Some(p + 1),
            (Some(_), _) => None,
        };
        self.history_pos = next;
        let text = match next {
            Some(p) => self.history[p].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.set_text(text);
    }

    fn complete(&mut self, backwards: bool, session_ids: &[SessionId]) {
        let (candidates, shown) = match self.completion.take() {
            Some((candidates, shown)) => {
                let n = candidates.len();
                let next = if backwards {
                    (shown + n - 1) % n
                } else {
                    (shown + 1) % n
                };
                (candidates, next)
            }
            None => {
                let candidates = completions(self.text(), session_ids);
                if candidates.is_empty() {
                    return;
                }
                (candidates, 0)
            }
        };
        self.set_text(candidates[shown].clone());
        if candidates.len() > 1 {
            self.completion = Some((candidates, shown));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn type_text(bar: &mut CommandBar, text: &str) {
        for c in text.chars() {
            bar.key(key(KeyCode::Char(c)), &[]);
        }
    }

    #[test]
    fn enter_submits_and_clears_and_history_comes_back_with_up() {
        let mut bar = CommandBar::default();
        type_text(&mut bar, "first goal");
        assert_eq!(
            bar.key(key(KeyCode::Enter), &[]),
            BarOutcome::Submit("first goal".into())
        );
        assert_eq!(bar.text(), "");
        type_text(&mut bar, "/status");
        bar.key(key(KeyCode::Enter), &[]);
        type_text(&mut bar, "draft");
        bar.key(key(KeyCode::Up), &[]);
        assert_eq!(bar.text(), "/status");
        bar.key(key(KeyCode::Up), &[]);
        assert_eq!(bar.text(), "first goal");
        bar.key(key(KeyCode::Up), &[]);
        assert_eq!(bar.text(), "first goal");
        bar.key(key(KeyCode::Down), &[]);
        bar.key(key(KeyCode::Down), &[]);
        assert_eq!(
            bar.text(),
            "draft",
            "going past the newest entry restores the draft"
        );
    }

    #[test]
    fn tab_cycles_through_completions() {
        let mut bar = CommandBar::default();
        type_text(&mut bar, "/mo");
        bar.key(key(KeyCode::Tab), &[]);
        assert_eq!(bar.text(), "/monitor ");
        bar.key(key(KeyCode::Tab), &[]);
        assert_eq!(bar.text(), "/mode ");
        bar.key(key(KeyCode::BackTab), &[]);
        assert_eq!(bar.text(), "/monitor ");
        type_text(&mut bar, "x");
        assert_eq!(bar.text(), "/monitor x");
    }

    #[test]
    fn esc_leaves() {
        let mut bar = CommandBar::default();
        assert_eq!(bar.key(key(KeyCode::Esc), &[]), BarOutcome::Leave);
    }
}
