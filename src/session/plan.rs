//! A plan: the steps of a session and how they depend on each other.

use serde::{Deserialize, Serialize};

use super::ids::StepId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepSpec {
    pub id: StepId,
    pub title: String,
    /// The agent role that runs the step (researcher, analyst, writer, ...).
    pub agent: String,
    pub task: String,
    #[serde(default)]
    pub depends_on: Vec<StepId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<StepSpec>,
}

/// Where a plan came from, so the user can tell a model's plan from the fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanSource {
    Model,
    Default,
    /// Written by the user (a plan file or a program), not planned by a model.
    Given,
}

impl StepSpec {
    pub fn redact(&mut self, redactor: &crate::session::redact::Redactor) {
        redactor.scrub(&mut self.title);
        redactor.scrub(&mut self.task);
    }
}

impl Plan {
    pub fn step(&self, id: &StepId) -> Option<&StepSpec> {
        self.steps.iter().find(|s| &s.id == id)
    }

    /// The fallback when the model cannot produce a valid plan: two researchers at once (the
    /// facts, and the options and open questions), an analysis of both, then the writing.
    pub fn default_for(goal: &str) -> Plan {
        let step = |id: &str, title: &str, agent: &str, task: String, deps: &[&str]| StepSpec {
            id: StepId::new(id),
            title: title.to_string(),
            agent: agent.to_string(),
            task,
            depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
        };
        Plan {
            steps: vec![
                step(
                    "1",
                    "Research the facts",
                    "researcher",
                    format!("Gather the key facts, figures and sources for: {goal}"),
                    &[],
                ),
                step(
                    "2",
                    "Research the options",
                    "researcher",
                    format!("Find the options, trade-offs, risks and open questions for: {goal}"),
                    &[],
                ),
                step(
                    "3",
                    "Analyze",
                    "analyst",
                    format!(
                        "Weigh the facts and the options from the research and draw the main \
                         insights for: {goal}"
                    ),
                    &["1", "2"],
                ),
                step(
                    "4",
                    "Write",
                    "writer",
                    format!("Write the final deliverable from the analysis for: {goal}"),
                    &["3"],
                ),
            ],
        }
    }
}
