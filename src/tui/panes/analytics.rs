//! The analytics view: `el-jefe stats` over every session (of this machine, or of the server), grouped by role,
//! provider, model or day, with the recommendations; and its keys.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph};

use crate::session::stats_text::stats_text;
use crate::tui::actions::{Action, Navigate};
use crate::tui::app::{App, NO_ANALYTICS};
use crate::tui::theme;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let whose = if app.attached_to.is_some() {
        "every session of the server"
    } else {
        "every session here"
    };
    let block = Block::bordered()
        .title(format!(
            " Analytics: {whose}, by {} (b groups by another, u updates) ",
            app.analytics_by.label()
        ))
        .border_style(theme::border(true));
    let text = match (&app.analytics, &app.analytics_problem, &app.summary_source) {
        (Some(stats), _, _) => stats_text(stats, "in all"),
        (None, Some(problem), _) => format!("Could not read the sessions' summaries: {problem}"),
        (None, None, Some(_)) => "Reading the sessions' summaries...".to_string(),
        (None, None, None) => format!("No analytics: {NO_ANALYTICS}."),
    };
    frame.render_widget(
        Paragraph::new(text)
            .block(block)
            .scroll((app.analytics_scroll, 0)),
        area,
    );
}

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key goes to the dashboard"
)]
pub fn key(key: KeyEvent) -> Option<Action> {
    let navigate = match key.code {
        KeyCode::Char('b') => Navigate::AnalyticsGrouping,
        KeyCode::Char('u') => Navigate::AnalyticsUpdate,
        KeyCode::Char('j') | KeyCode::Down => Navigate::AnalyticsScroll(1),
        KeyCode::Char('k') | KeyCode::Up => Navigate::AnalyticsScroll(-1),
        KeyCode::PageDown => Navigate::AnalyticsScroll(10),
        KeyCode::PageUp => Navigate::AnalyticsScroll(-10),
        _ => return None,
    };
    Some(Action::Navigate(navigate))
}
