//! Where one client is in each session's history, and what a new event means for it: send it,
//! skip it (already sent, from the journal), or fill a gap from the journal first.

use std::collections::HashMap;

use crate::protocol::Position;
use crate::session::event::Envelope;
use crate::session::ids::SessionId;

#[derive(Debug, Default)]
pub struct Cursor {
    /// The sessions chosen; None is every session, those to come too.
    chosen: Option<Vec<SessionId>>,
    /// The last number sent, per session.
    sent: HashMap<SessionId, u64>,
}

/// What to do with one event from the live stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Send,
    /// Sent already (it was read from the journal), or of a session not chosen.
    Skip,
    /// Events before it were missed: read them from the journal after this number.
    Gap {
        after: u64,
    },
}

impl Cursor {
    pub fn new(chosen: Option<Vec<SessionId>>, from: &[Position]) -> Self {
        let sent = from.iter().map(|p| (p.session.clone(), p.seq)).collect();
        Cursor { chosen, sent }
    }

    pub fn wants(&self, session: &SessionId) -> bool {
        self.chosen.as_ref().is_none_or(|c| c.contains(session))
    }

    /// The last number sent of `session` (0 for none).
    pub fn position(&self, session: &SessionId) -> u64 {
        self.sent.get(session).copied().unwrap_or(0)
    }

    pub fn positions(&self) -> Vec<Position> {
        let mut out: Vec<Position> = self
            .sent
            .iter()
            .map(|(session, &seq)| Position {
                session: session.clone(),
                seq,
            })
            .collect();
        out.sort_by(|a, b| a.session.cmp(&b.session));
        out
    }

    pub fn admit(&self, envelope: &Envelope) -> Admit {
        if !self.wants(&envelope.session) {
            return Admit::Skip;
        }
        let at = self.position(&envelope.session);
        if envelope.seq <= at {
            Admit::Skip
        } else if envelope.seq == at + 1 {
            Admit::Send
        } else {
            Admit::Gap { after: at }
        }
    }

    /// Records that `envelope` went out.
    pub fn sent(&mut self, envelope: &Envelope) {
        match self.sent.get_mut(&envelope.session) {
            Some(at) => *at = (*at).max(envelope.seq),
            None => {
                self.sent.insert(envelope.session.clone(), envelope.seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::event::Event;

    fn session(n: u32) -> SessionId {
        SessionId::parse(&format!("session_20260101_000000_{n:08x}")).unwrap()
    }

    fn env(n: u32, seq: u64) -> Envelope {
        Envelope {
            seq,
            at_ms: 0,
            session: session(n),
            by: None,
            event: Event::SessionPaused,
        }
    }

    #[test]
    fn sends_the_next_skips_the_seen_and_finds_gaps() {
        let mut cursor = Cursor::new(
            None,
            &[Position {
                session: session(1),
                seq: 5,
            }],
        );
        assert_eq!(cursor.admit(&env(1, 5)), Admit::Skip);
        assert_eq!(cursor.admit(&env(1, 6)), Admit::Send);
        assert_eq!(cursor.admit(&env(1, 8)), Admit::Gap { after: 5 });
        cursor.sent(&env(1, 6));
        assert_eq!(cursor.admit(&env(1, 7)), Admit::Send);
        // A session never seen starts at its first event.
        assert_eq!(cursor.admit(&env(2, 1)), Admit::Send);
        assert_eq!(cursor.admit(&env(2, 3)), Admit::Gap { after: 0 });
    }

    #[test]
    fn only_chosen_sessions_are_sent() {
        let cursor = Cursor::new(Some(vec![session(1)]), &[]);
        assert_eq!(cursor.admit(&env(1, 1)), Admit::Send);
        assert_eq!(cursor.admit(&env(2, 1)), Admit::Skip);
    }
}
