//! The screen's layout, and which pane or view draws where.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use super::app::{App, Overlay, View};
use super::panes;

/// Below this the layout cannot show its panes readably.
pub const MIN_SIZE: (u16, u16) = (60, 16);

pub fn render(app: &mut App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        panes::overlays::too_small(frame, area, MIN_SIZE);
        return;
    }
    let [main, metrics, bar, footer] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    match app.view {
        View::Dashboard => {
            let left_width = (area.width * 3 / 10).clamp(30, 48);
            let [left, right] =
                Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)])
                    .areas(main);
            let [sessions, steps] =
                Layout::vertical([Constraint::Percentage(45), Constraint::Fill(1)]).areas(left);
            panes::sessions::render(app, frame, sessions);
            panes::steps::render(app, frame, steps);
            panes::streams::render(app, frame, right);
        }
        View::Monitor => panes::monitor::render(app, frame, main),
        View::Metrics => panes::metrics_view::render(app, frame, main),
    }
    panes::metrics_bar::render(app, frame, metrics);
    panes::command_bar::render(app, frame, bar);
    panes::footer::render(app, frame, footer);
    match &app.overlay {
        Some(Overlay::Help) => panes::overlays::help(frame, area),
        Some(Overlay::Confirm { question, .. }) => panes::overlays::confirm(frame, area, question),
        Some(Overlay::Approval(prompt)) => panes::overlays::approval(frame, area, prompt),
        Some(Overlay::EditPreview(preview)) => panes::plan_edit::preview(frame, area, preview),
        Some(Overlay::RemoveDependents(question)) => {
            panes::plan_edit::removal(frame, area, question)
        }
        None => {}
    }
}
