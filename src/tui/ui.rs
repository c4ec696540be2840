//! The screen's layout, and which pane or view draws where. A frame has two steps: `prepare`
//! lays out the panes and catches the stream views up (the only step that changes the app), then
//! `draw` paints from the app read-only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, Focus, Overlay, View};
use super::panes;

/// Below this the layout cannot show its panes readably.
pub const MIN_SIZE: (u16, u16) = (60, 16);

/// The screen split into its rows; the dashboard splits `main` further.
struct Screen {
    main: Rect,
    metrics: Rect,
    bar: Rect,
    footer: Rect,
}

impl Screen {
    fn of(area: Rect) -> Self {
        let [main, metrics, bar, footer] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(1),
        ])
        .areas(area);
        Screen {
            main,
            metrics,
            bar,
            footer,
        }
    }

    /// The dashboard's sessions, steps and streams.
    fn dashboard(&self) -> [Rect; 3] {
        let left_width = (self.main.width * 3 / 10).clamp(30, 48);
        let [left, right] =
            Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)])
                .areas(self.main);
        let [sessions, steps] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Fill(1)]).areas(left);
        [sessions, steps, right]
    }
}

pub fn render(app: &mut App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        panes::overlays::too_small(frame, area, MIN_SIZE);
        return;
    }
    let screen = Screen::of(area);
    prepare(app, &screen);
    draw(app, &screen, frame);
}

fn prepare(app: &mut App, screen: &Screen) {
    match app.view {
        View::Dashboard => {
            let [sessions, steps, streams] = screen.dashboard();
            panes::sessions::prepare(app, sessions);
            panes::steps::prepare(app, steps);
            panes::streams::prepare(app, streams);
        }
        View::Monitor | View::Metrics | View::Schedules | View::Analytics | View::Compare => {}
    }
    panes::command_bar::prepare(app);
}

fn draw(app: &App, screen: &Screen, frame: &mut Frame) {
    match app.view {
        View::Dashboard => {
            let [sessions, steps, streams] = screen.dashboard();
            panes::sessions::draw(app, frame, sessions);
            panes::steps::draw(app, frame, steps);
            panes::streams::draw(app, frame, streams);
        }
        View::Monitor => panes::monitor::draw(app, frame, screen.main),
        View::Metrics => panes::metrics_view::draw(app, frame, screen.main),
        View::Analytics => panes::analytics::draw(app, frame, screen.main),
        View::Compare => panes::compare::draw(app, frame, screen.main),
        View::Schedules => panes::schedules::draw(app, frame, screen.main),
    }
    panes::metrics_bar::draw(app, frame, screen.metrics);
    match &app.replay_deck {
        Some(deck) if app.focus != Focus::CommandBar && app.view == View::Dashboard => {
            panes::replay_bar::draw(app, deck, frame, screen.bar);
        }
        Some(_) | None => panes::command_bar::draw(app, frame, screen.bar),
    }
    panes::footer::draw(app, frame, screen.footer);
    let area = frame.area();
    match &app.overlay {
        Some(Overlay::Help) => panes::overlays::help(frame, area),
        Some(Overlay::Confirm { question, .. }) => panes::overlays::confirm(frame, area, question),
        Some(Overlay::Approval(prompt)) => panes::approval::draw(frame, area, prompt),
        Some(Overlay::EditPreview(preview)) => panes::plan_edit::preview(frame, area, preview),
        Some(Overlay::RemoveDependents(question)) => {
            panes::plan_edit::removal(frame, area, question)
        }
        None => {}
    }
}
