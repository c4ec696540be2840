//! The full-screen dashboard.

pub(crate) mod actions;
pub mod app;
pub(crate) mod background;
pub(crate) mod command_bar;
mod event_loop;
pub mod history;
pub(crate) mod input;
pub(crate) mod panes;
mod plan_edits;
pub(crate) mod rates;
pub mod replay_deck;
pub(crate) mod session_view;
pub(crate) mod slash_command;
pub(crate) mod step_badge;
pub(crate) mod stream_view;
pub mod summaries;
pub mod terminal;
pub(crate) mod theme;
pub mod ui;
pub(crate) mod wrap;

pub use event_loop::{DashboardSetup, Signals, main_loop, run_dashboard};
