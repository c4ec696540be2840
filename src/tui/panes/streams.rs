//! The agents' streams: one pane per running agent of the selected session, or the selected
//! step at full width. Only the rows on screen are wrapped and drawn.

use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use crate::format::seconds;
use crate::session::session_fold::{SessionStatus, StepState, StepStatus};
use crate::tui::actions::{Action, Navigate, Scroll};
use crate::tui::app::{App, Focus};
use crate::tui::session_view::SessionView;
use crate::tui::step_badge::StepBadge;
use crate::tui::theme;

/// Below this a pane shows too little to read; more agents than fit are listed instead.
const MIN_PANE_HEIGHT: u16 = 5;

/// Where the last frame put the stream panes and which rows each showed.
#[derive(Debug, Clone, Default)]
pub struct StreamsLayout {
    /// The line above the panes, when the session is not simply running.
    pub banner: Option<Rect>,
    pub panes: Vec<StreamPane>,
    /// Running agents that did not fit, and the line that names them.
    pub hidden: Option<(usize, Rect)>,
}

#[derive(Debug, Clone)]
pub struct StreamPane {
    /// Index of the step in the session.
    pub step: usize,
    pub rect: Rect,
    /// The text area inside the border: the mouse wheel's target and the page size.
    pub inner: Rect,
    /// The rows on screen, as byte ranges of the step's text.
    pub rows: Vec<Range<usize>>,
    pub following: bool,
}

/// Lays the panes out and picks the rows each shows: the one step of drawing that changes
/// anything (stream views index new text and cache wrapped heights).
pub fn prepare(app: &mut App, area: Rect) {
    let expanded = app.expanded;
    let selected = app.selected;
    let now_ms = app
        .sessions
        .get(selected)
        .map_or(app.now_ms, |s| app.now_for(&s.state.id));
    let layout = &mut app.areas.streams;
    *layout = StreamsLayout::default();
    let Some(session) = app.sessions.get_mut(selected) else {
        return;
    };
    let area = if banner(session, now_ms).is_some() {
        let [top, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        layout.banner = Some(top);
        rest
    } else {
        area
    };
    let panes = if expanded {
        vec![session.selected_step]
            .into_iter()
            .filter(|&i| i < session.state.steps.len())
            .collect()
    } else {
        session.stream_steps()
    };
    let (panes, hidden) = fitting(panes, session.selected_step, area);
    let constraints = vec![Constraint::Fill(1); panes.len()];
    let mut rects = Layout::vertical(constraints).split(area).to_vec();
    if hidden > 0
        && let Some(last) = rects.last_mut()
    {
        last.height = last.height.saturating_sub(1);
        layout.hidden = Some((hidden, Rect::new(area.x, area.bottom() - 1, area.width, 1)));
    }
    for (step, rect) in panes.into_iter().zip(rects) {
        let inner = Block::bordered().inner(rect);
        let Some((view, text)) = session.stream(step) else {
            continue;
        };
        let rows = view.visible_ranges(text, inner.width as usize, inner.height as usize);
        let following = view.is_following();
        layout.panes.push(StreamPane {
            step,
            rect,
            inner,
            rows,
            following,
        });
    }
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Streams;
    let layout = &app.areas.streams;
    let Some(session) = app.session() else {
        placeholder(
            frame,
            area,
            "No sessions yet. Type a goal below and press Enter.",
        );
        return;
    };
    if let (Some(line), Some(top)) = (
        banner(session, app.now_for(&session.state.id)),
        layout.banner,
    ) {
        frame.render_widget(Paragraph::new(line), top);
    }
    if layout.panes.is_empty() {
        let rest = layout.banner.map_or(area, |top| {
            Rect::new(
                area.x,
                top.bottom(),
                area.width,
                area.height.saturating_sub(1),
            )
        });
        placeholder(frame, rest, &nothing_to_stream(session));
        return;
    }
    if let Some((hidden, note)) = layout.hidden {
        let text = format!(" +{hidden} more running: j/k here switches agents, /monitor shows all");
        frame.render_widget(Paragraph::new(text).style(theme::dim()), note);
    }
    for pane in &layout.panes {
        let flags = app.baseline_flags(session, pane.step);
        draw_pane(frame, session, pane, focused, &flags);
    }
}

/// The stream pane under the pointer, by step index.
pub fn step_at(app: &App, at: Position) -> Option<usize> {
    app.areas
        .streams
        .panes
        .iter()
        .find(|pane| pane.inner.contains(at))
        .map(|pane| pane.step)
}

/// A click on a stream selects its step.
pub fn click(app: &App, at: Position) -> Option<Action> {
    step_at(app, at).map(|step| Action::Navigate(Navigate::SelectStep(step)))
}

/// The wheel scrolls the stream under the pointer, three rows at a time.
pub fn wheel(app: &App, at: Position, up: bool) -> Option<Action> {
    const ROWS: usize = 3;
    let scroll = if up {
        Scroll::Up(ROWS)
    } else {
        Scroll::Down(ROWS)
    };
    step_at(app, at).map(|step| Action::Navigate(Navigate::ScrollStep(step, scroll)))
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

/// One agent's pane, with the rows `prepare` picked.
fn draw_pane(
    frame: &mut Frame,
    session: &SessionView,
    pane: &StreamPane,
    focused: bool,
    flags: &[String],
) {
    let Some(step) = session.state.steps.get(pane.step) else {
        return;
    };
    let total = session.state.steps.len();
    let is_selected = pane.step == session.selected_step;
    let badge = StepBadge::of(&session.state, step);
    let mut title = vec![
        Span::raw(format!(
            " {} · step {}/{} · ",
            step.spec.agent,
            pane.step + 1,
            total
        )),
        Span::styled(badge.long(), badge.style().add_modifier(Modifier::BOLD)),
    ];
    if badge == StepBadge::Plain(StepStatus::Running)
        && let Some(rate) = session.rate(&step.spec.id)
    {
        title.push(Span::raw(format!(" · {rate:.0} tok/s")));
    }
    if let Some(flag) = flags.first() {
        title.push(Span::raw(" · "));
        title.push(Span::styled(format!("⚑ {flag}"), theme::warning()));
    }
    if !pane.following {
        title.push(Span::styled(" · scrolled, End follows", theme::dim()));
    }
    title.push(Span::raw(" "));
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
    let text = &step.transcript;
    let lines: Vec<Line> = if text.is_empty() {
        vec![Line::styled(waiting_text(step), theme::dim())]
    } else {
        pane.rows
            .iter()
            .filter_map(|row| text.get(row.clone()))
            .map(Line::raw)
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block.title(Line::from(title))),
        pane.rect,
    );
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
