//! The agents' streams: one pane per running agent of the selected session, or the selected
//! step at full width. Only the rows on screen are wrapped and drawn.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use crate::format::seconds;
use crate::session::session_fold::{SessionStatus, StepState, StepStatus};
use crate::tui::app::{App, Focus};
use crate::tui::session_view::SessionView;
use crate::tui::step_badge::StepBadge;
use crate::tui::theme;

/// Below this a pane shows too little to read; more agents than fit are listed instead.
const MIN_PANE_HEIGHT: u16 = 5;

pub fn render(app: &mut App, frame: &mut Frame, area: Rect) {
    app.areas.streams.clear();
    let focused = app.focus == Focus::Streams;
    let expanded = app.expanded;
    let App {
        sessions,
        selected,
        areas,
        now_ms,
        ..
    } = app;
    let Some(session) = sessions.get_mut(*selected) else {
        placeholder(
            frame,
            area,
            "No sessions yet. Type a goal below and press Enter.",
        );
        return;
    };
    let area = match banner(session, *now_ms) {
        Some(line) => {
            let [top, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
            frame.render_widget(Paragraph::new(line), top);
            rest
        }
        None => area,
    };
    let panes = if expanded {
        vec![session.selected_step]
            .into_iter()
            .filter(|&i| i < session.state.steps.len())
            .collect()
    } else {
        session.stream_steps()
    };
    if panes.is_empty() {
        placeholder(frame, area, &nothing_to_stream(session));
        return;
    }
    let (panes, hidden) = fitting(panes, session.selected_step, area);
    let constraints = vec![Constraint::Fill(1); panes.len()];
    let mut rects = Layout::vertical(constraints).split(area).to_vec();
    if hidden > 0
        && let Some(last) = rects.last_mut()
    {
        last.height = last.height.saturating_sub(1);
        let note = Rect::new(area.x, area.bottom() - 1, area.width, 1);
        let text = format!(" +{hidden} more running: j/k here switches agents, /monitor shows all");
        frame.render_widget(Paragraph::new(text).style(theme::dim()), note);
    }
    for (&index, rect) in panes.iter().zip(rects) {
        if let Some(inner) = draw_pane(frame, session, index, rect, focused) {
            areas.streams.push((index, inner));
        }
    }
}

/// What the pane says when no agent has anything to show.
fn nothing_to_stream(session: &SessionView) -> String {
    if session.state.status == SessionStatus::Starting {
        match &session.state.planner_notice {
            Some(notice) => format!("Planning: asking the model for a plan...\n{notice}"),
            None => "Planning: asking the model for a plan...".to_string(),
        }
    } else if session.state.steps.is_empty() {
        "This session has no plan.".to_string()
    } else {
        "No agent is running. Select a step to read its output.".to_string()
    }
}

/// The panes that fit in `area`, and how many do not.
fn fitting(panes: Vec<usize>, selected: usize, area: Rect) -> (Vec<usize>, usize) {
    let fit = (area.height / MIN_PANE_HEIGHT).max(1) as usize;
    let hidden = panes.len().saturating_sub(fit);
    if hidden == 0 {
        return (panes, 0);
    }
    // Keep the selected agent on screen; the others that do not fit are named below.
    let keep_selected = panes.iter().position(|&i| i == selected);
    let mut shown: Vec<usize> = panes.iter().copied().take(fit).collect();
    if let Some(at) = keep_selected
        && at >= fit
    {
        shown[fit - 1] = panes[at];
    }
    (shown, hidden)
}

/// One agent's pane; returns the area its text fills (for the mouse wheel).
fn draw_pane(
    frame: &mut Frame,
    session: &mut SessionView,
    index: usize,
    rect: Rect,
    focused: bool,
) -> Option<Rect> {
    let total = session.state.steps.len();
    let step = &session.state.steps[index];
    let is_selected = index == session.selected_step;
    let badge = StepBadge::of(&session.state, step);
    let mut title = vec![
        Span::raw(format!(
            " {} · step {}/{} · ",
            step.spec.agent,
            index + 1,
            total
        )),
        Span::styled(badge.long(), badge.style().add_modifier(Modifier::BOLD)),
    ];
    if badge == StepBadge::Plain(StepStatus::Running)
        && let Some(rate) = session.rate(&step.spec.id)
    {
        title.push(Span::raw(format!(" · {rate:.0} tok/s")));
    }
    let empty = step.transcript.is_empty();
    let waiting = waiting_text(step);
    let border = if is_selected && focused {
        theme::border(true)
    } else if is_selected {
        Style::default().fg(Color::White)
    } else {
        theme::border(false)
    };
    let mut block = Block::bordered().border_style(border);
    if let Some(line) = bottom_line(session, step) {
        block = block.title_bottom(line);
    }
    let inner = block.inner(rect);
    let (view, text) = session.stream(index)?;
    if !view.is_following() {
        title.push(Span::styled(" · scrolled, End follows", theme::dim()));
    }
    title.push(Span::raw(" "));
    let lines: Vec<Line> = if empty {
        vec![Line::styled(waiting, theme::dim())]
    } else {
        view.visible_rows(text, inner.width as usize, inner.height as usize)
            .into_iter()
            .map(Line::raw)
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block.title(Line::from(title))),
        rect,
    );
    Some(inner)
}

/// What an agent with no text yet is doing.
fn waiting_text(step: &StepState) -> &'static str {
    match step.status {
        StepStatus::Running if step.queued_on.is_some() => {
            "waiting for a free slot on its provider..."
        }
        StepStatus::Running => "waiting for the first token...",
        StepStatus::Paused => "paused before any text",
        StepStatus::Pending
        | StepStatus::Completed
        | StepStatus::Failed
        | StepStatus::Interrupted => "(no text)",
    }
}

/// The pane's bottom border: the error, else what holds the agent, else its latest notice.
fn bottom_line(session: &SessionView, step: &StepState) -> Option<Line<'static>> {
    if let Some(error) = &step.error {
        return Some(Line::styled(
            format!(" {error} "),
            Style::default().fg(Color::Red),
        ));
    }
    if let Some(reason) = state_attention(session, step) {
        return Some(Line::styled(format!(" {reason} "), theme::warning()));
    }
    step.notice
        .as_ref()
        .filter(|_| step.status.is_live())
        .map(|notice| Line::styled(format!(" {notice} "), Style::default().fg(Color::Yellow)))
}

/// Why a paused agent is held by a budget, if it is.
fn state_attention<'a>(session: &'a SessionView, step: &StepState) -> Option<&'a str> {
    (step.status == StepStatus::Paused)
        .then(|| session.state.attention_for(&step.spec.agent))
        .flatten()
}

/// One line above the streams when the session is not simply running: how it ended, or why
/// nothing moves.
fn banner(session: &SessionView, now_ms: i64) -> Option<Line<'static>> {
    let state = &session.state;
    if session.running_elsewhere {
        return Some(Line::styled(
            " run by another el-jefe process: shown as it was when this dashboard started",
            theme::dim(),
        ));
    }
    if let Some((_, reason)) = state.needs_attention.first()
        && state.status.is_active()
    {
        return Some(Line::styled(
            format!(" NEEDS ATTENTION: {reason} · /budget raises it"),
            theme::warning(),
        ));
    }
    let (text, color) = match state.status {
        SessionStatus::Starting | SessionStatus::Running => return None,
        SessionStatus::Paused => (" session paused: P unpauses it".to_string(), Color::Yellow),
        SessionStatus::Completed => (
            format!(
                " completed in {} · outputs in {}",
                seconds(state.metrics(now_ms).wall_ms),
                state.workspace.display()
            ),
            Color::Green,
        ),
        SessionStatus::Failed => (
            format!(
                " failed: {} · r runs the failed steps again",
                state.error.as_deref().unwrap_or("unknown error")
            ),
            Color::Red,
        ),
        SessionStatus::Interrupted => (
            " interrupted: r resumes it (completed steps are kept)".to_string(),
            Color::Magenta,
        ),
        SessionStatus::Edited => {
            let waiting = state.steps.len() - state.completed_steps();
            (
                format!(" plan edited: r runs the {waiting} step(s) waiting (the others are kept)"),
                Color::Cyan,
            )
        }
    };
    Some(Line::styled(text, Style::default().fg(color)))
}

fn placeholder(frame: &mut Frame, area: Rect, text: &str) {
    let block = Block::bordered().border_style(theme::border(false));
    frame.render_widget(
        Paragraph::new(Text::styled(text.to_string(), theme::dim())).block(block),
        area,
    );
}
