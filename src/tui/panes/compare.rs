//! The compare view: two sessions side by side, step by step (`el-jefe compare` in the
//! dashboard), and its keys.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph};

use crate::session::compare::compare;
use crate::session::compare_text::comparison_text;
use crate::tui::actions::{Action, Navigate};
use crate::tui::app::App;
use crate::tui::theme;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let sides = app.compared.as_ref().and_then(|(a, b)| {
        Some((
            app.sessions.get(app.find(a)?)?,
            app.sessions.get(app.find(b)?)?,
        ))
    });
    let (title, text) = match sides {
        Some((a, b)) => (
            format!(" Compare: A {} · B {} (esc back) ", a.state.id, b.state.id),
            // Recomputed per frame, so running sessions compare as they go.
            comparison_text(&compare(&a.state, &b.state, app.now_ms)),
        ),
        None => (
            " Compare ".to_string(),
            "The sessions to compare are gone from this dashboard.".to_string(),
        ),
    };
    frame.render_widget(
        Paragraph::new(text)
            .block(
                Block::bordered()
                    .title(title)
                    .border_style(theme::border(true)),
            )
            .scroll((app.compare_scroll, 0)),
        area,
    );
}

#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key goes to the dashboard"
)]
pub fn key(key: KeyEvent) -> Option<Action> {
    let by = match key.code {
        KeyCode::Char('j') | KeyCode::Down => 1,
        KeyCode::Char('k') | KeyCode::Up => -1,
        KeyCode::PageDown => 10,
        KeyCode::PageUp => -10,
        _ => return None,
    };
    Some(Action::Navigate(Navigate::CompareScroll(by)))
}
