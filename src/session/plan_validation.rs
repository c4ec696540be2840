//! Turning a model's text into a plan we can trust, or a precise reason why not.

use std::collections::{HashMap, HashSet};

use super::ids::StepId;
use super::plan::Plan;

/// Most steps a planner may propose.
pub const MAX_STEPS: usize = 12;
/// Most steps of a plan given by the user (plan files, scripts): big, but bounded.
pub const MAX_GIVEN_STEPS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the plan is not valid JSON: {0}")]
    Json(String),
    #[error("the plan has no steps")]
    Empty,
    #[error("the plan has {count} steps; at most {max} are allowed")]
    TooMany { count: usize, max: usize },
    #[error("step id `{0}` is used more than once")]
    DuplicateId(StepId),
    #[error(
        "steps `{first}` and `{second}` have the same task; each step must do something different"
    )]
    RepeatedTask { first: StepId, second: StepId },
    #[error("step `{step}` has an empty {field}")]
    EmptyField { step: StepId, field: &'static str },
    #[error("step `{step}` uses unknown agent role `{role}` (known: {known})")]
    UnknownRole {
        step: StepId,
        role: String,
        known: String,
    },
    #[error("step `{step}` depends on `{dependency}`, which is not a step of the plan")]
    UnknownDependency { step: StepId, dependency: StepId },
    #[error("step `{0}` depends on itself")]
    SelfDependency(StepId),
    #[error("the steps depend on each other in a cycle: {}", render_cycle(.0))]
    Cycle(Vec<StepId>),
}

fn render_cycle(cycle: &[StepId]) -> String {
    cycle
        .iter()
        .map(StepId::as_str)
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// Reads a plan from model output, tolerating the prose or code fences small models wrap it in.
pub fn parse_plan(text: &str) -> Result<Plan, PlanError> {
    let start = text.find('{');
    let end = text.rfind('}');
    let json = match (start, end) {
        (Some(s), Some(e)) if s < e => &text[s..=e],
        _ => return Err(PlanError::Json("no JSON object found".into())),
    };
    serde_json::from_str(json).map_err(|e| PlanError::Json(e.to_string()))
}

/// Checks a plan against the known roles; duplicate dependencies are merged rather than refused.
pub fn validate(plan: Plan, known_roles: &[String]) -> Result<Plan, PlanError> {
    validate_with_limit(plan, known_roles, MAX_STEPS)
}

pub fn validate_with_limit(
    mut plan: Plan,
    known_roles: &[String],
    max_steps: usize,
) -> Result<Plan, PlanError> {
    if plan.steps.is_empty() {
        return Err(PlanError::Empty);
    }
    if plan.steps.len() > max_steps {
        return Err(PlanError::TooMany {
            count: plan.steps.len(),
            max: max_steps,
        });
    }
    let mut ids = HashSet::new();
    let mut tasks: HashMap<String, &StepId> = HashMap::new();
    for step in &plan.steps {
        if !ids.insert(step.id.clone()) {
            return Err(PlanError::DuplicateId(step.id.clone()));
        }
        for (field, value) in [
            ("id", step.id.as_str()),
            ("title", &step.title),
            ("task", &step.task),
        ] {
            if value.trim().is_empty() {
                return Err(PlanError::EmptyField {
                    step: step.id.clone(),
                    field,
                });
            }
        }
        let task_key = step.task.trim().to_lowercase();
        if let Some(first) = tasks.insert(task_key, &step.id) {
            return Err(PlanError::RepeatedTask {
                first: first.clone(),
                second: step.id.clone(),
            });
        }
        if !known_roles.iter().any(|r| r == &step.agent) {
            return Err(PlanError::UnknownRole {
                step: step.id.clone(),
                role: step.agent.clone(),
                known: known_roles.join(", "),
            });
        }
    }
    for step in &mut plan.steps {
        let mut seen = HashSet::new();
        step.depends_on.retain(|d| seen.insert(d.clone()));
        for dep in &step.depends_on {
            if dep == &step.id {
                return Err(PlanError::SelfDependency(step.id.clone()));
            }
            if !ids.contains(dep) {
                return Err(PlanError::UnknownDependency {
                    step: step.id.clone(),
                    dependency: dep.clone(),
                });
            }
        }
    }
    if let Some(cycle) = find_cycle(&plan) {
        return Err(PlanError::Cycle(cycle));
    }
    Ok(plan)
}

/// Depth-first search; returns the ids along one cycle, first id repeated at the end.
fn find_cycle(plan: &Plan) -> Option<Vec<StepId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        OnPath,
        Done,
    }
    let index: HashMap<&StepId, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.id, i))
        .collect();
    let mut marks = vec![Mark::Unseen; plan.steps.len()];
    let mut path: Vec<usize> = Vec::new();

    fn visit(
        node: usize,
        plan: &Plan,
        index: &HashMap<&StepId, usize>,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Option<Vec<StepId>> {
        marks[node] = Mark::OnPath;
        path.push(node);
        for dep in &plan.steps[node].depends_on {
            let next = index[dep];
            match marks[next] {
                Mark::OnPath => {
                    let from = path.iter().position(|&n| n == next).unwrap_or(0);
                    let mut cycle: Vec<StepId> = path[from..]
                        .iter()
                        .map(|&n| plan.steps[n].id.clone())
                        .collect();
                    cycle.push(plan.steps[next].id.clone());
                    return Some(cycle);
                }
                Mark::Unseen => {
                    if let Some(c) = visit(next, plan, index, marks, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[node] = Mark::Done;
        None
    }

    (0..plan.steps.len()).find_map(|start| {
        if marks[start] == Mark::Unseen {
            visit(start, plan, &index, &mut marks, &mut path)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests;
