//! Colours and short labels, so every pane shows a status the same way.

use ratatui::style::{Color, Modifier, Style};

use crate::session::session_fold::{SessionStatus, StepStatus};

pub fn border(focused: bool) -> Style {
    if focused {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default().fg(Color::DarkGray)
    }
}

pub fn selected(focused: bool) -> Style {
    if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default().add_modifier(Modifier::BOLD)
    }
}

pub fn dim() -> Style {
    Style::default().add_modifier(Modifier::DIM)
}

/// Something that needs the user: a tool call waiting for approval.
pub fn warning() -> Style {
    Style::default()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

pub fn session_status(status: SessionStatus) -> (&'static str, Style) {
    let (label, color) = match status {
        SessionStatus::Starting => ("plan", Color::Cyan),
        SessionStatus::Running => ("run", Color::Green),
        SessionStatus::Paused => ("pause", Color::Yellow),
        SessionStatus::Completed => ("done", Color::Blue),
        SessionStatus::Failed => ("fail", Color::Red),
        SessionStatus::Interrupted => ("int", Color::Magenta),
        SessionStatus::Edited => ("edit", Color::Cyan),
    };
    (label, Style::default().fg(color))
}

pub fn step_status(status: StepStatus) -> (&'static str, Style) {
    let (label, color) = match status {
        StepStatus::Pending => ("wait", Color::DarkGray),
        StepStatus::Running => ("run", Color::Green),
        StepStatus::Paused => ("pause", Color::Yellow),
        StepStatus::Completed => ("done", Color::Blue),
        StepStatus::Failed => ("fail", Color::Red),
        StepStatus::Interrupted => ("int", Color::Magenta),
    };
    (label, Style::default().fg(color))
}

/// Cuts text to `max` columns, marking the cut with an ellipsis.
pub fn clip(text: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if width + w > max {
            out.pop();
            out.push('…');
            return out;
        }
        width += w;
        out.push(c);
    }
    out
}
