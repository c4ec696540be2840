//! El Jefe: mission control for LLM agent workflows.

pub mod engine;
pub mod provider;
pub mod store;
