//! The dashboard's schedules view, attached to a server: the list with next and last runs, the
//! selected schedule's history, and the keys that pause, resume and run one now (asked of the
//! server through the schedule desk). Unattached, it says where schedules live.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::sync::Arc;

use crossterm::event::KeyCode;
use el_jefe::schedule::book::{RunOutcome, ScheduleBook, ScheduleEvent, ScheduleRecord};
use el_jefe::schedule::change::{ScheduleChange, ScheduleView};
use el_jefe::schedule::policy::Policies;
use el_jefe::schedule::spec::{ScheduleSpec, Work};
use el_jefe::schedule::trigger::Trigger;
use el_jefe::scheduler::Views;
use el_jefe::scheduler::desk::{DeskLine, ScheduleDesk};
use el_jefe::session::ids::SessionId;
use el_jefe::tui::app::{Focus, View};
use support::dashboard::Fixture;

const T0_MS: i64 = 1_796_115_600_000; // 2026-12-01 09:00 UTC

fn spec(name: &str, every_secs: u64) -> ScheduleSpec {
    ScheduleSpec {
        name: name.into(),
        trigger: Trigger::Every { every_secs },
        work: Work::Goal {
            goal: format!("{name} for {{{{date}}}}"),
        },
        policies: Policies::default_for(true),
        providers: Default::default(),
    }
}

/// Two schedules as the server folds them: `digest` ran once and was paused by ana;
/// `report` is active and never ran.
fn views() -> Views {
    let mut book = ScheduleBook::default();
    let session = SessionId::parse("session_20261201_090000_0000abcd").unwrap();
    let mut record = |at_min: i64, schedule: &str, by: Option<&str>, event: ScheduleEvent| {
        let record = ScheduleRecord {
            seq: book.next_seq(),
            at_ms: T0_MS + at_min * 60_000,
            schedule: schedule.into(),
            by: by.map(String::from),
            event,
        };
        book.apply(&record);
    };
    record(
        0,
        "digest",
        Some("ana"),
        ScheduleEvent::Added {
            spec: Box::new(spec("digest", 60)),
        },
    );
    record(
        0,
        "report",
        Some("ana"),
        ScheduleEvent::Added {
            spec: Box::new(spec("report", 3600)),
        },
    );
    record(
        1,
        "digest",
        None,
        ScheduleEvent::Fired {
            cause: "every 1m".into(),
            due_ms: Some(T0_MS + 60_000),
            session: session.clone(),
            waited: false,
        },
    );
    record(
        2,
        "digest",
        None,
        ScheduleEvent::RunEnded {
            session,
            outcome: RunOutcome::Completed,
        },
    );
    record(3, "digest", Some("ana"), ScheduleEvent::Paused);
    Arc::new(book.all().map(ScheduleView::of).collect())
}

fn attached() -> (Fixture, DeskLine) {
    let mut f = Fixture::new();
    let (desk, line) = ScheduleDesk::new();
    f.app.schedule_desk = Some(desk);
    f.app.set_schedules(views());
    f.app.view = View::Schedules;
    // As after typing /schedules in the command bar.
    f.app.focus = Focus::Sessions;
    (f, line)
}

#[test]
fn the_view_lists_schedules_with_their_runs_and_the_selected_ones_history() {
    let (mut f, _line) = attached();
    let screen = f.render(120, 30);
    for shown in [
        "Schedules",
        "digest",
        "every 1m",
        "paused",
        "completed",
        "report",
        "every 1h",
        "active",
        "digest: 1 started, 0 skipped",
        "added by ana",
        "started session_20261201_090000_0000abcd (every 1m)",
        "session_20261201_090000_0000abcd completed",
        "paused by ana",
        "p pause/resume  n run now",
    ] {
        assert!(screen.contains(shown), "no `{shown}` in\n{screen}");
    }
}

#[test]
fn keys_ask_the_server_to_resume_pause_and_run_the_selected_schedule() {
    let (mut f, mut line) = attached();
    let first = f.app.schedules[0].state.spec.name.clone();
    f.char('p');
    f.char('j');
    f.char('p');
    f.char('n');
    let mut asked = Vec::new();
    while let Ok(change) = line.asks.try_recv() {
        asked.push(change);
    }
    let second = f.app.schedules[1].state.spec.name.clone();
    let toggled_first = if f.app.schedules[0].state.paused {
        ScheduleChange::Resume { name: first }
    } else {
        ScheduleChange::Pause { name: first }
    };
    assert_eq!(
        asked,
        vec![
            toggled_first,
            ScheduleChange::Pause {
                name: second.clone()
            },
            ScheduleChange::RunNow {
                name: second,
                vars: Default::default()
            },
        ]
    );
    // Nothing reached the engine: schedules are the server's, not a session's.
    assert!(f.commands.try_recv().is_err());
}

#[test]
fn a_new_list_keeps_the_selection_on_the_same_schedule() {
    let (mut f, _line) = attached();
    f.char('j');
    let selected = f.app.schedules[1].state.spec.name.clone();
    let mut reversed: Vec<ScheduleView> = f.app.schedules.iter().rev().cloned().collect();
    reversed[0].state.paused = true;
    f.app.set_schedules(Arc::new(reversed));
    assert_eq!(
        f.app.schedules[f.app.selected_schedule].state.spec.name,
        selected
    );
}

#[test]
fn without_a_server_the_view_says_where_schedules_run() {
    let mut f = Fixture::new();
    f.char('/');
    f.type_text("schedules");
    f.key(KeyCode::Enter);
    assert_eq!(f.app.view, View::Schedules);
    let screen = f.render(120, 30);
    assert!(
        screen.contains("Schedules run in `el-jefe serve`"),
        "{screen}"
    );
    f.char('p');
    let screen = f.render(120, 30);
    assert!(
        screen.contains("schedules run in `el-jefe serve`; this dashboard runs its own engine"),
        "{screen}"
    );
}
