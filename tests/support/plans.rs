//! Plans for tests: steps named by id, with a title and task made from it.

use el_jefe::session::ids::StepId;
use el_jefe::session::plan::StepSpec;

/// Step `id` for `agent`, titled "Step <id>", task "task-<id>", after `deps`.
pub fn step(id: &str, agent: &str, deps: &[&str]) -> StepSpec {
    StepSpec {
        id: id.into(),
        title: format!("Step {id}"),
        agent: agent.into(),
        task: format!("task-{id}"),
        depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
    }
}
