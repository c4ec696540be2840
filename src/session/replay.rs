//! A session's journal as a timeline: the state after any number of its events, found quickly
//! by folding on from the nearest saved state instead of from the start.
//!
//! Position `n` means "the first `n` events applied": 0 is the empty session, `len()` the state
//! the journal ends in, which equals the live fold by construction (the same `apply`).

use super::event::Envelope;
use super::ids::SessionId;
use super::session_fold::SessionState;

/// A saved state every this many events: a seek folds at most this many. Small enough that the
/// fold is cheap, large enough that the saved states of a 100,000-event session stay few.
pub const CHECKPOINT_EVERY: usize = 8192;

pub struct Timeline {
    id: SessionId,
    events: Vec<Envelope>,
    /// `checkpoints[k]` is the state after `k * CHECKPOINT_EVERY` events.
    checkpoints: Vec<SessionState>,
    /// The state after every event so far, to extend the timeline as a live session goes on.
    tip: SessionState,
}

impl Timeline {
    pub fn new(id: SessionId, events: Vec<Envelope>) -> Self {
        let mut timeline = Timeline {
            checkpoints: vec![SessionState::new(id.clone())],
            tip: SessionState::new(id.clone()),
            id,
            events: Vec::with_capacity(events.len()),
        };
        for env in events {
            timeline.push(env);
        }
        timeline
    }

    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// A new event of a session still running (follow live).
    pub fn push(&mut self, env: Envelope) {
        self.tip.apply(&env);
        self.events.push(env);
        if self.events.len().is_multiple_of(CHECKPOINT_EVERY) {
            self.checkpoints.push(self.tip.clone());
        }
    }

    /// The state after every event: the session as it stands.
    pub fn tip(&self) -> &SessionState {
        &self.tip
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The `n`th event (0-based), if there is one.
    pub fn event(&self, n: usize) -> Option<&Envelope> {
        self.events.get(n)
    }

    /// The state after the first `n` events (`n` past the end means all of them).
    pub fn state_at(&self, n: usize) -> SessionState {
        let n = n.min(self.events.len());
        if n == self.events.len() {
            return self.tip.clone();
        }
        let k = (n / CHECKPOINT_EVERY).min(self.checkpoints.len() - 1);
        let mut state = self.checkpoints[k].clone();
        for env in &self.events[k * CHECKPOINT_EVERY..n] {
            state.apply(env);
        }
        state
    }

    /// Applies events `from..to` to `state`, the state at position `from`: moving forward a
    /// little without a seek.
    pub fn advance(&self, state: &mut SessionState, from: usize, to: usize) {
        let to = to.min(self.events.len());
        for env in self.events.get(from..to).unwrap_or(&[]) {
            state.apply(env);
        }
    }

    /// When the session's clock stood at position `n`: the time of the last event applied, or
    /// of the first event for position 0.
    pub fn time_at(&self, n: usize) -> i64 {
        match n.checked_sub(1).and_then(|i| self.events.get(i)) {
            Some(env) => env.at_ms,
            None => self.start_ms(),
        }
    }

    pub fn start_ms(&self) -> i64 {
        self.events.first().map_or(0, |e| e.at_ms)
    }

    pub fn end_ms(&self) -> i64 {
        self.events.last().map_or(0, |e| e.at_ms)
    }

    /// The position just after every event that happened at or before `at_ms`.
    pub fn position_at_time(&self, at_ms: i64) -> usize {
        // Journals are written in order, so their times only grow; a clock step backwards
        // would only make this land a few events early.
        self.events.partition_point(|e| e.at_ms <= at_ms)
    }

    /// The position just after the event numbered `seq` (or the last one before it).
    pub fn position_of_seq(&self, seq: u64) -> usize {
        self.events.partition_point(|e| e.seq <= seq)
    }

    /// The number of the last event applied at position `n`, 0 before the first.
    pub fn seq_at(&self, n: usize) -> u64 {
        n.checked_sub(1)
            .and_then(|i| self.events.get(i))
            .map_or(0, Envelope::last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::call::CallMode;
    use crate::session::event::Event;
    use crate::session::fixtures::step;
    use crate::session::ids::StepId;
    use crate::session::plan::{Plan, PlanSource};

    fn session() -> SessionId {
        SessionId::parse("session_20261201_120000_00000001").expect("valid id")
    }

    fn env(seq: u64, event: Event) -> Envelope {
        Envelope {
            seq,
            at_ms: 1_000 + seq as i64 * 10,
            session: session(),
            by: None,
            event,
        }
    }

    /// A run of two parallel agents with enough text that several checkpoints are crossed.
    fn history(deltas: u64) -> Vec<Envelope> {
        let mut seq = 0;
        let mut next = |event| {
            seq += 1;
            env(seq, event)
        };
        let mut out = vec![
            next(Event::SessionCreated {
                goal: "g".into(),
                workspace: "/tmp".into(),
                mode: CallMode::Streaming,
                provider: "p".into(),
                model: "m".into(),
                max_parallel: 2,
                origin: None,
                choice: Default::default(),
            }),
            next(Event::PlanReady {
                plan: Plan {
                    steps: vec![step("1", "researcher", &[]), step("2", "analyst", &[])],
                },
                source: PlanSource::Given,
            }),
        ];
        for id in ["1", "2"] {
            out.push(next(Event::StepStarted {
                step: StepId::new(id),
                agent: "researcher".into(),
                attempt: 1,
                max_tokens: 512,
                continues: false,
            }));
        }
        for i in 0..deltas {
            let id = if i % 3 == 0 { "1" } else { "2" };
            out.push(next(Event::TextDelta {
                step: StepId::new(id),
                text: format!("w{i} "),
                chunks: 1,
                parts: Vec::new(),
            }));
        }
        out.push(next(Event::StepInterrupted {
            step: StepId::new("1"),
            forced: false,
        }));
        out.push(next(Event::StepCompleted {
            step: StepId::new("2"),
            output: "done".into(),
            output_file: None,
        }));
        out
    }

    #[test]
    fn the_state_at_every_prefix_is_the_fold_of_that_prefix() {
        let events = history(CHECKPOINT_EVERY as u64 * 2 + 37);
        let timeline = Timeline::new(session(), events.clone());
        let mut fold = SessionState::new(session());
        assert_eq!(timeline.state_at(0), fold);
        for (n, env) in events.iter().enumerate() {
            fold.apply(env);
            assert_eq!(timeline.state_at(n + 1), fold, "after {} events", n + 1);
        }
        assert_eq!(timeline.state_at(usize::MAX), fold);
    }

    #[test]
    fn advancing_from_a_position_equals_seeking_there() {
        let events = history(CHECKPOINT_EVERY as u64 + 10);
        let timeline = Timeline::new(session(), events);
        let mut state = timeline.state_at(3);
        timeline.advance(&mut state, 3, CHECKPOINT_EVERY + 5);
        assert_eq!(state, timeline.state_at(CHECKPOINT_EVERY + 5));
    }

    #[test]
    fn a_live_timeline_grows_with_its_session() {
        let events = history(50);
        let (first, rest) = events.split_at(20);
        let mut timeline = Timeline::new(session(), first.to_vec());
        for env in rest {
            timeline.push(env.clone());
        }
        assert_eq!(
            timeline.state_at(timeline.len()),
            SessionState::replay(session(), &events)
        );
    }

    #[test]
    fn times_and_numbers_find_their_positions() {
        let timeline = Timeline::new(session(), history(10));
        // Event n has seq n and happens at 1000 + 10 n.
        assert_eq!(timeline.position_at_time(0), 0);
        assert_eq!(timeline.position_at_time(1_035), 3);
        assert_eq!(timeline.position_of_seq(7), 7);
        assert_eq!(timeline.seq_at(7), 7);
        assert_eq!(timeline.time_at(0), 1_010);
        assert_eq!(timeline.time_at(4), 1_040);
        assert_eq!(timeline.position_at_time(i64::MAX), timeline.len());
    }
}
