//! The questions a plan edit asks: its impact preview, and what becomes of a removed step's
//! dependents, with the keys that answer them.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::overlays::centered;
use crate::format::group_thousands;
use crate::session::plan_edit::{Dependents, join_ids};
use crate::tui::actions::{Action, Steer};
use crate::tui::app::{EditPreview, RemovalQuestion};
use crate::tui::theme;

pub fn preview(frame: &mut Frame, area: Rect, preview: &EditPreview) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut text = vec![Line::styled(format!("Edit: {}", preview.title), bold)];
    text.push(Line::raw(""));
    if preview.removed.len() > 1 {
        text.push(Line::raw(format!(
            "Removed with it: {}",
            join_ids(&preview.removed[1..])
        )));
    }
    if !preview.new_steps.is_empty() {
        text.push(Line::raw(format!(
            "New step(s) to run: {}",
            join_ids(&preview.new_steps)
        )));
    }
    if preview.stale.is_empty() {
        text.push(Line::raw("No finished step has to run again."));
    } else {
        text.push(Line::raw(format!(
            "Finished steps that would run again ({}):",
            preview.stale.len()
        )));
        let mut total = 0;
        for (id, agent, tokens) in &preview.stale {
            total += tokens;
            text.push(Line::from(vec![
                Span::styled(format!("  {:<6}", id.as_str()), bold),
                Span::raw(format!("{agent:<12}")),
                Span::styled(
                    format!("{:>9} tokens last run", group_thousands(*tokens)),
                    theme::dim(),
                ),
            ]));
        }
        text.push(Line::raw(format!(
            "About {} tokens to run them again; every other finished step keeps its output.",
            group_thousands(total)
        )));
    }
    if preview.resume_after {
        text.push(Line::raw("The session resumes to run them."));
    }
    text.push(Line::raw(""));
    text.push(Line::styled(
        "y/enter apply   n/esc leave the plan as it was",
        theme::dim(),
    ));
    let height = text.len() as u16 + 2;
    let rect = centered(area, 84, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(" Plan edit: impact ")
                .border_style(theme::border(true)),
        ),
        rect,
    );
}

pub fn removal(frame: &mut Frame, area: Rect, question: &RemovalQuestion) {
    let step = question.step.as_str();
    let text = vec![
        Line::raw(format!(
            "Step {step} is needed by step(s) {}.",
            join_ids(&question.dependents)
        )),
        Line::raw(""),
        Line::from(vec![
            Span::styled("  r ", Style::default().fg(Color::Yellow)),
            Span::raw("remove them too, and whatever needs them"),
        ]),
        Line::from(vec![
            Span::styled("  k ", Style::default().fg(Color::Yellow)),
            Span::raw(format!("keep them: they run after what {step} ran after")),
        ]),
        Line::raw(""),
        Line::styled("esc cancel", theme::dim()),
    ];
    let rect = centered(area, 72, text.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(format!(" Remove step {step} "))
                .border_style(theme::border(true)),
        ),
        rect,
    );
}

/// Yes or no to the impact preview.
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key does nothing"
)]
pub fn preview_key(key: KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(Action::Steer(Steer::ConfirmEdit(true))),
        KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Steer(Steer::ConfirmEdit(false))),
        _ => None,
    }
}

/// What becomes of the steps that need the removed one.
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key does nothing"
)]
pub fn removal_key(key: KeyEvent) -> Option<Action> {
    let answer = match key.code {
        KeyCode::Char('r' | 'R') => Some(Dependents::Remove),
        KeyCode::Char('k' | 'K') => Some(Dependents::Rewire),
        KeyCode::Esc | KeyCode::Char('n' | 'N') => None,
        _ => return None,
    };
    Some(Action::Steer(Steer::AnswerRemoval(answer)))
}
