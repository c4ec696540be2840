//! The steps of the selected session: agent, status, progress and what each waits on.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::row_in;
use crate::tui::actions::{Action, Navigate};
use crate::tui::app::{App, Focus};
use crate::tui::step_badge::StepBadge;
use crate::tui::theme;

pub fn prepare(app: &mut App, area: Rect) {
    app.areas.steps = area;
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Steps;
    let block = Block::bordered()
        .title(" Steps ")
        .border_style(theme::border(focused));
    let Some(session) = app.session() else {
        frame.render_widget(block, area);
        return;
    };
    let inner_width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = if session.state.steps.is_empty() {
        let text = if session.state.status.is_active() {
            "planning..."
        } else {
            "no plan"
        };
        vec![Line::styled(text, theme::dim())]
    } else {
        session
            .state
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let badge = StepBadge::of(&session.state, step);
                let (label, style) = (badge.short(), badge.style());
                let progress = if step.status.is_live() {
                    format!("{:>3.0}%", step.progress() * 100.0)
                } else {
                    String::new()
                };
                let deps: Vec<&str> = step.spec.depends_on.iter().map(|d| d.as_str()).collect();
                let mut after = if deps.is_empty() {
                    String::new()
                } else {
                    format!(" after {}", deps.join(","))
                };
                if step.steered.is_some() {
                    after = format!(" {}{after}", step.status_words());
                }
                let head = format!("{:>2} {:<10} ", i + 1, theme::clip(&step.spec.agent, 10));
                let rest_width = inner_width.saturating_sub(head.chars().count() + 5 + 5);
                let mut line = Line::from(vec![
                    Span::raw(head),
                    Span::styled(format!("{label:<5}"), style),
                    Span::raw(format!("{progress:>5}")),
                    Span::styled(theme::clip(&after, rest_width), theme::dim()),
                ]);
                if i == session.selected_step {
                    line = line.style(theme::selected(focused));
                }
                line
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// A click on a row selects that step.
pub fn click(app: &App, at: Position) -> Option<Action> {
    row_in(app.areas.steps, at).map(|row| Action::Navigate(Navigate::SelectStep(row)))
}
