//! The schedules journal's fold, and what a wake-up does about the times that came due.

use chrono::{DateTime, Duration, Utc};

use super::book::{
    DueAction, Dues, RunOutcome, ScheduleBook, ScheduleEvent, ScheduleRecord, due_actions,
};
use super::policy::{Missed, Policies, SkipReason};
use super::spec::{ScheduleSpec, Work};
use super::trigger::Trigger;
use crate::session::ids::SessionId;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

fn session(n: u32) -> SessionId {
    SessionId::parse(&format!("session_20261201_090000_{n:08x}")).unwrap_or_else(|e| panic!("{e}"))
}

fn spec(every_secs: u64) -> ScheduleSpec {
    ScheduleSpec {
        name: "digest".into(),
        trigger: Trigger::Every { every_secs },
        work: Work::Goal {
            goal: "Digest for {{date}}".into(),
        },
        policies: Policies::default_for(true),
        providers: Default::default(),
    }
}

struct Journal {
    book: ScheduleBook,
}

impl Journal {
    fn new() -> Journal {
        Journal {
            book: ScheduleBook::default(),
        }
    }

    fn at(&mut self, at: &str, event: ScheduleEvent) {
        let record = ScheduleRecord {
            seq: self.book.next_seq(),
            at_ms: utc(at).timestamp_millis(),
            schedule: "digest".into(),
            by: None,
            event,
        };
        self.book.apply(&record);
    }
}

fn fired(due: &str, n: u32) -> ScheduleEvent {
    ScheduleEvent::Fired {
        cause: "every 1m".into(),
        due_ms: Some(utc(due).timestamp_millis()),
        session: session(n),
        waited: false,
    }
}

#[test]
fn the_fold_follows_runs_pauses_queues_and_removal() {
    let mut j = Journal::new();
    j.at(
        "2026-12-01T09:00:00Z",
        ScheduleEvent::Added {
            spec: Box::new(spec(60)),
        },
    );
    let s = j.book.get("digest").unwrap();
    assert_eq!(s.next_due(), Some(utc("2026-12-01T09:01:00Z")));

    j.at("2026-12-01T09:01:00Z", fired("2026-12-01T09:01:00Z", 1));
    j.at(
        "2026-12-01T09:02:00Z",
        ScheduleEvent::Queued {
            cause: "every 1m".into(),
            due_ms: Some(utc("2026-12-01T09:02:00Z").timestamp_millis()),
            vars: Default::default(),
        },
    );
    let s = j.book.get("digest").unwrap();
    assert_eq!(s.running, [session(1)]);
    assert_eq!(s.waiting.len(), 1);
    assert_eq!(s.next_due(), Some(utc("2026-12-01T09:03:00Z")));
    assert_eq!(
        j.book
            .running_session(&session(1))
            .map(|s| s.spec.name.as_str()),
        Some("digest")
    );

    j.at(
        "2026-12-01T09:02:30Z",
        ScheduleEvent::RunEnded {
            session: session(1),
            outcome: RunOutcome::Completed,
        },
    );
    j.at(
        "2026-12-01T09:02:30Z",
        ScheduleEvent::Fired {
            cause: "every 1m".into(),
            due_ms: Some(utc("2026-12-01T09:02:00Z").timestamp_millis()),
            session: session(2),
            waited: true,
        },
    );
    let s = j.book.get("digest").unwrap();
    assert!(s.waiting.is_empty(), "the waiting firing ran");
    assert_eq!(s.running, [session(2)]);
    assert_eq!(s.runs, 2);
    assert_eq!(
        s.runs_in_hour_before(utc("2026-12-01T09:30:00Z").timestamp_millis()),
        2
    );
    assert_eq!(
        s.runs_in_hour_before(utc("2026-12-01T10:01:30Z").timestamp_millis()),
        1
    );
    assert_eq!(s.last_run.as_ref().unwrap().session, session(2));

    j.at("2026-12-01T09:03:00Z", ScheduleEvent::Paused);
    j.at(
        "2026-12-01T09:03:00Z",
        ScheduleEvent::Skipped {
            cause: "every 1m".into(),
            due_ms: Some(utc("2026-12-01T09:03:00Z").timestamp_millis()),
            reason: SkipReason::Paused,
            waited: false,
        },
    );
    let s = j.book.get("digest").unwrap();
    assert!(s.paused);
    assert_eq!(s.skips, 1);
    assert_eq!(s.next_due(), Some(utc("2026-12-01T09:04:00Z")));
    assert_eq!(s.history.len(), 7);

    j.at("2026-12-01T09:04:00Z", ScheduleEvent::Removed);
    assert!(j.book.get("digest").is_none());
    // A record about a removed schedule changes nothing.
    j.at("2026-12-01T09:05:00Z", ScheduleEvent::Resumed);
    assert!(j.book.get("digest").is_none());
    assert_eq!(j.book.next_seq(), 10);
}

#[test]
fn dues_split_into_missed_and_on_time() {
    let mut j = Journal::new();
    j.at(
        "2026-12-01T09:00:00Z",
        ScheduleEvent::Added {
            spec: Box::new(spec(60)),
        },
    );
    j.at("2026-12-01T09:01:00Z", fired("2026-12-01T09:01:00Z", 1));
    let s = j.book.get("digest").unwrap();
    let late_ok = Duration::seconds(30);

    // On time: the 09:02 firing, woken at 09:02:00.2.
    let dues = s.dues(utc("2026-12-01T09:02:00.200Z"), late_ok);
    assert_eq!(
        dues,
        Dues {
            missed: 0,
            last_missed: None,
            before_last: None,
            on_time: Some(utc("2026-12-01T09:02:00Z")),
        }
    );
    // Down from 09:01:30 to 09:10:10: 09:02 to 09:09 missed, 09:10 on time.
    let dues = s.dues(utc("2026-12-01T09:10:10Z"), late_ok);
    assert_eq!(dues.missed, 8);
    assert_eq!(dues.last_missed, Some(utc("2026-12-01T09:09:00Z")));
    assert_eq!(dues.on_time, Some(utc("2026-12-01T09:10:00Z")));
    // Down for a year: counting stops, and the last missed time is still the right one.
    let dues = s.dues(utc("2027-12-01T09:10:40Z"), late_ok);
    assert_eq!(dues.missed, super::book::MISSED_COUNTED);
    assert_eq!(dues.last_missed, Some(utc("2027-12-01T09:10:00Z")));
    assert_eq!(dues.on_time, None);
}

#[test]
fn missed_times_are_recorded_or_made_up_by_one_run() {
    let t = |s: &str| utc(s);
    let missed_only = Dues {
        missed: 3,
        last_missed: Some(t("2026-12-01T09:09:00Z")),
        before_last: Some(t("2026-12-01T09:08:00Z")),
        on_time: None,
    };
    let both = Dues {
        on_time: Some(t("2026-12-01T09:10:00Z")),
        ..missed_only
    };
    let table = [
        (
            missed_only,
            Missed::Skip,
            vec![DueAction::RecordMissed {
                count: 3,
                last: t("2026-12-01T09:09:00Z"),
            }],
        ),
        (
            missed_only,
            Missed::RunOnce,
            vec![
                DueAction::RecordMissed {
                    count: 2,
                    last: t("2026-12-01T09:08:00Z"),
                },
                DueAction::Fire {
                    due: t("2026-12-01T09:09:00Z"),
                    late: true,
                },
            ],
        ),
        // A run on time makes up for the missed ones: no second run.
        (
            both,
            Missed::RunOnce,
            vec![
                DueAction::RecordMissed {
                    count: 3,
                    last: t("2026-12-01T09:09:00Z"),
                },
                DueAction::Fire {
                    due: t("2026-12-01T09:10:00Z"),
                    late: false,
                },
            ],
        ),
        (Dues::default(), Missed::RunOnce, vec![]),
    ];
    for (dues, policy, expected) in table {
        assert_eq!(due_actions(dues, policy), expected, "{dues:?} {policy:?}");
    }
}

#[test]
fn records_read_back_as_written() {
    let record = ScheduleRecord {
        seq: 4,
        at_ms: 1,
        schedule: "digest".into(),
        by: Some("ana".into()),
        event: ScheduleEvent::Skipped {
            cause: "every 1m".into(),
            due_ms: Some(5),
            reason: SkipReason::StillRunning {
                session: session(1),
            },
            waited: false,
        },
    };
    let line = serde_json::to_string(&record).unwrap();
    assert!(
        line.contains(r#""type":"skipped""#) && line.contains(r#""reason":"still_running""#),
        "{line}"
    );
    assert_eq!(
        serde_json::from_str::<ScheduleRecord>(&line).unwrap(),
        record
    );
}
