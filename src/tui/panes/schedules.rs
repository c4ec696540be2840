//! /schedules: the server's schedules with their next and last runs, and the history of the
//! selected one, newest last; p pauses or resumes it, n runs it now.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::schedule::words::{last_run_words, record_words, state_words, when};
use crate::tui::actions::{Action, Navigate, Steer};
use crate::tui::app::App;
use crate::tui::theme;

/// The view's own keys; the dashboard's others (esc, /, ?, q) still work in it.
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key goes on to the dashboard's"
)]
pub fn key(key: KeyEvent) -> Option<Action> {
    Some(match key.code {
        KeyCode::Char('j') | KeyCode::Down => Action::Navigate(Navigate::Move(1)),
        KeyCode::Char('k') | KeyCode::Up => Action::Navigate(Navigate::Move(-1)),
        KeyCode::Char('p') => Action::Steer(Steer::TogglePauseSchedule),
        KeyCode::Char('n') => Action::Steer(Steer::RunScheduleNow),
        _ => return None,
    })
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" Schedules (esc back) ")
        .border_style(theme::border(true));
    let empty = match (&app.schedule_desk, app.schedules.is_empty()) {
        (None, _) => Some(
            "Schedules run in `el-jefe serve`; this dashboard runs its own engine. Start \
             `el-jefe serve` and launch el-jefe again: it attaches to the server.",
        ),
        (Some(_), true) => {
            Some("No schedules yet: el-jefe schedule add NAME --every 1h --goal \"...\"")
        }
        (Some(_), false) => None,
    };
    if let Some(text) = empty {
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme::dim()))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let now = DateTime::from_timestamp_millis(app.now_ms).unwrap_or_else(Utc::now);
    let [list, history] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    let rows = app.schedules.iter().map(|v| {
        let state = state_words(v);
        let state_style = if v.state.paused {
            Style::default().fg(Color::Magenta)
        } else {
            Style::default()
        };
        Row::new(vec![
            Cell::from(v.state.spec.name.clone()),
            Cell::from(v.when.clone()),
            Cell::from(v.next_due_ms.map_or_else(|| "-".into(), |ms| when(ms, now))),
            Cell::from(last_run_words(v, now)),
            Cell::from(state).style(state_style),
        ])
    });
    let header = Row::new(["Name", "When", "Next run", "Last run", "State"]).style(theme::dim());
    let widths = [
        Constraint::Length(18),
        Constraint::Fill(2),
        Constraint::Length(17),
        Constraint::Fill(2),
        Constraint::Length(16),
    ];
    let mut state = TableState::default().with_selected(Some(app.selected_schedule));
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .row_highlight_style(theme::selected(true))
            .block(block),
        list,
        &mut state,
    );
    draw_history(app, frame, history, now);
}

fn draw_history(app: &App, frame: &mut Frame, area: Rect, now: DateTime<Utc>) {
    let Some(view) = app.schedules.get(app.selected_schedule) else {
        return;
    };
    let s = &view.state;
    let title = format!(
        " {}: {} started, {} skipped; history, newest last ",
        s.spec.name, s.runs, s.skips
    );
    let shown = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line> = s
        .history
        .iter()
        .skip(s.history.len().saturating_sub(shown))
        .map(|r| Line::from(format!("{}  {}", when(r.at_ms, now), record_words(r))))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(title)
                .border_style(theme::border(false)),
        ),
        area,
    );
}
