//! The full-screen dashboard.

pub mod actions;
pub mod app;
pub mod command_bar;
mod event_loop;
pub mod input;
pub mod panes;
mod plan_edits;
pub mod rates;
pub mod session_view;
pub mod slash_command;
pub mod step_badge;
pub mod stream_view;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod wrap;

pub use event_loop::{DashboardSetup, Signals, main_loop, run_dashboard};
