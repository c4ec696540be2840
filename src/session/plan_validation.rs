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
mod tests {
    use super::*;

    use crate::session::fixtures::{roles, step};

    #[test]
    fn accepts_a_diamond() {
        let plan = Plan {
            steps: vec![
                step("1", "researcher", &[]),
                step("2", "analyst", &["1"]),
                step("3", "analyst", &["1"]),
                step("4", "writer", &["2", "3"]),
            ],
        };
        assert_eq!(validate(plan.clone(), &roles()), Ok(plan));
    }

    #[test]
    fn rejects_a_cycle_and_names_it() {
        let plan = Plan {
            steps: vec![
                step("1", "researcher", &["3"]),
                step("2", "analyst", &["1"]),
                step("3", "writer", &["2"]),
            ],
        };
        let err = validate(plan, &roles()).unwrap_err();
        assert_eq!(
            err,
            PlanError::Cycle(vec!["1".into(), "3".into(), "2".into(), "1".into()])
        );
        assert_eq!(
            err.to_string(),
            "the steps depend on each other in a cycle: 1 -> 3 -> 2 -> 1"
        );
    }

    #[test]
    fn rejects_unknown_role_duplicate_id_empty_and_too_many() {
        let unknown = Plan {
            steps: vec![step("1", "poet", &[])],
        };
        assert!(matches!(
            validate(unknown, &roles()),
            Err(PlanError::UnknownRole { role, .. }) if role == "poet"
        ));
        let dup = Plan {
            steps: vec![step("1", "writer", &[]), step("1", "writer", &[])],
        };
        assert_eq!(
            validate(dup, &roles()),
            Err(PlanError::DuplicateId("1".into()))
        );
        assert_eq!(
            validate(Plan { steps: vec![] }, &roles()),
            Err(PlanError::Empty)
        );
        let many = Plan {
            steps: (0..13)
                .map(|i| step(&i.to_string(), "writer", &[]))
                .collect(),
        };
        assert_eq!(
            validate(many, &roles()),
            Err(PlanError::TooMany { count: 13, max: 12 })
        );
    }

    #[test]
    fn rejects_self_and_unknown_dependencies_and_merges_repeats() {
        let selfish = Plan {
            steps: vec![step("1", "writer", &["1"])],
        };
        assert_eq!(
            validate(selfish, &roles()),
            Err(PlanError::SelfDependency("1".into()))
        );
        let dangling = Plan {
            steps: vec![step("1", "writer", &["9"])],
        };
        assert!(matches!(
            validate(dangling, &roles()),
            Err(PlanError::UnknownDependency { .. })
        ));
        let repeated = Plan {
            steps: vec![step("1", "writer", &[]), step("2", "writer", &["1", "1"])],
        };
        let ok = validate(repeated, &roles()).unwrap();
        assert_eq!(ok.steps[1].depends_on, vec![StepId::new("1")]);
    }

    #[test]
    fn rejects_steps_that_repeat_a_task() {
        let mut a = step("1", "writer", &[]);
        let mut b = step("2", "analyst", &[]);
        a.task = "Write a cover letter".into();
        b.task = " write a cover letter ".into();
        assert_eq!(
            validate(Plan { steps: vec![a, b] }, &roles()),
            Err(PlanError::RepeatedTask {
                first: "1".into(),
                second: "2".into()
            })
        );
    }

    #[test]
    fn rejects_blank_fields() {
        let mut s = step("1", "writer", &[]);
        s.task = "  ".into();
        assert!(matches!(
            validate(Plan { steps: vec![s] }, &roles()),
            Err(PlanError::EmptyField { field: "task", .. })
        ));
    }

    #[test]
    fn parse_finds_the_object_inside_prose_and_fences() {
        let text = "Here you go:\n```json\n{\"steps\":[{\"id\":\"1\",\"title\":\"t\",\"agent\":\"writer\",\"task\":\"x\",\"depends_on\":[]}]}\n```";
        let plan = parse_plan(text).unwrap();
        assert_eq!(plan.steps.len(), 1);
        assert!(matches!(parse_plan("no json"), Err(PlanError::Json(_))));
        assert!(matches!(
            parse_plan("{\"steps\": 3}"),
            Err(PlanError::Json(_))
        ));
    }

    #[test]
    fn the_default_plan_is_valid() {
        let plan = Plan::default_for("podcast");
        assert_eq!(validate(plan.clone(), &roles()), Ok(plan));
    }
}
