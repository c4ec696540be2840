//! /monitor: every active agent across all sessions, one row each.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crate::tui::app::App;
use crate::tui::theme;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" Monitor: every active agent (esc back) ")
        .border_style(theme::border(true));
    let mut rows = Vec::new();
    for session in &app.sessions {
        for (i, step) in session.state.steps.iter().enumerate() {
            if !step.status.is_live() {
                continue;
            }
            let (label, style) = theme::step_status(step.status);
            let rate = session
                .rate(&step.spec.id)
                .map_or("-".to_string(), |r| format!("{r:.0}"));
            let last_line = step
                .transcript
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            rows.push(Row::new(vec![
                Cell::from(theme::clip(&session.state.goal, 28)),
                Cell::from(step.spec.agent.clone()),
                Cell::from(format!("{}/{}", i + 1, session.state.steps.len())),
                Cell::from(label).style(style),
                Cell::from(format!("{:>3.0}%", step.progress() * 100.0)),
                Cell::from(rate),
                Cell::from(last_line.trim().to_string()),
            ]));
        }
    }
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("No agent is running.", theme::dim())).block(block),
            area,
        );
        return;
    }
    let header = Row::new([
        "Session",
        "Agent",
        "Step",
        "Status",
        "Progress",
        "tok/s",
        "Last line",
    ])
    .style(theme::dim());
    let widths = [
        Constraint::Length(28),
        Constraint::Length(12),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}
