//! The engine the benchmarks run: every role built in, streaming calls, no health watch, no
//! budget, context passed on as the default config does.

use std::path::PathBuf;
use std::sync::Arc;

use el_jefe::engine::EngineSettings;
use el_jefe::engine::planner::PlannerSettings;
use el_jefe::engine::roles::RoleBook;
use el_jefe::session::call::CallMode;

pub fn engine_settings(workspace_root: PathBuf, max_parallel: usize) -> EngineSettings {
    EngineSettings {
        max_parallel,
        mode: CallMode::Streaming,
        workspace_root,
        roles: RoleBook::built_in(),
        planner: PlannerSettings::default(),
        context_chars_per_dependency: 3000,
        tools: Arc::new(el_jefe::tools::ToolRegistry::builtin()),
        max_tool_rounds: 8,
        health: el_jefe::session::health::HealthSettings::off(),
        budget: Default::default(),
        prices: Default::default(),
        redactor: Default::default(),
    }
}
