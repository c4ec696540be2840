//! Shared test helpers. Each test binary uses a different subset.
#![allow(dead_code)]
// Helpers of tests: a panic is how a test fails, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

pub mod browser;
pub mod cli;
pub mod dashboard;
pub mod harness;
pub mod histories;
pub mod litellm;
pub mod model;
pub mod openai_server;
pub mod plans;
pub mod provider_run;
pub mod replay_server;
pub mod scripted;
pub mod server_process;
pub mod serving;
pub mod tmux;
pub mod ws;
