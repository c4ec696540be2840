//! A tool call waiting for the user's answer: the prompt, and the keys that answer it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::overlays::centered;
use crate::tui::actions::{Action, ApprovalChoice, Navigate, ReasonEdit, Steer};
use crate::tui::app::ApprovalPrompt;
use crate::tui::theme;

pub fn draw(frame: &mut Frame, area: Rect, prompt: &ApprovalPrompt) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut text = vec![
        Line::raw(format!("{} wants to use a tool:", prompt.asker)),
        Line::raw(""),
        Line::from(vec![
            Span::styled(
                format!("  {}  ", prompt.tool),
                bold.fg(ratatui::style::Color::Yellow),
            ),
            Span::raw(prompt.detail.clone()),
        ]),
        Line::raw(""),
    ];
    match &prompt.deny_reason {
        None => text.push(Line::styled(
            "y/enter allow once   a allow for this session   n deny with a reason   d deny   esc later",
            theme::dim(),
        )),
        Some(reason) => {
            text.push(Line::from(vec![
                Span::styled("Reason for the model (optional): ", bold),
                Span::raw(format!("{reason}█")),
            ]));
            text.push(Line::styled("enter deny   esc back", theme::dim()));
        }
    }
    let rect = centered(area, 84, 10);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(" Approval needed ")
                .border_style(theme::border(true)),
        ),
        rect,
    );
}

/// Choosing an answer, or typing the reason for a denial.
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key does nothing"
)]
pub fn key(prompt: &ApprovalPrompt, key: KeyEvent) -> Option<Action> {
    if prompt.deny_reason.is_some() {
        return match key.code {
            KeyCode::Enter => Some(Action::Steer(Steer::Decide(ApprovalChoice::Deny))),
            KeyCode::Esc => Some(Action::Navigate(Navigate::EditReason(ReasonEdit::Cancel))),
            KeyCode::Backspace => Some(Action::Navigate(Navigate::EditReason(
                ReasonEdit::Backspace,
            ))),
            KeyCode::Char(c) => Some(Action::Navigate(Navigate::EditReason(ReasonEdit::Type(c)))),
            _ => None,
        };
    }
    match key.code {
        KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
            Some(Action::Steer(Steer::Decide(ApprovalChoice::AllowOnce)))
        }
        KeyCode::Char('a' | 'A') => Some(Action::Steer(Steer::Decide(
            ApprovalChoice::AllowForSession,
        ))),
        KeyCode::Char('n' | 'N') => Some(Action::Navigate(Navigate::StartDenial)),
        KeyCode::Char('d' | 'D') => Some(Action::Steer(Steer::Decide(ApprovalChoice::Deny))),
        KeyCode::Esc => Some(Action::Navigate(Navigate::SetApprovalAside)),
        // Pause and interrupt still reach the agent: the prompt steps aside for them.
        KeyCode::Char('p' | 'P' | 'i' | 'I') => Some(Action::Navigate(Navigate::AsideToAsker)),
        _ => None,
    }
}
