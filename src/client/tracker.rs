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

    /// The events not seen before, in order; the positions move past them.
    pub fn fresh(&mut self, events: Vec<Arc<Envelope>>) -> Vec<Arc<Envelope>> {
        events
            .into_iter()
            .filter(|e| {
                let position = self.positions.entry(e.session.clone()).or_insert(0);
                if e.last_seq() <= *position {
                    return false;
                }
                *position = e.last_seq();
                true
            })
            .collect()
    }
}
