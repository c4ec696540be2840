//! A schedule's state and records in words, the same in `el-jefe schedule` and the dashboard.

use chrono::{DateTime, Local, Utc};

use crate::format::clip_chars;
use crate::schedule::book::{ScheduleEvent, ScheduleRecord};
use crate::schedule::change::ScheduleView;

/// A moment as people read it here: "Tue 09:00" this week, else the date.
pub fn when(ms: i64, now: DateTime<Utc>) -> String {
    let Some(t) = DateTime::from_timestamp_millis(ms) else {
        return "?".into();
    };
    let local = t.with_timezone(&Local);
    let days = (t - now).num_days().abs();
    if days < 6 {
        local.format("%a %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

pub fn state_words(view: &ScheduleView) -> String {
    let s = &view.state;
    match (s.paused, s.running.len(), s.waiting.len()) {
        (true, _, _) => "paused".into(),
        (false, 0, 0) => "active".into(),
        (false, running, 0) => format!("running ({running})"),
        (false, running, waiting) => format!("running ({running}), {waiting} waiting"),
    }
}

pub fn last_run_words(view: &ScheduleView, now: DateTime<Utc>) -> String {
    match &view.state.last_run {
        None => "-".into(),
        Some(last) => match &last.outcome {
            None => format!("{} running", when(last.at_ms, now)),
            Some(outcome) => format!(
                "{} {}",
                when(last.at_ms, now),
                clip_chars(&outcome.to_string(), 40)
            ),
        },
    }
}

/// One record of the schedules journal in words.
pub fn record_words(record: &ScheduleRecord) -> String {
    let by = record
        .by
        .as_ref()
        .map_or_else(String::new, |by| format!(" by {by}"));
    match &record.event {
        ScheduleEvent::Added { .. } => format!("added{by}"),
        ScheduleEvent::Paused => format!("paused{by}"),
        ScheduleEvent::Resumed => format!("resumed{by}"),
        ScheduleEvent::Removed => format!("removed{by}"),
        ScheduleEvent::Fired { cause, session, .. } => format!("started {session} ({cause})"),
        ScheduleEvent::Queued { cause, .. } => {
            format!("queued behind the running session ({cause})")
        }
        ScheduleEvent::Skipped { cause, reason, .. } => format!("skipped ({cause}): {reason}"),
        ScheduleEvent::RunEnded { session, outcome } => format!("{session} {outcome}"),
    }
}
