//! What a front end asks of the schedules, what it is answered, and how it sees them: the
//! protocol's schedule messages carry these.

use serde::{Deserialize, Serialize};

use super::book::ScheduleState;
use super::policy::SkipReason;
use super::spec::ScheduleSpec;
use super::vars::Vars;
use crate::session::ids::SessionId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ScheduleChange {
    Add {
        spec: Box<ScheduleSpec>,
    },
    Pause {
        name: String,
    },
    Resume {
        name: String,
    },
    Remove {
        name: String,
    },
    /// Fires now, whatever its policies say (a person asked), with these variables.
    RunNow {
        name: String,
        #[serde(default, skip_serializing_if = "Vars::is_empty")]
        vars: Vars,
    },
}

impl ScheduleChange {
    pub fn name(&self) -> &str {
        match self {
            ScheduleChange::Add { spec } => &spec.name,
            ScheduleChange::Pause { name }
            | ScheduleChange::Resume { name }
            | ScheduleChange::Remove { name }
            | ScheduleChange::RunNow { name, .. } => name,
        }
    }

    /// In words: "pause schedule digest".
    pub fn label(&self) -> String {
        let verb = match self {
            ScheduleChange::Add { .. } => "add",
            ScheduleChange::Pause { .. } => "pause",
            ScheduleChange::Resume { .. } => "resume",
            ScheduleChange::Remove { .. } => "remove",
            ScheduleChange::RunNow { .. } => "run now",
        };
        format!("{verb} schedule {}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum ChangeAnswer {
    /// Added. `hook` is the webhook's path and secret, given this once.
    Added {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_due_ms: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hook: Option<HookCreated>,
    },
    Done,
    Fired(Fired),
}

/// What a firing came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fired", rename_all = "snake_case")]
pub enum Fired {
    Started { session: SessionId },
    Queued,
    Skipped { reason: SkipReason },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookCreated {
    /// `/hooks/NAME` on the server.
    pub path: String,
    /// The HMAC-SHA256 key requests are signed with (`X-Hub-Signature-256`).
    pub secret: String,
}

/// A schedule as front ends show it: its state and when it fires next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    #[serde(flatten)]
    pub state: ScheduleState,
    /// Milliseconds since the Unix epoch; none for triggers, paused schedules and spent
    /// one-shots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_ms: Option<i64>,
    /// The trigger in words ("cron 0 9 * * 1-5 (Europe/Madrid)").
    pub when: String,
}

/// Records of each schedule's history sent to front ends (the journal keeps them all).
pub const VIEW_HISTORY: usize = 20;

impl ScheduleView {
    pub fn of(state: &ScheduleState) -> ScheduleView {
        let mut state = state.clone();
        while state.history.len() > VIEW_HISTORY {
            state.history.pop_front();
        }
        let next_due_ms = if state.paused {
            None
        } else {
            state.next_due().map(|t| t.timestamp_millis())
        };
        ScheduleView {
            when: state.spec.trigger.describe(),
            state,
            next_due_ms,
        }
    }
}
