//! One line of the selected session's numbers, with a gauge of steps done.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, LineGauge, Paragraph};

use crate::format::{group_thousands, seconds};
use crate::session::budget::burn_and_projection;
use crate::tui::app::App;
use crate::tui::theme;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .title(" Metrics ")
        .border_style(theme::border(false));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(session) = app.session() else {
        return;
    };
    let state = &session.state;
    let m = state.metrics(app.now_for(&state.id));
    let t = &m.totals;
    let [gauge_area, text_area] =
        Layout::horizontal([Constraint::Length(24), Constraint::Fill(1)]).areas(inner);
    let total = m.steps.total();
    let ratio = if total == 0 {
        0.0
    } else {
        m.steps.completed as f64 / total as f64
    };
    // The count stands beside the bar, never on it: a filled bar drawn under its label hides it.
    frame.render_widget(
        LineGauge::default()
            .filled_style(Style::default().fg(Color::Green))
            .unfilled_style(Style::default().fg(Color::DarkGray))
            .line_set(symbols::line::THICK)
            .ratio(ratio)
            .label(format!("{}/{} steps", m.steps.completed, total)),
        gauge_area,
    );
    let estimated = if t.estimated { "~" } else { "" };
    let retries = if t.retries > 0 {
        format!(" ({} retried)", t.retries)
    } else {
        String::new()
    };
    // Errors take room only when there are some.
    let errors = if t.errors > 0 {
        format!("  errors {}", t.errors)
    } else {
        String::new()
    };
    let mut text = format!(
        "  tokens {estimated}{}  words {}  api {}{retries}  tools {}{errors}  avg {}  elapsed {}",
        group_thousands(t.total_tokens()),
        group_thousands(t.words),
        t.api_calls,
        t.tool_calls,
        t.avg_response_ms().map_or("-".into(), seconds),
        seconds(m.wall_ms),
    );
    // The burn rate and where it leads: worth a glance while work runs, or when a cap is set.
    if state.status.is_active()
        && let Some((per_minute, projected)) = burn_and_projection(state, app.now_for(&state.id))
    {
        // Tokens per minute, and the plan's total at that pace (its cap, if any, after it).
        text.push_str(&format!(
            "  burn {}/min",
            group_thousands(per_minute as u64)
        ));
        if let Some(projected) = projected {
            text.push_str(&format!(" → ~{}", group_thousands(projected)));
            if let Some(cap) = state.budget.session.tokens {
                text.push_str(&format!(" of {}", group_thousands(cap)));
            }
        }
    }
    // An agent far off what its role usually takes comes first: it is what needs a look.
    let flagged = (0..state.steps.len()).find_map(|i| {
        app.baseline_flags(session, i)
            .into_iter()
            .next()
            .map(|flag| format!("⚑ {}: {flag}", state.steps[i].spec.agent))
    });
    let line = match flagged {
        Some(flag) => Line::from(vec![
            Span::raw("  "),
            Span::styled(flag, theme::warning()),
            Span::raw(text),
        ]),
        None => Line::raw(text),
    };
    frame.render_widget(Paragraph::new(line), text_area);
}
