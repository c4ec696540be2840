//! The messages, as they travel: JSON objects tagged by `type`, one per WebSocket text frame.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::roles::Role;
use crate::schedule::change::{ChangeAnswer, ScheduleChange, ScheduleView};
use crate::session::call::CallMode;
use crate::session::command::Command;
use crate::session::event::Envelope;
use crate::session::ids::SessionId;

/// Majors differ when a message changes meaning or goes away; minors add messages, fields or
/// capabilities that an older peer may ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    /// Whether a peer speaking `other` can talk to one speaking `self`.
    pub fn compatible(self, other: Version) -> bool {
        self.major == other.major
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Where a client is in a session's history: the sequence number of the last event it has
/// (0 for none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub session: SessionId,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message on a connection. The token may be left out when the connection is
    /// already authenticated (the web page's login cookie).
    Hello {
        protocol: Version,
        /// Name and version of the client program, for the server's log.
        client: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Events of the chosen sessions (every session, now and to come, when `sessions` is left
    /// out), from the given positions on: exactly the events after each position, then live.
    Subscribe {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sessions: Option<Vec<SessionId>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        from: Vec<Position>,
    },
    /// A command for the engine; `id` is the client's, echoed in the answer.
    Command { id: u64, command: Box<Command> },
    /// A change to the schedules (capability `schedules`); answered by `schedule_answer` or
    /// `rejected` with the same id.
    Schedule { id: u64, change: ScheduleChange },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The answer to a hello that is accepted.
    Welcome {
        protocol: Version,
        /// The server program and its version.
        server: String,
        /// Who the token belongs to, and what they may do.
        user: String,
        role: Role,
        /// Optional features this server has, by name; a client ignores names it does not know.
        capabilities: Vec<String>,
        mode: CallMode,
    },
    /// Events in order; within a session, sequence numbers follow each other with no gap.
    Events { events: Vec<Arc<Envelope>> },
    /// Every event up to these positions has been sent: what follows is live.
    CaughtUp { positions: Vec<Position> },
    /// The command with this id was carried out.
    Ack { id: u64 },
    /// The command with this id was not carried out, and nothing changed.
    Rejected { id: u64, reason: String },
    /// The schedule change with this id was carried out; what came of it.
    ScheduleAnswer { id: u64, answer: ChangeAnswer },
    /// Every schedule, as it stands: sent to a subscribed client before `caught_up` and again
    /// after each change (capability `schedules`).
    Schedules { schedules: Arc<Vec<ScheduleView>> },
    /// The engine's call mode changed.
    Mode { mode: CallMode },
    /// Something failed outside any command (a workspace file could not be written...).
    Problem { message: String },
    /// A message the server could not use (not JSON, unknown type, before hello...). The
    /// connection stays open unless a `bye` follows.
    Error { message: String },
    /// The server closes the connection, and why (refused hello, shutting down, too slow).
    Bye { reason: String },
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
