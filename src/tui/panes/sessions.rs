//! The session list: status, goal and age; the selected session drives the other panes.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::row_in;
use crate::tui::actions::{Action, Navigate};
use crate::tui::app::{App, Focus};
use crate::tui::theme;

/// Records the pane's area and scrolls the list so the selection stays in view.
pub fn prepare(app: &mut App, area: Rect) {
    let rows = area.height.saturating_sub(2) as usize;
    let offset = &mut app.areas.sessions_offset;
    if app.selected < *offset {
        *offset = app.selected;
    } else if rows > 0 && app.selected >= *offset + rows {
        *offset = app.selected + 1 - rows;
    }
    app.areas.sessions = area;
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Sessions;
    let rows = area.height.saturating_sub(2) as usize;
    let offset = app.areas.sessions_offset;
    let inner_width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = if app.sessions.is_empty() {
        vec![Line::styled("no sessions yet", theme::dim())]
    } else {
        app.sessions
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows)
            .map(|(i, s)| {
                let (label, style) = theme::session_status(s.state.status);
                let label = if s.running_elsewhere {
                    format!("{label}*")
                } else {
                    label.to_string()
                };
                let age = crate::format::compact_age(app.now_ms - s.state.created_at_ms);
                let marker = if i == app.selected { "> " } else { "  " };
                let goal_width = inner_width.saturating_sub(2 + 6 + 4);
                // A session a schedule started says which.
                let goal = match &s.state.origin {
                    Some(origin) => format!("[{}] {}", origin.schedule, s.state.goal),
                    None => s.state.goal.clone(),
                };
                // A fork is marked, as `el-jefe sessions` marks it; `show` names its parent.
                let goal = match &s.state.forked_from {
                    Some(_) => format!("⑂ {goal}"),
                    None => goal,
                };
                let goal = theme::clip(&goal, goal_width);
                let mut line = Line::from(vec![
                    Span::raw(marker),
                    Span::raw(format!("{goal:<goal_width$}")),
                    Span::styled(format!(" {label:<5}"), style),
                    Span::styled(format!("{age:>4}"), theme::dim()),
                ]);
                if i == app.selected {
                    line = line.style(theme::selected(focused));
                }
                line
            })
            .collect()
    };
    let title = format!(" Sessions ({}) ", app.sessions.len());
    let block = Block::bordered()
        .title(title)
        .border_style(theme::border(focused));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// A click on a row selects that session.
pub fn click(app: &App, at: Position) -> Option<Action> {
    row_in(app.areas.sessions, at)
        .map(|row| Action::Navigate(Navigate::SelectSession(app.areas.sessions_offset + row)))
}
