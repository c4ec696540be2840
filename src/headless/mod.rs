//! Front ends without a screen: a plain-text story or one JSON event per line.

pub mod ab;
pub mod listing;
pub(crate) mod plain;
mod run;
pub mod schedules;
pub mod step_command;
pub mod story;
pub mod tools_table;

pub use run::{Approvals, Output, RunEnd, Start, run_headless};
