//! The engine: plans goals, runs agent steps, and owns every session's state.

pub mod actor;
pub mod agent;
pub mod budget;
pub mod clock;
pub mod command;
mod dag_index;
pub mod event;
pub mod handle;
pub mod health;
pub mod ids;
mod live_session;
pub mod measured_call;
pub mod metrics;
pub mod plan;
pub mod plan_edit;
pub mod plan_file;
pub mod plan_grammar;
pub mod plan_validation;
pub mod planner;
pub mod prompts;
pub mod roles;
pub mod routes;
pub mod saved_edit;
pub mod scheduling;
pub mod session_fold;
pub mod task;
pub mod tool_need;

pub use actor::{EngineSettings, start_engine, start_engine_routed};
pub use handle::{EngineClosed, EngineHandle};
pub use routes::{Route, Routes};
