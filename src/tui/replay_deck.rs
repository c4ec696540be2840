//! Replay mode: one session shown as it stood at a chosen moment of its journal, played back
//! at 1x, 10x or as fast as the screen goes, stepped event by event, or moved to a time.
//! The session's view holds the state at the deck's position; leaving puts the whole fold back.

use crate::session::event::Envelope;
use crate::session::ids::SessionId;
use crate::session::replay::Timeline;
use crate::session::session_fold::SessionState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    /// As it happened.
    Real,
    Ten,
    /// No waiting between events: the whole run in about ten seconds.
    Max,
}

impl Speed {
    pub fn next(self) -> Speed {
        match self {
            Speed::Real => Speed::Ten,
            Speed::Ten => Speed::Max,
            Speed::Max => Speed::Real,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Speed::Real => "1x",
            Speed::Ten => "10x",
            Speed::Max => "max",
        }
    }
}

/// At max speed, the share of the run each played frame moves on: about ten seconds at 30 fps.
const MAX_SPEED_FRAMES: usize = 300;

pub struct ReplayDeck {
    pub timeline: Timeline,
    /// How many events are applied to the state shown.
    pub position: usize,
    pub playing: bool,
    pub speed: Speed,
    /// The replay's clock while playing at 1x or 10x, ahead of the last event applied.
    clock_ms: f64,
}

impl ReplayDeck {
    /// Starts paused at the first event.
    pub fn new(id: SessionId, events: Vec<Envelope>) -> Self {
        let timeline = Timeline::new(id, events);
        let clock_ms = timeline.start_ms() as f64;
        ReplayDeck {
            position: timeline.len().min(1),
            timeline,
            playing: false,
            speed: Speed::Real,
            clock_ms,
        }
    }

    pub fn session(&self) -> &SessionId {
        self.timeline.id()
    }

    pub fn state(&self) -> SessionState {
        self.timeline.state_at(self.position)
    }

    /// The time the state shown stands at: what elapsed times are measured to.
    pub fn now_ms(&self) -> i64 {
        if self.playing && self.speed != Speed::Max {
            (self.clock_ms as i64).max(self.timeline.time_at(self.position))
        } else {
            self.timeline.time_at(self.position)
        }
    }

    pub fn at_end(&self) -> bool {
        self.position >= self.timeline.len()
    }

    /// Moves to position `n`; returns the new state when it changed.
    pub fn seek(&mut self, n: usize) -> Option<SessionState> {
        let n = n.min(self.timeline.len());
        if n == self.position {
            return None;
        }
        self.position = n;
        self.clock_ms = self.timeline.time_at(n) as f64;
        Some(self.timeline.state_at(n))
    }

    pub fn seek_time(&mut self, at_ms: i64) -> Option<SessionState> {
        self.seek(self.timeline.position_at_time(at_ms))
    }

    /// Plays or pauses; returns the new state when playing starts over from the beginning.
    pub fn toggle_play(&mut self) -> Option<SessionState> {
        let restart = if !self.playing && self.at_end() {
            // Play from the start again, as a player does at the end of a track.
            self.seek(0)
        } else {
            None
        };
        self.playing = !self.playing;
        self.clock_ms = self.timeline.time_at(self.position) as f64;
        restart
    }

    /// A played frame after `elapsed_ms` of real time: moves the clock on by the speed and
    /// applies the events it passed to `state`. Returns whether anything changed.
    pub fn play(&mut self, elapsed_ms: f64, state: &mut SessionState, live: bool) -> bool {
        if !self.playing {
            return false;
        }
        let target = match self.speed {
            Speed::Real | Speed::Ten => {
                let factor = if self.speed == Speed::Real { 1.0 } else { 10.0 };
                self.clock_ms += elapsed_ms * factor;
                self.timeline
                    .position_at_time(self.clock_ms as i64)
                    .max(self.position)
            }
            Speed::Max => self.position + (self.timeline.len() / MAX_SPEED_FRAMES).max(1),
        };
        let target = target.min(self.timeline.len());
        let moved = target != self.position;
        self.timeline.advance(state, self.position, target);
        self.position = target;
        if self.at_end() {
            // A finished run stops at its end; a live one keeps following.
            self.playing = live;
            self.clock_ms = self.clock_ms.min(self.timeline.end_ms() as f64);
        }
        moved
    }

    /// A new event of the session: the timeline grows, and a replay at its end follows it.
    pub fn on_live(&mut self, env: &Envelope, state: &mut SessionState) {
        let was_at_end = self.at_end();
        self.timeline.push(env.clone());
        if was_at_end {
            state.apply(env);
            self.position = self.timeline.len();
            self.clock_ms = env.at_ms as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::session::call::CallMode;
    use crate::session::event::Event;

    fn id() -> SessionId {
        SessionId::parse("session_20261201_120000_00000001").unwrap()
    }

    fn warning(seq: u64, at_ms: i64) -> Envelope {
        Envelope {
            seq,
            at_ms,
            session: id(),
            by: None,
            event: Event::Warning {
                message: format!("w{seq}"),
                step: None,
            },
        }
    }

    fn created() -> Envelope {
        Envelope {
            seq: 1,
            at_ms: 0,
            session: id(),
            by: None,
            event: Event::SessionCreated {
                goal: "g".into(),
                workspace: "/tmp".into(),
                mode: CallMode::Streaming,
                provider: "p".into(),
                model: "m".into(),
                max_parallel: 1,
                origin: None,
                choice: Default::default(),
            },
        }
    }

    /// Events at 0 s, then one a second.
    fn deck() -> ReplayDeck {
        let mut events = vec![created()];
        events.extend((2..=11).map(|s| warning(s, (s as i64 - 1) * 1000)));
        ReplayDeck::new(id(), events)
    }

    #[test]
    fn playing_at_1x_applies_the_events_whose_time_has_come() {
        let mut deck = deck();
        let mut state = deck.state();
        deck.toggle_play();
        assert!(deck.play(2_500.0, &mut state, false));
        assert_eq!(deck.position, 3);
        assert_eq!(state, deck.timeline.state_at(3));
        assert_eq!(deck.now_ms(), 2_500);
    }

    #[test]
    fn ten_times_faster_covers_ten_times_the_run() {
        let mut deck = deck();
        let mut state = deck.state();
        deck.speed = Speed::Ten;
        deck.toggle_play();
        deck.play(500.0, &mut state, false);
        assert_eq!(deck.position, 6);
    }

    #[test]
    fn a_finished_run_stops_at_its_end_and_a_live_one_follows() {
        let mut deck = deck();
        let mut state = deck.state();
        deck.speed = Speed::Max;
        deck.toggle_play();
        while deck.playing {
            deck.play(16.0, &mut state, false);
        }
        assert!(deck.at_end());
        assert_eq!(state, deck.timeline.state_at(11));

        let mut state = deck.toggle_play().unwrap();
        assert_eq!(deck.position, 0, "play at the end starts over");
        deck.speed = Speed::Max;
        while !deck.at_end() {
            deck.play(16.0, &mut state, true);
        }
        assert!(deck.playing, "a live session keeps playing at its end");
        let next = warning(12, 11_000);
        deck.on_live(&next, &mut state);
        assert_eq!(deck.position, 12);
        assert_eq!(state, deck.timeline.state_at(12));
    }

    #[test]
    fn a_live_event_does_not_move_a_replay_looking_at_the_past() {
        let mut deck = deck();
        let mut state = deck.seek(4).unwrap();
        deck.on_live(&warning(12, 11_000), &mut state);
        assert_eq!(deck.position, 4);
        assert_eq!(state, deck.timeline.state_at(4));
        assert_eq!(deck.timeline.len(), 12);
    }

    #[test]
    fn seeking_by_time_lands_after_the_events_of_that_moment() {
        let mut deck = deck();
        deck.seek_time(4_000);
        assert_eq!(deck.position, 5);
        assert!(
            deck.seek_time(4_500).is_none(),
            "nothing happened in between"
        );
    }
}
