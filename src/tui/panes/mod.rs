//! One module per pane, view or overlay, each a unit: what it lays out before drawing (the only
//! step that changes anything), how it draws from the app state read-only, and which keys and
//! clicks it turns into actions.

pub mod approval;
pub mod command_bar;
pub mod footer;
pub mod metrics_bar;
pub mod metrics_view;
pub mod monitor;
pub mod overlays;
pub mod plan_edit;
pub mod sessions;
pub mod steps;
pub mod streams;

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
