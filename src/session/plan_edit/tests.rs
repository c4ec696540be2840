use super::*;

use crate::session::fixtures::{roles, step};

/// 1 -> 2 -> 4, 1 -> 3 -> 4, 5 on its own.
fn diamond() -> Plan {
    Plan {
        steps: vec![
            step("1", "researcher", &[]),
            step("2", "analyst", &["1"]),
            step("3", "analyst", &["1"]),
            step("4", "writer", &["2", "3"]),
            step("5", "writer", &[]),
        ],
    }
}

fn statuses(list: &[(&str, StepStatus)]) -> impl Fn(&StepId) -> StepStatus {
    let map: HashMap<StepId, StepStatus> =
        list.iter().map(|(id, s)| (StepId::new(*id), *s)).collect();
    move |id| map.get(id).copied().unwrap_or(StepStatus::Pending)
}

fn all_completed() -> impl Fn(&StepId) -> StepStatus {
    |_| StepStatus::Completed
}

fn ids(list: &[&str]) -> Vec<StepId> {
    list.iter().map(|s| StepId::new(*s)).collect()
}

#[test]
fn editing_a_completed_step_makes_it_and_only_its_downstream_stale() {
    let edit = PlanEdit::ChangeTask {
        step: "2".into(),
        task: "a sharper analysis".into(),
    };
    let out = apply_edit(&diamond(), all_completed(), &edit, &roles()).unwrap();
    assert_eq!(out.stale, ids(&["2", "4"]));
    assert_eq!(
        out.plan.step(&"2".into()).unwrap().task,
        "a sharper analysis"
    );
    assert!(out.removed.is_empty());

    let edit = PlanEdit::ChangeAgent {
        step: "1".into(),
        agent: "analyst".into(),
    };
    let out = apply_edit(&diamond(), all_completed(), &edit, &roles()).unwrap();
    assert_eq!(out.stale, ids(&["1", "2", "3", "4"]), "5 is untouched");
}

#[test]
fn pending_steps_change_freely_and_nothing_goes_stale() {
    let status = statuses(&[("1", StepStatus::Completed)]);
    let edit = PlanEdit::ChangeTask {
        step: "4".into(),
        task: "write a poem".into(),
    };
    let out = apply_edit(&diamond(), &status, &edit, &roles()).unwrap();
    assert!(out.stale.is_empty());
    let add = PlanEdit::AddStep {
        step: step("6", "writer", &["1"]),
    };
    let out = apply_edit(&diamond(), &status, &add, &roles()).unwrap();
    assert!(out.stale.is_empty());
    assert_eq!(out.plan.steps.len(), 6);
}

#[test]
fn a_running_step_or_one_downstream_of_the_edit_must_be_interrupted_first() {
    let status = statuses(&[
        ("1", StepStatus::Completed),
        ("2", StepStatus::Running),
        ("3", StepStatus::Paused),
    ]);
    let edit = PlanEdit::ChangeTask {
        step: "2".into(),
        task: "x".into(),
    };
    let err = apply_edit(&diamond(), &status, &edit, &roles()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "step 2 is running; interrupt it first (i), then edit the plan"
    );
    let edit = PlanEdit::ChangeTask {
        step: "1".into(),
        task: "x".into(),
    };
    let err = apply_edit(&diamond(), &status, &edit, &roles()).unwrap_err();
    assert!(
        matches!(&err, EditError::LiveDownstream { step, status: "running" } if step.as_str() == "2"),
        "{err}"
    );
}

#[test]
fn cycles_unknown_roles_and_unknown_steps_are_refused_clearly() {
    let cycle = PlanEdit::SetDependencies {
        step: "1".into(),
        depends_on: ids(&["4"]),
    };
    let err = apply_edit(&diamond(), all_completed(), &cycle, &roles()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the steps depend on each other in a cycle: 1 -> 4 ->"),
        "{err}"
    );
    let poet = PlanEdit::ChangeAgent {
        step: "5".into(),
        agent: "poet".into(),
    };
    let err = apply_edit(&diamond(), all_completed(), &poet, &roles()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `5` uses unknown agent role `poet` (known: researcher, analyst, writer)"
    );
    let missing = PlanEdit::RemoveStep {
        step: "9".into(),
        dependents: None,
    };
    assert_eq!(
        apply_edit(&diamond(), all_completed(), &missing, &roles()),
        Err(EditError::UnknownStep("9".into()))
    );
    let unknown_dep = PlanEdit::AddStep {
        step: step("6", "writer", &["9"]),
    };
    let err = apply_edit(&diamond(), all_completed(), &unknown_dep, &roles()).unwrap_err();
    assert!(err.to_string().contains("`9`"), "{err}");
    let same = PlanEdit::ChangeAgent {
        step: "5".into(),
        agent: "writer".into(),
    };
    assert_eq!(
        apply_edit(&diamond(), all_completed(), &same, &roles()),
        Err(EditError::NoChange)
    );
}

#[test]
fn removing_a_step_others_need_asks_what_becomes_of_them() {
    let remove = |dependents| PlanEdit::RemoveStep {
        step: "2".into(),
        dependents,
    };
    let err = apply_edit(&diamond(), all_completed(), &remove(None), &roles()).unwrap_err();
    assert_eq!(
        err,
        EditError::HasDependents {
            step: "2".into(),
            dependents: ids(&["4"])
        }
    );
    assert!(
        err.to_string().contains("steps 4 depend on step 2"),
        "{err}"
    );

    // Rewired: 4 now depends on 1 (what 2 depended on) and 3; its inputs changed.
    let out = apply_edit(
        &diamond(),
        all_completed(),
        &remove(Some(Dependents::Rewire)),
        &roles(),
    )
    .unwrap();
    assert_eq!(out.removed, ids(&["2"]));
    assert_eq!(
        out.plan.step(&"4".into()).unwrap().depends_on,
        ids(&["3", "1"])
    );
    assert_eq!(out.stale, ids(&["4"]));

    // Removed with everything downstream.
    let out = apply_edit(
        &diamond(),
        all_completed(),
        &remove(Some(Dependents::Remove)),
        &roles(),
    )
    .unwrap();
    assert_eq!(out.removed, ids(&["2", "4"]));
    assert_eq!(out.plan.steps.len(), 3);
    assert!(out.stale.is_empty());

    // A step nobody needs goes without asking; the last step cannot.
    let leaf = PlanEdit::RemoveStep {
        step: "5".into(),
        dependents: None,
    };
    assert!(apply_edit(&diamond(), all_completed(), &leaf, &roles()).is_ok());
    let only = Plan {
        steps: vec![step("1", "writer", &[])],
    };
    let last = PlanEdit::RemoveStep {
        step: "1".into(),
        dependents: None,
    };
    assert_eq!(
        apply_edit(&only, all_completed(), &last, &roles()),
        Err(EditError::Invalid(PlanError::Empty))
    );
}

#[test]
fn removing_a_running_dependent_is_refused() {
    let status = statuses(&[
        ("1", StepStatus::Completed),
        ("2", StepStatus::Completed),
        ("4", StepStatus::Running),
    ]);
    let edit = PlanEdit::RemoveStep {
        step: "2".into(),
        dependents: Some(Dependents::Remove),
    };
    assert!(matches!(
        apply_edit(&diamond(), &status, &edit, &roles()),
        Err(EditError::LiveDownstream { .. })
    ));
}

#[test]
fn reordering_dependencies_counts_as_a_change_only_when_the_set_changes() {
    let same_set = PlanEdit::SetDependencies {
        step: "4".into(),
        depends_on: ids(&["3", "2"]),
    };
    let out = apply_edit(&diamond(), all_completed(), &same_set, &roles()).unwrap();
    assert!(out.stale.is_empty(), "only the order changed");
    let fewer = PlanEdit::SetDependencies {
        step: "4".into(),
        depends_on: ids(&["3"]),
    };
    let out = apply_edit(&diamond(), all_completed(), &fewer, &roles()).unwrap();
    assert_eq!(out.stale, ids(&["4"]));
}

#[test]
fn edit_text_is_an_agent_when_it_names_a_role_and_a_task_otherwise() {
    let change = |text| change_step("2".into(), text, &roles());
    assert_eq!(
        change("writer"),
        Ok(PlanEdit::ChangeAgent {
            step: "2".into(),
            agent: "writer".into()
        })
    );
    assert_eq!(
        change(" Compare prices "),
        Ok(PlanEdit::ChangeTask {
            step: "2".into(),
            task: "Compare prices".into()
        })
    );
    assert_eq!(
        change("poet").unwrap_err(),
        "`poet` is not an agent role (known: researcher, analyst, writer); a new task takes \
         more than one word"
    );
    assert!(change("  ").is_err());
}

#[test]
fn new_ids_and_titles() {
    assert_eq!(next_step_id(&diamond()).as_str(), "6");
    assert_eq!(
        title_from_task("Compare the three options on price and support, then pick one"),
        "Compare the three options on price…"
    );
    assert_eq!(title_from_task("Write it"), "Write it");
}

#[test]
fn edits_survive_the_journal() {
    let edit = PlanEdit::RemoveStep {
        step: "2".into(),
        dependents: Some(Dependents::Rewire),
    };
    let json = serde_json::to_string(&edit).unwrap();
    assert_eq!(
        json,
        r#"{"edit":"remove_step","step":"2","dependents":"rewire"}"#
    );
    assert_eq!(serde_json::from_str::<PlanEdit>(&json).unwrap(), edit);
}
