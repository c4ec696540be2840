//! Changing a plan while its session lives: the rules, and which finished steps go stale.
//!
//! Pure: a plan, the steps' statuses and an edit in; the new plan and the steps that must run
//! again out, or the reason the edit cannot be made. The engine, the dashboard's preview and the
//! `el-jefe step` commands all ask this one function, and the session fold replays an accepted
//! edit with `reshape`, so a journal always rebuilds the same plan.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::ids::StepId;
use super::plan::{Plan, StepSpec};
use super::plan_validation::{MAX_GIVEN_STEPS, PlanError, validate_with_limit};
use super::session_fold::StepStatus;

/// What happens to the steps that depend on a step being removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dependents {
    /// They depend on what the removed step depended on instead.
    Rewire,
    /// They are removed too, and the steps that depend on them, and so on.
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum PlanEdit {
    AddStep {
        step: StepSpec,
    },
    RemoveStep {
        step: StepId,
        /// Needed only when other steps depend on the removed one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dependents: Option<Dependents>,
    },
    ChangeTask {
        step: StepId,
        task: String,
    },
    ChangeAgent {
        step: StepId,
        agent: String,
    },
    SetDependencies {
        step: StepId,
        depends_on: Vec<StepId>,
    },
}

impl PlanEdit {
    pub fn redact(&mut self, redactor: &crate::session::redact::Redactor) {
        match self {
            PlanEdit::AddStep { step } => step.redact(redactor),
            PlanEdit::ChangeTask { task, .. } => redactor.scrub(task),
            PlanEdit::RemoveStep { .. }
            | PlanEdit::ChangeAgent { .. }
            | PlanEdit::SetDependencies { .. } => {}
        }
    }

    /// The step the edit is about.
    pub fn step(&self) -> &StepId {
        match self {
            PlanEdit::AddStep { step } => &step.id,
            PlanEdit::RemoveStep { step, .. }
            | PlanEdit::ChangeTask { step, .. }
            | PlanEdit::ChangeAgent { step, .. }
            | PlanEdit::SetDependencies { step, .. } => step,
        }
    }

    /// One line for the user and the journal's readers.
    pub fn describe(&self) -> String {
        match self {
            PlanEdit::AddStep { step } => {
                let after = if step.depends_on.is_empty() {
                    String::new()
                } else {
                    format!(" after {}", join_ids(&step.depends_on))
                };
                format!("added step {} ({}){after}", step.id, step.agent)
            }
            PlanEdit::RemoveStep { step, dependents } => match dependents {
                Some(Dependents::Remove) => format!("removed step {step} and its dependents"),
                Some(Dependents::Rewire) => {
                    format!("removed step {step}; its dependents take over its dependencies")
                }
                None => format!("removed step {step}"),
            },
            PlanEdit::ChangeTask { step, .. } => format!("changed the task of step {step}"),
            PlanEdit::ChangeAgent { step, agent } => format!("step {step} now runs as {agent}"),
            PlanEdit::SetDependencies { step, depends_on } if depends_on.is_empty() => {
                format!("step {step} now depends on nothing")
            }
            PlanEdit::SetDependencies { step, depends_on } => {
                format!("step {step} now runs after {}", join_ids(depends_on))
            }
        }
    }
}

pub fn join_ids(ids: &[StepId]) -> String {
    ids.iter()
        .map(StepId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("there is no step {0}")]
    UnknownStep(StepId),
    #[error("step {step} is {status}; interrupt it first (i), then edit the plan")]
    Live { step: StepId, status: &'static str },
    #[error(
        "step {step} would have to run again but is {status}; interrupt it first (i), then edit \
         the plan"
    )]
    LiveDownstream { step: StepId, status: &'static str },
    #[error(
        "steps {} depend on step {step}: remove them too, or have them depend on what {step} \
         depended on",
        join_ids(.dependents)
    )]
    HasDependents {
        step: StepId,
        dependents: Vec<StepId>,
    },
    #[error("step {0} already exists")]
    DuplicateStep(StepId),
    #[error("nothing would change")]
    NoChange,
    #[error("{0}")]
    Invalid(#[from] PlanError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EditOutcome {
    pub plan: Plan,
    /// Completed steps whose output no longer fits the plan: they run again, in plan order.
    pub stale: Vec<StepId>,
    /// Steps taken out of the plan, the edited one first.
    pub removed: Vec<StepId>,
}

impl EditOutcome {
    /// Some step of the new plan has yet to run: a new one, a stale one, or one never done.
    /// `status` gives the statuses from before the edit.
    pub fn leaves_work(&self, status: impl Fn(&StepId) -> Option<StepStatus>) -> bool {
        self.plan
            .steps
            .iter()
            .any(|s| self.stale.contains(&s.id) || status(&s.id) != Some(StepStatus::Completed))
    }
}

/// Checks `edit` against the plan and its steps' statuses; the new plan and what goes stale.
pub fn apply_edit(
    plan: &Plan,
    status: impl Fn(&StepId) -> StepStatus,
    edit: &PlanEdit,
    known_roles: &[String],
) -> Result<EditOutcome, EditError> {
    check_target(plan, &status, edit)?;
    let removed = removed_steps(plan, edit)?;
    if let Some(live) = first_live(&removed, &status) {
        return Err(live);
    }
    let new_plan = reshape(plan, edit);
    if new_plan == *plan {
        return Err(EditError::NoChange);
    }
    let new_plan = validate_with_limit(new_plan, known_roles, MAX_GIVEN_STEPS)?;
    let stale = stale_steps(plan, &new_plan, &status)?;
    Ok(EditOutcome {
        plan: new_plan,
        stale,
        removed,
    })
}

/// An added step must be new; any other edit names a step that exists and is not running.
fn check_target(
    plan: &Plan,
    status: &impl Fn(&StepId) -> StepStatus,
    edit: &PlanEdit,
) -> Result<(), EditError> {
    let target = edit.step();
    let exists = plan.steps.iter().any(|s| &s.id == target);
    let adds = matches!(edit, PlanEdit::AddStep { .. });
    match (adds, exists) {
        (true, true) => Err(EditError::DuplicateStep(target.clone())),
        (true, false) => Ok(()),
        (false, false) => Err(EditError::UnknownStep(target.clone())),
        (false, true) => {
            let s = status(target);
            if s.is_live() {
                Err(EditError::Live {
                    step: target.clone(),
                    status: s.label(),
                })
            } else {
                Ok(())
            }
        }
    }
}

/// The steps a removal takes away: the step, and with `Dependents::Remove` everything after it.
fn removed_steps(plan: &Plan, edit: &PlanEdit) -> Result<Vec<StepId>, EditError> {
    let PlanEdit::RemoveStep {
        step,
        dependents: choice,
    } = edit
    else {
        return Ok(Vec::new());
    };
    let dependents = dependents_of(plan);
    let direct = dependents.get(step).cloned().unwrap_or_default();
    if direct.is_empty() {
        return Ok(vec![step.clone()]);
    }
    match choice {
        Some(Dependents::Rewire) => Ok(vec![step.clone()]),
        Some(Dependents::Remove) => Ok(downstream(&dependents, [step.clone()])),
        None => Err(EditError::HasDependents {
            step: step.clone(),
            dependents: direct,
        }),
    }
}

/// A running step among `steps`, as the error that refuses the edit.
fn first_live(steps: &[StepId], status: &impl Fn(&StepId) -> StepStatus) -> Option<EditError> {
    steps.iter().find_map(|id| {
        let s = status(id);
        s.is_live().then(|| EditError::LiveDownstream {
            step: id.clone(),
            status: s.label(),
        })
    })
}

/// Completed steps whose inputs the edit changed, directly or upstream, in the new plan's
/// order; a running one among the affected refuses the edit.
fn stale_steps(
    plan: &Plan,
    new_plan: &Plan,
    status: &impl Fn(&StepId) -> StepStatus,
) -> Result<Vec<StepId>, EditError> {
    let old: HashMap<&StepId, &StepSpec> = plan.steps.iter().map(|s| (&s.id, s)).collect();
    let changed: Vec<StepId> = new_plan
        .steps
        .iter()
        .filter(|s| old.get(&s.id).is_some_and(|o| inputs_differ(o, s)))
        .map(|s| s.id.clone())
        .collect();
    let affected = downstream(&dependents_of(new_plan), changed);
    if let Some(live) = first_live(&affected, status) {
        return Err(live);
    }
    let mut stale: Vec<StepId> = affected
        .into_iter()
        .filter(|id| status(id) == StepStatus::Completed)
        .collect();
    let order: HashMap<&StepId, usize> = new_plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.id, i))
        .collect();
    stale.sort_by_key(|id| order.get(id).copied().unwrap_or(usize::MAX));
    Ok(stale)
}

/// The plan with the edit made, unchecked: `apply_edit` has checked it before it was accepted,
/// and the session fold replays it from the journal with this.
pub fn reshape(plan: &Plan, edit: &PlanEdit) -> Plan {
    let mut steps = plan.steps.clone();
    match edit {
        PlanEdit::AddStep { step } => steps.push(step.clone()),
        PlanEdit::RemoveStep { step, dependents } => {
            let gone: HashSet<StepId> = match dependents {
                Some(Dependents::Remove) => downstream(&dependents_of(plan), [step.clone()])
                    .into_iter()
                    .collect(),
                _ => HashSet::from([step.clone()]),
            };
            let inherited = plan
                .step(step)
                .map(|s| s.depends_on.clone())
                .unwrap_or_default();
            steps.retain(|s| !gone.contains(&s.id));
            for s in &mut steps {
                if let Some(at) = s.depends_on.iter().position(|d| d == step) {
                    s.depends_on.remove(at);
                    for d in &inherited {
                        if !s.depends_on.contains(d) {
                            s.depends_on.push(d.clone());
                        }
                    }
                }
            }
        }
        PlanEdit::ChangeTask { step, task } => {
            if let Some(s) = steps.iter_mut().find(|s| &s.id == step) {
                s.task = task.clone();
                // The old title would describe work the step no longer does.
                s.title = title_from_task(task);
            }
        }
        PlanEdit::ChangeAgent { step, agent } => {
            if let Some(s) = steps.iter_mut().find(|s| &s.id == step) {
                s.agent = agent.clone();
            }
        }
        PlanEdit::SetDependencies { step, depends_on } => {
            if let Some(s) = steps.iter_mut().find(|s| &s.id == step) {
                s.depends_on = depends_on.clone();
            }
        }
    }
    Plan { steps }
}

/// `/edit-step 3 writer` gives step 3 a new agent; text of several words is its new task. A
/// single word that names no role is most likely a mistyped role, so it is refused.
pub fn change_step(step: StepId, text: &str, known_roles: &[String]) -> Result<PlanEdit, String> {
    let text = text.trim();
    if known_roles.iter().any(|r| r == text) {
        return Ok(PlanEdit::ChangeAgent {
            step,
            agent: text.to_string(),
        });
    }
    if text.is_empty() {
        return Err("give the step a new task, or the name of an agent role".into());
    }
    if !text.contains(char::is_whitespace) {
        return Err(format!(
            "`{text}` is not an agent role (known: {}); a new task takes more than one word",
            known_roles.join(", ")
        ));
    }
    Ok(PlanEdit::ChangeTask {
        step,
        task: text.to_string(),
    })
}

/// A new step for `agent` doing `task` after `after`, with the next free id.
pub fn new_step(plan: &Plan, agent: &str, task: &str, after: Vec<StepId>) -> PlanEdit {
    PlanEdit::AddStep {
        step: StepSpec {
            id: next_step_id(plan),
            title: title_from_task(task),
            agent: agent.to_string(),
            task: task.trim().to_string(),
            depends_on: after,
        },
    }
}

/// A fresh id for a step added to `plan`: one more than the largest numeric id.
pub fn next_step_id(plan: &Plan) -> StepId {
    let highest = plan
        .steps
        .iter()
        .filter_map(|s| s.id.as_str().parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let mut n = highest + 1;
    while plan.step(&StepId::new(n.to_string())).is_some() {
        n += 1;
    }
    StepId::new(n.to_string())
}

/// A short title from a task: its first few words.
pub fn title_from_task(task: &str) -> String {
    let words: Vec<&str> = task.split_whitespace().take(6).collect();
    let mut title = words.join(" ");
    if task.split_whitespace().count() > 6 {
        title.push('…');
    }
    title
}

/// What a step is given to work from: its task, its role and what it depends on (in any order).
fn inputs_differ(old: &StepSpec, new: &StepSpec) -> bool {
    let deps = |s: &StepSpec| s.depends_on.iter().cloned().collect::<BTreeSet<_>>();
    old.task != new.task || old.agent != new.agent || deps(old) != deps(new)
}

/// For each step, the steps that depend on it directly, in plan order.
fn dependents_of(plan: &Plan) -> HashMap<StepId, Vec<StepId>> {
    let mut map: HashMap<StepId, Vec<StepId>> = HashMap::new();
    for s in &plan.steps {
        for d in &s.depends_on {
            map.entry(d.clone()).or_default().push(s.id.clone());
        }
    }
    map
}

/// The given steps and every step downstream of them, each once, starts first.
fn downstream(
    dependents: &HashMap<StepId, Vec<StepId>>,
    starts: impl IntoIterator<Item = StepId>,
) -> Vec<StepId> {
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    let mut queue: VecDeque<StepId> = starts.into_iter().collect();
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(next) = dependents.get(&id) {
            queue.extend(next.iter().cloned());
        }
        order.push(id);
    }
    order
}

#[cfg(test)]
mod tests;
