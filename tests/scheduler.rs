//! The scheduler on tokio's paused clock with the real engine on a scripted provider: firings
//! at the right virtual times, the overlap policies, and a restart after missed runs.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use el_jefe::engine::start_engine;
use el_jefe::provider::routes::Routes;
use el_jefe::schedule::book::{RunOutcome, ScheduleEvent, ScheduleRecord};
use el_jefe::schedule::change::{ChangeAnswer, Fired, ScheduleChange, ScheduleView};
use el_jefe::schedule::policy::{Missed, Overlap, Policies, SkipReason};
use el_jefe::schedule::spec::{ScheduleSpec, Work};
use el_jefe::schedule::trigger::Trigger;
use el_jefe::scheduler::{ProviderCheck, Scheduler, SchedulerSetup, Views, WallClock};
use el_jefe::session::event::EngineEvent;
use el_jefe::session::ids::SessionId;
use el_jefe::store::Store;
use el_jefe::store::schedules::ScheduleJournal;
use support::harness::settings;
use support::scripted::{Script, ScriptedProvider, is_planner, plan_json};
use tempfile::TempDir;
use tokio::sync::watch;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

const T0: &str = "2026-12-01T09:00:00Z";

fn ms(text: &str) -> i64 {
    utc(text).timestamp_millis()
}

/// A scheduler and engine on a provider whose steps take `step_takes` (virtual) time, with the
/// clock at `now`. The engine's events reach the scheduler, as the server passes them on.
fn start(dir: &TempDir, now: &str, step_takes: Duration) -> Scheduler {
    let plan = plan_json(&[("1", "researcher", &[])]);
    let provider = Arc::new(ScriptedProvider::new(move |req| {
        if is_planner(req) {
            Script::text(&plan, 1, Duration::ZERO)
        } else {
            Script::text("done", 1, step_takes)
        }
    }));
    let store = Store::open(&dir.path().join("sessions")).unwrap();
    let settings = settings(dir, 3);
    let routes = Routes::single(provider.clone());
    let roles = settings.roles.names();
    let check_providers: ProviderCheck = Arc::new(move |c| routes.check_choice(c, &roles));
    let (engine, mut events) = start_engine(settings, provider, store.clone());
    let scheduler = Scheduler::start(SchedulerSetup {
        journal: dir.path().join("schedules.jsonl"),
        hook_secrets: dir.path().join("hooks.json"),
        engine,
        store,
        clock: WallClock::following_tokio_from(utc(now)),
        check_providers,
    })
    .unwrap();
    let noted = scheduler.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let EngineEvent::Events(batch) = event {
                batch.iter().for_each(|e| noted.note(e));
            }
        }
    });
    scheduler
}

fn every_minute(name: &str, overlap: Overlap) -> ScheduleSpec {
    let mut policies = Policies::default_for(true);
    policies.overlap = overlap;
    ScheduleSpec {
        name: name.into(),
        trigger: Trigger::Every { every_secs: 60 },
        work: Work::Goal {
            goal: "Digest for {{date}} at {{time}}".into(),
        },
        policies,
        providers: Default::default(),
    }
}

/// Waits (in virtual time) until the schedules satisfy `done`.
async fn until(
    views: &mut watch::Receiver<Views>,
    done: impl Fn(&[ScheduleView]) -> bool,
) -> Views {
    loop {
        let now = views.borrow_and_update().clone();
        if done(&now) {
            return now;
        }
        tokio::time::timeout(Duration::from_secs(3600), views.changed())
            .await
            .expect("nothing changed for an hour of virtual time")
            .unwrap();
    }
}

fn records(views: &Views, name: &str) -> Vec<ScheduleRecord> {
    let view = views.iter().find(|v| v.state.spec.name == name).unwrap();
    view.state.history.iter().cloned().collect()
}

/// (time, what) of each firing and skip, for comparing with a table.
fn story(views: &Views, name: &str) -> Vec<(i64, String)> {
    records(views, name)
        .into_iter()
        .filter_map(|r| match r.event {
            ScheduleEvent::Fired { waited, .. } => Some((
                r.at_ms,
                if waited {
                    "fired after waiting"
                } else {
                    "fired"
                }
                .to_string(),
            )),
            ScheduleEvent::Queued { .. } => Some((r.at_ms, "queued".to_string())),
            ScheduleEvent::Skipped { reason, .. } => Some((r.at_ms, format!("skipped: {reason}"))),
            ScheduleEvent::RunEnded { outcome, .. } => Some((r.at_ms, format!("ended: {outcome}"))),
            ScheduleEvent::Added { .. }
            | ScheduleEvent::Paused
            | ScheduleEvent::Resumed
            | ScheduleEvent::Removed => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_schedule_fires_at_its_virtual_times_and_each_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let scheduler = start(&dir, T0, Duration::from_secs(5));
    let answer = scheduler
        .change(
            ScheduleChange::Add {
                spec: Box::new(every_minute("digest", Overlap::Skip)),
            },
            "ana",
        )
        .await
        .unwrap();
    assert_eq!(
        answer,
        ChangeAnswer::Added {
            next_due_ms: Some(ms("2026-12-01T09:01:00Z")),
            hook: None
        }
    );
    let mut views = scheduler.views();
    let done = until(&mut views, |v| {
        v[0].state.runs == 3 && v[0].state.running.is_empty()
    })
    .await;
    let times: Vec<(i64, String)> = story(&done, "digest");
    assert_eq!(
        times,
        vec![
            (ms("2026-12-01T09:01:00Z"), "fired".into()),
            (ms("2026-12-01T09:01:05Z"), "ended: completed".into()),
            (ms("2026-12-01T09:02:00Z"), "fired".into()),
            (ms("2026-12-01T09:02:05Z"), "ended: completed".into()),
            (ms("2026-12-01T09:03:00Z"), "fired".into()),
            (ms("2026-12-01T09:03:05Z"), "ended: completed".into()),
        ]
    );
    assert_eq!(done[0].next_due_ms, Some(ms("2026-12-01T09:04:00Z")));
}

#[tokio::test(start_paused = true)]
async fn overlap_skip_queue_and_allow_hold_while_a_run_takes_longer_than_the_interval() {
    // Each run takes 90 s of a one-minute schedule.
    let cases: [(Overlap, &[&str]); 3] = [
        (
            Overlap::Skip,
            &[
                "09:01:00 fired",
                "09:02:00 skipped",
                "09:02:30 ended",
                "09:03:00 fired",
            ],
        ),
        (
            Overlap::Queue,
            &[
                "09:01:00 fired",
                "09:02:00 queued",
                "09:02:30 ended",
                "09:02:30 fired after waiting",
            ],
        ),
        (
            Overlap::Allow,
            &[
                "09:01:00 fired",
                "09:02:00 fired",
                "09:02:30 ended",
                "09:03:00 fired",
            ],
        ),
    ];
    for (overlap, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let scheduler = start(&dir, T0, Duration::from_secs(90));
        scheduler
            .change(
                ScheduleChange::Add {
                    spec: Box::new(every_minute("slow", overlap)),
                },
                "ana",
            )
            .await
            .unwrap();
        let mut views = scheduler.views();
        let done = until(&mut views, |v| story_len(v) >= expected.len()).await;
        let got: Vec<String> = story(&done, "slow")
            .into_iter()
            .take(expected.len())
            .map(|(at, what)| {
                let t = DateTime::from_timestamp_millis(at).unwrap();
                // "skipped: the last run ... is still going": the first word says enough here.
                let what = what.split(':').next().unwrap().to_string();
                format!("{} {what}", t.format("%H:%M:%S"))
            })
            .collect();
        assert_eq!(got, expected, "{overlap:?}");
    }
}

fn story_len(views: &[ScheduleView]) -> usize {
    views
        .first()
        .map_or(0, |v| v.state.history.len().saturating_sub(1))
}

/// A journal as a server left it when it was killed: the schedule added at 09:00, fired at
/// 09:05 (a session that never got written), nothing after.
fn journal_of_a_killed_server(dir: &Path, missed: Missed) -> SessionId {
    let (mut journal, _) = ScheduleJournal::open(&dir.join("schedules.jsonl")).unwrap();
    let mut spec = every_minute("digest", Overlap::Skip);
    spec.trigger = Trigger::Every { every_secs: 300 };
    spec.policies.missed = missed;
    let lost = SessionId::parse("session_20261201_090500_0000abcd").unwrap();
    let records = [
        (
            T0,
            ScheduleEvent::Added {
                spec: Box::new(spec),
            },
        ),
        (
            "2026-12-01T09:05:00Z",
            ScheduleEvent::Fired {
                cause: "every 5m".into(),
                due_ms: Some(ms("2026-12-01T09:05:00Z")),
                session: lost.clone(),
                waited: false,
            },
        ),
    ];
    for (seq, (at, event)) in records.into_iter().enumerate() {
        journal
            .append(&ScheduleRecord {
                seq: seq as u64 + 1,
                at_ms: ms(at),
                schedule: "digest".into(),
                by: None,
                event,
            })
            .unwrap();
    }
    lost
}

#[tokio::test(start_paused = true)]
async fn a_restart_after_missed_runs_skips_them_or_runs_once_per_policy() {
    for missed in [Missed::Skip, Missed::RunOnce] {
        let dir = tempfile::tempdir().unwrap();
        let lost = journal_of_a_killed_server(dir.path(), missed);
        // Back at 09:32: 09:10 to 09:30 were missed (09:30 is two minutes old).
        let scheduler = start(&dir, "2026-12-01T09:32:00Z", Duration::from_secs(5));
        let mut views = scheduler.views();
        let done = until(&mut views, |v| {
            v.first()
                .is_some_and(|s| s.state.runs >= 2 && s.state.running.is_empty())
                && story_len(v) >= 5
        })
        .await;
        let history = records(&done, "digest");
        // The run the killed server started never reached the store.
        assert!(history.iter().any(|r| matches!(&r.event,
            ScheduleEvent::RunEnded { session, outcome: RunOutcome::Lost } if *session == lost)));
        let skipped: Vec<&SkipReason> = history
            .iter()
            .filter_map(|r| match &r.event {
                ScheduleEvent::Skipped { reason, .. } => Some(reason),
                _ => None,
            })
            .collect();
        let fired: Vec<(i64, i64, String)> = history
            .iter()
            .filter_map(|r| match &r.event {
                ScheduleEvent::Fired { due_ms, cause, .. } => {
                    Some((r.at_ms, due_ms.unwrap(), cause.clone()))
                }
                _ => None,
            })
            .collect();
        match missed {
            Missed::Skip => {
                assert_eq!(skipped, [&SkipReason::MissedWhileDown { count: 5 }]);
                // The next run is the next time on the schedule, 09:35.
                assert_eq!(fired[1].0, ms("2026-12-01T09:35:00Z"), "{fired:?}");
            }
            Missed::RunOnce => {
                assert_eq!(skipped, [&SkipReason::MissedWhileDown { count: 4 }]);
                // One run on start for the last missed time, then on schedule.
                assert_eq!(fired[1].0, ms("2026-12-01T09:32:00Z"));
                assert_eq!(fired[1].1, ms("2026-12-01T09:30:00Z"));
                assert!(fired[1].2.contains("missed"), "{}", fired[1].2);
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn pause_resume_run_now_and_remove_are_recorded_with_who() {
    let dir = tempfile::tempdir().unwrap();
    let scheduler = start(&dir, T0, Duration::from_secs(5));
    let add = |spec| ScheduleChange::Add {
        spec: Box::new(spec),
    };
    scheduler
        .change(add(every_minute("digest", Overlap::Skip)), "ana")
        .await
        .unwrap();
    let again = scheduler
        .change(add(every_minute("digest", Overlap::Skip)), "ana")
        .await;
    assert!(again.unwrap_err().contains("exists already"));
    scheduler
        .change(
            ScheduleChange::Pause {
                name: "digest".into(),
            },
            "ana",
        )
        .await
        .unwrap();
    let mut views = scheduler.views();
    assert_eq!(views.borrow_and_update()[0].next_due_ms, None, "paused");
    // Paused for ten virtual minutes: nothing fires; a person can still run it.
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(views.borrow()[0].state.runs, 0);
    let fired = scheduler
        .change(
            ScheduleChange::RunNow {
                name: "digest".into(),
                vars: Default::default(),
            },
            "bo",
        )
        .await
        .unwrap();
    assert!(matches!(fired, ChangeAnswer::Fired(Fired::Started { .. })));
    scheduler
        .change(
            ScheduleChange::Resume {
                name: "digest".into(),
            },
            "ana",
        )
        .await
        .unwrap();
    let after_resume = until(&mut views, |v| v[0].state.runs == 2).await;
    let history = records(&after_resume, "digest");
    let fired_at: Vec<i64> = history
        .iter()
        .filter(|r| matches!(r.event, ScheduleEvent::Fired { .. }))
        .map(|r| r.at_ms)
        .collect();
    // Resumed at 09:10: the times it slept through are not made up; the next one is 09:11.
    assert_eq!(
        fired_at,
        [ms("2026-12-01T09:10:00Z"), ms("2026-12-01T09:11:00Z")]
    );
    let by: Vec<(String, Option<String>)> = history
        .iter()
        .filter(|r| !matches!(r.event, ScheduleEvent::RunEnded { .. }))
        .map(|r| {
            (
                serde_json::to_value(&r.event).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r.by.clone(),
            )
        })
        .collect();
    assert_eq!(by[0], ("added".to_string(), Some("ana".to_string())));
    assert_eq!(by[1], ("paused".to_string(), Some("ana".to_string())));
    assert_eq!(by[2], ("fired".to_string(), Some("bo".to_string())));
    assert_eq!(by[3], ("resumed".to_string(), Some("ana".to_string())));

    scheduler
        .change(
            ScheduleChange::Remove {
                name: "digest".into(),
            },
            "ana",
        )
        .await
        .unwrap();
    assert!(views.borrow_and_update().is_empty());
    let gone = scheduler
        .change(
            ScheduleChange::Pause {
                name: "digest".into(),
            },
            "ana",
        )
        .await;
    assert!(gone.unwrap_err().contains("no schedule digest"));
}
