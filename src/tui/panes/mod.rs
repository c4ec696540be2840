//! One module per pane or view; each draws from the app state into its area.

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
