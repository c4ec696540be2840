//! Plans for the unit tests of this folder, in one place.

use super::ids::StepId;
use super::plan::StepSpec;

/// The built-in roles a plan may use.
pub fn roles() -> Vec<String> {
    ["researcher", "analyst", "writer"]
        .map(String::from)
        .to_vec()
}

/// A step titled "title {id}" with the task "task {id}".
pub fn step(id: &str, agent: &str, deps: &[&str]) -> StepSpec {
    StepSpec {
        id: StepId::new(id),
        title: format!("title {id}"),
        agent: agent.into(),
        task: format!("task {id}"),
        depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
    }
}
