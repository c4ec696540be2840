//! Where a client is in each session's journal, and which sessions it follows: what it
//! subscribes from, again after every reconnection, so it gets each event exactly once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::protocol::{ClientMessage, Position};
use crate::session::event::Envelope;
use crate::session::ids::SessionId;

#[derive(Debug, Default)]
pub struct Tracker {
    positions: HashMap<SessionId, u64>,
    /// None: every session, those started later too.
    sessions: Option<BTreeSet<SessionId>>,
    /// A subscription was asked for on the current connection.
    pub subscribed: bool,
    /// Events were held back at a hole in their numbering: the client must subscribe again
    /// from its positions, and the server fills the hole from its journal.
    pub hole: bool,
    /// A subscription asked for to fill a hole has not been caught up yet: holes seen
    /// meanwhile are the same one.
    pub filling: bool,
    /// Where each session's last hole was, once a subscription was asked to fill it.
    holes_asked: HashMap<SessionId, u64>,
}

impl Tracker {
    /// Following nothing yet: sessions are added as the front end starts or resumes them.
    pub fn none() -> Tracker {
        Tracker {
            sessions: Some(BTreeSet::new()),
            ..Tracker::default()
        }
    }

    pub fn follow(&mut self, sessions: Option<Vec<SessionId>>) {
        self.sessions = sessions.map(|s| s.into_iter().collect());
    }

    /// Adds a session; true when it was not followed before (the subscription must say so).
    pub fn add(&mut self, session: &SessionId) -> bool {
        match &mut self.sessions {
            Some(set) => set.insert(session.clone()),
            None => false,
        }
    }

    /// Whether there is anything to subscribe to.
    pub fn follows_any(&self) -> bool {
        self.sessions.as_ref().is_none_or(|s| !s.is_empty())
    }

    /// The subscription from the positions reached. The server answers with what the client
    /// lacks, from its journals.
    pub fn subscribe(&self) -> ClientMessage {
        let mut from: Vec<Position> = self
            .positions
            .iter()
            .map(|(session, seq)| Position {
                session: session.clone(),
                seq: *seq,
            })
            .collect();
        from.sort_by(|a, b| a.session.cmp(&b.session));
        ClientMessage::Subscribe {
            sessions: self.sessions.as_ref().map(|s| s.iter().cloned().collect()),
            from,
        }
    }

    /// The events not seen before, in order; the positions move past them. A session's events
    /// from a hole in its numbering on are held back (and `hole` set) rather than shown with
    /// something missing: a front end never folds a story with a gap in it.
    pub fn fresh(&mut self, events: Vec<Arc<Envelope>>) -> Vec<Arc<Envelope>> {
        let mut holed: Vec<SessionId> = Vec::new();
        let fresh = events
            .into_iter()
            .filter(|e| {
                if holed.contains(&e.session) {
                    return false;
                }
                let position = self.positions.entry(e.session.clone()).or_insert(0);
                if e.last_seq() <= *position {
                    return false;
                }
                if e.seq > *position + 1 {
                    let asked = self.holes_asked.get(&e.session) == Some(position);
                    if asked && !self.filling {
                        // The server was asked and had nothing to fill it with (events this
                        // build cannot read): going on beats waiting forever.
                        tracing::warn!(
                            session = %e.session,
                            "events {} to {} never came; going on without them",
                            *position + 1,
                            e.seq - 1
                        );
                    } else {
                        tracing::warn!(
                            session = %e.session,
                            "event {} came before {}; subscribing again to fill the hole",
                            e.seq,
                            *position + 1
                        );
                        self.holes_asked.insert(e.session.clone(), *position);
                        holed.push(e.session.clone());
                        return false;
                    }
                }
                *position = e.last_seq();
                true
            })
            .collect();
        // A hole seen while a subscription is under way is filled by it too.
        self.hole |= !holed.is_empty() && !self.filling;
        fresh
    }

    /// Whether a subscription must be asked for again to fill a hole; asking is up to the
    /// caller, which then calls `subscribe`.
    pub fn must_fill(&mut self) -> bool {
        let must = self.hole && !self.filling;
        self.hole = false;
        if must {
            self.filling = true;
        }
        must
    }

    /// The server caught up with the last subscription.
    pub fn caught_up(&mut self) {
        self.filling = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::event::Event;

    fn session(n: u32) -> SessionId {
        SessionId::parse(&format!("session_20260101_000000_{n:08x}")).unwrap()
    }

    fn env(n: u32, seq: u64) -> Arc<Envelope> {
        Arc::new(Envelope {
            seq,
            at_ms: 0,
            session: session(n),
            by: None,
            event: Event::SessionPaused,
        })
    }

    fn seqs(events: &[Arc<Envelope>]) -> Vec<(u32, u64)> {
        events
            .iter()
            .map(|e| (u32::from(e.session != session(1)) + 1, e.seq))
            .collect()
    }

    #[test]
    fn each_event_comes_once_and_in_order() {
        let mut tracker = Tracker::default();
        let first = tracker.fresh(vec![env(1, 1), env(1, 2), env(2, 1)]);
        assert_eq!(seqs(&first), vec![(1, 1), (1, 2), (2, 1)]);
        // A catch-up that overlaps what was seen gives only what is new.
        let again = tracker.fresh(vec![env(1, 1), env(1, 2), env(1, 3)]);
        assert_eq!(seqs(&again), vec![(1, 3)]);
        assert!(!tracker.must_fill());
    }

    #[test]
    fn a_hole_holds_its_session_back_until_a_subscription_fills_it() {
        let mut tracker = Tracker::default();
        tracker.fresh(vec![env(1, 1), env(2, 1)]);
        // 2 of session 1 went missing: 3 and 4 wait, session 2 goes on.
        let held = tracker.fresh(vec![env(1, 3), env(2, 2), env(1, 4)]);
        assert_eq!(seqs(&held), vec![(2, 2)]);
        assert!(tracker.must_fill());
        let ClientMessage::Subscribe { from, .. } = tracker.subscribe() else {
            unreachable!()
        };
        assert_eq!(from[0].seq, 1, "subscribes again from before the hole");
        // More of the same hole while the subscription is under way asks for nothing more.
        tracker.fresh(vec![env(1, 5)]);
        assert!(!tracker.must_fill());
        let filled = tracker.fresh(vec![env(1, 2), env(1, 3), env(1, 4), env(1, 5)]);
        assert_eq!(seqs(&filled), vec![(1, 2), (1, 3), (1, 4), (1, 5)]);
        tracker.caught_up();
        tracker.fresh(vec![env(1, 7)]);
        assert!(
            tracker.must_fill(),
            "a new hole after catching up is filled again"
        );
    }

    #[test]
    fn a_hole_the_server_cannot_fill_is_gone_past_after_one_try() {
        let mut tracker = Tracker::default();
        tracker.fresh(vec![env(1, 1)]);
        assert!(tracker.fresh(vec![env(1, 3)]).is_empty());
        assert!(tracker.must_fill());
        // The catch-up could not give 2 either (say, an event this build cannot read).
        assert!(tracker.fresh(vec![env(1, 3)]).is_empty());
        tracker.caught_up();
        assert_eq!(seqs(&tracker.fresh(vec![env(1, 4)])), vec![(1, 4)]);
        assert!(!tracker.must_fill());
    }
}
