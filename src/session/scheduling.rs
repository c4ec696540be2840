//! Which steps may start now, and whether a session has run its course.

use super::ids::StepId;
use super::session_fold::{SessionState, SessionStatus, StepStatus};

/// Pending steps whose dependencies are all completed, in plan order, within the free parallel slots.
/// Paused steps hold their slot: their agent still exists and will continue.
pub fn ready_steps(state: &SessionState, max_parallel: usize) -> Vec<StepId> {
    if state.paused || state.status != SessionStatus::Running {
        return Vec::new();
    }
    let free = max_parallel.saturating_sub(state.dag.live);
    state
        .dag
        .ready()
        .map(|i| &state.steps[i])
        // A role whose budget is spent starts nothing until the cap is raised.
        .filter(|s| state.attention_for(&s.spec.agent).is_none())
        .take(free)
        .map(|s| s.spec.id.clone())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed {
        error: String,
    },
    /// Some step was interrupted on its own; the rest could not go on without it.
    Interrupted,
}

/// Once nothing runs and nothing can start, how the session ended; None while work remains.
pub fn settled_outcome(state: &SessionState, max_parallel: usize) -> Option<Outcome> {
    if state.status != SessionStatus::Running || !state.has_plan() {
        return None;
    }
    // A paused session still has work ahead: its ready steps wait for it to be unpaused.
    if state.dag.live > 0 || (max_parallel > 0 && state.dag.has_ready()) {
        return None;
    }
    if state.dag.completed == state.steps.len() {
        return Some(Outcome::Completed);
    }
    if let Some(failed) = state.steps.iter().find(|s| s.status == StepStatus::Failed) {
        let reason = failed.error.as_deref().unwrap_or("unknown error");
        return Some(Outcome::Failed {
            error: format!(
                "step {} ({}) failed: {reason}",
                failed.spec.id, failed.spec.agent
            ),
        });
    }
    Some(Outcome::Interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::call::CallMode;
    use crate::session::event::{Envelope, Event};
    use crate::session::ids::SessionId;
    use crate::session::plan::{Plan, PlanSource, StepSpec};

    fn spec(id: &str, deps: &[&str]) -> StepSpec {
        StepSpec {
            id: id.into(),
            title: id.into(),
            agent: "researcher".into(),
            task: "t".into(),
            depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
        }
    }

    fn state_with(steps: Vec<StepSpec>, events: Vec<Event>) -> SessionState {
        let id = SessionId::parse("session_20260101_000000_00000000").unwrap();
        let mut all = vec![
            Event::SessionCreated {
                goal: "g".into(),
                workspace: "/w".into(),
                mode: CallMode::Streaming,
                provider: "p".into(),
                model: "m".into(),
                max_parallel: 3,
                origin: None,
                choice: Default::default(),
            },
            Event::PlanReady {
                plan: Plan { steps },
                source: PlanSource::Model,
            },
        ];
        all.extend(events);
        let envs: Vec<Envelope> = all
            .into_iter()
            .enumerate()
            .map(|(i, event)| Envelope {
                seq: i as u64 + 1,
                at_ms: i as i64,
                session: id.clone(),
                by: None,
                event,
            })
            .collect();
        SessionState::replay(id, &envs)
    }

    fn start(id: &str) -> Event {
        Event::StepStarted {
            step: id.into(),
            agent: "researcher".into(),
            attempt: 1,
            max_tokens: 1,
            continues: false,
        }
    }

    fn done(id: &str) -> Event {
        Event::StepCompleted {
            step: id.into(),
            output: "o".into(),
            output_file: None,
        }
    }

    fn ids(v: Vec<StepId>) -> Vec<String> {
        v.into_iter().map(|s| s.as_str().to_string()).collect()
    }

    #[test]
    fn independent_steps_are_ready_together_up_to_the_limit() {
        let s = state_with(
            vec![
                spec("a", &[]),
                spec("b", &[]),
                spec("c", &[]),
                spec("d", &["a"]),
            ],
            vec![],
        );
        assert_eq!(ids(ready_steps(&s, 3)), ["a", "b", "c"]);
        assert_eq!(ids(ready_steps(&s, 2)), ["a", "b"]);
    }

    #[test]
    fn a_step_waits_for_all_its_dependencies() {
        let steps = vec![spec("a", &[]), spec("b", &[]), spec("c", &["a", "b"])];
        let s = state_with(steps.clone(), vec![start("a"), start("b"), done("a")]);
        assert!(ready_steps(&s, 3).is_empty());
        let s = state_with(steps, vec![start("a"), start("b"), done("a"), done("b")]);
        assert_eq!(ids(ready_steps(&s, 3)), ["c"]);
    }

    #[test]
    fn paused_steps_hold_their_slot_and_a_paused_session_starts_nothing() {
        let steps = vec![spec("a", &[]), spec("b", &[])];
        let s = state_with(
            steps.clone(),
            vec![start("a"), Event::StepPaused { step: "a".into() }],
        );
        assert!(ready_steps(&s, 1).is_empty());
        assert_eq!(ids(ready_steps(&s, 2)), ["b"]);
        let s = state_with(steps, vec![Event::SessionPaused]);
        assert!(ready_steps(&s, 3).is_empty());
    }

    #[test]
    fn outcomes() {
        let steps = vec![spec("a", &[]), spec("b", &["a"])];
        let running = state_with(steps.clone(), vec![start("a")]);
        assert_eq!(settled_outcome(&running, 3), None);
        let complete = state_with(
            steps.clone(),
            vec![start("a"), done("a"), start("b"), done("b")],
        );
        assert_eq!(settled_outcome(&complete, 3), Some(Outcome::Completed));
        let failed = state_with(
            steps.clone(),
            vec![
                start("a"),
                Event::StepFailed {
                    step: "a".into(),
                    error: "boom".into(),
                },
            ],
        );
        assert!(matches!(
            settled_outcome(&failed, 3),
            Some(Outcome::Failed { error }) if error.contains("boom")
        ));
        let interrupted = state_with(
            steps,
            vec![
                start("a"),
                Event::StepInterrupted {
                    step: "a".into(),
                    forced: false,
                },
            ],
        );
        assert_eq!(settled_outcome(&interrupted, 3), Some(Outcome::Interrupted));
    }
}
