//! `el-jefe sessions` and `el-jefe show`: stored sessions as text or JSON.

use std::fmt::Write;

use crate::session::session_fold::SessionState;
use crate::store::StoredSession;

use crate::format::{ago, clip_chars, human_size};
use crate::session::metrics_text::{
    failed_attempts_line, inherited_line, planner_line, totals_lines,
};

fn status_label(s: &StoredSession) -> String {
    if s.running_elsewhere {
        format!("{} (live in another process)", s.state.status.label())
    } else {
        s.state.status.label().to_string()
    }
}

/// With who steered it last, for `show`: "paused by ana".
fn status_words(s: &StoredSession) -> String {
    if s.running_elsewhere {
        format!("{} (live in another process)", s.state.status_words())
    } else {
        s.state.status_words()
    }
}

/// The goal, and for a fork the session it came from.
fn goal_words(state: &SessionState) -> String {
    match &state.forked_from {
        Some((parent, _)) => format!("⑂ {} (fork of {parent})", state.goal),
        None => state.goal.clone(),
    }
}

fn age(now_ms: i64, state: &SessionState) -> String {
    ago((now_ms - state.created_at_ms).max(0) as u64)
}

pub fn sessions_table(sessions: &[StoredSession], now_ms: i64) -> String {
    if sessions.is_empty() {
        return "No sessions yet. Start one with: el-jefe run \"<goal>\"\n".into();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<33} {:<12} {:>5}  {:<12} GOAL",
        "SESSION", "STATUS", "STEPS", "AGE"
    );
    for s in sessions {
        let st = &s.state;
        let done = st
            .steps
            .iter()
            .filter(|x| x.status.label() == "completed")
            .count();
        let _ = writeln!(
            out,
            "{:<33} {:<12} {:>5}  {:<12} {}",
            st.id,
            status_label(s),
            format!("{done}/{}", st.steps.len()),
            age(now_ms, st),
            clip_chars(&goal_words(st), 60)
        );
    }
    out
}

pub fn sessions_json(sessions: &[StoredSession]) -> String {
    let mut out = String::new();
    for s in sessions {
        let st = &s.state;
        let line = serde_json::json!({
            "id": st.id,
            "status": st.status.label(),
            "running_elsewhere": s.running_elsewhere,
            "goal": st.goal,
            "created_at_ms": st.created_at_ms,
            "steps_total": st.steps.len(),
            "steps_completed": st.completed_steps(),
            "workspace": st.workspace,
            "forked_from": st.forked_from.as_ref().map(|(parent, at_seq)| {
                serde_json::json!({"session": parent, "at_seq": at_seq})
            }),
        });
        let _ = writeln!(out, "{line}");
    }
    out
}

pub fn show_text(s: &StoredSession, now_ms: i64) -> String {
    let st = &s.state;
    let mut out = String::new();
    let _ = writeln!(out, "Session   {}", st.id);
    let _ = writeln!(out, "Goal      {}", st.goal);
    let _ = writeln!(out, "Status    {}", status_words(s));
    if let Some(origin) = &st.origin {
        let _ = writeln!(out, "Started   by {origin}");
    }
    if let Some((parent, at_seq)) = &st.forked_from {
        let kept = st.steps.iter().filter(|s| s.inherited).count();
        let _ = writeln!(
            out,
            "Forked    from {parent} after its event {at_seq} ({kept} steps inherited)"
        );
    }
    let _ = writeln!(out, "Created   {}", age(now_ms, st));
    let _ = writeln!(out, "Workspace {}", st.workspace.display());
    let _ = writeln!(
        out,
        "Provider  {} ({}) · {}",
        st.provider,
        st.model,
        st.mode.label()
    );
    if let Some(error) = &st.error {
        let _ = writeln!(out, "Error     {error}");
    }
    for w in st.warnings.iter().chain(&s.warnings) {
        let _ = writeln!(out, "Warning   {w}");
    }
    for edit in &st.plan_edits {
        let _ = writeln!(out, "Edited    {edit}");
    }
    if !st.budget.is_empty() {
        let _ = writeln!(out, "Budget    {}", st.budget.session.describe());
        for (role, caps) in &st.budget.agents {
            let _ = writeln!(out, "          {role}: {}", caps.describe());
        }
    }
    for (_, reason) in &st.needs_attention {
        let _ = writeln!(out, "Attention {reason}");
    }
    let m = st.metrics(st.ended_at_ms.unwrap_or(now_ms));
    let [produced, timing] = totals_lines(&m);
    let _ = writeln!(out, "Metrics   {produced}");
    let _ = writeln!(out, "          {timing}");
    // Where the totals came from, each part apart.
    for line in planner_line(st)
        .into_iter()
        .chain(failed_attempts_line(&m))
        .chain(inherited_line(&m))
    {
        let _ = writeln!(out, "          {line}");
    }
    let _ = writeln!(out, "\nSteps");
    for (i, step) in st.steps.iter().enumerate() {
        let deps: Vec<&str> = step.spec.depends_on.iter().map(|d| d.as_str()).collect();
        let after = if deps.is_empty() {
            String::new()
        } else {
            format!(" (after {})", deps.join(", "))
        };
        let _ = writeln!(
            out,
            "  {}. [{}{}] {} · {}{after} · attempt {}",
            i + 1,
            step.status_words(),
            if step.inherited { ", inherited" } else { "" },
            step.spec.agent,
            step.spec.title,
            step.attempt
        );
        let _ = writeln!(out, "     task: {}", step.spec.task);
        if let Some(e) = &step.error {
            let _ = writeln!(out, "     error: {e}");
        }
        if let Some(f) = &step.output_file {
            let _ = writeln!(out, "     output: {}", f.display());
        }
    }
    for step in st.steps.iter().filter(|s| !s.output.is_empty()) {
        let _ = writeln!(
            out,
            "\n--- Step {} ({}) {} ---\n{}",
            step.spec.id,
            step.spec.agent,
            step.status.label(),
            step.output.trim_end()
        );
    }
    out
}

pub fn show_json(s: &StoredSession, now_ms: i64) -> String {
    let st = &s.state;
    let m = st.metrics(st.ended_at_ms.unwrap_or(now_ms));
    let steps: Vec<serde_json::Value> = st
        .steps
        .iter()
        .map(|x| {
            serde_json::json!({
                "id": x.spec.id, "title": x.spec.title, "agent": x.spec.agent, "task": x.spec.task,
                "depends_on": x.spec.depends_on, "status": x.status.label(), "attempt": x.attempt,
                "output": x.output, "output_file": x.output_file, "error": x.error,
                "input_tokens": x.metrics.input_tokens, "output_tokens": x.metrics.output_tokens_live(),
                "cache_read_tokens": x.metrics.cache_read_tokens,
                "cache_creation_tokens": x.metrics.cache_creation_tokens,
                "api_calls": x.metrics.api_calls, "retries": x.metrics.retries,
                "failovers": x.metrics.failovers, "errors": x.metrics.errors,
                "errors_by_kind": x.metrics.errors_by_kind,
            })
        })
        .collect();
    serde_json::json!({
        "id": st.id, "goal": st.goal, "status": st.status.label(),
        "running_elsewhere": s.running_elsewhere, "workspace": st.workspace,
        "provider": st.provider, "model": st.model, "mode": st.mode,
        "error": st.error, "warnings": st.warnings.iter().chain(&s.warnings).collect::<Vec<_>>(),
        "plan_edits": st.plan_edits,
        "budget": st.budget,
        "needs_attention": st.needs_attention.iter().map(|(_, r)| r).collect::<Vec<_>>(),
        "wall_ms": m.wall_ms, "step_time_ms": m.step_time_ms, "speedup": m.speedup,
        "tokens": m.totals.total_tokens(), "words": m.totals.words, "api_calls": m.totals.api_calls,
        "retries": m.totals.retries, "failovers": m.totals.failovers, "errors": m.totals.errors,
        "errors_by_kind": m.totals.errors_by_kind,
        "steps": steps,
    })
    .to_string()
        + "\n"
}

/// What `el-jefe clean` removes (or would, with --dry-run).
pub fn clean_report(
    expired: &[crate::store::cleanup::Expired],
    dry_run: bool,
    keep_workspaces: bool,
) -> String {
    let mut out = String::new();
    if expired.is_empty() {
        out.push_str("No session is old enough to clean.\n");
        return out;
    }
    let verb = if dry_run { "Would remove" } else { "Removing" };
    let what = if keep_workspaces {
        "journal"
    } else {
        "journal and workspace"
    };
    let _ = writeln!(out, "{verb} {} session(s) ({what}):", expired.len());
    let mut bytes = 0;
    for e in expired {
        bytes += e.bytes;
        let _ = writeln!(
            out,
            "  {}  {:<11} last active {:<11} {:>9}  {}",
            e.id,
            e.status,
            ago(e.idle_ms.max(0) as u64),
            human_size(e.bytes),
            clip_chars(&e.goal, 50)
        );
        if !keep_workspaces && let Some(w) = &e.workspace {
            let _ = writeln!(out, "      {}", w.display());
        }
    }
    let _ = writeln!(out, "{} in all.", human_size(bytes));
    if dry_run {
        out.push_str("Nothing was removed (--dry-run).\n");
    }
    out
}
