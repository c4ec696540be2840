//! One module per pane, view or overlay, each a unit: what it lays out before drawing (the only
//! step that changes anything), how it draws from the app state read-only, and which keys and
//! clicks it turns into actions.

pub(crate) mod analytics;
pub(crate) mod approval;
pub(crate) mod command_bar;
pub(crate) mod compare;
pub(crate) mod footer;
pub(crate) mod metrics_bar;
pub(crate) mod metrics_view;
pub(crate) mod monitor;
pub(crate) mod overlays;
pub(crate) mod plan_edit;
pub(crate) mod replay_bar;
pub(crate) mod schedules;
pub(crate) mod sessions;
pub(crate) mod steps;
pub(crate) mod streams;

use ratatui::layout::{Position, Rect};

/// The list row under the pointer, inside a bordered pane.
fn row_in(area: Rect, at: Position) -> Option<usize> {
    let inner = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    inner.contains(at).then(|| (at.y - inner.y) as usize)
}
