//! The keys that work right now, for the focused pane or the open overlay.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Focus, Overlay, View};
use crate::tui::theme;

pub fn keys(app: &App) -> &'static str {
    if app.replay_deck.is_some()
        && app.overlay.is_none()
        && app.view == View::Dashboard
        && app.focus != Focus::CommandBar
    {
        return "space play/pause  ←/→ event  [/] 10 s  s speed  0/$ start/end  t go to  f fork here  tab/j/k look  esc leave replay";
    }
    match (&app.overlay, app.view, app.focus) {
        (Some(Overlay::Help), _, _) => "esc close help",
        (Some(Overlay::Confirm { .. }), _, _) => "y/enter yes  n/esc no",
        (Some(Overlay::Approval(p)), _, _) if p.deny_reason.is_some() => {
            "type the reason  enter deny  esc back"
        }
        (Some(Overlay::Approval(_)), _, _) => {
            "y allow once  a allow for the session  n deny  esc later  p pause  i interrupt"
        }
        (Some(Overlay::EditPreview(_)), _, _) => {
            "y/enter apply the edit  n/esc leave the plan as it was"
        }
        (Some(Overlay::RemoveDependents(_)), _, _) => {
            "r remove them too  k keep them (rewired)  esc cancel"
        }
        (None, _, Focus::CommandBar) => "enter run  tab complete  up/down history  esc leave",
        (None, View::Schedules, _) => {
            "esc back  j/k move  p pause/resume  n run now  / command  ? help  q quit"
        }
        (None, View::Compare, _) => "esc back  j/k PgUp/PgDn scroll  ? help  q quit",
        (None, View::Analytics, _) => {
            "esc back  b group by role/provider/model/day  u update  j/k scroll  ? help  q quit"
        }
        (None, View::Monitor | View::Metrics, _) => {
            "esc back  p/P pause  i/I interrupt  r resume  / command  ? help  q quit"
        }
        (None, View::Dashboard, Focus::Sessions) => {
            ": goal  / command  tab focus  j/k move  enter open  p/P pause  i/I interrupt  r resume  ? help  q quit"
        }
        (None, View::Dashboard, Focus::Steps) => {
            "? help  tab focus  j/k move  enter full view  p/P pause  i/I interrupt  r resume  e edit  x remove  + add  q quit"
        }
        (None, View::Dashboard, Focus::Streams) => {
            "? help  tab focus  j/k agent  enter full width  PgUp/PgDn/wheel scroll  End follow  p/P pause  i/I interrupt  q quit"
        }
    }
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let waiting = app.pending_approvals().len();
    let line = if waiting > 0 && app.overlay.is_none() {
        Line::from(vec![
            Span::styled(
                format!(" {waiting} tool call(s) wait for approval: a answers "),
                theme::warning(),
            ),
            Span::styled(format!(" {}", keys(app)), theme::dim()),
        ])
    } else {
        Line::styled(format!(" {}", keys(app)), theme::dim())
    };
    frame.render_widget(Paragraph::new(line), area);
}
