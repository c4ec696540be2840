//! Live plan edits on a scripted provider with tokio's paused clock: adding, removing and
//! changing steps while a session runs, and re-running only what an edit made stale.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use el_jefe::session::event::Event;
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::Plan;
use el_jefe::session::plan_edit::{Dependents, PlanEdit};
use el_jefe::session::session_fold::{SessionStatus, StepStatus};
use support::harness::Harness;
use support::plans::step;
use support::scripted::{Script, ScriptedProvider, task_of};

const TICK: Duration = Duration::from_millis(100);

/// Each step streams 10 chunks 100 ms apart, then names the task it was given.
fn provider() -> Arc<ScriptedProvider> {
    Arc::new(ScriptedProvider::new(|req| {
        let mut s = Script::chunks(10, TICK);
        s.chunks.push(format!("<output of {}>", task_of(req)));
        s
    }))
}

fn started_steps(events: &[Arc<el_jefe::session::event::Envelope>]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::StepStarted { step, attempt, .. } => Some(format!("{step}#{attempt}")),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn steps_are_added_removed_and_changed_while_the_session_runs() {
    let provider = provider();
    // One agent at a time, so b and c are still pending while a runs.
    let mut h = Harness::start(provider.clone(), 1);
    let plan = Plan {
        steps: vec![
            step("a", "researcher", &[]),
            step("b", "analyst", &["a"]),
            step("c", "writer", &[]),
        ],
    };
    let id = h.handle.start_session_with_plan("edit me", plan).unwrap();
    h.until(|e| matches!(&e.event, Event::TextDelta { step, .. } if step.as_str() == "a"))
        .await;

    // The running step cannot change under its agent.
    let change_a = PlanEdit::ChangeTask {
        step: "a".into(),
        task: "something else".into(),
    };
    h.handle.edit_plan(&id, change_a).unwrap();
    let reason = h.next_rejection().await;
    assert!(
        reason.ends_with("step a is running; interrupt it first (i), then edit the plan"),
        "{reason}"
    );

    // Pending steps change freely.
    let change_b = PlanEdit::ChangeTask {
        step: "b".into(),
        task: "compare the findings".into(),
    };
    h.handle.edit_plan(&id, change_b).unwrap();
    h.handle
        .edit_plan(
            &id,
            PlanEdit::RemoveStep {
                step: "c".into(),
                dependents: None,
            },
        )
        .unwrap();
    let mut added = step("d", "writer", &["b"]);
    added.task = "write it up".into();
    h.handle
        .edit_plan(&id, PlanEdit::AddStep { step: added })
        .unwrap();
    // A dependency that would close a cycle is refused with the cycle named.
    h.handle
        .edit_plan(
            &id,
            PlanEdit::SetDependencies {
                step: "b".into(),
                depends_on: vec!["a".into(), "d".into()],
            },
        )
        .unwrap();
    let reason = h.next_rejection().await;
    assert!(reason.contains("cycle: b -> d -> b"), "{reason}");

    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
    assert_eq!(started_steps(&h.log), ["a#1", "b#1", "d#1"], "c never ran");
    let tasks: Vec<String> = provider.step_requests().iter().map(task_of).collect();
    assert_eq!(
        tasks,
        [
            "Your task (Step a): task-a",
            // A new task brings a title made from it.
            "Your task (compare the findings): compare the findings",
            "Your task (Step d): write it up",
        ]
    );
    let d = provider.step_requests()[2].clone();
    assert!(
        d.messages[1]
            .content
            .contains("<output of Your task (compare the findings): compare the findings>"),
        "d works from b's new output"
    );

    // The journal holds every edit: a replay from disk gives the same plan.
    h.store.flush();
    let stored = h.store.load(&id).unwrap();
    assert_eq!(stored.state.plan(), h.state(&id).plan());
    let ids: Vec<&str> = stored
        .state
        .steps
        .iter()
        .map(|s| s.spec.id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b", "d"]);
}

#[tokio::test(start_paused = true)]
async fn editing_a_completed_step_reruns_only_it_and_what_depends_on_it() {
    let provider = provider();
    let mut h = Harness::start(provider.clone(), 3);
    let plan = Plan {
        steps: vec![
            step("a", "researcher", &[]),
            step("b", "analyst", &["a"]),
            step("c", "writer", &["b"]),
            step("x", "researcher", &[]),
        ],
    };
    let id = h.handle.start_session_with_plan("rerun", plan).unwrap();
    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
    let a_output = h.state(&id).step(&"a".into()).unwrap().output.clone();
    let before = h.log.len();

    h.handle
        .edit_plan(
            &id,
            PlanEdit::ChangeTask {
                step: "b".into(),
                task: "a deeper analysis".into(),
            },
        )
        .unwrap();
    let edited = h
        .until_event(|e| matches!(e, Event::PlanEdited { .. }))
        .await;
    let Event::PlanEdited { stale, .. } = &edited.event else {
        unreachable!()
    };
    assert_eq!(stale, &[StepId::new("b"), StepId::new("c")]);
    let state = h.state(&id);
    assert_eq!(state.status, SessionStatus::Edited);
    assert_eq!(state.step(&"c".into()).unwrap().status, StepStatus::Pending);
    assert_eq!(
        state.step(&"x".into()).unwrap().status,
        StepStatus::Completed
    );

    h.handle.resume_session(&id).unwrap();
    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
    assert_eq!(
        started_steps(&h.log[before..]),
        ["b#2", "c#2"],
        "a and x keep their outputs"
    );
    let state = h.state(&id);
    assert_eq!(state.step(&"a".into()).unwrap().output, a_output);
    assert!(
        state
            .step(&"b".into())
            .unwrap()
            .output
            .contains("a deeper analysis")
    );
    h.store.flush();
    assert_eq!(
        h.store.load(&id).unwrap().state.status,
        SessionStatus::Completed
    );
}

#[tokio::test(start_paused = true)]
async fn removing_a_needed_step_asks_about_its_dependents() {
    let mut h = Harness::start(provider(), 3);
    let plan = Plan {
        steps: vec![
            step("a", "researcher", &[]),
            step("b", "analyst", &["a"]),
            step("c", "writer", &["b"]),
        ],
    };
    let id = h.handle.start_session_with_plan("remove", plan).unwrap();
    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);

    let remove = |dependents| PlanEdit::RemoveStep {
        step: "b".into(),
        dependents,
    };
    h.handle.edit_plan(&id, remove(None)).unwrap();
    let reason = h.next_rejection().await;
    assert!(
        reason.contains(
            "steps c depend on step b: remove them too, or have them depend on what b depended on"
        ),
        "{reason}"
    );
    h.handle
        .edit_plan(&id, remove(Some(Dependents::Rewire)))
        .unwrap();
    let edited = h
        .until_event(|e| matches!(e, Event::PlanEdited { .. }))
        .await;
    assert!(
        matches!(&edited.event, Event::PlanEdited { stale, .. } if stale == &[StepId::new("c")])
    );
    let state = h.state(&id);
    assert_eq!(
        state.step(&"c".into()).unwrap().spec.depends_on,
        [StepId::new("a")]
    );
    assert!(state.step(&"b".into()).is_none());
    // The session is let go again: another process could take it over.
    h.store.flush();
    assert!(!h.store.load(&id).unwrap().running_elsewhere);
}
