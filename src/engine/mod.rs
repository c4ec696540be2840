//! The engine: the runtime that plans goals, runs agent steps as tasks, and owns every live
//! session. What it decides with lives in `session`; this folder is the doing.

mod actor;
mod agent;
pub mod clock;
pub(crate) mod handle;
mod live_session;
mod measured_call;
pub mod planner;
pub mod prompts;
pub mod request;
pub mod roles;
pub mod saved_edit;
mod step_prep;
pub mod task;
mod tool_need;

pub use actor::{EngineSettings, start_engine, start_engine_routed};
pub use handle::{EngineClosed, EngineHandle};
