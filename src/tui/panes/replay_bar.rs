//! In replay, the bar under the metrics: where the replay stands in the run (a track with the
//! position), the event on screen, playing or paused and at which speed; and replay's keys.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph};

use crate::format::whole_seconds;
use crate::session::event::Event;
use crate::tui::actions::{Action, Bar, Replay};
use crate::tui::app::App;
use crate::tui::replay_deck::ReplayDeck;
use crate::tui::theme;

/// How far `[` and `]` jump.
const JUMP_MS: i64 = 10_000;

pub fn draw(app: &App, deck: &ReplayDeck, frame: &mut Frame, area: Rect) {
    let timeline = &deck.timeline;
    let status = match &app.message {
        Some(m) if m.is_error => {
            Line::styled(format!(" {} ", m.text), Style::default().fg(Color::Red))
        }
        Some(m) => Line::styled(format!(" {} ", m.text), Style::default().fg(Color::Green)),
        None => Line::styled(format!(" {} ", deck.session()), theme::dim()),
    };
    let block = Block::bordered()
        .title(Span::styled(
            " replay ",
            Style::default().fg(Color::Magenta),
        ))
        .title_bottom(status.alignment(Alignment::Right))
        .border_style(Style::default().fg(Color::Magenta));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let state = if deck.playing {
        "▶ playing"
    } else {
        "⏸ paused"
    };
    let into = (deck.now_ms() - timeline.start_ms()).max(0) as u64;
    let length = (timeline.end_ms() - timeline.start_ms()).max(0) as u64;
    let following = deck.playing && deck.at_end() && timeline.tip().status.is_active();
    let position = format!(
        "{state} {} · {} / {}{} · event {} of {} ",
        deck.speed.label(),
        whole_seconds(into),
        whole_seconds(length),
        if following { " · following live" } else { "" },
        timeline.seq_at(deck.position),
        timeline.seq_at(timeline.len()),
    );
    let [text_area, track_area] = Layout::horizontal([
        Constraint::Length(position.chars().count() as u16 + 1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(Line::raw(position)), text_area);
    let ratio = if timeline.is_empty() {
        0.0
    } else {
        deck.position as f64 / timeline.len() as f64
    };
    let label = deck
        .position
        .checked_sub(1)
        .and_then(|i| timeline.event(i))
        .map(|e| event_name(&e.event))
        .unwrap_or("start");
    frame.render_widget(
        Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(label)
            .gauge_style(Style::default().fg(Color::Magenta).bg(Color::Black)),
        track_area,
    );
}

/// The kind of the event just applied, in the words of the journal.
fn event_name(event: &Event) -> &'static str {
    match event {
        Event::SessionCreated { .. } => "session created",
        Event::PlanningStarted { .. } => "planning",
        Event::PlanRejected { .. } => "plan rejected",
        Event::PlanReady { .. } => "plan ready",
        Event::Warning { .. } => "warning",
        Event::StepStarted { .. } => "step started",
        Event::TextDelta { .. } => "text",
        Event::CallFinished { .. } => "call finished",
        Event::CallFailed { .. } => "call failed",
        Event::CallQueued { .. } => "waiting for a slot",
        Event::CallDequeued { .. } => "got a slot",
        Event::CallRetry { .. } => "retry",
        Event::CallFailover { .. } => "failover",
        Event::ToolCallRequested { .. } => "tool call",
        Event::ApprovalRequested { .. } => "approval asked",
        Event::ApprovalDecided { .. } => "approval answered",
        Event::ToolCallFinished { .. } => "tool result",
        Event::StepPaused { .. } => "step paused",
        Event::StepResumed { .. } => "step resumed",
        Event::StepCompleted { .. } => "step completed",
        Event::StepFailed { .. } => "step failed",
        Event::StepInterrupted { .. } => "step interrupted",
        Event::StepStalled { .. } => "step stalled",
        Event::StepRequeued { .. } => "step requeued",
        Event::BudgetSet { .. } => "budget set",
        Event::BudgetReached { .. } => "budget reached",
        Event::PlanEdited { .. } => "plan edited",
        Event::SessionPaused => "session paused",
        Event::SessionUnpaused => "session unpaused",
        Event::SessionInterrupted { .. } => "session interrupted",
        Event::SessionResumed => "session resumed",
        Event::SessionCompleted => "session completed",
        Event::SessionFailed { .. } => "session failed",
        Event::Inherited { .. } => "inherited from the parent",
    }
}

/// Replay's own keys; the dashboard's moving-around keys work as usual.
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a key map names the keys it handles; every other key goes to the dashboard"
)]
pub fn key(key: KeyEvent) -> Option<Action> {
    let replay = match key.code {
        KeyCode::Char(' ') => Replay::TogglePlay,
        KeyCode::Right | KeyCode::Char('l') => Replay::Step(1),
        KeyCode::Left | KeyCode::Char('h') => Replay::Step(-1),
        KeyCode::Char(']') => Replay::Jump(JUMP_MS),
        KeyCode::Char('[') => Replay::Jump(-JUMP_MS),
        KeyCode::Char('s') => Replay::Speed,
        KeyCode::Char('0') => Replay::Start,
        KeyCode::Char('$') => Replay::End,
        KeyCode::Char('f') => Replay::ForkHere,
        KeyCode::Char('t') => return Some(Action::Bar(Bar::Focus("/seek ".into()))),
        KeyCode::Esc => Replay::Leave,
        _ => return None,
    };
    Some(Action::Replay(replay))
}

/// Keys that steer the live session: in replay they would act on the present, not on the
/// moment on screen, so they are refused with a word.
pub fn steers(key: KeyEvent) -> bool {
    matches!(
        key.code,
        KeyCode::Char('p' | 'P' | 'i' | 'I' | 'r' | 'e' | 'x' | '+') | KeyCode::Delete
    )
}
