//! Schedules in words for the terminal: `schedule list`'s table, `schedule show`'s page, and
//! what adding or firing one came to.

use chrono::{DateTime, Utc};

use crate::format::clip_chars;
use crate::schedule::change::{Fired, HookCreated, ScheduleView};
use crate::schedule::policy::{Missed, Overlap};
use crate::schedule::spec::Work;
use crate::schedule::words::{last_run_words, record_words, state_words, when};

pub fn schedules_table(views: &[ScheduleView], now: DateTime<Utc>) -> String {
    if views.is_empty() {
        return "no schedules yet: el-jefe schedule add NAME --every 1h --goal \"...\"\n".into();
    }
    let mut out = format!(
        "{:<20} {:<32} {:<17} {:<30} STATE\n",
        "NAME", "WHEN", "NEXT RUN", "LAST RUN"
    );
    for v in views {
        let next = v
            .next_due_ms
            .map_or_else(|| "-".to_string(), |ms| when(ms, now));
        out.push_str(&format!(
            "{:<20} {:<32} {:<17} {:<30} {}\n",
            clip_chars(&v.state.spec.name, 20),
            clip_chars(&v.when, 32),
            next,
            last_run_words(v, now),
            state_words(v)
        ));
    }
    out
}

pub fn schedule_text(view: &ScheduleView, now: DateTime<Utc>) -> String {
    let s = &view.state;
    let p = &s.spec.policies;
    let mut out = format!("schedule {}: {}\n", s.spec.name, state_words(view));
    out.push_str(&format!("  when:     {}\n", view.when));
    match &s.spec.work {
        Work::Goal { goal } => out.push_str(&format!("  goal:     {goal}\n")),
        Work::Plan { file, .. } => out.push_str(&format!("  plan:     {file}\n")),
    }
    out.push_str(&format!("  runs on:  {}\n", s.spec.providers.describe()));
    let overlap = match p.overlap {
        Overlap::Skip => "skip",
        Overlap::Queue => "queue",
        Overlap::Allow => "allow",
    };
    let missed = match p.missed {
        Missed::Skip => "skip",
        Missed::RunOnce => "run once on start",
    };
    out.push_str(&format!(
        "  policies: overlap {overlap}; missed runs {missed}; {}",
        p.max_per_hour.map_or_else(
            || "no hourly limit".to_string(),
            |n| format!("at most {n} runs an hour")
        )
    ));
    if p.budget.is_some() {
        out.push_str("; its own budget per run");
    }
    out.push('\n');
    out.push_str(&format!(
        "  added:    {}{}\n",
        when(s.added_ms, now),
        s.added_by
            .as_ref()
            .map_or_else(String::new, |by| format!(" by {by}"))
    ));
    if let Some(ms) = view.next_due_ms {
        out.push_str(&format!("  next run: {}\n", when(ms, now)));
    }
    out.push_str(&format!(
        "  runs:     {} started, {} skipped\n",
        s.runs, s.skips
    ));
    if !s.history.is_empty() {
        out.push_str("\nhistory (newest last):\n");
        for record in &s.history {
            out.push_str(&format!(
                "  {} {}\n",
                when(record.at_ms, now),
                record_words(record)
            ));
        }
    }
    out
}

pub fn added_text(
    name: &str,
    next_due_ms: Option<i64>,
    hook: Option<&HookCreated>,
    server: &str,
) -> String {
    let mut out = format!("added schedule {name}");
    if let Some(ms) = next_due_ms {
        out.push_str(&format!("; first run {}", when(ms, Utc::now())));
    }
    out.push('\n');
    if let Some(hook) = hook {
        let base = server
            .trim_end_matches('/')
            .replacen("ws://", "http://", 1)
            .replacen("wss://", "https://", 1);
        out.push_str(&format!(
            "\nwebhook: POST {base}{}\nsecret, shown this once:\n\n  {}\n\nSign each request's body with \
             it: header X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(secret, body)>, as GitHub \
             does (give GitHub the URL and this secret, content type application/json).\n",
            hook.path, hook.secret
        ));
    }
    out
}

pub fn fired_text(name: &str, fired: &Fired) -> String {
    match fired {
        Fired::Started { session } => format!("{name} started {session}"),
        Fired::Queued => format!("{name}: queued behind its running session"),
        Fired::Skipped { reason } => format!("{name}: skipped: {reason}"),
    }
}
