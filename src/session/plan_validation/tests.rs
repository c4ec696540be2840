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
