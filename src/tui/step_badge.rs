//! What a step is doing, in a word for the steps pane and in words for its stream pane: the
//! one place both read it from, so they never disagree.

use ratatui::style::{Color, Style};

use crate::session::session_fold::{SessionState, StepState, StepStatus};
use crate::tui::theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepBadge {
    /// Running, and waiting for the user to approve a tool call.
    Asking,
    /// Running, and waiting for a free slot on its provider.
    Queued,
    /// Running, and flagged by the health watch.
    Stalled,
    /// Paused because a budget ran out: the user must raise it.
    NeedsAttention,
    Plain(StepStatus),
}

impl StepBadge {
    pub fn of(session: &SessionState, step: &StepState) -> StepBadge {
        match step.status {
            StepStatus::Running if step.waiting_approval.is_some() => StepBadge::Asking,
            StepStatus::Running if step.queued_on.is_some() => StepBadge::Queued,
            StepStatus::Running if step.stalled => StepBadge::Stalled,
            StepStatus::Paused if session.attention_for(&step.spec.agent).is_some() => {
                StepBadge::NeedsAttention
            }
            status @ (StepStatus::Pending
            | StepStatus::Running
            | StepStatus::Paused
            | StepStatus::Completed
            | StepStatus::Failed
            | StepStatus::Interrupted) => StepBadge::Plain(status),
        }
    }

    /// At most five characters, for the steps pane.
    pub fn short(self) -> &'static str {
        match self {
            StepBadge::Asking => "ask",
            StepBadge::Queued => "queue",
            StepBadge::Stalled => "stall",
            StepBadge::NeedsAttention => "attn",
            StepBadge::Plain(status) => theme::step_status(status).0,
        }
    }

    /// For the stream pane's title.
    pub fn long(self) -> &'static str {
        match self {
            StepBadge::Asking => "waiting for approval",
            StepBadge::Queued => "waiting for a free slot",
            StepBadge::Stalled => "STALLED",
            StepBadge::NeedsAttention => "NEEDS ATTENTION",
            StepBadge::Plain(StepStatus::Running) => "running",
            StepBadge::Plain(StepStatus::Paused) => "PAUSED",
            StepBadge::Plain(StepStatus::Interrupted) => "INTERRUPTED",
            StepBadge::Plain(
                status @ (StepStatus::Pending | StepStatus::Completed | StepStatus::Failed),
            ) => theme::step_status(status).0,
        }
    }

    pub fn style(self) -> Style {
        match self {
            StepBadge::Asking | StepBadge::Queued => Style::default().fg(Color::Yellow),
            StepBadge::Stalled | StepBadge::NeedsAttention => theme::warning(),
            StepBadge::Plain(status) => theme::step_status(status).1,
        }
    }
}
