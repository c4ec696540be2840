//! Every session's state as the server knows it, folded from the same events the clients get.
//! It answers `/metrics`, the baseline flags and comparisons without reading a journal.

use std::sync::Mutex;

use rustc_hash::FxHashMap;

use crate::session::event::Envelope;
use crate::session::ids::SessionId;
use crate::session::session_fold::SessionState;
use crate::session::status::{SessionStatus, StepStatus};
use crate::store::Store;

#[derive(Default)]
pub struct Board {
    sessions: Mutex<FxHashMap<SessionId, SessionState>>,
}

/// What the server's metrics report, summed over every session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Sessions per status, every status listed.
    pub sessions: Vec<(SessionStatus, u64)>,
    pub agents_running: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub api_calls: u64,
    pub tool_calls: u64,
    pub errors: u64,
}

impl Board {
    /// The sessions on disk, after the engine's start-up recovery.
    pub fn load(store: &Store) -> Board {
        let (stored, warnings) = store.list();
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        let sessions = stored
            .into_iter()
            .map(|s| (s.state.id.clone(), s.state))
            .collect();
        Board {
            sessions: Mutex::new(sessions),
        }
    }

    pub fn apply(&self, events: &[std::sync::Arc<Envelope>]) {
        let Ok(mut sessions) = self.sessions.lock() else {
            return;
        };
        for envelope in events {
            sessions
                .entry(envelope.session.clone())
                .or_insert_with(|| SessionState::new(envelope.session.clone()))
                .apply(envelope);
        }
    }

    /// What `read` makes of a session's state as the server knows it now; None when the
    /// server knows no such session.
    pub fn read<R>(&self, id: &SessionId, read: impl FnOnce(&SessionState) -> R) -> Option<R> {
        self.sessions.lock().ok()?.get(id).map(read)
    }

    pub fn totals(&self) -> Totals {
        let mut totals = Totals {
            sessions: SessionStatus::ALL.iter().map(|s| (*s, 0)).collect(),
            ..Totals::default()
        };
        let Ok(sessions) = self.sessions.lock() else {
            return totals;
        };
        for state in sessions.values() {
            if let Some(count) = totals.sessions.iter_mut().find(|(s, _)| *s == state.status) {
                count.1 += 1;
            }
            let running = state
                .steps
                .iter()
                .filter(|s| s.status == StepStatus::Running)
                .count();
            totals.agents_running += running as u64;
            let m = state.metrics(0).totals;
            totals.input_tokens += m.input_tokens;
            totals.output_tokens += m.output_tokens;
            totals.api_calls += m.api_calls;
            totals.tool_calls += m.tool_calls;
            totals.errors += m.errors;
        }
        totals
    }
}
