//! Shared test helpers. Each test binary uses a different subset.
#![allow(dead_code)]

pub mod cli;
pub mod dashboard;
pub mod harness;
pub mod model;
pub mod openai_server;
pub mod replay_server;
pub mod scripted;
pub mod tmux;
