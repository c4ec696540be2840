//! The journal store: round trip, torn writes, crash recovery and the per-session lock.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

use std::fs;
use std::io::Write;

use el_jefe::session::call::CallMode;
use el_jefe::session::event::{Envelope, Event, InterruptReason};
use el_jefe::session::ids::SessionId;
use el_jefe::session::plan::{Plan, PlanSource};
use el_jefe::session::session_fold::{SessionState, SessionStatus, StepStatus};
use el_jefe::store::{Store, StoreError, paths, read_journal};

fn id(n: u32) -> SessionId {
    SessionId::parse(&format!("session_20260101_000000_{n:08x}")).unwrap()
}

fn history(session: &SessionId) -> Vec<Envelope> {
    let events = vec![
        Event::SessionCreated {
            goal: "goal".into(),
            workspace: "/tmp/ws".into(),
            mode: CallMode::Streaming,
            provider: "local".into(),
            model: "m".into(),
            max_parallel: 3,
            origin: None,
            choice: Default::default(),
        },
        Event::PlanReady {
            plan: Plan::default_for("goal"),
            source: PlanSource::Model,
        },
        Event::StepStarted {
            step: "1".into(),
            agent: "researcher".into(),
            attempt: 1,
            max_tokens: 100,
            continues: false,
        },
        Event::TextDelta {
            step: "1".into(),
            text: "Hello".into(),
            chunks: 1,
            parts: Vec::new(),
        },
        Event::StepStarted {
            step: "2".into(),
            agent: "analyst".into(),
            attempt: 1,
            max_tokens: 100,
            continues: false,
        },
        Event::TextDelta {
            step: "2".into(),
            text: "Other ".into(),
            chunks: 1,
            parts: Vec::new(),
        },
        Event::TextDelta {
            step: "1".into(),
            text: ", world".into(),
            chunks: 1,
            parts: Vec::new(),
        },
        Event::TextDelta {
            step: "2".into(),
            text: "text".into(),
            chunks: 1,
            parts: Vec::new(),
        },
        Event::StepCompleted {
            step: "1".into(),
            output: "Hello, world".into(),
            output_file: None,
        },
        Event::TextDelta {
            step: "2".into(),
            text: "!".into(),
            chunks: 1,
            parts: Vec::new(),
        },
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Envelope {
            seq: i as u64 + 1,
            at_ms: 1_000 + i as i64,
            session: session.clone(),
            by: None,
            event,
        })
        .collect()
}

#[test]
fn a_journal_round_trips_to_the_same_state_with_deltas_merged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let sid = id(1);
    let mut journal = store.create_session(&sid).unwrap();
    let events = history(&sid);
    for e in &events {
        journal.append(e);
    }
    journal.write_out().unwrap();
    let read = read_journal(&paths::journal_path(dir.path(), &sid)).unwrap();
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert!(
        read.events.len() < events.len(),
        "consecutive deltas of a step are merged"
    );
    let live = SessionState::replay(sid.clone(), &events);
    let replayed = SessionState::replay(sid, &read.events);
    assert_eq!(replayed.steps[1].output, "Other text!");
    assert_eq!(replayed.steps, live.steps);
    assert_eq!(replayed.status, live.status);
}

/// A client that saw events up to any number gets exactly the ones after it from the journal,
/// one by one as the engine made them, though the journal merged each turn's deltas per step.
#[test]
fn events_after_a_position_come_back_exactly_as_made() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let sid = id(7);
    let mut journal = store.create_session(&sid).unwrap();
    // Two turns, as the engine writes them: every event of a turn has the turn's time.
    let mut events = history(&sid);
    for e in &mut events {
        e.at_ms = if e.seq <= 3 { 1_000 } else { 2_000 };
    }
    for e in &events {
        journal.append(e);
        if e.seq == 3 {
            journal.write_out().unwrap();
        }
    }
    journal.write_out().unwrap();
    let path = paths::journal_path(dir.path(), &sid);
    assert!(read_journal(&path).unwrap().events.len() < events.len());
    for after in 0..=events.len() as u64 {
        let missing = el_jefe::store::events_after(&path, after).unwrap();
        let expected: Vec<Envelope> = events.iter().filter(|e| e.seq > after).cloned().collect();
        assert_eq!(missing, expected, "after {after}");
    }
    // The state folded from the journal knows the last number, merged or not.
    let stored = store.load(&sid).unwrap();
    assert_eq!(stored.state.last_seq, events.len() as u64);
}

#[test]
fn a_torn_last_line_is_skipped_with_a_warning_and_later_events_start_clean() {
    let dir = tempfile::tempdir().unwrap();
    let sid = id(2);
    let path = paths::journal_path(dir.path(), &sid);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = String::new();
    for e in history(&sid).iter().take(3) {
        text.push_str(&serde_json::to_string(e).unwrap());
        text.push('\n');
    }
    text.push_str(r#"{"seq":4,"at_ms":5,"session":"session_20260101_000000_00000002","event":{"type":"text_de"#);
    fs::write(&path, &text).unwrap();

    let read = read_journal(&path).unwrap();
    assert_eq!(read.events.len(), 3);
    assert_eq!(read.warnings.len(), 1);
    assert!(
        read.warnings[0].contains("line 4 was cut short"),
        "{}",
        read.warnings[0]
    );

    // Taking the session over appends on a fresh line: nothing glued to the torn one.
    let store = Store::open(dir.path()).unwrap();
    let (mut journal, stored) = store.reopen_session(&sid).unwrap();
    assert_eq!(stored.warnings.len(), 1);
    journal.append(&Envelope {
        seq: 4,
        at_ms: 9,
        session: sid,
        by: None,
        event: Event::SessionPaused,
    });
    journal.write_out().unwrap();
    let read = read_journal(&path).unwrap();
    assert_eq!(read.events.len(), 4);
    assert_eq!(read.events[3].event, Event::SessionPaused);
    assert_eq!(read.warnings.len(), 1);
}

#[test]
fn a_garbled_middle_line_loses_only_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let sid = id(3);
    let path = paths::journal_path(dir.path(), &sid);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = fs::File::create(&path).unwrap();
    let events = history(&sid);
    writeln!(f, "{}", serde_json::to_string(&events[0]).unwrap()).unwrap();
    writeln!(f, "this is not json").unwrap();
    writeln!(f, "{}", serde_json::to_string(&events[1]).unwrap()).unwrap();
    drop(f);
    let read = read_journal(&path).unwrap();
    assert_eq!(read.events.len(), 2);
    assert!(read.warnings[0].contains("line 2 is not a valid event"));
}

#[test]
fn a_session_left_running_by_a_dead_process_is_recovered_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let sid = id(4);
    let path = paths::journal_path(dir.path(), &sid);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = String::new();
    for e in history(&sid) {
        text.push_str(&serde_json::to_string(&e).unwrap());
        text.push('\n');
    }
    fs::write(&path, text).unwrap();

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.recover_orphans(99_000), vec![sid.clone()]);
    let stored = store.load(&sid).unwrap();
    assert_eq!(stored.state.status, SessionStatus::Interrupted);
    assert_eq!(stored.state.steps[0].status, StepStatus::Completed);
    assert_eq!(stored.state.steps[0].output, "Hello, world");
    assert_eq!(stored.state.steps[1].status, StepStatus::Interrupted);
    let last = read_journal(&path).unwrap().events.pop().unwrap();
    assert_eq!(
        last.event,
        Event::SessionInterrupted {
            reason: InterruptReason::Recovered
        }
    );
    // Recovering twice changes nothing.
    assert!(store.recover_orphans(99_500).is_empty());
}

#[test]
fn a_session_held_by_a_live_process_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Store::open(dir.path()).unwrap();
    let sid = id(5);
    let mut journal = owner.create_session(&sid).unwrap();
    for e in history(&sid).into_iter().take(3) {
        journal.append(&e);
    }
    journal.write_out().unwrap();

    let other = Store::open(dir.path()).unwrap();
    assert!(other.recover_orphans(1).is_empty());
    let seen = other.load(&sid).unwrap();
    assert!(seen.running_elsewhere);
    assert_eq!(seen.state.status, SessionStatus::Running);
    assert!(matches!(
        other.reopen_session(&sid),
        Err(StoreError::InUse(_))
    ));

    drop(journal);
    assert_eq!(other.recover_orphans(2), vec![sid]);
    let (listed, warnings) = other.list();
    assert!(warnings.is_empty());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state.status, SessionStatus::Interrupted);
}

#[test]
fn an_output_file_lost_with_its_process_is_written_again_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sessions")).unwrap();
    let sid = id(6);
    let output_file = dir.path().join("ws/step-1-researcher.md");
    let mut journal = store.create_session(&sid).unwrap();
    let mut events = history(&sid);
    if let Event::StepCompleted { output_file: f, .. } = &mut events[8].event {
        *f = Some(output_file.clone());
    }
    for e in &events {
        journal.append(e);
    }
    journal.write_out().unwrap();
    drop(journal); // the process "dies" before the background writer got to the file

    assert!(!output_file.exists());
    store.recover_orphans(5_000);
    assert_eq!(fs::read_to_string(&output_file).unwrap(), "Hello, world");
}

#[test]
fn clean_removes_only_idle_finished_sessions_never_running_ones() {
    const DAY: i64 = 86_400_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sessions")).unwrap();
    // (session, workspace, events as (day, event))
    let session = |n: u32, days_and_events: Vec<(i64, Event)>| {
        let sid = id(n);
        let workspace = dir.path().join(format!("ws{n}"));
        fs::create_dir_all(&workspace).unwrap();
        fs::write(workspace.join("step-1.md"), "output").unwrap();
        let mut journal = store.create_session(&sid).unwrap();
        let mut all = vec![(
            0,
            Event::SessionCreated {
                goal: format!("goal {n}"),
                workspace: workspace.clone(),
                mode: CallMode::Streaming,
                provider: "local".into(),
                model: "m".into(),
                max_parallel: 3,
                origin: None,
                choice: Default::default(),
            },
        )];
        all.extend(days_and_events);
        for (i, (day, event)) in all.into_iter().enumerate() {
            journal.append(&Envelope {
                seq: i as u64 + 1,
                at_ms: day * DAY,
                session: sid.clone(),
                by: None,
                event,
            });
        }
        journal.write_out().unwrap();
        (journal, workspace)
    };
    let plan = || Event::PlanReady {
        plan: Plan::default_for("g"),
        source: PlanSource::Model,
    };
    let (old_done, old_ws) = session(1, vec![(0, plan()), (1, Event::SessionCompleted)]);
    drop(old_done);
    // Old, but still running in a live process (its journal is held).
    let (_running, running_ws) = session(2, vec![(0, plan())]);
    let (recent, _) = session(3, vec![(0, plan()), (39, Event::SessionCompleted)]);
    drop(recent);

    let expired = store.expired_sessions(std::time::Duration::from_secs(30 * 86_400), 40 * DAY);
    let ids: Vec<SessionId> = expired.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, [id(1)]);
    assert_eq!(expired[0].status, "completed");
    assert_eq!(expired[0].workspace.as_deref(), Some(old_ws.as_path()));
    assert!(expired[0].bytes > 0);

    store.remove_session(&expired[0], false).unwrap();
    assert!(matches!(store.load(&id(1)), Err(StoreError::NotFound(_))));
    assert!(!old_ws.exists());
    assert!(running_ws.exists());
    assert!(store.load(&id(2)).unwrap().running_elsewhere);
    assert_eq!(store.list().0.len(), 2);
}
