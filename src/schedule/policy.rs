//! Whether a firing runs: what to do while the previous run is still going, with runs missed
//! while the server was down, and with too many runs in an hour.

use serde::{Deserialize, Serialize};

use crate::session::budget::Budget;
use crate::session::ids::SessionId;

/// While a run of the schedule is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// The new firing does not run.
    Skip,
    /// It waits for the running one to end (at most `MAX_QUEUED` wait).
    Queue,
    /// It runs beside it.
    Allow,
}

/// Times that passed while the server was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Recorded as missed; the schedule goes on from now.
    Skip,
    /// One run on start, however many were missed.
    RunOnce,
}

/// Firings that may wait behind a running one; more are skipped.
pub const MAX_QUEUED: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policies {
    pub overlap: Overlap,
    pub missed: Missed,
    /// At most this many runs in any hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_hour: Option<u32>,
    /// Each run's budget, instead of the server's configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

impl Policies {
    /// Timed schedules skip a firing while the last run goes on; a folder or a webhook queues
    /// (each file or call is its own work, not a repeat).
    pub fn default_for(timed: bool) -> Policies {
        Policies {
            overlap: if timed { Overlap::Skip } else { Overlap::Queue },
            missed: Missed::Skip,
            max_per_hour: None,
            budget: None,
        }
    }
}

/// Why a firing did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    Paused,
    StillRunning {
        session: SessionId,
    },
    QueueFull {
        queued: usize,
    },
    HourlyLimit {
        limit: u32,
    },
    MissedWhileDown {
        count: u64,
    },
    MissingVariable {
        name: String,
    },
    /// The engine would not start it (the reason is the engine's).
    Refused {
        message: String,
    },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Paused => write!(f, "the schedule is paused"),
            SkipReason::StillRunning { session } => {
                write!(f, "the last run ({session}) is still going (overlap: skip)")
            }
            SkipReason::QueueFull { queued } => {
                write!(f, "{queued} runs already wait behind the running one")
            }
            SkipReason::HourlyLimit { limit } => {
                write!(f, "{limit} runs in the last hour already (the limit)")
            }
            SkipReason::MissedWhileDown { count } => write!(
                f,
                "the server was down at {count} time(s) it should have run (missed: skip)"
            ),
            SkipReason::MissingVariable { name } => write!(f, "no value for {{{{{name}}}}}"),
            SkipReason::Refused { message } => write!(f, "the engine refused it: {message}"),
        }
    }
}

/// What to do with a firing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run,
    Queue,
    Skip(SkipReason),
}

/// What the decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub paused: bool,
    /// Its runs still going, oldest first.
    pub running: &'a [SessionId],
    pub queued: usize,
    /// Runs started in the last hour.
    pub runs_last_hour: u32,
}

/// Decides a firing. A queued firing is decided again when the run it waited for ends.
pub fn decide(policies: &Policies, now: Situation<'_>) -> Decision {
    if now.paused {
        return Decision::Skip(SkipReason::Paused);
    }
    if let Some(limit) = policies.max_per_hour
        && now.runs_last_hour >= limit
    {
        return Decision::Skip(SkipReason::HourlyLimit { limit });
    }
    match (policies.overlap, now.running.first()) {
        (Overlap::Allow, _) | (_, None) => Decision::Run,
        (Overlap::Skip, Some(session)) => Decision::Skip(SkipReason::StillRunning {
            session: session.clone(),
        }),
        (Overlap::Queue, Some(_)) if now.queued >= MAX_QUEUED => {
            Decision::Skip(SkipReason::QueueFull { queued: now.queued })
        }
        (Overlap::Queue, Some(_)) => Decision::Queue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> SessionId {
        SessionId::parse(&format!("session_20261201_090000_{n:08x}"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn situation(running: &[SessionId], queued: usize, runs_last_hour: u32) -> Situation<'_> {
        Situation {
            paused: false,
            running,
            queued,
            runs_last_hour,
        }
    }

    #[test]
    fn overlap_policies_decide_a_firing_while_a_run_goes_on() {
        let running = [id(1)];
        let mut p = Policies::default_for(true);
        let cases = [
            (
                Overlap::Skip,
                0,
                Decision::Skip(SkipReason::StillRunning { session: id(1) }),
            ),
            (Overlap::Queue, 0, Decision::Queue),
            (
                Overlap::Queue,
                MAX_QUEUED,
                Decision::Skip(SkipReason::QueueFull { queued: MAX_QUEUED }),
            ),
            (Overlap::Allow, 0, Decision::Run),
        ];
        for (overlap, queued, expected) in cases {
            p.overlap = overlap;
            assert_eq!(
                decide(&p, situation(&running, queued, 0)),
                expected,
                "{overlap:?}"
            );
            // With nothing running, every policy runs.
            assert_eq!(
                decide(&p, situation(&[], queued, 0)),
                Decision::Run,
                "{overlap:?}"
            );
        }
    }

    #[test]
    fn paused_and_the_hourly_limit_come_before_overlap() {
        let mut p = Policies::default_for(true);
        p.overlap = Overlap::Allow;
        p.max_per_hour = Some(3);
        assert_eq!(decide(&p, situation(&[], 0, 2)), Decision::Run);
        assert_eq!(
            decide(&p, situation(&[], 0, 3)),
            Decision::Skip(SkipReason::HourlyLimit { limit: 3 })
        );
        let paused = Situation {
            paused: true,
            ..situation(&[], 0, 0)
        };
        assert_eq!(decide(&p, paused), Decision::Skip(SkipReason::Paused));
    }

    #[test]
    fn triggers_queue_by_default_times_skip() {
        assert_eq!(Policies::default_for(true).overlap, Overlap::Skip);
        assert_eq!(Policies::default_for(false).overlap, Overlap::Queue);
    }
}
