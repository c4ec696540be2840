//! Commands on saved sessions: list, show, clean, and the plan and budget edits that
//! `el-jefe resume` then runs.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use super::Context;
use super::args::StepCmd;
use el_jefe::engine::clock::Clock;
use el_jefe::engine::saved_edit::{SavedEdit, edit_saved_session, set_saved_budget};
use el_jefe::headless::ab::AbEnd;
use el_jefe::headless::listing;
use el_jefe::headless::step_command::describe_saved_edit;
use el_jefe::session::budget::{Budget, apply_cap_words};
use el_jefe::session::compare::compare as compare_sessions;
use el_jefe::session::compare_text::comparison_text;
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan_edit::{PlanEdit, change_step, new_step};
use el_jefe::session::plan_file::render_plan_file;
use el_jefe::session::session_fold::SessionState;
use el_jefe::session::stats::GroupBy;
use el_jefe::session::stats_text::{period_words, stats_text};
use el_jefe::store::paths::AppDirs;
use el_jefe::store::{Store, StoredSession};

pub fn list(cx: &Context, json: bool) -> anyhow::Result<i32> {
    let (store, now) = open_store(&cx.dirs)?;
    let (sessions, warnings) = store.list();
    for w in warnings {
        eprintln!("warning: {w}");
    }
    print_sessions(&sessions, now, json);
    Ok(0)
}

/// `el-jefe sessions`'s output, wherever the sessions came from.
pub fn print_sessions(sessions: &[StoredSession], now: i64, json: bool) {
    if json {
        print!("{}", listing::sessions_json(sessions));
    } else {
        print!("{}", listing::sessions_table(sessions, now));
    }
}

pub fn show(cx: &Context, session_id: &str, json: bool) -> anyhow::Result<i32> {
    let id = SessionId::parse(session_id)?;
    let (store, now) = open_store(&cx.dirs)?;
    print_show(&store.load(&id)?, now, json);
    Ok(0)
}

pub fn compare(cx: &Context, a: &str, b: &str, json: bool) -> anyhow::Result<i32> {
    let (a, b) = (SessionId::parse(a)?, SessionId::parse(b)?);
    let (store, now) = open_store(&cx.dirs)?;
    print_comparison(&store.load(&a)?.state, &store.load(&b)?.state, now, json)?;
    Ok(0)
}

/// `el-jefe stats`: the summaries of the sessions in the period (made from journals where the
/// index lacks them), and every figure over them.
pub fn stats(
    cx: &Context,
    since: Option<Duration>,
    by: GroupBy,
    json: bool,
) -> anyhow::Result<i32> {
    // Not open_store: its recovery reads every journal, and the index is there to avoid
    // that; `summaries` recovers the few sessions that look active instead.
    let store = Store::open(&cx.dirs.sessions())?;
    let (stats, report) = store.stats(since, Clock::new().now_ms(), by);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if report.rebuilt > 0 {
        eprintln!(
            "el-jefe: summarized {} of {} sessions from their journals (kept for next time)",
            report.rebuilt, report.read
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print!("{}", stats_text(&stats, &period_words(since)));
    }
    Ok(0)
}

/// `el-jefe compare`'s output, wherever the sessions came from.
pub fn print_comparison(
    a: &SessionState,
    b: &SessionState,
    now: i64,
    json: bool,
) -> anyhow::Result<()> {
    let comparison = compare_sessions(a, b, now);
    if json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", comparison_text(&comparison));
    }
    Ok(())
}

/// `el-jefe ab`'s ending, wherever it ran: the comparison, and 0 when both sides completed.
pub fn report_ab(ended: &AbEnd, json: bool) -> anyhow::Result<i32> {
    print_comparison(&ended.a, &ended.b, Clock::new().now_ms(), json)?;
    Ok(ended.exit_code())
}

/// `el-jefe show`'s output, wherever the session came from.
pub fn print_show(session: &StoredSession, now: i64, json: bool) {
    if json {
        print!("{}", listing::show_json(session, now));
    } else {
        print!("{}", listing::show_text(session, now));
    }
}

pub fn clean(
    cx: &Context,
    older_than: Duration,
    dry_run: bool,
    keep_workspaces: bool,
) -> anyhow::Result<i32> {
    let (store, now) = open_store(&cx.dirs)?;
    let expired = store.expired_sessions(older_than, now);
    print!(
        "{}",
        listing::clean_report(&expired, dry_run, keep_workspaces)
    );
    if dry_run {
        return Ok(0);
    }
    let mut failed = 0;
    for e in &expired {
        if let Err(err) = store.remove_session(e, keep_workspaces) {
            eprintln!("el-jefe: {} was not cleaned: {err}", e.id);
            failed += 1;
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

pub fn budget(
    cx: &Context,
    session_id: &str,
    agent: Option<String>,
    limit: &str,
    value: &str,
) -> anyhow::Result<i32> {
    let id = SessionId::parse(session_id)?;
    let (store, now) = open_store(&cx.dirs)?;
    let roles = cx.config.engine.roles.names();
    let words = cap_words(&roles, agent.as_deref(), limit, value)?;
    let set = set_saved_budget(
        &store,
        &id,
        |state| apply_cap_words(&state.budget, &words, &roles),
        now,
    );
    report_budget(&id, set)
}

/// `[ROLE] LIMIT VALUE`, as `apply_cap_words` reads them, after checking the role exists.
pub fn cap_words<'a>(
    roles: &[String],
    agent: Option<&'a str>,
    limit: &'a str,
    value: &'a str,
) -> anyhow::Result<Vec<&'a str>> {
    if let Some(role) = agent.filter(|r| !roles.iter().any(|k| k == r)) {
        anyhow::bail!("unknown agent role `{role}` (known: {})", roles.join(", "));
    }
    let mut words: Vec<&str> = agent.into_iter().collect();
    words.extend([limit, value]);
    Ok(words)
}

pub fn report_budget(id: &SessionId, set: Result<Budget, String>) -> anyhow::Result<i32> {
    match set {
        Ok(budget) => {
            println!("Budget of {id}: {}", budget.session.describe());
            for (role, caps) in &budget.agents {
                println!("  {role}: {}", caps.describe());
            }
            println!("Resume with: el-jefe resume {id}");
            Ok(0)
        }
        Err(reason) => {
            eprintln!("el-jefe: cannot set the budget: {reason}");
            Ok(1)
        }
    }
}

pub fn save_plan(cx: &Context, session_id: &str, file: &Path) -> anyhow::Result<i32> {
    let id = SessionId::parse(session_id)?;
    let store = Store::open(&cx.dirs.sessions())?;
    let session = store.load(&id)?;
    if !session.state.has_plan() {
        anyhow::bail!("{id} has no plan yet");
    }
    let state = &session.state;
    let text = render_plan_file(&state.goal, &state.plan(), &state.budget);
    std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?;
    println!(
        "Saved the plan of {id} ({} steps) to {}",
        session.state.steps.len(),
        file.display()
    );
    Ok(0)
}

/// The session store, with sessions whose process died marked interrupted first, and the time
/// it was read at.
fn open_store(dirs: &AppDirs) -> anyhow::Result<(Store, i64)> {
    let store = Store::open(&dirs.sessions())?;
    let now = Clock::new().now_ms();
    store.recover_orphans(now);
    Ok((store, now))
}

/// Builds an edit from the session as stored (adding a step needs its plan for a fresh id).
pub type MakeEdit = Box<dyn FnOnce(&SessionState) -> PlanEdit>;

pub fn step(cx: &Context, action: StepCmd, dry_run: bool) -> anyhow::Result<i32> {
    let roles = cx.config.engine.roles.names();
    let (id, make_edit) = step_edit(action, &roles)?;
    let (store, now) = open_store(&cx.dirs)?;
    report_edit(
        &id,
        edit_saved_session(&store, &id, make_edit, &roles, dry_run, now),
        dry_run,
    )
}

/// The session a `step` command edits, and how to make its edit.
pub fn step_edit(action: StepCmd, roles: &[String]) -> anyhow::Result<(SessionId, MakeEdit)> {
    let ids = |list: Vec<String>| -> Vec<StepId> {
        list.iter()
            .filter(|s| !s.trim().is_empty() && s.as_str() != "none")
            .map(|s| StepId::new(s.trim()))
            .collect()
    };
    let (session, make_edit): (String, MakeEdit) = match action {
        StepCmd::Add {
            session_id,
            agent,
            task,
            after,
        } => {
            let after = ids(after);
            (
                session_id,
                Box::new(move |state| new_step(&state.plan(), &agent, &task, after)),
            )
        }
        StepCmd::Remove {
            session_id,
            step,
            dependents,
        } => (
            session_id,
            Box::new(move |_| PlanEdit::RemoveStep {
                step: StepId::new(step),
                dependents,
            }),
        ),
        StepCmd::Edit {
            session_id,
            step,
            task_or_agent,
        } => {
            let edit = change_step(StepId::new(step), &task_or_agent, roles)
                .map_err(anyhow::Error::msg)?;
            (session_id, Box::new(move |_| edit))
        }
        StepCmd::Deps {
            session_id,
            step,
            after,
        } => {
            let after = ids(after);
            (
                session_id,
                Box::new(move |_| PlanEdit::SetDependencies {
                    step: StepId::new(step),
                    depends_on: after,
                }),
            )
        }
    };
    Ok((SessionId::parse(&session)?, make_edit))
}

pub fn report_edit(
    id: &SessionId,
    edited: Result<SavedEdit, String>,
    dry_run: bool,
) -> anyhow::Result<i32> {
    match edited {
        Ok(saved) => {
            print!("{}", describe_saved_edit(id, &saved, dry_run));
            Ok(0)
        }
        Err(reason) => {
            eprintln!("el-jefe: cannot edit the plan: {reason}");
            Ok(1)
        }
    }
}
