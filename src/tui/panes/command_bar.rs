//! The command bar: the text being typed, the mode, the latest message, and its keys.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Block;

use crate::tui::actions::{Action, Bar};
use crate::tui::app::{App, Focus};
use crate::tui::command_bar::BarOutcome;
use crate::tui::theme;

/// The cursor shows only while the bar has focus.
pub fn prepare(app: &mut App) {
    let focused = app.focus == Focus::CommandBar;
    app.bar.textarea.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    });
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::CommandBar;
    let status = match &app.message {
        Some(m) if m.is_error => {
            Line::styled(format!(" {} ", m.text), Style::default().fg(Color::Red))
        }
        Some(m) => Line::styled(format!(" {} ", m.text), Style::default().fg(Color::Green)),
        None => Line::styled(
            format!(" {} · {} ", app.mode.label(), app.model_label),
            theme::dim(),
        ),
    };
    let block = Block::bordered()
        .title(" > ")
        .title_bottom(status.alignment(Alignment::Right))
        .border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(&app.bar.textarea, inner);
}

/// Typing in the bar; enter runs the line, esc leaves.
pub fn key(app: &mut App, key: KeyEvent) -> Option<Action> {
    let ids = app.session_ids();
    match app.bar.key(key, &ids) {
        BarOutcome::Submit(line) => Some(Action::Bar(Bar::Run(line))),
        BarOutcome::Leave => Some(Action::Bar(Bar::Leave)),
        BarOutcome::Edited => None,
    }
}
