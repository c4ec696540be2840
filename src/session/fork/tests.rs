use super::*;
use crate::session::call::{CallMode, CallStats, FinishReason};
use crate::session::fixtures::step;
use crate::session::plan::{Plan, PlanSource};

fn id(n: u32) -> SessionId {
    SessionId::parse(&format!("session_20260101_000000_0000000{n}")).unwrap()
}

fn call() -> CallStats {
    CallStats {
        provider: "local".into(),
        model: "m".into(),
        mode: CallMode::Streaming,
        input_tokens: 5,
        output_tokens: 7,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
        estimated: false,
        ttft_ms: Some(10),
        duration_ms: 1000,
        finish: FinishReason::Stop,
        cost_usd: None,
    }
}

fn created(goal: &str) -> Event {
    Event::SessionCreated {
        goal: goal.into(),
        workspace: "/w".into(),
        mode: CallMode::Streaming,
        provider: "local".into(),
        model: "m".into(),
        max_parallel: 3,
        origin: None,
        choice: Default::default(),
    }
}

fn started(s: &str) -> Event {
    Event::StepStarted {
        step: s.into(),
        agent: "researcher".into(),
        attempt: 1,
        max_tokens: 10,
        continues: false,
    }
}

fn delta(s: &str, text: &str) -> Event {
    Event::TextDelta {
        step: s.into(),
        text: text.into(),
        chunks: 1,
        parts: Vec::new(),
    }
}

fn completed(s: &str, output: &str) -> Event {
    Event::StepCompleted {
        step: s.into(),
        output: output.into(),
        output_file: None,
    }
}

fn step_call(s: &str) -> Event {
    Event::CallFinished {
        step: Some(s.into()),
        call: call(),
    }
}

/// Step 1 completes, then 2 and 3 (both after 1) run side by side; 3 ends first. The comment
/// on each line is its `seq`.
fn parent() -> Vec<Envelope> {
    let events = vec![
        created("tides"),                      // 1
        Event::PlanningStarted { attempt: 1 }, // 2
        Event::CallFinished {
            step: None,
            call: call(),
        }, // 3
        Event::PlanReady {
            plan: Plan {
                steps: vec![
                    step("1", "researcher", &[]),
                    step("2", "writer", &["1"]),
                    step("3", "analyst", &["1"]),
                ],
            },
            source: PlanSource::Model,
        }, // 4
        started("1"),                          // 5
        delta("1", "moon pulls"),              // 6
        step_call("1"),                        // 7
        completed("1", "moon pulls"),          // 8
        started("2"),                          // 9
        started("3"),                          // 10
        delta("2", "half written"),            // 11
        delta("3", "twice a day"),             // 12
        completed("3", "twice a day"),         // 13
        completed("2", "half written"),        // 14
        Event::SessionCompleted,               // 15
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Envelope {
            seq: i as u64 + 1,
            at_ms: 1_000 * (i as i64 + 1),
            session: id(1),
            by: None,
            event,
        })
        .collect()
}

fn seqs(cut: &ForkCut) -> Vec<u64> {
    cut.inherited.iter().map(|e| e.seq).collect()
}

#[test]
fn at_a_step_the_fork_keeps_what_was_complete_before_it_started() {
    let cut = cut(&id(1), &parent(), &ForkPoint::Step { step: "2".into() }).unwrap();
    assert_eq!(cut.at_seq, 8);
    assert_eq!(cut.goal, "tides");
    assert_eq!(seqs(&cut), [2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(cut.completed, [StepId::new("1")]);
}

#[test]
fn at_an_event_the_fork_keeps_the_prefix_of_complete_steps_and_nothing_after() {
    let parent = parent();
    // Steps 2 and 3 are running at event 12: neither is kept.
    let at_12 = cut(&id(1), &parent, &ForkPoint::Event { seq: 12 }).unwrap();
    assert_eq!(seqs(&at_12), [2, 3, 4, 5, 6, 7, 8]);
    // At 13 step 3 is complete: its events join, step 2's do not.
    let at_13 = cut(&id(1), &parent, &ForkPoint::Event { seq: 13 }).unwrap();
    assert_eq!(seqs(&at_13), [2, 3, 4, 5, 6, 7, 8, 10, 12, 13]);
    // At every prefix: nothing after the cut, no lifecycle of the parent, events unchanged.
    for seq in 1..=15 {
        let c = cut(&id(1), &parent, &ForkPoint::Event { seq }).unwrap();
        assert!(c.inherited.iter().all(|e| e.seq <= seq), "cut at {seq}");
        assert!(
            !c.inherited.iter().any(|e| matches!(
                e.event,
                Event::SessionCreated { .. } | Event::SessionCompleted
            )),
            "cut at {seq}"
        );
        for kept in &c.inherited {
            assert_eq!(kept, &parent[kept.seq as usize - 1]);
        }
    }
}

#[test]
fn impossible_moments_say_why() {
    let parent = parent();
    let err = |at| cut(&id(1), &parent, &at).unwrap_err();
    assert_eq!(
        err(ForkPoint::Event { seq: 16 }),
        format!(
            "{} has events 1 to 15; there is no event 16 to fork at",
            id(1)
        )
    );
    assert!(err(ForkPoint::Event { seq: 0 }).contains("no event 0"));
    assert_eq!(
        err(ForkPoint::Step { step: "9".into() }),
        format!("{} has no step 9 (its steps: 1, 2, 3)", id(1))
    );
    let unstarted: Vec<Envelope> = parent.into_iter().take(4).collect();
    assert!(
        cut(&id(1), &unstarted, &ForkPoint::Step { step: "1".into() })
            .unwrap_err()
            .contains("never started; fork --at-event SEQ instead")
    );
}

#[test]
fn the_fork_folds_its_inheritance_as_done_work_counted_apart() {
    let c = cut(&id(1), &parent(), &ForkPoint::Event { seq: 13 }).unwrap();
    let envelope = |seq, event| Envelope {
        seq,
        at_ms: 90_000,
        session: id(2),
        by: None,
        event,
    };
    let fork = [
        envelope(1, created("tides")),
        envelope(
            2,
            Event::Inherited {
                parent: id(1),
                at_seq: c.at_seq,
                events: c.inherited,
            },
        ),
    ];
    let state = SessionState::replay(id(2), &fork);
    assert_eq!(state.forked_from, Some((id(1), 13)));
    let step_state = |s: &str| state.step(&StepId::new(s)).unwrap();
    assert_eq!(step_state("1").status, StepStatus::Completed);
    assert_eq!(step_state("3").status, StepStatus::Completed);
    assert_eq!(step_state("2").status, StepStatus::Pending);
    assert!(step_state("3").inherited);
    assert!(!step_state("2").inherited);
    assert_eq!(step_state("1").output, "moon pulls");

    let metrics = state.metrics(90_000);
    // The planner's call and step 1's, both made in the parent.
    assert_eq!(metrics.inherited.api_calls, 2);
    assert_eq!(metrics.totals.api_calls, 2);
    assert_eq!(state.planner_metrics.api_calls, 0, "no planning here");
    // Inherited work took none of the fork's time.
    assert_eq!(metrics.step_time_ms, 0);
}
