//! The command bar: the text being typed, the mode, and the latest message.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Block;

use crate::tui::app::{App, Focus};
use crate::tui::theme;

pub fn render(app: &mut App, frame: &mut Frame, area: Rect) {
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
    app.bar.textarea.set_block(block);
    app.bar.textarea.set_cursor_style(if focused {
        Style::default().add_modifier(ratatui::style::Modifier::REVERSED)
    } else {
        Style::default()
    });
    frame.render_widget(&app.bar.textarea, area);
}
