//! Replay mode's actions: into and out of it, playing, stepping, seeking, and forking at the
//! moment on screen.

use super::Replay;
use crate::engine::EngineClosed;
use crate::session::event::Envelope;
use crate::session::fork::ForkPoint;
use crate::session::ids::SessionId;
use crate::session::session_fold::SessionState;
use crate::tui::app::{App, Focus, View};
use crate::tui::replay_deck::ReplayDeck;
use crate::tui::slash_command::SeekTarget;

impl App {
    pub(super) fn replay(&mut self, action: Replay) -> Result<(), EngineClosed> {
        if let Replay::Enter(id) = action {
            self.ask_for_history(id);
            return Ok(());
        }
        let Some(deck) = self.replay_deck.as_mut() else {
            self.complain("not in replay: press R on a session (or /replay) first");
            return Ok(());
        };
        let moved = match action {
            Replay::Enter(_) => None,
            Replay::Leave => {
                self.leave_replay();
                return Ok(());
            }
            Replay::TogglePlay => deck.toggle_play(),
            Replay::Step(by) => {
                deck.playing = false;
                deck.seek(deck.position.saturating_add_signed(by))
            }
            Replay::Jump(by_ms) => {
                let at = deck.now_ms().saturating_add(by_ms);
                // Moving back from between two events lands before the earlier one.
                let at = if by_ms < 0 { at - 1 } else { at };
                deck.seek_time(at)
            }
            Replay::Speed => {
                deck.speed = deck.speed.next();
                None
            }
            Replay::Start => deck.seek(0),
            Replay::End => deck.seek(usize::MAX),
            Replay::Seek(target) => {
                deck.playing = false;
                let n = match target {
                    SeekTarget::Time(ms) => deck.timeline.position_at_time(
                        deck.timeline
                            .start_ms()
                            .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
                    ),
                    SeekTarget::Event(seq) => deck.timeline.position_of_seq(seq),
                    SeekTarget::Percent(p) => deck.timeline.len() * usize::from(p) / 100,
                };
                deck.seek(n)
            }
            Replay::ForkHere => return self.fork_here(),
        };
        if let Some(state) = moved {
            self.show_replayed(state);
        }
        Ok(())
    }

    /// Asks for the session's journal; `enter_replay` runs when it arrives.
    fn ask_for_history(&mut self, id: Option<SessionId>) {
        let Some(id) = id.or_else(|| self.session().map(|s| s.state.id.clone())) else {
            self.complain("no session to replay");
            return;
        };
        let Some(history) = &self.history else {
            self.complain("replay needs the sessions' journals, which this dashboard cannot read");
            return;
        };
        history.request(id.clone());
        self.say(format!("reading the journal of {id}..."));
    }

    /// Opens replay on a session's events, paused at the start.
    pub fn enter_replay(&mut self, id: SessionId, events: Vec<Envelope>) {
        if self.replay_deck.is_some() {
            self.leave_replay();
        }
        let Some(index) = self.find(&id) else {
            self.complain(format!("no session {id} here"));
            return;
        };
        if events.is_empty() {
            self.complain(format!("{id} has no events to replay"));
            return;
        }
        let count = events.len();
        let deck = ReplayDeck::new(id, events);
        let state = deck.state();
        self.replay_deck = Some(deck);
        self.selected = index;
        self.view = View::Dashboard;
        self.focus = Focus::Steps;
        self.show_replayed(state);
        self.say(format!(
            "replay: {count} events; space plays, ←/→ step, [/] 10 s, s speed, f fork here, esc leaves"
        ));
    }

    pub(super) fn leave_replay(&mut self) {
        let Some(deck) = self.replay_deck.take() else {
            return;
        };
        let whole = deck.timeline.state_at(usize::MAX);
        if let Some(i) = self.find(deck.session()) {
            let view = &mut self.sessions[i];
            view.state = whole;
            view.streams.clear();
            view.select_first_live_step();
        }
        self.say("left replay");
    }

    /// Puts the state at the deck's position on screen.
    fn show_replayed(&mut self, state: SessionState) {
        let Some(id) = self.replay_deck.as_ref().map(|d| d.session().clone()) else {
            return;
        };
        if let Some(i) = self.find(&id) {
            let view = &mut self.sessions[i];
            view.state = state;
            // Seeking back rewrites the text the stream views had indexed.
            view.streams.clear();
            view.rates.clear();
            if view.selected_step >= view.state.steps.len() {
                view.selected_step = 0;
            }
            view.select_first_live_step();
        }
        self.dirty = true;
    }

    /// A played frame: moves the replay on by `elapsed_ms` of real time at its speed.
    pub fn replay_frame(&mut self, elapsed_ms: f64) {
        let Some(deck) = self.replay_deck.as_mut() else {
            return;
        };
        let Some(i) = self
            .sessions
            .iter()
            .position(|s| &s.state.id == deck.session())
        else {
            return;
        };
        let live = deck.timeline.tip().status.is_active();
        let view = &mut self.sessions[i];
        let generation: Vec<u64> = view
            .state
            .steps
            .iter()
            .map(|s| s.text_generation())
            .collect();
        if deck.play(elapsed_ms, &mut view.state, live) {
            // New steps or restarted text: index the streams afresh (appends need nothing).
            let rewritten = view.state.steps.len() != generation.len()
                || view
                    .state
                    .steps
                    .iter()
                    .zip(&generation)
                    .any(|(s, g)| s.text_generation() != *g);
            if rewritten {
                view.streams.clear();
            }
            view.select_first_live_step();
        }
        // The clock moves even between events, and the bar shows it.
        self.dirty = true;
    }

    pub fn replay_is_playing(&self) -> bool {
        self.replay_deck.as_ref().is_some_and(|d| d.playing)
    }

    /// A new session forked from the replayed one right after the event on screen.
    fn fork_here(&mut self) -> Result<(), EngineClosed> {
        let Some(deck) = self.replay_deck.as_ref() else {
            return Ok(());
        };
        let seq = deck.timeline.seq_at(deck.position);
        if seq == 0 {
            self.complain("nothing to keep before the first event; step forward first");
            return Ok(());
        }
        let parent = deck.session().clone();
        let id = self
            .engine
            .fork_session(&parent, ForkPoint::Event { seq })?;
        self.leave_replay();
        self.select_when_seen = Some(id);
        self.focus = Focus::Sessions;
        self.say(format!("forking {parent} after its event {seq}"));
        Ok(())
    }
}
