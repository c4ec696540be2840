//! The schedules journal and its fold. Every change to a schedule and every firing, queueing
//! and skip (with its reason) is a record; the fold of the records is each schedule's state:
//! its spec, whether it is paused, the last time it handled, the runs still going or waiting,
//! and its recent history. The journal is what `schedule show` and the front ends read to tell
//! why a run did or did not happen, and what a restarted server goes on from.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::policy::{Missed, SkipReason};
use super::spec::ScheduleSpec;
use super::vars::Vars;
use crate::session::ids::SessionId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub schedule: String,
    /// Who asked for it (adding, pausing, run-now), when a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub event: ScheduleEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ScheduleEvent {
    Added {
        spec: Box<ScheduleSpec>,
    },
    Paused,
    Resumed,
    Removed,
    /// A firing started a session. `due_ms` is the time it was due, for timed schedules;
    /// `waited` says it is the oldest firing that waited, which leaves the queue.
    Fired {
        cause: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_ms: Option<i64>,
        session: SessionId,
        #[serde(default, skip_serializing_if = "is_false")]
        waited: bool,
    },
    /// A firing waits for the running session to end.
    Queued {
        cause: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_ms: Option<i64>,
        vars: Vars,
    },
    /// A firing that did not run, and why (`waited`: as for `Fired`).
    Skipped {
        cause: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_ms: Option<i64>,
        #[serde(flatten)]
        reason: SkipReason,
        #[serde(default, skip_serializing_if = "is_false")]
        waited: bool,
    },
    /// A session it started ended.
    RunEnded {
        session: SessionId,
        outcome: RunOutcome,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    Completed,
    Failed {
        error: String,
    },
    Interrupted,
    /// The server stopped after the firing was written and before the session was: it never
    /// started.
    Lost,
}

impl std::fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunOutcome::Completed => f.write_str("completed"),
            RunOutcome::Failed { error } => write!(f, "failed: {error}"),
            RunOutcome::Interrupted => f.write_str("interrupted"),
            RunOutcome::Lost => f.write_str("never started (the server stopped)"),
        }
    }
}

/// A firing waiting behind a running session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    pub cause: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_ms: Option<i64>,
    pub vars: Vars,
}

/// Records kept per schedule for `schedule show` and the front ends.
pub const HISTORY: usize = 50;
const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    pub spec: ScheduleSpec,
    pub added_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<String>,
    pub paused: bool,
    /// The latest due time handled (fired, queued or skipped); timed schedules go on after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_due_ms: Option<i64>,
    /// Sessions it started that are still going, oldest first.
    pub running: Vec<SessionId>,
    pub waiting: VecDeque<Waiting>,
    /// When its runs of the last hour started.
    pub recent_runs_ms: Vec<i64>,
    pub runs: u64,
    pub skips: u64,
    /// The last session it started and how it ended (None while it runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<LastRun>,
    /// Its latest records, oldest first.
    pub history: VecDeque<ScheduleRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    pub session: SessionId,
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
}

impl ScheduleState {
    fn new(spec: ScheduleSpec, record: &ScheduleRecord) -> ScheduleState {
        ScheduleState {
            spec,
            added_ms: record.at_ms,
            added_by: record.by.clone(),
            paused: false,
            last_due_ms: None,
            running: Vec::new(),
            waiting: VecDeque::new(),
            recent_runs_ms: Vec::new(),
            runs: 0,
            skips: 0,
            last_run: None,
            history: VecDeque::new(),
        }
    }

    fn added(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.added_ms).unwrap_or_default()
    }

    /// The next time it is due, from the last one it handled; None when it never fires again
    /// on its own.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let after = self
            .last_due_ms
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(|| self.added());
        self.spec.trigger.next_after(self.added(), after)
    }

    /// Runs started in the hour before `now_ms`.
    pub fn runs_in_hour_before(&self, now_ms: i64) -> u32 {
        let n = self
            .recent_runs_ms
            .iter()
            .filter(|at| now_ms - **at < HOUR_MS)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// What is due at `now`: times that passed long ago (missed: the server was down, or the
    /// machine asleep) and at most one that is on time. A time is on time when `now` is within
    /// `late_ok` of it.
    pub fn dues(&self, now: DateTime<Utc>, late_ok: chrono::Duration) -> Dues {
        let mut dues = Dues::default();
        let mut after = self
            .last_due_ms
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(|| self.added());
        while let Some(due) = self.spec.trigger.next_after(self.added(), after) {
            if due > now {
                break;
            }
            if now - due <= late_ok {
                dues.on_time = Some(due);
                break;
            }
            dues.missed += 1;
            dues.before_last = dues.last_missed;
            dues.last_missed = Some(due);
            after = due;
            // Counting years of a one-minute schedule is pointless: say "at least".
            if dues.missed >= MISSED_COUNTED {
                if let Some(latest) = self.latest_due_before(now) {
                    dues.before_last = None;
                    dues.last_missed = Some(latest);
                }
                break;
            }
        }
        dues
    }

    /// The last due time at or before `now` (for a long outage, without walking every one).
    fn latest_due_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Step back in growing windows until one holds a due time, then walk forward in it.
        let mut window = chrono::Duration::hours(1);
        for _ in 0..20 {
            let mut at = self.spec.trigger.next_after(self.added(), now - window)?;
            if at <= now {
                while let Some(next) = self.spec.trigger.next_after(self.added(), at) {
                    if next > now {
                        break;
                    }
                    at = next;
                }
                return Some(at);
            }
            window = window * 4;
        }
        None
    }
}

/// Due times counted one by one before giving up counting.
pub const MISSED_COUNTED: u64 = 10_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dues {
    pub missed: u64,
    pub last_missed: Option<DateTime<Utc>>,
    /// The missed time before the last one (when counted one by one).
    pub before_last: Option<DateTime<Utc>>,
    pub on_time: Option<DateTime<Utc>>,
}

/// What to do about the due times of one wake-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueAction {
    /// Record that these were missed (with the last of them as the due time).
    RecordMissed { count: u64, last: DateTime<Utc> },
    /// Fire, due at this time; `late` says it makes up for missed times.
    Fire { due: DateTime<Utc>, late: bool },
}

/// Missed times are skipped, or (missed: run-once) made up by one run unless a time on time
/// runs now anyway; a time on time fires.
pub fn due_actions(dues: Dues, missed: Missed) -> Vec<DueAction> {
    let mut actions = Vec::new();
    match (dues.last_missed, dues.on_time, missed) {
        (Some(last), None, Missed::RunOnce) => {
            if dues.missed > 1 {
                actions.push(DueAction::RecordMissed {
                    count: dues.missed - 1,
                    last: dues.before_last.unwrap_or(last),
                });
            }
            actions.push(DueAction::Fire {
                due: last,
                late: true,
            });
        }
        (Some(last), _, Missed::Skip | Missed::RunOnce) => actions.push(DueAction::RecordMissed {
            count: dues.missed,
            last,
        }),
        (None, _, Missed::Skip | Missed::RunOnce) => {}
    }
    if let Some(due) = dues.on_time {
        actions.push(DueAction::Fire { due, late: false });
    }
    actions
}

/// Every schedule's state, folded from the journal.
#[derive(Debug, Clone, Default)]
pub struct ScheduleBook {
    schedules: BTreeMap<String, ScheduleState>,
    last_seq: u64,
}

impl ScheduleBook {
    pub fn get(&self, name: &str) -> Option<&ScheduleState> {
        self.schedules.get(name)
    }

    pub fn all(&self) -> impl Iterator<Item = &ScheduleState> {
        self.schedules.values()
    }

    /// The number the next record takes.
    pub fn next_seq(&self) -> u64 {
        self.last_seq + 1
    }

    /// The schedule that started `session` and is waiting for it to end.
    pub fn running_session(&self, session: &SessionId) -> Option<&ScheduleState> {
        self.schedules
            .values()
            .find(|s| s.running.contains(session))
    }

    /// Folds one record in. Records about a schedule that does not exist (removed since) change
    /// nothing but the numbering.
    pub fn apply(&mut self, record: &ScheduleRecord) {
        self.last_seq = self.last_seq.max(record.seq);
        if let ScheduleEvent::Added { spec } = &record.event {
            let mut state = ScheduleState::new((**spec).clone(), record);
            remember(&mut state, record);
            self.schedules.insert(spec.name.clone(), state);
            return;
        }
        if matches!(record.event, ScheduleEvent::Removed) {
            self.schedules.remove(&record.schedule);
            return;
        }
        let Some(state) = self.schedules.get_mut(&record.schedule) else {
            return;
        };
        remember(state, record);
        match &record.event {
            ScheduleEvent::Added { .. } | ScheduleEvent::Removed => {}
            ScheduleEvent::Paused => state.paused = true,
            ScheduleEvent::Resumed => {
                state.paused = false;
                // Times that passed while paused were not missed: the schedule goes on from now.
                note_due(state, Some(record.at_ms));
            }
            ScheduleEvent::Fired {
                due_ms,
                session,
                waited,
                ..
            } => {
                note_due(state, *due_ms);
                state.running.push(session.clone());
                state.runs += 1;
                state
                    .recent_runs_ms
                    .retain(|at| record.at_ms - at < HOUR_MS);
                state.recent_runs_ms.push(record.at_ms);
                state.last_run = Some(LastRun {
                    session: session.clone(),
                    at_ms: record.at_ms,
                    outcome: None,
                });
                if *waited {
                    state.waiting.pop_front();
                }
            }
            ScheduleEvent::Queued {
                cause,
                due_ms,
                vars,
            } => {
                note_due(state, *due_ms);
                state.waiting.push_back(Waiting {
                    cause: cause.clone(),
                    due_ms: *due_ms,
                    vars: vars.clone(),
                });
            }
            ScheduleEvent::Skipped { due_ms, waited, .. } => {
                note_due(state, *due_ms);
                state.skips += 1;
                if *waited {
                    state.waiting.pop_front();
                }
            }
            ScheduleEvent::RunEnded { session, outcome } => {
                state.running.retain(|s| s != session);
                if let Some(last) = &mut state.last_run
                    && &last.session == session
                {
                    last.outcome = Some(outcome.clone());
                }
            }
        }
    }
}

fn is_false(b: &bool) -> bool {
    !b
}

fn note_due(state: &mut ScheduleState, due_ms: Option<i64>) {
    if let Some(due) = due_ms {
        state.last_due_ms = Some(state.last_due_ms.map_or(due, |last| last.max(due)));
    }
}

fn remember(state: &mut ScheduleState, record: &ScheduleRecord) {
    state.history.push_back(record.clone());
    if state.history.len() > HISTORY {
        state.history.pop_front();
    }
}
